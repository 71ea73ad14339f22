package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/web"
)

// testCatalog is a small catalog with each risk level, a birthright role and an SoD rule.
const testCatalog = `
settings:
  security_approvers: [sec@example.com]
systems:
  - id: corp-ldap
    name: Corporate Directory
    owner: it@example.com
    tier: critical
    connector:
      type: manual
      assignee: it@example.com
  - id: erp
    name: Finance ERP
    owner: cfo@example.com
    tier: high
    connector: {type: manual}
entitlements:
  - id: corp-ldap/engineering
    system: corp-ldap
    name: Engineering
    description: Source code and CI access for engineers
    kind: group
    risk: standard
    requestable: true
    approval: [manager]
  - id: corp-ldap/domain-admins
    system: corp-ldap
    name: Domain Admins
    kind: group
    risk: privileged
    max_duration: 8h
    approval: [manager, security]
  - id: erp/payments-create
    system: erp
    name: Create payments
    kind: role
    risk: sensitive
    approval: [manager, owner]
  - id: erp/payments-approve
    system: erp
    name: Approve payments
    kind: role
    risk: sensitive
    approval: [manager, owner]
roles:
  - id: engineering-baseline
    name: Engineering baseline
    entitlements: [corp-ldap/engineering]
    # Nobody in the fixture is in Platform: the tests hold exactly the grants they give, while
    # a birthright role still exists to show (an apply grants birthright roles to everyone).
    birthright: identity.department == "Platform" && identity.status == "active"
sod:
  - id: payments-maker-checker
    description: Nobody may both create and approve payments
    left: [erp/payments-create]
    right: [erp/payments-approve]
    severity: high
    on_violation: block
`

