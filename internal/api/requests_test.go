package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// madeRequests remembers the walk's requests per fixture and purpose.
var madeRequests sync.Map // confirmationKey → REQ-number

const goodJustification = "deploy the billing fix for INC-4211 this week"

// request returns the number of a pending request, made for purpose once per fixture, by a new
// person whose manager is "user": its first step asks "user".
func (f *fixture) request(purpose string) string {
	f.t.Helper()
	key := confirmationKey{f, "request:" + purpose}
	if ref, ok := madeRequests.Load(key); ok {
		return ref.(string)
	}
	ctx := context.Background()
	who, err := f.svc.CreateIdentity(ctx, f.sys, &gatehouse.Identity{EmployeeID: "E-walk-" + purpose, Email: "walk-" + purpose + "@example.com",
		Department: "Sales", Title: "Rep", ManagerID: "E-user"}, "test setup")
	if err != nil {
		f.t.Fatal(err)
	}
	r, err := f.svc.CreateRequest(ctx, &gatehouse.Principal{IdentityID: who.ID, Email: who.Email},
		service.NewRequest{Entitlement: "corp-ldap/engineering", Justification: goodJustification})
	if err != nil {
		f.t.Fatal(err)
	}
	madeRequests.Store(key, r.Ref)
	return r.Ref
}

// userRequest returns the number of a request "user" made for themselves with a weak
// justification: it is returned, for "user" to resubmit (and then cancel).
func (f *fixture) userRequest() string {
	f.t.Helper()
	key := confirmationKey{f, "request:user"}
	if ref, ok := madeRequests.Load(key); ok {
		return ref.(string)
	}
	u := f.ids["user"]
	r, err := f.svc.CreateRequest(context.Background(), &gatehouse.Principal{IdentityID: u.ID, Email: u.Email},
		service.NewRequest{Entitlement: "wiki/members", Justification: "pls"})
	if err != nil {
		f.t.Fatal(err)
	}
	madeRequests.Store(key, r.Ref)
	return r.Ref
}

