package scimserver_test

// A reviewer's probes over /scim/v2, beside the conformance and identity tests: the manager of
// a legacy user (whose employee id is a former userName) against a newcomer who takes that
// userName; employee numbers that would name someone else; the uniqueness answers that keep
// another source's people out of a client's reach and tell it nothing more; sortBy checked
// against the schema; PATCH errors of RFC 7644 section 3.5.2; filter errors under and, or,
// not and value paths; group changes that change nothing; a rehire starting in no group.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestReviewLegacyManagerKeepsReports: before employee numbers stopped being derived from
// userName, a user's employee id was their userName at the time. After a rename that name is
// free (defect 1), but the user's reports still name it as their manager's employee id: a
// newcomer who takes the name (here through another client) must not become their manager, in
// SCIM or as the approver of the manager step of their requests.
func TestReviewLegacyManagerKeepsReports(t *testing.T) {
	t.Parallel()
	for _, eng := range scimEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, eng.open(t))
			c := strings.Replace(testCatalog, "entitlements:\n",
				"entitlements:\n  - {id: app/tools, system: app, name: Tools, kind: group, risk: standard, requestable: true, approval: [manager]}\n", 1)
			if _, err := f.svc.ApplyCatalog(context.Background(), f.sys, []catalog.File{{Name: "c.yaml", Content: []byte(c)}}, false, "test"); err != nil {
				t.Fatal(err)
			}
			lee := f.create(f.okta, user("lee.old@example.com", "Lee", "Old", "Eng", enterprise, `{"employeeNumber":"lee.old@example.com"}`))
			rae := f.create(f.okta, user("rae@example.com", "Rae", "R", "Eng", enterprise, `{"manager":{"value":"`+lee+`"}}`))
			f.do("PATCH", "/scim/v2/Users/"+lee, f.okta, setUserName("lee.new@example.com")).want(t, http.StatusOK)
			newcomer := f.create(f.entra, user("lee.old@example.com", "Lee", "Newcomer", "Sales"))

			r := f.do("GET", "/scim/v2/Users/"+rae, f.okta, "").want(t, http.StatusOK)
			if got := str(r.body, enterprise, "manager", "value"); got != lee {
				t.Errorf("manager of rae = %q, want %s (the newcomer is %s): %s", got, lee, newcomer, r.raw)
			}
			// The filter an IdP sends finds lee by the employee number, not the newcomer by email.
			if got := f.findUsers(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "lee.old@example.com"`); !slices.Equal(got, []string{lee}) {
				t.Errorf("employeeNumber eq lee.old@ = %v, want lee %s", got, lee)
			}
			if got := f.findUsers(`userName eq "LEE.OLD@example.com"`); !slices.Equal(got, []string{newcomer}) {
				t.Errorf("userName eq lee.old@ = %v, want the newcomer %s", got, newcomer)
			}
			// The manager step of rae's request goes to lee, not to the newcomer.
			tok := f.token("rae@example.com")
			r = f.do("POST", "/api/v1/requests", tok, `{"entitlement":"app/tools","justification":"I need the tools for the Q3 release work"}`).want(t, http.StatusCreated)
			if !strings.Contains(r.raw, lee) || strings.Contains(r.raw, newcomer) {
				t.Errorf("request of rae: want lee %s as manager approver, not the newcomer %s: %s", lee, newcomer, r.raw)
			}
		})
	}
}

// userNames returns the userNames of a list answer, in order.
func userNames(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	for _, res := range r.body["Resources"].([]any) {
		out = append(out, str(res.(map[string]any), "userName"))
	}
	return out
}

// TestReviewSortBy: sortBy names an attribute of the schema (a typo is a 400, as in a filter),
// on every way a list is answered; users without a value come last ascending and first
// descending (RFC 7644 section 3.4.2.3).
func TestReviewSortBy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.create(f.okta, user("a@example.com", "A", "A", "Eng", "title", `"Zoo keeper"`, "externalId", `"x1"`))
	f.create(f.okta, user("b@example.com", "B", "B", "Eng", "externalId", `"x1"`))
	f.create(f.okta, user("c@example.com", "C", "C", "Eng", "title", `"Archivist"`, "externalId", `"x1"`))
	list := func(query string) response {
		return f.do("GET", "/scim/v2/Users?"+query, f.okta, "")
	}
	for _, tc := range []struct{ query, want string }{
		{"sortBy=title", "c a b"},
		{"sortBy=title&sortOrder=descending", "b a c"},
		{"sortBy=TITLE&filter=" + url.QueryEscape(`userName ew "example.com"`), "c a b"},
		{"sortBy=title&filter=" + url.QueryEscape(`externalId eq "x1"`), "c a b"},
		{"sortBy=emails&sortOrder=descending", "c b a"},
		{"sortBy=name.givenName&sortOrder=descending", "c b a"},
	} {
		r := list(tc.query).want(t, http.StatusOK)
		got := strings.Join(userNames(t, r), " ")
		want := strings.ReplaceAll(tc.want, " ", "@example.com ") + "@example.com"
		if got != want {
			t.Errorf("%s: %s, want %s", tc.query, got, want)
		}
	}
	for _, q := range []string{"sortBy=titel", "sortBy=name", "sortBy=name.givenNam", "sortBy=phoneNumbers",
		"sortBy=titel&filter=" + url.QueryEscape(`externalId eq "x1"`), "sortBy=titel&filter=" + url.QueryEscape(`userName eq "a@example.com"`),
		"sortBy=members.value", "sortBy=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:departmnt"} {
		list(q).wantError(t, http.StatusBadRequest, scim_invalidValue, "sortBy")
	}
	r := f.do("POST", "/scim/v2/Users/.search", f.okta, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"sortBy":"titel"}`)
	r.wantError(t, http.StatusBadRequest, scim_invalidValue, `"titel"`)
	f.do("GET", "/scim/v2/Groups?sortBy=displayNam", f.okta, "").wantError(t, http.StatusBadRequest, scim_invalidValue, "displayNam")
	f.do("GET", "/scim/v2/Groups?sortBy=displayName", f.okta, "").want(t, http.StatusOK)
}

