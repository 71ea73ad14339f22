package scimserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func TestAuthentication(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.do("GET", "/scim/v2/Users", "", "")
	r.wantError(t, http.StatusUnauthorized, "", "bearer token")
	if r.header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	f.do("GET", "/scim/v2/Users", "gh_nonsense", "").wantError(t, http.StatusUnauthorized, "", "invalid token")
	// An admin's ordinary token is not a SCIM client.
	f.do("GET", "/scim/v2/Users", f.admin, "").wantError(t, http.StatusForbidden, "", "scim scope")
	// A SCIM token is refused by the API.
	r = f.do("GET", "/api/v1/identities", f.okta, "")
	if r.status != http.StatusForbidden || !strings.Contains(r.raw, "this token may only be used for SCIM") {
		t.Errorf("API with a SCIM token: %d %s", r.status, r.raw)
	}
	// The admin's token still works there.
	f.do("GET", "/api/v1/identities", f.admin, "").want(t, http.StatusOK)
}

func TestScopedTokensAdminOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Over the API: an admin may create a scim token; an unknown scope is refused by name.
	r := f.do("POST", "/api/v1/tokens", f.admin, `{"for":"okta-scim@example.com","scopes":["scim"],"ttl":"24h"}`)
	r.want(t, http.StatusCreated)
	r = f.do("POST", "/api/v1/tokens", f.admin, `{"for":"okta-scim@example.com","scopes":["everything"]}`)
	if r.status != http.StatusBadRequest || !strings.Contains(r.raw, "scim") || !strings.Contains(r.raw, "everything") {
		t.Errorf("unknown scope: %d %s", r.status, r.raw)
	}
	// A person without the admin role cannot give themselves a scoped token.
	ctx := context.Background()
	p, err := f.svc.CreateIdentity(ctx, f.sys, &gatehouse.Identity{Email: "pat@example.com", EmployeeID: "P1"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	pat := f.token(p.Email)
	r = f.do("POST", "/api/v1/tokens", pat, `{"scopes":["scim"]}`)
	if r.status != http.StatusForbidden || !strings.Contains(r.raw, "admin") {
		t.Errorf("non-admin scoped token: %d %s", r.status, r.raw)
	}
}

// TestOktaLifecycle replays what Okta sends: a lookup by userName before the create, PUT
// with the full user for profile changes and for deactivation, PATCH to reactivate.
func TestOktaLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	q := "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "ada@example.com"`) + "&startIndex=1&count=100"
	r := f.do("GET", q, f.okta, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(0) || len(r.body["Resources"].([]any)) != 0 {
		t.Fatalf("lookup before create: %s", r.raw)
	}
	body := user("ada@example.com", "Ada", "Lovelace", "Eng", "externalId", "00u1", "title", "Engineer",
		"addresses", `[{"type":"work","locality":"London","primary":true}]`)
	r = f.do("POST", "/scim/v2/Users", f.okta, body).want(t, http.StatusCreated)
	id := str(r.body, "id")
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/scim/v2/Users/"+id) {
		t.Errorf("Location = %q", loc)
	}
	if et := r.header.Get("ETag"); !strings.HasPrefix(et, `W/"`) || et != str(r.body, "meta", "version") {
		t.Errorf("ETag %q, meta.version %q", et, str(r.body, "meta", "version"))
	}
	if ct := r.header.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("Content-Type %q", ct)
	}
	// The identity: owned by the client's source, a joiner with birthright access. No
	// employeeNumber was sent: the employee id is the user's id (externalId is no key).
	i := f.identity(id)
	if i.Source != "scim:"+f.identity("okta-scim@example.com").ID || i.Email != "ada@example.com" || i.FirstName != "Ada" ||
		i.Department != "Eng" || i.Location != "London" || i.Title != "Engineer" || i.EmployeeID != id ||
		i.Status != gatehouse.StatusActive || i.Attributes["scim.externalId"] != "00u1" {
		t.Errorf("stored identity = %+v", i)
	}
	f.wantGrants(id, "app/eng", "app/users")
	// The lookup now finds it, in any case.
	q = "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "ADA@example.com"`) + "&startIndex=1&count=100"
	r = f.do("GET", q, f.okta, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(1) || str(r.body["Resources"].([]any)[0].(map[string]any), "id") != id {
		t.Fatalf("lookup after create: %s", r.raw)
	}
	// A profile update with PUT moves her to Sales: birthright recomputed.
	body = user("ada@example.com", "Ada", "King", "Sales", "externalId", "00u1")
	r = f.do("PUT", "/scim/v2/Users/"+id, f.okta, body).want(t, http.StatusOK)
	if str(r.body, "name", "familyName") != "King" || str(r.body, enterprise, "department") != "Sales" {
		t.Errorf("PUT answer: %s", r.raw)
	}
	f.wantGrants(id, "app/sales", "app/users")
	if i := f.identity(id); i.Title != "" || i.Location != "" {
		t.Errorf("PUT kept fields it did not send: title %q location %q", i.Title, i.Location)
	}
	// Deactivation with PUT active false: a leaver.
	body = user("ada@example.com", "Ada", "King", "Sales", "externalId", "00u1", "active", "false")
	r = f.do("PUT", "/scim/v2/Users/"+id, f.okta, body).want(t, http.StatusOK)
	if r.body["active"] != false {
		t.Errorf("active after deactivation: %v", r.body["active"])
	}
	if s := f.identity(id).Status; s != gatehouse.StatusTerminated {
		t.Errorf("status = %s, want terminated", s)
	}
	f.wantGrants(id)
	// Reactivation with PATCH: a rehire, birthright only.
	r = f.do("PATCH", "/scim/v2/Users/"+id, f.okta, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":true}}]}`).want(t, http.StatusOK)
	if r.body["active"] != true || f.identity(id).Status != gatehouse.StatusActive {
		t.Errorf("reactivated: %s", r.raw)
	}
	f.wantGrants(id, "app/sales", "app/users")
	// The audit trail names the SCIM request.
	evs, err := f.st.ListAuditEvents(context.Background(), gatehouse.AuditFilter{ObjectID: id, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, ev := range evs.Items {
		refs[ev.Reference] = true
		if ev.Actor != "okta-scim@example.com" {
			t.Errorf("event %s by %s", ev.Action, ev.Actor)
		}
	}
	if !refs["scim:POST /Users"] || !refs["scim:PUT /Users/"+id] || !refs["scim:PATCH /Users/"+id] {
		t.Errorf("event references = %v", refs)
	}
}

// TestEntraShapes replays Entra ID's requests: booleans as strings, op names in any case,
// PATCH without a path carrying attribute paths, filters on externalId.
func TestEntraShapes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	mgr := f.create(f.entra, user("grace@example.com", "Grace", "Hopper", "Eng", "externalId", "grace",
		enterprise, `{"employeeNumber":"E100","department":"Eng"}`))
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId":"alan","userName":"alan@example.com","active":"True","displayName":"Alan Turing",
		"emails":[{"primary":true,"type":"work","value":"alan@example.com"}],
		"name":{"formatted":"Alan Turing","familyName":"Turing","givenName":"Alan"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"E101","department":"Eng","manager":{"value":"` + mgr + `"}}}`
	id := f.create(f.entra, body)
	if i := f.identity(id); i.ManagerID != "E100" || i.EmployeeID != "E101" {
		t.Errorf("manager_id %q employee_id %q", i.ManagerID, i.EmployeeID)
	}
	r := f.do("GET", "/scim/v2/Users/"+id, f.entra, "").want(t, http.StatusOK)
	m, _ := r.body[enterprise].(map[string]any)["manager"].(map[string]any)
	if m["value"] != mgr || m["displayName"] != "Grace Hopper" || !strings.HasSuffix(fmt.Sprint(m["$ref"]), "/Users/"+mgr) {
		t.Errorf("manager = %v", m)
	}
	// Entra looks users up by externalId.
	r = f.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`externalId eq "alan"`), f.entra, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(1) {
		t.Errorf("externalId lookup: %s", r.raw)
	}
	// externalId is case-exact.
	r = f.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`externalId eq "ALAN"`), f.entra, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(0) {
		t.Errorf("externalId is case-exact: %s", r.raw)
	}
	// A path-less Replace with attribute paths as keys.
	f.do("PATCH", "/scim/v2/Users/"+id, f.entra, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","value":{"name.givenName":"Alan M.","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Sales"}},
		{"op":"Add","path":"title","value":"Mathematician"}]}`).want(t, http.StatusOK)
	i := f.identity(id)
	if i.FirstName != "Alan M." || i.Department != "Sales" || i.Title != "Mathematician" || i.ManagerID != "E100" {
		t.Errorf("after PATCH: %+v", i)
	}
	f.wantGrants(id, "app/sales", "app/users")
	// "active": "False" as a string, op in capitals.
	f.do("PATCH", "/scim/v2/Users/"+id, f.entra, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"False"}]}`).want(t, http.StatusOK)
	if s := f.identity(id).Status; s != gatehouse.StatusTerminated {
		t.Errorf("status = %s", s)
	}
	f.wantGrants(id)
	// Path-less map form for active too.
	f.do("PATCH", "/scim/v2/Users/"+id, f.entra, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","value":{"active":true}}]}`).want(t, http.StatusOK)
	f.wantGrants(id, "app/sales", "app/users")
}

