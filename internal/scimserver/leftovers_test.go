package scimserver_test

// A reviewer's leftovers over /scim/v2: a filter value of another type than its attribute's
// (active eq "true") is 400 invalidFilter rather than an empty list; emails filters compare
// every address a user has with eq, ne, co, sw and ew alike, whether the database narrows the
// filter or it is matched in memory; employee numbers are unique ignoring case.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestLeftoverFilterValueTypes: RFC 7644 section 3.4.2.2 compares an attribute with a value
// of its type. A mismatch used to answer 200 with no results, which hides a broken IdP
// mapping; it is 400 invalidFilter naming the attribute and its type, by GET and by .search.
func TestLeftoverFilterValueTypes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	jane := f.create(f.okta, user("jane@example.com", "Jane", "Doe", "Eng", "externalId", "00u1", "title", "Engineer"))
	group := f.do("POST", "/scim/v2/Groups", f.okta, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng","members":[{"value":"`+jane+`"}]}`).want(t, http.StatusCreated)
	groupID := str(group.body, "id")

	for _, c := range []struct{ endpoint, filter, detail string }{
		{"Users", `active eq "true"`, "active is of type boolean"},
		{"Users", `active ne "false"`, "active is of type boolean"},
		{"Users", `active eq 1`, "active is of type boolean"},
		{"Users", `userName eq 42`, "userName is of type string"},
		{"Users", `userName eq true`, "userName is of type string"},
		{"Users", `title eq false`, "title is of type string"},
		{"Users", `emails eq 5`, "emails is of type string"},
		{"Users", `emails[primary eq "true"]`, "primary is of type boolean"},
		{"Users", `emails[value eq 1]`, "value is of type string"},
		{"Users", `emails.primary eq "True"`, "emails.primary is of type boolean"},
		{"Users", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 100`, "employeeNumber is of type string"},
		{"Users", `meta.lastModified gt "2026-01-01"`, "meta.lastModified is of type dateTime"},
		{"Users", `meta.lastModified gt "yesterday"`, "RFC 3339"},
		{"Users", `meta.created lt 20260101`, "meta.created is of type dateTime"},
		{"Users", `meta.lastModified gt true`, "meta.lastModified is of type dateTime"},
		{"Users", `userName eq "jane@example.com" and active eq "true"`, "active is of type boolean"},
		{"Users", `not (active eq "false")`, "active is of type boolean"},
		{"Groups", `displayName eq 1`, "displayName is of type string"},
		{"Groups", `members[value eq true]`, "value is of type string"},
	} {
		for _, r := range f.search(t, c.endpoint, c.filter, "") {
			r.wantError(t, http.StatusBadRequest, "invalidFilter", c.detail)
		}
	}

	// Values of the attribute's type, the IdP filters and null keep working.
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{`active eq true`, []string{jane}},
		{`active eq false`, nil},
		{`userName eq "JANE@example.com"`, []string{jane}},
		{`externalId eq "00u1"`, []string{jane}},
		{`emails[type eq "work" and primary eq true]`, []string{jane}},
		{`emails[value eq "jane@example.com"]`, []string{jane}},
		{`meta.lastModified gt "2026-01-01T00:00:00Z"`, []string{jane}},
		{`meta.lastModified gt "2020-01-01T00:00:00.000+02:00"`, []string{jane}},
		{`meta.created lt "2000-01-01T00:00:00Z"`, nil},
		{`title eq null`, nil},
		{`displayName eq null`, nil},
		{`title ne null`, []string{jane}},
	} {
		if got := f.findUsers(c.filter); !slices.Equal(got, c.want) {
			t.Errorf("filter %s = %v, want %v", c.filter, got, c.want)
		}
	}
	r := f.do("GET", "/scim/v2/Groups?filter="+url.QueryEscape(`members[value eq "`+jane+`"]`), f.okta, "").want(t, http.StatusOK)
	if n, _ := r.body["totalResults"].(float64); n != 1 || !strings.Contains(r.raw, groupID) {
		t.Errorf("members[value eq jane] = %s, want the group %s", r.raw, groupID)
	}
}

// TestLeftoverEmailsEveryAddress: a filter on emails compares every address of a user (RFC
// 7644 section 3.4.2.2: a multi-valued attribute matches when any of its values does). eq
// found the userName only while co found the secondary addresses; now eq, ne, co, sw and ew
// agree, through the database (emails eq, emails.value eq, emails[value eq]) and in memory
// (any other filter).
func TestLeftoverEmailsEveryAddress(t *testing.T) {
	t.Parallel()
	for _, eng := range scimEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, eng.open(t))
			emails := func(list ...string) string {
				return `[` + strings.Join(list, ",") + `]`
			}
			jane := f.create(f.okta, user("jane@example.com", "Jane", "Doe", "Eng", "emails", emails(
				`{"value":"jane@example.com","type":"work","primary":true}`,
				`{"value":"Jane.Home@Private.example","type":"home"}`)))
			// The address as another value (display) or inside a longer one must not match.
			bob := f.create(f.okta, user("bob@example.com", "Bob", "B", "Eng", "emails", emails(
				`{"value":"bob@example.com","type":"work","primary":true,"display":"jane.home@private.example"}`)))
			carl := f.create(f.entra, user("carl@example.com", "Carl", "C", "Sales", "emails", emails(
				`{"value":"carl@example.com","primary":true}`,
				`{"value":"xjane.home@private.example","type":"other"}`)))
			// A deleted user's addresses are not found.
			gone := f.create(f.okta, user("gone@example.com", "Gone", "G", "Eng", "emails", emails(
				`{"value":"gone@example.com","primary":true}`, `{"value":"jane.home@private.example"}`)))
			f.do("DELETE", "/scim/v2/Users/"+gone, f.okta, "").want(t, http.StatusNoContent)

			for _, c := range []struct {
				filter string
				want   []string
			}{
				// Narrowed in the database.
				{`emails eq "jane.home@private.example"`, []string{jane}},
				{`emails.value eq "JANE.HOME@private.example"`, []string{jane}},
				{`emails[value eq "Jane.Home@Private.example"]`, []string{jane}},
				{`urn:ietf:params:scim:schemas:core:2.0:User:emails.value eq "jane.home@private.example"`, []string{jane}},
				{`emails eq "jane@example.com"`, []string{jane}},
				{`emails eq "carl@example.com"`, []string{carl}},
				{`emails eq "private.example"`, nil},
				{`emails eq "nobody@example.com"`, nil},
				// Matched in memory, with the same meaning.
				{`emails sw "jane.home@"`, []string{jane}},
				{`emails ew "jane.home@private.example"`, sortedIDs(jane, carl)},
				{`emails co "jane.home@private"`, sortedIDs(jane, carl)},
				{`emails ne "jane.home@private.example"`, sortedIDs(bob, carl)},
				{`not (emails eq "jane.home@private.example")`, sortedIDs(bob, carl)},
				{`emails[value eq "jane.home@private.example" and type eq "home"]`, []string{jane}},
				{`emails[value eq "jane.home@private.example" and type eq "work"]`, nil},
				{`emails eq "jane.home@private.example" or userName eq "bob@example.com"`, sortedIDs(jane, bob)},
				{`emails.display eq "jane.home@private.example"`, []string{bob}},
			} {
				if got := f.findUsers(c.filter); !slices.Equal(got, c.want) {
					t.Errorf("filter %s = %v, want %v (jane %s, bob %s, carl %s)", c.filter, got, c.want, jane, bob, carl)
				}
			}
			// POST .search and a page of the match agree with GET.
			for _, r := range f.search(t, "Users", `emails eq "jane.home@private.example"`, "") {
				r.want(t, http.StatusOK)
				if n, _ := r.body["totalResults"].(float64); n != 1 || !strings.Contains(r.raw, jane) {
					t.Errorf("emails eq jane.home@ by %s", r.raw)
				}
			}
			r := f.do("GET", "/scim/v2/Users?count=0&filter="+url.QueryEscape(`emails[value eq "jane.home@private.example"]`), f.okta, "").want(t, http.StatusOK)
			if n, _ := r.body["totalResults"].(float64); n != 1 || r.body["itemsPerPage"] != float64(0) {
				t.Errorf("count=0: %s", r.raw)
			}
		})
	}
}

// TestLeftoverEmployeeNumberIgnoringCase: E100 and e100 are one employee number to SCIM. A
// create or an update that would give a second person another spelling of a number someone
// holds is 409 uniqueness naming the holder's spelling; the number is stored as sent, and a
// user may change the case of their own.
func TestLeftoverEmployeeNumberIgnoringCase(t *testing.T) {
	t.Parallel()
	for _, eng := range scimEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, eng.open(t))
			withNumber := func(n string) []string {
				return []string{enterprise, fmt.Sprintf(`{"employeeNumber":%q,"department":"Eng"}`, n)}
			}
			setNumber := func(n string) string {
				return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"` +
					enterprise + `:employeeNumber","value":"` + n + `"}]}`
			}
			ann := f.create(f.okta, user("ann@example.com", "Ann", "A", "Eng", withNumber("E100")...))

			before := f.auditCount()
			f.do("POST", "/scim/v2/Users", f.okta, user("bea@example.com", "Bea", "B", "Eng", withNumber("e100")...)).
				wantError(t, http.StatusConflict, "uniqueness", `employeeNumber "e100" (as "E100": employee numbers are compared ignoring case) is already used by user `+ann)
			// Another client's create is refused too, naming only the source.
			f.do("POST", "/scim/v2/Users", f.entra, user("bea@example.com", "Bea", "B", "Eng", withNumber("e100")...)).
				wantError(t, http.StatusConflict, "uniqueness", `is already used by an identity of source`)
			if got := f.findUsers(`userName eq "bea@example.com"`); len(got) != 0 {
				t.Errorf("bea was created: %v", got)
			}
			if after := f.auditCount(); after != before {
				t.Errorf("refused creates wrote %d audit events", after-before)
			}

			bea := f.create(f.okta, user("bea@example.com", "Bea", "B", "Eng", withNumber("E200")...))
			f.do("PATCH", "/scim/v2/Users/"+bea, f.okta, setNumber("e100")).
				wantError(t, http.StatusConflict, "uniqueness", `as "E100"`)
			f.do("PUT", "/scim/v2/Users/"+bea, f.okta, user("bea@example.com", "Bea", "B", "Eng", withNumber("e100")...)).
				wantError(t, http.StatusConflict, "uniqueness", `as "E100"`)
			if got := f.identity(bea).EmployeeID; got != "E200" {
				t.Errorf("bea's employee id = %q after refused changes, want E200", got)
			}

			// Ann may change the case of her own number; it is stored as sent.
			f.do("PATCH", "/scim/v2/Users/"+ann, f.okta, setNumber("e100")).want(t, http.StatusOK)
			if got := f.identity(ann).EmployeeID; got != "e100" {
				t.Errorf("ann's employee id = %q, want e100 as sent", got)
			}
			if got := f.findUsers(enterprise + `:employeeNumber eq "e100"`); !slices.Equal(got, []string{ann}) {
				t.Errorf("employeeNumber eq e100 = %v, want ann %s", got, ann)
			}

			// An HR person's number, in another case, is refused as well; the HR person is
			// named by source only.
			if _, err := f.svc.CreateIdentity(context.Background(), f.sys, &gatehouse.Identity{EmployeeID: "H7", Email: "hr.person@example.com",
				FirstName: "Hal", LastName: "R", Source: "hr-csv"}, "test"); err != nil {
				t.Fatal(err)
			}
			f.do("POST", "/scim/v2/Users", f.okta, user("cy@example.com", "Cy", "C", "Eng", withNumber("h7")...)).
				wantError(t, http.StatusConflict, "uniqueness", `employeeNumber "h7" (as "H7": employee numbers are compared ignoring case) is already used by an identity of source "hr-csv"`)
			// A number no one holds in any case is taken as sent.
			cy := f.create(f.okta, user("cy@example.com", "Cy", "C", "Eng", withNumber("h8")...))
			if got := f.identity(cy).EmployeeID; got != "h8" {
				t.Errorf("cy's employee id = %q, want h8", got)
			}
		})
	}
}