const scim_invalidValue = "invalidValue"

// TestReviewKeysAcrossSources: a client cannot reach another source's people through the keys:
// not by a userName or an employee number in another case or form, not by a rename, not by
// deleting and creating again; the 409 names the attribute and the owning source but never
// the identity's id or details of a person the client cannot see. Nothing is written.
func TestReviewKeysAcrossSources(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.roomyGuard()
	ctx := context.Background()
	hr, err := f.svc.CreateIdentity(ctx, f.sys, &gatehouse.Identity{Email: "Hana.Ri@example.com", EmployeeID: "E100", FirstName: "Hana",
		LastName: "Ri", Kind: gatehouse.KindPerson, Source: "hr-csv", Status: gatehouse.StatusActive, EmploymentType: gatehouse.Employee,
		StartDate: "2024-01-01"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	mine := f.create(f.okta, user("mine@example.com", "M", "Ine", "Eng", "externalId", `"00uHANA"`))
	theirs := f.create(f.entra, user("theirs@example.com", "T", "Heirs", "Eng", enterprise, `{"employeeNumber":"E200"}`))
	f.do("DELETE", "/scim/v2/Users/"+theirs, f.entra, "").want(t, http.StatusNoContent)
	before := f.auditCount()

	conflict := func(r response, detail string, hidden ...string) {
		t.Helper()
		r.wantError(t, http.StatusConflict, "uniqueness", detail)
		for _, h := range hidden {
			if strings.Contains(r.raw, h) {
				t.Errorf("409 names %q: %s", h, r.raw)
			}
		}
	}
	conflict(f.do("POST", "/scim/v2/Users", f.okta, user("HANA.RI@EXAMPLE.COM", "X", "Y", "Eng")), `source "hr-csv"`, hr.ID)
	conflict(f.do("POST", "/scim/v2/Users", f.okta, user("x@example.com", "X", "Y", "Eng", enterprise, `{"employeeNumber":"E100"}`)), `employeeNumber "E100"`, hr.ID)
	conflict(f.do("PATCH", "/scim/v2/Users/"+mine, f.okta, setUserName("hana.ri@example.com")), `source "hr-csv"`, hr.ID)
	conflict(f.do("PUT", "/scim/v2/Users/"+mine, f.okta, user("mine@example.com", "M", "Ine", "Eng", enterprise, `{"employeeNumber":"E100"}`)), `source "hr-csv"`, hr.ID)
	// Another client's deleted user: neither its userName nor its employee number, and its id
	// and userName are not told.
	conflict(f.do("POST", "/scim/v2/Users", f.okta, user("Theirs@example.com", "X", "Y", "Eng")), `source "scim:entra-scim@example.com"`, theirs)
	conflict(f.do("POST", "/scim/v2/Users", f.okta, user("y@example.com", "X", "Y", "Eng", enterprise, `{"employeeNumber":"E200"}`)), `employeeNumber "E200"`, theirs, "theirs@")
	// Nor the service accounts that are the clients themselves.
	conflict(f.do("POST", "/scim/v2/Users", f.okta, user("Entra-SCIM@example.com", "X", "Y", "Eng")), "is already used")
	// Writes to another source's people are 403, deleted ones 404.
	f.do("PATCH", "/scim/v2/Users/"+hr.ID, f.okta, setUserName("mine2@example.com")).wantError(t, http.StatusForbidden, "", `"hr-csv"`)
	f.do("DELETE", "/scim/v2/Users/"+hr.ID, f.okta, "").wantError(t, http.StatusForbidden, "", `"hr-csv"`)
	f.do("PUT", "/scim/v2/Users/"+theirs, f.okta, user("theirs@example.com", "T", "H", "Eng")).want(t, http.StatusNotFound)
	// Nor a deleted user as a group member, nor a service account.
	okta := f.identity("okta-scim@example.com")
	for _, m := range []string{theirs, okta.ID} {
		f.do("POST", "/scim/v2/Groups", f.okta, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G","members":[{"value":"`+m+`"}]}`).
			wantError(t, http.StatusBadRequest, "invalidValue", "is not a user")
	}
	if after := f.auditCount(); after != before {
		t.Errorf("refused changes wrote %d audit events", after-before)
	}
	if got := f.identity(hr.ID); got.Source != "hr-csv" || got.Email != "Hana.Ri@example.com" || got.Status != gatehouse.StatusActive {
		t.Errorf("HR person changed: %+v", got)
	}
	// externalId is no key: the HR person's externalId-like value or a shared one takes nobody.
	other := f.create(f.entra, user("other@example.com", "O", "T", "Eng", "externalId", `"00uHANA"`))
	ids := f.findUsers(`externalId eq "00uHANA"`)
	if want := sortedIDs(mine, other); !slices.Equal(ids, want) {
		t.Errorf("externalId eq 00uHANA = %v, want %v", ids, want)
	}
	if got := f.findUsers(`externalId eq "00uhana"`); len(got) != 0 {
		t.Errorf("externalId is caseExact, found %v", got)
	}
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// auditCount counts the audit events.
func (f *fixture) auditCount() int {
	f.t.Helper()
	n := 0
	flt := gatehouse.AuditFilter{Limit: gatehouse.MaxLimit}
	for {
		page, err := f.st.ListAuditEvents(context.Background(), flt)
		if err != nil {
			f.t.Fatal(err)
		}
		n += len(page.Items)
		if page.NextCursor == "" {
			return n
		}
		flt.Cursor = page.NextCursor
	}
}

// TestReviewGroupNoOpAndRehire: a group PATCH that changes nothing (removing a member who is
// not one, as an IdP does after Gatehouse removed a deleted user itself) keeps the group's
// version and writes no event; and a rehired user starts in no group, even when a deletion
// from before deletions ended memberships left their member rows behind.
func TestReviewGroupNoOpAndRehire(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.roomyGuard()
	ann := f.create(f.okta, user("ann@example.com", "Ann", "A", "Eng"))
	bob := f.create(f.okta, user("bob@example.com", "Bob", "B", "Eng"))
	g := f.do("POST", "/scim/v2/Groups", f.okta, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales","members":[{"value":"`+ann+`"},{"value":"`+bob+`"}]}`).
		want(t, http.StatusCreated)
	gid, etag := str(g.body, "id"), g.header.Get("ETag")
	before := f.auditCount()
	for _, ops := range []string{
		`{"op":"remove","path":"members[value eq \"nobody\"]"}`,
		`{"op":"add","path":"members","value":[{"value":"` + ann + `"}]}`,
		`{"op":"replace","path":"displayName","value":"Sales"}`,
	} {
		r := f.do("PATCH", "/scim/v2/Groups/"+gid, f.okta, `{`+patchOp+`,"Operations":[`+ops+`]}`, "If-Match", etag).want(t, http.StatusOK)
		if got := r.header.Get("ETag"); got != etag {
			t.Errorf("%s: ETag %s, want %s unchanged", ops, got, etag)
		}
	}
	if n := f.auditCount() - before; n != 0 {
		t.Errorf("no-op PATCHes wrote %d audit events", n)
	}

	// bob is deleted the way Gatehouse did before deletions ended memberships: his member row
	// stays, hidden while he is deleted.
	ctx := context.Background()
	if err := f.st.Update(ctx, func(tx store.Tx) error {
		i, err := tx.GetIdentity(ctx, bob)
		if err != nil {
			return err
		}
		i.Attributes = map[string]string{"scim.deleted": "true"}
		i.Status = gatehouse.StatusTerminated
		if err := tx.UpdateIdentity(ctx, i); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Time: time.Now(), Actor: "system:test", Action: "identity.update",
			ObjectType: "identity", ObjectID: bob, Reason: "a deletion as Gatehouse made them before"})
	}); err != nil {
		t.Fatal(err)
	}
	if got := memberIDs(t, f.do("GET", "/scim/v2/Groups/"+gid, f.okta, "").want(t, http.StatusOK)); !slices.Equal(got, []string{ann}) {
		t.Fatalf("members with bob deleted = %v, want [ann]", got)
	}
	if again := f.create(f.okta, user("Bob@example.com", "Bob", "B", "Eng")); again != bob {
		t.Fatalf("rehire: id %s, want bob's %s", again, bob)
	}
	if got := memberIDs(t, f.do("GET", "/scim/v2/Groups/"+gid, f.okta, "").want(t, http.StatusOK)); !slices.Equal(got, []string{ann}) {
		t.Errorf("members after bob's rehire = %v, want [ann]: a rehire starts in no group", got)
	}
	r := f.do("GET", "/scim/v2/Users/"+bob, f.okta, "").want(t, http.StatusOK)
	if _, ok := r.body["groups"]; ok {
		t.Errorf("rehired bob has groups: %s", r.raw)
	}
	evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "scim_group.replace", ObjectID: gid, Limit: 10})
	if err != nil || len(evs.Items) != 1 || evs.Items[0].Reference != "scim:POST /Users" {
		t.Errorf("group events = %+v, %v: want the rehire's removal of the old row, referenced to the POST", evs.Items, err)
	}
}

// TestReviewPatchErrors: RFC 7644 section 3.5.2 errors, each with the section 3.12 body and
// nothing changed: a required attribute removed or emptied is mutability (3.5.2.2), a
// read-only one mutability, a value filter matching nothing on replace noTarget, a remove
// without a path noTarget, an unknown attribute (in a value path's filter or after it)
// invalidPath or invalidFilter; sub-attribute names in any case work on emails.
func TestReviewPatchErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ann := f.create(f.okta, user("ann@example.com", "Ann", "A", "Eng"))
	g := f.do("POST", "/scim/v2/Groups", f.okta, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales"}`).want(t, http.StatusCreated)
	gid := str(g.body, "id")
	etag := f.do("GET", "/scim/v2/Users/"+ann, f.okta, "").want(t, http.StatusOK).header.Get("ETag")
	patch := func(path, ops string) response {
		return f.do("PATCH", path, f.okta, `{`+patchOp+`,"Operations":[`+ops+`]}`)
	}
	for _, tc := range []struct{ path, ops, scimType, detail string }{
		{"/scim/v2/Users/" + ann, `{"op":"remove","path":"userName"}`, "mutability", "userName is required"},
		{"/scim/v2/Users/" + ann, `{"op":"replace","path":"userName","value":null}`, "mutability", "userName is required"},
		{"/scim/v2/Users/" + ann, `{"op":"replace","value":{"userName":""}}`, "mutability", "userName is required"},
		{"/scim/v2/Groups/" + gid, `{"op":"remove","path":"displayName"}`, "mutability", "displayName is required"},
		{"/scim/v2/Users/" + ann, `{"op":"replace","path":"meta.lastModified","value":"2020-01-01T00:00:00Z"}`, "mutability", "read-only"},
		{"/scim/v2/Users/" + ann, `{"op":"add","path":"groups","value":[{"value":"` + gid + `"}]}`, "mutability", "groups"},
		{"/scim/v2/Users/" + ann, `{"op":"replace","path":"emails[type eq \"home\"].value","value":"a@example.org"}`, "noTarget", "home"},
		{"/scim/v2/Users/" + ann, `{"op":"remove"}`, "noTarget", "path"},
		{"/scim/v2/Users/" + ann, `{"op":"replace","path":"emails[type eq \"work\"].valu","value":"a@example.org"}`, "invalidPath", "valu"},
		{"/scim/v2/Users/" + ann, `{"op":"replace","path":"emails[typ eq \"work\"].value","value":"a@example.org"}`, "invalidFilter", "typ"},
		{"/scim/v2/Users/" + ann, `{"op":"replace","path":"emails[type eq \"work\" or not (bogus pr)].value","value":"a@example.org"}`, "invalidFilter", "bogus"},
		{"/scim/v2/Users/" + ann, `{"op":"replace","path":"titel","value":"x"}`, "invalidPath", "titel"},
	} {
		patch(tc.path, tc.ops).wantError(t, http.StatusBadRequest, tc.scimType, tc.detail)
	}
	if got := f.do("GET", "/scim/v2/Users/"+ann, f.okta, "").header.Get("ETag"); got != etag {
		t.Errorf("refused PATCHes changed the user: ETag %s, was %s", got, etag)
	}
	// Mixed-case sub-attributes in a value path and in the value are the schema's.
	r := patch("/scim/v2/Users/"+ann, `{"op":"add","path":"emails","value":[{"VALUE":"Ann.Home@Example.org","TYPE":"Home","Primary":"False","Label":"x"}]},`+
		`{"op":"replace","path":"EMAILS[TYPE eq \"home\"].Value","value":"ann.home@example.org"}`).want(t, http.StatusOK)
	emails, _ := r.body["emails"].([]any)
	want := `[{"primary":true,"type":"work","value":"ann@example.com"},{"primary":false,"type":"home","value":"ann.home@example.org"}]`
	if got := string(mustMarshal(emails)); got != want {
		t.Errorf("emails = %s, want %s", got, want)
	}
}

// TestReviewEmployeeNumberNamesNobodyElse: an employee number may not be another identity's id
// or email (a manager reference or member filter naming that key would find them instead);
// one's own email, or one's own former email, is still fine.
func TestReviewEmployeeNumberNamesNobodyElse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ann := f.create(f.okta, user("ann@example.com", "Ann", "A", "Eng"))
	hr, err := f.svc.CreateIdentity(context.Background(), f.sys, &gatehouse.Identity{Email: "hana@example.com", EmployeeID: "E100", FirstName: "Hana",
		Kind: gatehouse.KindPerson, Source: "hr-csv", Status: gatehouse.StatusActive, EmploymentType: gatehouse.Employee, StartDate: "2024-01-01"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{hr.ID, "HANA@example.com", ann, "ann@example.com", "okta-scim@example.com"} {
		f.do("POST", "/scim/v2/Users", f.okta, user("new@example.com", "N", "E", "Eng", enterprise, `{"employeeNumber":"`+key+`"}`)).
			wantError(t, http.StatusConflict, "uniqueness", `employeeNumber "`+key+`"`)
		f.do("PATCH", "/scim/v2/Users/"+ann, f.okta, `{`+patchOp+`,"Operations":[{"op":"replace","path":"`+enterprise+`:employeeNumber","value":"`+key+`"}]}`).
			want(t, map[bool]int{true: http.StatusOK, false: http.StatusConflict}[key == ann || key == "ann@example.com"])
	}
	f.do("POST", "/scim/v2/Users", f.okta, user("new@example.com", "N", "E", "Eng", enterprise, `{"employeeNumber":"`+hr.ID+`"}`)).
		wantError(t, http.StatusConflict, "uniqueness", "is the id or the email of another identity")
	bob := f.create(f.okta, user("bob@example.com", "Bob", "B", "Eng", enterprise, `{"employeeNumber":"bob@example.com"}`))
	f.do("PATCH", "/scim/v2/Users/"+bob, f.okta, setUserName("robert@example.com")).want(t, http.StatusOK)
	f.do("PUT", "/scim/v2/Users/"+bob, f.okta, user("robert@example.com", "Bob", "B", "Sales", enterprise, `{"employeeNumber":"bob@example.com"}`)).want(t, http.StatusOK)
}

// TestReviewFilterCombinations: a schema error anywhere in a filter, under and, or, not or
// inside a value path, is 400 invalidFilter, on GET and on .search, for Users and Groups.
func TestReviewFilterCombinations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.create(f.okta, user("ann@example.com", "Ann", "A", "Eng"))
	for _, tc := range []struct{ endpoint, filter, detail string }{
		{"Users", `not (active ge false)`, "boolean"},
		{"Users", `userName eq "a" or active lt true`, "boolean"},
		{"Users", `userName eq "a" and (active eq true or bogus eq 1)`, "bogus"},
		{"Users", `emails[type eq "work" and not (primry eq true)]`, "primry"},
		{"Users", `emails[type eq "work" or not (bogus pr)]`, "bogus"},
		{"Users", `groups[display eq "x" and valu eq "y"]`, "valu"},
		{"Users", `emails[primary gt false]`, "boolean"},
		{"Users", `members[value eq "x"]`, "members"},
		{"Groups", `displayName eq "x" or members[valu eq "x"]`, "valu"},
		{"Groups", `not (userName eq "x")`, "userName"},
	} {
		f.do("GET", "/scim/v2/"+tc.endpoint+"?filter="+url.QueryEscape(tc.filter), f.okta, "").
			wantError(t, http.StatusBadRequest, "invalidFilter", tc.detail)
		body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":` + string(mustMarshal(tc.filter)) + `}`
		f.do("POST", "/scim/v2/"+tc.endpoint+"/.search", f.okta, body).wantError(t, http.StatusBadRequest, "invalidFilter", tc.detail)
	}
	for _, filter := range []string{`emails[type eq "work" and not (primary eq false)]`, `not (active eq false) and name.givenName sw "A"`,
		`groups pr or userName eq "ann@example.com"`} {
		if got := f.findUsers(filter); len(got) != 1 {
			t.Errorf("%s: %v, want ann", filter, got)
		}
	}
}