func TestOwnership(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	hr, err := f.svc.ImportHR(ctx, f.sys, "hr.csv", []byte("employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"+
		"H1,hr.person@example.com,Hr,Person,Eng,Dev,,Berlin,employee,active,2024-01-01,\n"), false)
	if err != nil || hr.Plan.Summary.Joiners != 1 {
		t.Fatalf("HR import: %v %+v", err, hr)
	}
	hrID := f.identity("hr.person@example.com").ID
	okta := f.create(f.okta, user("okta.person@example.com", "Okta", "Person", "Eng"))
	// Every client reads every person.
	f.do("GET", "/scim/v2/Users/"+hrID, f.okta, "").want(t, http.StatusOK)
	f.do("GET", "/scim/v2/Users/"+okta, f.entra, "").want(t, http.StatusOK)
	// Changes are the owner's only, and the refusal names the owner.
	f.do("PUT", "/scim/v2/Users/"+hrID, f.okta, user("hr.person@example.com", "X", "Y", "Sales")).
		wantError(t, http.StatusForbidden, "", `"hr-csv"`)
	f.do("PATCH", "/scim/v2/Users/"+okta, f.entra, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`).
		wantError(t, http.StatusForbidden, "", `"scim:okta-scim@example.com"`)
	f.do("DELETE", "/scim/v2/Users/"+okta, f.entra, "").wantError(t, http.StatusForbidden, "", "scim:okta-scim@example.com")
	// Creating someone another source has is a uniqueness conflict naming that source.
	f.do("POST", "/scim/v2/Users", f.entra, user("okta.person@example.com", "A", "B", "Eng")).
		wantError(t, http.StatusConflict, "uniqueness", "scim:okta-scim@example.com")
	f.do("POST", "/scim/v2/Users", f.okta, user("new@example.com", "A", "B", "Eng", enterprise, `{"employeeNumber":"H1"}`)).
		wantError(t, http.StatusConflict, "uniqueness", "hr-csv")
	// The same client creating the same user twice: a conflict too.
	f.do("POST", "/scim/v2/Users", f.okta, user("OKTA.person@example.com", "A", "B", "Eng")).
		wantError(t, http.StatusConflict, "uniqueness", okta)
	// The HR feed does not overwrite a SCIM-owned person: it is skipped.
	emp := f.identity(okta).EmployeeID
	res, err := f.svc.ImportHR(ctx, f.sys, "hr.csv", []byte("employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"+
		"H1,hr.person@example.com,Hr,Person,Eng,Dev,,Berlin,employee,active,2024-01-01,\n"+
		emp+",okta.person@example.com,Over,Written,Sales,Dev,,Berlin,employee,terminated,2024-01-01,\n"), false)
	if err != nil || res.Plan.Summary.Skipped != 1 {
		t.Fatalf("HR import over a SCIM person: %v %+v", err, res.Plan.Summary)
	}
	if i := f.identity(okta); i.FirstName != "Okta" || i.Status != gatehouse.StatusActive || i.Source != "scim:"+f.identity("okta-scim@example.com").ID {
		t.Errorf("HR overwrote the SCIM person: %+v", i)
	}
	// And a SCIM change leaves the HR person alone.
	if i := f.identity(hrID); i.FirstName != "Hr" || i.Department != "Eng" {
		t.Errorf("SCIM changed the HR person: %+v", i)
	}
}

func TestDeleteAndRehire(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.create(f.okta, user("bob@example.com", "Bob", "B", "Eng"))
	f.wantGrants(id, "app/eng", "app/users")
	f.do("DELETE", "/scim/v2/Users/"+id, f.okta, "").want(t, http.StatusNoContent)
	if i := f.identity(id); i.Status != gatehouse.StatusTerminated {
		t.Errorf("deleted user status %s", i.Status)
	}
	f.wantGrants(id)
	f.do("GET", "/scim/v2/Users/"+id, f.okta, "").wantError(t, http.StatusNotFound, "", id)
	f.do("DELETE", "/scim/v2/Users/"+id, f.okta, "").wantError(t, http.StatusNotFound, "", id)
	r := f.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "bob@example.com"`), f.okta, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(0) {
		t.Errorf("deleted user still listed: %s", r.raw)
	}
	r = f.do("GET", "/scim/v2/Users", f.okta, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(0) {
		t.Errorf("deleted user counted: %s", r.raw)
	}
	// Created again: the same identity, rehired.
	again := f.create(f.okta, user("bob@example.com", "Bob", "B", "Sales"))
	if again != id {
		t.Errorf("rehire made a new identity %s, want %s", again, id)
	}
	f.wantGrants(id, "app/sales", "app/users")
	f.do("GET", "/scim/v2/Users/"+id, f.okta, "").want(t, http.StatusOK)
}

func TestLeaverGuardHoldsSCIMTerminations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Guard: max(min_count 2, 0.05 × active) = 2 removals an hour for this source.
	var ids []string
	for n := range 4 {
		ids = append(ids, f.create(f.okta, user(fmt.Sprintf("p%d@example.com", n), "P", "Q", "Eng")))
	}
	f.do("DELETE", "/scim/v2/Users/"+ids[0], f.okta, "").want(t, http.StatusNoContent)
	f.do("PATCH", "/scim/v2/Users/"+ids[1], f.okta, `{"Operations":[{"op":"replace","path":"active","value":false}]}`).want(t, http.StatusOK)
	r := f.do("DELETE", "/scim/v2/Users/"+ids[2], f.okta, "")
	r.wantError(t, http.StatusServiceUnavailable, "", "an admin must approve HR import")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	// Nothing applied; the change is a held import.
	if i := f.identity(ids[2]); i.Status != gatehouse.StatusActive {
		t.Errorf("held change applied: %s", i.Status)
	}
	f.wantGrants(ids[2], "app/eng", "app/users")
	ctx := context.Background()
	held, err := f.svc.ListHRImports(ctx, f.sys, gatehouse.HRImportFilter{Status: gatehouse.ImportHeld})
	if err != nil || len(held.Items) != 1 || held.Items[0].Format != "scim" || !strings.Contains(r.raw, held.Items[0].ID) {
		t.Fatalf("held imports: %v %+v; response %s", err, held.Items, r.raw)
	}
	// Another source has its own budget.
	other := f.create(f.entra, user("e@example.com", "E", "F", "Eng"))
	f.do("DELETE", "/scim/v2/Users/"+other, f.entra, "").want(t, http.StatusNoContent)
	// An admin approves: the person becomes a leaver, deleted as asked, and the rest untouched.
	if _, err := f.svc.ApproveHRImport(ctx, f.sys, held.Items[0].ID, "checked with IT"); err != nil {
		t.Fatal(err)
	}
	if i := f.identity(ids[2]); i.Status != gatehouse.StatusTerminated || i.Source != "scim:"+f.identity("okta-scim@example.com").ID {
		t.Errorf("approved: %+v", i)
	}
	f.wantGrants(ids[2])
	f.do("GET", "/scim/v2/Users/"+ids[2], f.okta, "").want(t, http.StatusNotFound)
	f.wantGrants(ids[3], "app/eng", "app/users")
	if i := f.identity(ids[3]); i.Status != gatehouse.StatusActive {
		t.Errorf("approval touched another person: %s", i.Status)
	}
}