// fixture is a Gatehouse with people, a catalog, grants and a token per person, served by the
// web UI.
type fixture struct {
	svc     *service.Service
	handler http.Handler
	ids     map[string]*gatehouse.Identity // by short name
	tokens  map[string]string              // by short name

	mu       sync.Mutex
	sessions map[string]string // session secrets by short name, signed in on first use
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	svc := service.New(st, service.Options{})
	sys := service.SystemPrincipal("test")
	f := &fixture{svc: svc, ids: map[string]*gatehouse.Identity{}, tokens: map[string]string{}}

	people := []struct {
		name  string
		id    gatehouse.Identity
		roles []gatehouse.AccessRole
	}{
		{"boss", gatehouse.Identity{EmployeeID: "E001", Email: "boss@example.com", FirstName: "Bea", LastName: "Boss", Department: "Engineering", Title: "VP Engineering"}, nil},
		{"admin", gatehouse.Identity{EmployeeID: "E002", Email: "it@example.com", FirstName: "Ivan", LastName: "Admin", Department: "IT", Title: "IAM lead"}, []gatehouse.AccessRole{gatehouse.RoleAdmin}},
		{"auditor", gatehouse.Identity{EmployeeID: "E003", Email: "audit@example.com", FirstName: "Aud", LastName: "Itor", Department: "Risk", Title: "Auditor"}, []gatehouse.AccessRole{gatehouse.RoleAuditor}},
		{"alice", gatehouse.Identity{EmployeeID: "E004", Email: "alice@example.com", FirstName: "Alice", LastName: "Anders", Department: "Engineering", Title: "Engineer", ManagerID: "E001", Attributes: map[string]string{"cost_center": "CC-42"}}, nil},
		{"bob", gatehouse.Identity{EmployeeID: "E005", Email: "bob@example.com", FirstName: "Bob", LastName: "Berg", Department: "Finance", Title: "Accountant", EmploymentType: gatehouse.Contractor, EndDate: "2030-01-01", StartDate: "2024-01-01"}, nil},
		{"cfo", gatehouse.Identity{EmployeeID: "E006", Email: "cfo@example.com", FirstName: "Carla", LastName: "Fo", Department: "Finance", Title: "CFO"}, nil},
		{"sec", gatehouse.Identity{EmployeeID: "E007", Email: "sec@example.com", FirstName: "Sam", LastName: "Sec", Department: "Security", Title: "Security lead"}, nil},
	}
	for _, p := range people {
		in := p.id
		id, err := svc.CreateIdentity(ctx, sys, &in, "test fixture")
		if err != nil {
			t.Fatalf("create %s: %v", p.name, err)
		}
		if p.roles != nil {
			if id, err = svc.SetRoles(ctx, sys, id.ID, p.roles, "test fixture"); err != nil {
				t.Fatalf("roles of %s: %v", p.name, err)
			}
		}
		f.ids[p.name] = id
		tok, err := svc.CreateToken(ctx, sys, service.NewToken{For: id.Email, Description: "web test"})
		if err != nil {
			t.Fatalf("token for %s: %v", p.name, err)
		}
		f.tokens[p.name] = tok.Secret
	}
	if _, err := svc.ApplyCatalog(ctx, sys, []catalog.File{{Name: "catalog.yaml", Content: []byte(testCatalog)}}, false, "test fixture"); err != nil {
		t.Fatalf("apply catalog: %v", err)
	}
	grant := func(who, ent, ref string) *gatehouse.Grant {
		g, err := svc.CreateGrant(ctx, sys, service.NewGrant{Identity: f.ids[who].ID, Entitlement: ent, Reference: ref, Reason: "test fixture"})
		if err != nil {
			t.Fatalf("grant %s to %s: %v", ent, who, err)
		}
		return g
	}
	grant("alice", "corp-ldap/engineering", "CHG-100")
	grant("alice", "corp-ldap/domain-admins", "INC-7")
	old := grant("alice", "erp/payments-create", "CHG-1")
	if _, err := svc.RevokeGrant(ctx, sys, old.ID, "moved teams"); err != nil {
		t.Fatal(err)
	}
	grant("bob", "erp/payments-create", "CHG-200")

	h, err := web.New(svc, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.handler = h
	return f
}

// get fetches path as the named person ("" for nobody) and returns the response and body.
func (f *fixture) get(t *testing.T, who, path string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if who != "" {
		req.AddCookie(f.cookie(t, who))
	}
	return f.do(t, req)
}

func (f *fixture) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// cookie is the session cookie of the named person, who signs in with their token on first use.
func (f *fixture) cookie(t *testing.T, who string) *http.Cookie {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sessions == nil {
		f.sessions = map[string]string{}
	}
	if _, ok := f.sessions[who]; !ok {
		opened, err := f.svc.SignIn(context.Background(), f.tokens[who], "192.0.2.1", service.SessionLimits{})
		if err != nil {
			t.Fatalf("sign in %s: %v", who, err)
		}
		f.sessions[who] = opened.Secret
	}
	return &http.Cookie{Name: "gatehouse_session", Value: f.sessions[who]}
}

func postForm(path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func wantStatus(t *testing.T, res *http.Response, body string, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("status %d, want %d; body:\n%s", res.StatusCode, want, body)
	}
}

func wantContains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

func wantNotContains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Errorf("page shows %q, which it must not", s)
		}
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	t.Run("success sets a strict HttpOnly cookie and goes to next", func(t *testing.T) {
		res, body := f.do(t, postForm("/login", url.Values{"token": {f.tokens["auditor"]}, "next": {"/audit?actor=x"}}))
		wantStatus(t, res, body, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/audit?actor=x" {
			t.Errorf("Location %q, want /audit?actor=x", loc)
		}
		var c *http.Cookie
		for _, k := range res.Cookies() {
			if k.Name == "gatehouse_session" {
				c = k
			}
		}
		if c == nil || !strings.HasPrefix(c.Value, "ghs_") {
			t.Fatalf("no session cookie in %v", res.Cookies())
		}
		if strings.Contains(res.Header.Get("Set-Cookie"), f.tokens["auditor"]) ||
			strings.Contains(res.Header.Get("Set-Cookie"), base64.RawURLEncoding.EncodeToString([]byte(f.tokens["auditor"]))) {
			t.Fatalf("Set-Cookie carries the token: %s", res.Header.Get("Set-Cookie"))
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/" {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP, Path=/", c)
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(c)
		res, body = f.do(t, req)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "audit@example.com", "auditor", "Chain intact")
	})

	t.Run("cookie is Secure over TLS", func(t *testing.T) {
		req := postForm("https://gatehouse.example/login", url.Values{"token": {f.tokens["alice"]}})
		res, body := f.do(t, req)
		wantStatus(t, res, body, http.StatusSeeOther)
		if cs := res.Cookies(); len(cs) != 1 || !cs[0].Secure {
			t.Errorf("cookies %v: want one Secure cookie", cs)
		}
	})

	t.Run("bad token is a 401 with a message", func(t *testing.T) {
		res, body := f.do(t, postForm("/login", url.Values{"token": {"gh_notatoken"}, "next": {"/identities"}}))
		wantStatus(t, res, body, http.StatusUnauthorized)
		wantContains(t, body, "That token was not accepted", `value="/identities"`, `role="alert"`)
		if len(res.Cookies()) != 0 {
			t.Errorf("a failed sign-in set cookies: %v", res.Cookies())
		}
	})

	t.Run("empty token", func(t *testing.T) {
		res, body := f.do(t, postForm("/login", url.Values{"token": {"  "}}))
		wantStatus(t, res, body, http.StatusBadRequest)
		wantContains(t, body, "Paste a token")
	})

	t.Run("cross-origin post is refused", func(t *testing.T) {
		for name, hdr := range map[string][2]string{
			"origin":         {"Origin", "https://evil.example"},
			"sec-fetch-site": {"Sec-Fetch-Site", "cross-site"},
		} {
			req := postForm("/login", url.Values{"token": {f.tokens["admin"]}})
			req.Header.Set(hdr[0], hdr[1])
			res, body := f.do(t, req)
			if res.StatusCode != http.StatusForbidden || len(res.Cookies()) != 0 {
				t.Errorf("%s: status %d, cookies %v; want 403 and no cookie", name, res.StatusCode, res.Cookies())
			}
			wantContains(t, body, "another site")
		}
		// The same site's own form, as a browser sends it, is fine.
		req := postForm("http://example.com/login", url.Values{"token": {f.tokens["admin"]}})
		req.Header.Set("Origin", "http://example.com")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, body := f.do(t, req)
		wantStatus(t, res, body, http.StatusSeeOther)
	})

	t.Run("signed in visitor of /login goes on", func(t *testing.T) {
		res, body := f.get(t, "alice", "/login?next=/catalog/sod")
		wantStatus(t, res, body, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/catalog/sod" {
			t.Errorf("Location %q", loc)
		}
	})

	t.Run("logout clears the cookie", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/logout", nil)
		req.AddCookie(f.cookie(t, "alice"))
		res, body := f.do(t, req)
		wantStatus(t, res, body, http.StatusSeeOther)
		cs := res.Cookies()
		if len(cs) != 1 || cs[0].Name != "gatehouse_session" || cs[0].MaxAge >= 0 || cs[0].Value != "" {
			t.Errorf("cookies %v: want the session cookie deleted", cs)
		}
	})
}

func TestSignedOutRedirectsToLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, path := range []string{"/", "/identities?q=alice&status=active", "/audit", "/catalog/entitlements/corp-ldap/engineering", "/no/such/page"} {
		res, body := f.get(t, "", path)
		wantStatus(t, res, body, http.StatusSeeOther)
		want := "/login?next=" + url.QueryEscape(path)
		if loc := res.Header.Get("Location"); loc != want {
			t.Errorf("%s: Location %q, want %q", path, loc, want)
		}
	}
	// A revoked or unknown token counts as signed out, and the stale cookie is removed.
	req := httptest.NewRequest(http.MethodGet, "/identities", nil)
	req.AddCookie(&http.Cookie{Name: "gatehouse_session", Value: "ghs_stale"})
	res, body := f.do(t, req)
	wantStatus(t, res, body, http.StatusSeeOther)
	if cs := res.Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Errorf("stale cookie not cleared: %v", cs)
	}
	// The login page and assets need no session.
	res, body = f.get(t, "", "/login")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, `<label for="token">`, `name="next" value="/"`)
	res, body = f.get(t, "", "/static/app.css")
	wantStatus(t, res, body, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("app.css Content-Type %q", ct)
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, next := range []string{
		"//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "evil.example",
		"javascript:alert(1)", "/%0a/evil", "/\t/evil.example", " //evil.example", "http:/evil.example",
	} {
		res, body := f.do(t, postForm("/login", url.Values{"token": {f.tokens["alice"]}, "next": {next}}))
		wantStatus(t, res, body, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/" && !strings.HasPrefix(loc, "/%") {
			t.Errorf("next %q: redirected to %q", next, loc)
		}
		u, _ := url.Parse(res.Header.Get("Location"))
		if u.Host != "" || strings.HasPrefix(u.Path, "//") {
			t.Errorf("next %q: redirect %q leaves the site", next, res.Header.Get("Location"))
		}
	}
	// A local path with a query is kept.
	res, _ := f.do(t, postForm("/login", url.Values{"token": {f.tokens["alice"]}, "next": {"/catalog/entitlements?risk=privileged"}}))
	if loc := res.Header.Get("Location"); loc != "/catalog/entitlements?risk=privileged" {
		t.Errorf("local next lost: %q", loc)
	}
}

