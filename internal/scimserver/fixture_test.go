package scimserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const testCatalog = `
settings:
  leaver_guard: {max_fraction: 0.05, min_count: 2}
systems:
  - {id: app, name: App, owner: owner@example.com, tier: standard, connector: {type: manual}}
entitlements:
  - {id: app/users, system: app, name: Users, kind: group, risk: standard}
  - {id: app/eng, system: app, name: Eng, kind: group, risk: standard}
  - {id: app/sales, system: app, name: Sales, kind: group, risk: standard}
roles:
  - {id: all-staff, name: All staff, entitlements: [app/users], birthright: 'identity.status == "active"'}
  - {id: eng, name: Engineering, entitlements: [app/eng], birthright: 'identity.department == "Eng"'}
  - {id: sales, name: Sales, entitlements: [app/sales], birthright: 'identity.department == "Sales"'}
`

// fixture is a Gatehouse server (API and SCIM, as gatehouse serve mounts them) over a fresh
// SQLite store, with two SCIM clients (okta, entra) and an admin.
type fixture struct {
	t     *testing.T
	st    store.Store
	svc   *service.Service
	srv   *httptest.Server
	sys   *gatehouse.Principal
	okta  string // bearer token of okta-scim@example.com, scope scim
	entra string // bearer token of entra-scim@example.com, scope scim
	admin string // an admin's unscoped token
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, storetest.OpenSQLite(t))
}

// newFixtureOn is newFixture over a given store (for tests that run on every engine).
func newFixtureOn(t *testing.T, st store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	svc := service.New(st, service.Options{Logger: slog.New(slog.DiscardHandler)})
	f := &fixture{t: t, st: st, svc: svc, sys: service.SystemPrincipal("test")}
	for _, email := range []string{"owner@example.com", "okta-scim@example.com", "entra-scim@example.com"} {
		if _, err := svc.CreateIdentity(ctx, f.sys, &gatehouse.Identity{Email: email, Kind: gatehouse.KindService}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	admin, err := svc.CreateIdentity(ctx, f.sys, &gatehouse.Identity{Email: "admin@example.com", Kind: gatehouse.KindService}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetRoles(ctx, f.sys, admin.ID, []gatehouse.AccessRole{gatehouse.RoleAdmin}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyCatalog(ctx, f.sys, []catalog.File{{Name: "c.yaml", Content: []byte(testCatalog)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	f.okta = f.token("okta-scim@example.com", gatehouse.ScopeSCIM)
	f.entra = f.token("entra-scim@example.com", gatehouse.ScopeSCIM)
	f.admin = f.token("admin@example.com")
	f.srv = httptest.NewServer(server.New(svc, server.Options{Logger: slog.New(slog.DiscardHandler)}).Handler)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) token(email string, scopes ...string) string {
	f.t.Helper()
	ct, err := f.svc.CreateToken(context.Background(), f.sys, service.NewToken{For: email, Scopes: scopes, Description: "test"})
	if err != nil {
		f.t.Fatal(err)
	}
	return ct.Secret
}

// response is an HTTP answer with its JSON body decoded.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request to the server; headers are name, value pairs.
func (f *fixture) do(method, path, token, body string, headers ...string) response {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &out.body)
	}
	return out
}

// want fails the test unless the response has status.
func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// wantError checks a SCIM error body (RFC 7644 section 3.12).
func (r response) wantError(t *testing.T, status int, scimType, detail string) {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Errorf("error Content-Type %q", ct)
	}
	schemas, _ := r.body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("error schemas = %v", r.body["schemas"])
	}
	if r.body["status"] != http.StatusText(status) && r.body["status"] != itoa(status) {
		t.Errorf("error status = %v, want %q", r.body["status"], itoa(status))
	}
	if got, _ := r.body["scimType"].(string); got != scimType {
		t.Errorf("scimType = %q, want %q (%s)", got, scimType, r.raw)
	}
	if d, _ := r.body["detail"].(string); !strings.Contains(d, detail) {
		t.Errorf("detail = %q, want it to contain %q", d, detail)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// str reads a string at a dotted path of a JSON object ("name.givenName"); a key may be a URN.
func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, _ := v.(map[string]any)
		v = mm[p]
	}
	s, _ := v.(string)
	return s
}

// identity reads an identity from the store.
func (f *fixture) identity(key string) *gatehouse.Identity {
	f.t.Helper()
	i, err := f.st.GetIdentity(context.Background(), key)
	if err != nil {
		f.t.Fatalf("identity %s: %v", key, err)
	}
	return i
}

// grants lists the entitlements id holds, sorted.
func (f *fixture) grants(id string) []string {
	f.t.Helper()
	page, err := f.st.ListGrants(context.Background(), gatehouse.GrantFilter{IdentityID: id, Status: "active", Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, g := range page.Items {
		if g.Active(time.Now()) {
			out = append(out, g.EntitlementID)
		}
	}
	slices.Sort(out)
	return out
}

func (f *fixture) wantGrants(id string, want ...string) {
	f.t.Helper()
	got := f.grants(id)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		f.t.Errorf("grants of %s = %v, want %v", id, got, want)
	}
}

// user is a SCIM User body.
func user(userName, given, family, dept string, extra ...string) string {
	m := map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"userName": userName,
		"name":     map[string]any{"givenName": given, "familyName": family},
		"emails":   []any{map[string]any{"value": userName, "type": "work", "primary": true}},
		"active":   true,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": dept},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		var v any
		if err := json.Unmarshal([]byte(extra[i+1]), &v); err != nil {
			v = extra[i+1]
		}
		m[extra[i]] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// create POSTs a user as the client with token and returns its id.
func (f *fixture) create(token, body string) string {
	f.t.Helper()
	r := f.do("POST", "/scim/v2/Users", token, body).want(f.t, http.StatusCreated)
	id := str(r.body, "id")
	if id == "" {
		f.t.Fatalf("no id: %s", r.raw)
	}
	return id
}
