package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// engines are the databases the key tests run on. OpenPostgres skips on a laptop without
// PostgreSQL and fails under CI=true.
var engines = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", storetest.OpenSQLite},
	{"postgres", storetest.OpenPostgres},
}

const bootstrapSecret = "gh_bootstrap-secret-for-tests"

// seedCatalog is the small catalog every fixture applies. Owners must be identities, so it is
// applied after the people exist.
const seedCatalog = `settings:
  security_approvers: [admin@example.com]
systems:
  - id: corp-ldap
    name: Corporate Directory
    owner: admin@example.com
    tier: critical
    connector:
      type: manual
  - id: wiki
    name: Team Wiki
    owner: admin@example.com
    tier: standard
    connector:
      type: manual
entitlements:
  - id: corp-ldap/engineering
    system: corp-ldap
    name: Engineering
    kind: group
    risk: standard
    requestable: true
    approval: [manager, owner]
  - id: corp-ldap/admins
    system: corp-ldap
    name: Directory admins
    kind: group
    risk: privileged
    requestable: true
    max_duration: 720h
    approval: [manager, owner]
  - id: wiki/members
    system: wiki
    name: Wiki members
    kind: group
    risk: standard
    requestable: true
    approval: [owner]
roles:
  - id: engineering-baseline
    name: Engineering baseline
    entitlements: [corp-ldap/engineering, wiki/members]
    # Nobody in the fixture is in Platform: the tests hold exactly the grants they give, while
    # a birthright role still exists to show (an apply grants birthright roles to everyone).
    birthright: identity.department == "Platform" && identity.status == "active"
sod:
  - id: eng-vs-admins
    description: Test rule
    left: [corp-ldap/engineering]
    right: [corp-ldap/admins]
    severity: high
    on_violation: block
`

// clock is a settable service clock, so tests can mint tokens that are already expired.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) shift(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// fixture is one isolated database with people, a catalog, grants and tokens, and the API
// handler over it.
type fixture struct {
	t     testing.TB
	st    store.Store
	svc   *service.Service
	api   *api
	clock *clock
	sys   *gatehouse.Principal

	ids     map[string]*gatehouse.Identity // by caller name, plus "other"
	secrets map[string]string              // bearer tokens by caller name; "none" has ""

	otherToken *gatehouse.Token  // a token of "other", for revocation checks
	otherGrant *gatehouse.Grant  // a grant of "other"
	userGrant  *gatehouse.Grant  // a grant of "user"
	revokable  *gatehouse.Grant  // a grant the walk revokes
	held       map[string]string // held HR imports by purpose, made on first use (see heldImport)
}

// callers are the columns of the authorization walk.
var callers = []string{"none", "user", "auditor", "operator", "admin"}

func newFixture(t testing.TB, st store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	c := &clock{}
	svc := service.New(st, service.Options{
		BootstrapToken: bootstrapSecret,
		Now:            c.now,
		Logger:         slog.New(slog.DiscardHandler),
		Provisioner:    fakeProvisioner{}, // provision_test.go
	})
	f := &fixture{
		t: t, st: st, svc: svc, clock: c, sys: service.SystemPrincipal("test"),
		ids: map[string]*gatehouse.Identity{}, secrets: map[string]string{"none": ""},
	}
	f.api = newAPI(svc, Options{Logger: slog.New(slog.DiscardHandler)})

	roles := map[string][]gatehouse.AccessRole{
		"user": nil, "auditor": {gatehouse.RoleAuditor}, "operator": {gatehouse.RoleOperator},
		"admin": {gatehouse.RoleAdmin}, "other": nil,
	}
	for _, name := range []string{"admin", "user", "auditor", "operator", "other"} {
		id := f.person(name, "Engineering")
		if len(roles[name]) > 0 {
			var err error
			if id, err = svc.SetRoles(ctx, f.sys, id.ID, roles[name], "test setup"); err != nil {
				t.Fatalf("set roles of %s: %v", name, err)
			}
		}
		f.ids[name] = id
		if name != "other" {
			f.secrets[name] = f.token(name, 0).Secret
		}
	}
	f.otherToken = f.token("other", 0).Token

	f.apply(seedCatalog)
	f.otherGrant = f.grant("other", "corp-ldap/engineering")
	f.userGrant = f.grant("user", "corp-ldap/engineering")
	f.revokable = f.grant("other", "wiki/members")
	return f
}

// person creates an identity through the service.
func (f *fixture) person(name, dept string) *gatehouse.Identity {
	f.t.Helper()
	id, err := f.svc.CreateIdentity(context.Background(), f.sys, &gatehouse.Identity{
		EmployeeID: "E-" + name, Email: name + "@example.com", FirstName: strings.ToUpper(name[:1]) + name[1:],
		LastName: "Tester", Department: dept, Title: "Engineer", StartDate: "2024-01-02",
	}, "test setup")
	if err != nil {
		f.t.Fatalf("create %s: %v", name, err)
	}
	return id
}

func (f *fixture) token(name string, ttl time.Duration) *service.CreatedToken {
	f.t.Helper()
	ct, err := f.svc.CreateToken(context.Background(), f.sys, service.NewToken{For: name + "@example.com", TTL: ttl, Description: "test " + name})
	if err != nil {
		f.t.Fatalf("token for %s: %v", name, err)
	}
	return ct
}

func (f *fixture) grant(name, ent string) *gatehouse.Grant {
	f.t.Helper()
	g, err := f.svc.CreateGrant(context.Background(), f.sys, service.NewGrant{
		Identity: name + "@example.com", Entitlement: ent, Reference: "TEST-1", Reason: "test setup",
	})
	if err != nil {
		f.t.Fatalf("grant %s to %s: %v", ent, name, err)
	}
	return g
}

func (f *fixture) apply(yaml string) {
	f.t.Helper()
	if _, err := f.svc.ApplyCatalog(context.Background(), f.sys,
		[]catalog.File{{Name: "catalog.yaml", Content: []byte(yaml)}}, false, "test setup"); err != nil {
		f.t.Fatalf("apply catalog: %v", err)
	}
}

// answer is a response, decoded.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// errorOf decodes an error answer.
func (a answer) errorOf(t testing.TB) errorDetail {
	t.Helper()
	var e errorBody
	a.json(t, &e)
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error answer without code or message: %s", a.body)
	}
	return e.Error
}

// request is one call to the handler.
type request struct {
	method, path string
	token        string
	body         string
	contentType  string // default application/json when body is set
	header       map[string]string
}

func (f *fixture) do(t testing.TB, rq request) answer {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(rq.method, rq.path, body)
	if rq.body != "" {
		ct := rq.contentType
		if ct == "" {
			ct = "application/json"
		}
		r.Header.Set("Content-Type", ct)
	}
	if rq.token != "" {
		r.Header.Set("Authorization", "Bearer "+rq.token)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	return answer{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// as is shorthand for a call by a named caller.
func (f *fixture) as(t testing.TB, caller, method, path, body string) answer {
	t.Helper()
	return f.do(t, request{method: method, path: path, token: f.secrets[caller], body: body})
}

// must checks an answer's status and shows the body when it is not the one expected.
func must(t testing.TB, a answer, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body: %s", a.status, status, bytes.TrimSpace(a.body))
	}
	return a
}

func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint("test body: ", err))
	}
	return string(b)
}