func TestOrdinaryIdentityIsConfined(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	alice, bob := f.ids["alice"], f.ids["bob"]

	// The list is not for her: she is taken to her own page.
	res, body := f.get(t, "alice", "/identities?q=bob")
	wantStatus(t, res, body, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/identities/"+alice.ID {
		t.Errorf("Location %q, want her own page", loc)
	}
	wantNotContains(t, body, "bob@example.com")

	for _, key := range []string{bob.ID, bob.Email, "E005", "no-such-person"} {
		res, body = f.get(t, "alice", "/identities/"+url.PathEscape(key))
		wantStatus(t, res, body, http.StatusForbidden)
		wantContains(t, body, "You may only see your own access")
		wantNotContains(t, body, "Bob", "Finance")
	}

	res, body = f.get(t, "alice", "/audit")
	wantStatus(t, res, body, http.StatusForbidden)
	wantContains(t, body, "You need the auditor role", "You don&#39;t have access")

	// Her own page works, without the audit history (she is no reader), and the nav offers
	// "My access" rather than lists she may not see.
	res, body = f.get(t, "alice", "/identities/"+alice.ID)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Alice Anders", "this is you", "Engineering", "My access")
	wantNotContains(t, body, `href="/audit"`, "History", `href="/identities"`)

	// The catalog is for everyone, but who holds an entitlement is not.
	res, body = f.get(t, "alice", "/catalog/entitlements/erp/payments-create")
	wantStatus(t, res, body, http.StatusOK)
	wantNotContains(t, body, "Who holds it", "bob@example.com")
}

func TestIdentitiesSearch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	res, body := f.get(t, "auditor", "/identities")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "7 identities", "alice@example.com", "bob@example.com")

	res, body = f.get(t, "auditor", "/identities?q=alice")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "alice@example.com", "Alice Anders", `value="alice"`, "1 identity match")
	wantNotContains(t, body, "bob@example.com")

	res, body = f.get(t, "auditor", "/identities?department=Finance&employment_type=contractor")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "bob@example.com")
	wantNotContains(t, body, "cfo@example.com", "alice@example.com")

	res, body = f.get(t, "auditor", "/identities?q=nobody-like-this")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "No identities match")

	res, body = f.get(t, "auditor", "/identities?status=retired")
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, "not one of active, leave, terminated")
}