func TestRequestHandlers(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			// "user" asks for the wiki, owned by "admin". First the preview: who and why.
			var pv service.RequestPreview
			must(t, f.as(t, "user", "POST", "/api/v1/requests/preview",
				`{"entitlement":"wiki/members","justification":"`+goodJustification+`"}`), s200).json(t, &pv)
			if len(pv.Steps) != 1 || pv.Steps[0].Emails[0] != "admin@example.com" || !strings.Contains(pv.Steps[0].Why, "owner of wiki/members") {
				t.Fatalf("preview = %+v", pv)
			}
			var r gatehouse.AccessRequest
			a := must(t, f.as(t, "user", "POST", "/api/v1/requests", `{"entitlement":"wiki/members","justification":"`+goodJustification+`","priority":"high"}`), s201)
			a.json(t, &r)
			if a.header.Get("Location") != "/api/v1/requests/"+r.Ref || r.State != gatehouse.RequestPendingApproval {
				t.Fatalf("created %+v at %s", r, a.header.Get("Location"))
			}
			// Refusals carry a reason.
			e := must(t, f.as(t, "user", "POST", "/api/v1/requests", `{"entitlement":"corp-ldap/engineering","justification":"`+goodJustification+`"}`), http.StatusConflict).errorOf(t)
			if !strings.Contains(e.Message, "already holds corp-ldap/engineering") {
				t.Errorf("already held: %+v", e)
			}
			must(t, f.as(t, "user", "POST", "/api/v1/requests", `{"entitlement":"wiki/members","justification":"x","bogus":1}`), http.StatusBadRequest)
			// Self-approval is refused by the API, whatever the caller's roles: "admin" owns the
			// wiki, and asks for it.
			var ar gatehouse.AccessRequest
			must(t, f.as(t, "admin", "POST", "/api/v1/requests", `{"entitlement":"wiki/members","justification":"`+goodJustification+`"}`), s201).json(t, &ar)
			e = must(t, f.as(t, "admin", "POST", "/api/v1/requests/"+ar.Ref+"/approve", `{}`), s403).errorOf(t)
			if !strings.Contains(e.Message, "no one decides a request they submitted") {
				t.Errorf("self-approval: %+v", e)
			}
			if ar.Steps[0].Emails[0] != "operator@example.com" || !strings.Contains(ar.Steps[0].Why, "operators") {
				t.Errorf("admin's own request routes to %v (%s), want the operators", ar.Steps[0].Emails, ar.Steps[0].Why)
			}
			must(t, f.as(t, "user", "POST", "/api/v1/requests/"+r.Ref+"/approve", ``), s403)
			// The owner's inbox shows it; the decision writes the grant.
			var inbox struct{ Items []gatehouse.AccessRequest }
			must(t, f.as(t, "admin", "GET", "/api/v1/requests?view=pending-me", ""), s200).json(t, &inbox)
			if len(inbox.Items) != 1 || inbox.Items[0].Ref != r.Ref {
				t.Fatalf("admin's inbox = %+v", inbox.Items)
			}
			must(t, f.as(t, "admin", "POST", "/api/v1/requests/"+r.Ref+"/deny", `{}`), http.StatusBadRequest) // a denial says why
			must(t, f.as(t, "admin", "POST", "/api/v1/requests/"+strings.ToLower(r.Ref)+"/approve", `{"comment":"ok"}`), s200).json(t, &r)
			if r.State != gatehouse.RequestProvisioning || len(r.GrantIDs) != 1 {
				t.Fatalf("approved: %+v", r)
			}
			must(t, f.as(t, "admin", "POST", "/api/v1/requests/"+r.Ref+"/approve", `{"comment":"again"}`), http.StatusConflict)
			var g gatehouse.Grant
			must(t, f.as(t, "other", "GET", "/api/v1/grants/"+r.GrantIDs[0], ""), s401) // "other" has no token in the fixture
			must(t, f.as(t, "user", "GET", "/api/v1/grants/"+r.GrantIDs[0], ""), s200).json(t, &g)
			if g.Source != gatehouse.SourceRequest || g.Reference != r.Ref {
				t.Errorf("grant = %+v", g)
			}
			// Reads: the parties and readers; not someone else.
			must(t, f.as(t, "user", "GET", "/api/v1/requests/"+r.Ref, ""), s200)
			must(t, f.as(t, "auditor", "GET", "/api/v1/requests/"+r.ID, ""), s200)
			must(t, f.as(t, "operator", "GET", "/api/v1/requests?view=all&state=provisioning,fulfilled", ""), s200)
			must(t, f.as(t, "user", "GET", "/api/v1/requests?view=all", ""), s403)
			must(t, f.as(t, "user", "GET", "/api/v1/requests?view=nope", ""), http.StatusBadRequest)
		})
	}
}

// BenchmarkCreateRequest measures request creation through the API handler on SQLite: each
// iteration is the operator asking for the wiki on behalf of a new person (one token, as a
// signed-in client keeps it; a fresh token per call would measure token bookkeeping instead).
func BenchmarkCreateRequest(b *testing.B) {
	st := storetest.OpenSQLite(b)
	f := newFixture(b, st)
	ctx := context.Background()
	people := make([]*gatehouse.Identity, b.N)
	for i := range b.N {
		people[i] = &gatehouse.Identity{EmployeeID: fmt.Sprintf("E-bench%06d", i), Email: fmt.Sprintf("bench%06d@example.com", i),
			Department: fmt.Sprintf("D%02d", i%20), Title: "Engineer"}
	}
	for start := 0; start < b.N; start += 1000 {
		if _, err := f.svc.CreateIdentities(ctx, f.sys, people[start:min(start+1000, b.N)], "bench"); err != nil {
			b.Fatal(err)
		}
	}
	token := f.secrets["operator"]
	b.ResetTimer()
	for i := range b.N {
		body := `{"for":"` + people[i].Email + `","entitlement":"wiki/members","justification":"` + goodJustification + `"}`
		r := httptest.NewRequest("POST", "/api/v1/requests", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		f.api.ServeHTTP(w, r)
		if w.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