func TestIdentitiesPagination(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sys := service.SystemPrincipal("test")
	for i := range 55 {
		in := &gatehouse.Identity{EmployeeID: fmt.Sprintf("P%03d", i), Email: fmt.Sprintf("person%d@example.com", i), FirstName: "Person", LastName: strconv.Itoa(i), Department: "Ops"}
		if _, err := f.svc.CreateIdentity(context.Background(), sys, in, "pagination"); err != nil {
			t.Fatal(err)
		}
	}
	res, body := f.get(t, "admin", "/identities?department=Ops")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "55 identities", `rel="next"`)
	i := strings.Index(body, `href="/identities?`)
	if i < 0 {
		t.Fatal("no next link")
	}
	next := body[i+len(`href="`):]
	next = strings.ReplaceAll(next[:strings.Index(next, `"`)], "&amp;", "&")
	if !strings.Contains(next, "department=Ops") || !strings.Contains(next, "cursor=") {
		t.Fatalf("next link %q lost the filter or the cursor", next)
	}
	res, body2 := f.get(t, "admin", next)
	wantStatus(t, res, body2, http.StatusOK)
	if n := strings.Count(body2, `data-label="Name"`); n != 5 {
		t.Errorf("second page has %d rows, want 5", n)
	}
	wantContains(t, body2, "First page")
	wantNotContains(t, body2, `rel="next"`)
}

func TestIdentityDetail(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	alice := f.ids["alice"]

	res, body := f.get(t, "auditor", "/identities/"+alice.ID)
	wantStatus(t, res, body, http.StatusOK)
	grants := section(t, body, `id="grants"`, "</table>")
	wantContains(t, grants,
		"Engineering", "Corporate Directory", "risk-standard", "CHG-100",
		"Domain Admins", "risk-privileged", "INC-7", "in 7 hours", // privileged: expires after max_duration 8h
	)
	wantNotContains(t, grants, "Create payments") // revoked: not in the active table
	revoked := section(t, body, "Revoked grants (1)", "</details>")
	wantContains(t, revoked, "Create payments", "moved teams", "CHG-1")
	// HR record, manager link, attributes, history.
	wantContains(t, body, "E004", `href="/identities/`+f.ids["boss"].ID+`"`, "Bea Boss", "cost_center", "CC-42",
		"History", "identity.create", "Before / after")
	// The identity may be named by email or employee id too.
	for _, key := range []string{"alice@example.com", "E004"} {
		res, body = f.get(t, "auditor", "/identities/"+url.PathEscape(key))
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Alice Anders")
	}
	res, body = f.get(t, "auditor", "/identities/nobody@example.com")
	wantStatus(t, res, body, http.StatusNotFound)
	wantContains(t, body, "Not found")
}

// section returns the part of body from the first from to the next to after it.
func section(t *testing.T, body, from, to string) string {
	t.Helper()
	i := strings.Index(body, from)
	if i < 0 {
		t.Fatalf("page lacks %q", from)
	}
	rest := body[i:]
	j := strings.Index(rest, to)
	if j < 0 {
		return rest
	}
	return rest[:j]
}

func TestCatalogPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		path string
		want []string
	}{
		{"/catalog/systems", []string{"Corporate Directory", "Finance ERP", "tier-critical", `aria-current="page">Systems`}},
		{"/catalog/systems/corp-ldap", []string{"Corporate Directory", "Engineering", "Domain Admins", "assignee", "it@example.com"}},
		{"/catalog/entitlements", []string{"Engineering", "Domain Admins", "Create payments", "risk-sensitive"}},
		{"/catalog/entitlements?q=payments&risk=sensitive", []string{"Create payments", "Approve payments"}},
		{"/catalog/entitlements?system=corp-ldap", []string{"Engineering", "Domain Admins"}},
		{"/catalog/entitlements/erp/payments-create", []string{"Create payments", "Finance ERP", "manager", "owner", "payments-maker-checker", "Who holds it", "Bob Berg", "CHG-200"}},
		{"/catalog/entitlements/corp-ldap/engineering", []string{"Engineering baseline", "Alice Anders", "none — may be permanent"}},
		{"/catalog/entitlements/corp-ldap/domain-admins", []string{"8 hours", "security"}},
		{"/catalog/roles", []string{"Engineering baseline", "identity.department == &#34;Platform&#34;"}},
		{"/catalog/roles/engineering-baseline", []string{"Birthright rule", "Engineering", "Corporate Directory"}},
		{"/catalog/sod", []string{"payments-maker-checker", "Nobody may both create and approve payments", "Create payments", "Approve payments", "severity-high"}},
	}
	for _, c := range cases {
		res, body := f.get(t, "auditor", c.path)
		wantStatus(t, res, body, http.StatusOK)
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", c.path, w)
			}
		}
	}
	res, body := f.get(t, "auditor", "/catalog/entitlements?system=corp-ldap")
	wantNotContains(t, body, "Create payments")
	res, body = f.get(t, "auditor", "/catalog/entitlements?q=payments")
	wantNotContains(t, body, "Domain Admins")

	res, body = f.get(t, "auditor", "/catalog")
	wantStatus(t, res, body, http.StatusFound)
	for _, p := range []string{"/catalog/entitlements/erp/nope", "/catalog/systems/nope", "/catalog/roles/nope", "/nope"} {
		res, body = f.get(t, "auditor", p)
		wantStatus(t, res, body, http.StatusNotFound)
		wantContains(t, body, "Not found")
	}
}

func TestAuditPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res, body := f.get(t, "auditor", "/audit")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Chain intact:", "grant.revoke", "catalog.apply", "moved teams", "Before / after", "&#34;revoke_reason&#34;")

	res, body = f.get(t, "auditor", "/audit?action=grant.revoke")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "grant.revoke", "Changed: <code>revoke_reason</code>, <code>revoked_at</code>, <code>revoked_by</code>",
		`href="/identities/`+f.ids["alice"].ID+`#grants"`) // a grant's event links to its holder's access
	wantNotContains(t, body, "identity.create")

	res, body = f.get(t, "auditor", "/audit?object_type=identity&object_id="+f.ids["alice"].ID)
	wantStatus(t, res, body, http.StatusOK)
	if n := strings.Count(body, `data-label="#"`); n != 1 {
		t.Errorf("%d events for alice's identity, want 1 (identity.create)", n)
	}

	tomorrow := time.Now().Add(48 * time.Hour).UTC().Format("2006-01-02")
	res, body = f.get(t, "auditor", "/audit?since="+tomorrow)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "No events match")

	res, body = f.get(t, "auditor", "/audit?since=yesterday")
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, "is not a date (YYYY-MM-DD)")
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res, body := f.get(t, "admin", "/")
	wantStatus(t, res, body, http.StatusOK)
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	} {
		if got := res.Header.Get(k); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	// Nothing is loaded from the internet.
	wantNotContains(t, body, "http://", "https://")
}

func TestBootstrapAdminHome(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	// An operator may choose any text, including characters a cookie cannot hold as they are.
	const bootstrap = "correct horse; \"battery\" staple"
	svc := service.New(st, service.Options{BootstrapToken: bootstrap})
	h, err := web.New(svc, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, postForm("/login", url.Values{"token": {bootstrap}}))
	if rec.Code != http.StatusSeeOther || len(rec.Result().Cookies()) != 1 {
		t.Fatalf("sign-in: status %d, cookies %v", rec.Code, rec.Result().Cookies())
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(rec.Result().Cookies()[0])
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	// The sign-in itself is audited (session.create, and the bootstrap token's use).
	wantContains(t, rec.Body.String(), "Welcome, bootstrap admin", "Chain intact: ", "bootstrap admin")
}
