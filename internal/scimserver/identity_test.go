package scimserver_test

// Identity and uniqueness over /scim/v2: which keys a user holds (userName, employeeNumber),
// which it does not (externalId, a former userName), that a deleted user's id is never given
// to someone else, and that a deleted user is in no group. On every engine.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// findUsers answers the ids a Users filter finds.
func (f *fixture) findUsers(filter string) []string {
	f.t.Helper()
	r := f.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(filter), f.okta, "").want(f.t, http.StatusOK)
	var ids []string
	res, _ := r.body["Resources"].([]any)
	for _, x := range res {
		ids = append(ids, str(x.(map[string]any), "id"))
	}
	if n, _ := r.body["totalResults"].(float64); int(n) != len(ids) {
		f.t.Errorf("filter %s: totalResults %v, %d resources", filter, r.body["totalResults"], len(ids))
	}
	slices.Sort(ids)
	return ids
}

func setUserName(userName string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"` + userName + `"}]}`
}

// TestRenamedUserNameIsFree: a renamed user's former userName is no key. Before, the person
// kept it as their employee id, and creating someone with it answered 409 "already used by
// user …" although a userName filter found nobody.
func TestRenamedUserNameIsFree(t *testing.T) {
	t.Parallel()
	for _, eng := range scimEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, eng.open(t))
			// Renamed with PUT.
			jane := f.create(f.okta, user("jane.doe@example.com", "Jane", "Doe", "Eng"))
			f.do("PUT", "/scim/v2/Users/"+jane, f.okta, user("jane.smith@example.com", "Jane", "Smith", "Eng")).want(t, http.StatusOK)
			if got := f.findUsers(`userName eq "jane.doe@example.com"`); len(got) != 0 {
				t.Fatalf("old userName still found: %v", got)
			}
			other := f.create(f.okta, user("jane.doe@example.com", "Jane", "Doe", "Sales"))
			if other == jane {
				t.Fatalf("the new jane.doe got the renamed user's id %s", jane)
			}
			if got := f.findUsers(`userName eq "jane.doe@example.com"`); !slices.Equal(got, []string{other}) {
				t.Errorf("userName eq jane.doe = %v, want %v", got, []string{other})
			}
			r := f.do("GET", "/scim/v2/Users/"+jane, f.okta, "").want(t, http.StatusOK)
			if str(r.body, "userName") != "jane.smith@example.com" || str(r.body, "name", "familyName") != "Smith" {
				t.Errorf("renamed user: %s", r.raw)
			}
			f.wantGrants(other, "app/sales", "app/users")
			f.wantGrants(jane, "app/eng", "app/users")

			// Renamed with PATCH, then its old name created again.
			john := f.create(f.okta, user("john.doe@example.com", "John", "Doe", "Eng"))
			f.do("PATCH", "/scim/v2/Users/"+john, f.okta, setUserName("john.smith@example.com")).want(t, http.StatusOK)
			if again := f.create(f.okta, user("john.doe@example.com", "John", "Doe", "Eng")); again == john {
				t.Errorf("the new john.doe got the renamed user's id")
			}

			// A person whose employee id is a former userName (as Gatehouse derived it before)
			// does not block that userName either.
			old := f.create(f.okta, user("ann.lee@example.com", "Ann", "Lee", "Eng", enterprise, `{"employeeNumber":"ann.lee@example.com"}`))
			f.do("PATCH", "/scim/v2/Users/"+old, f.okta, setUserName("ann.park@example.com")).want(t, http.StatusOK)
			if again := f.create(f.okta, user("ann.lee@example.com", "Ann", "Lee", "Eng")); again == old {
				t.Errorf("the new ann.lee got the renamed user's id")
			}
		})
	}
}

// TestCreateNeverReusesDeletedID: only a create with a deleted user's userName brings them back
// (a rehire). A match by externalId, employee number or a former userName gave the new person
// the leaver's id, identity and audit trail; now it gets a new id, or a 409 naming the key that
// is still held, and the deleted id keeps answering 404.
func TestCreateNeverReusesDeletedID(t *testing.T) {
	t.Parallel()
	for _, eng := range scimEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, eng.open(t))
			f.roomyGuard()
			gone := func(id string) {
				t.Helper()
				f.do("DELETE", "/scim/v2/Users/"+id, f.okta, "").want(t, http.StatusNoContent)
			}
			wantGone := func(id, email string) {
				t.Helper()
				f.do("GET", "/scim/v2/Users/"+id, f.okta, "").wantError(t, http.StatusNotFound, "", id)
				if i := f.identity(id); i.Email != email || i.Status != gatehouse.StatusTerminated {
					t.Errorf("deleted identity %s now %s (%s)", id, i.Email, i.Status)
				}
				f.wantGrants(id)
			}

			// The same externalId: a different person.
			a := f.create(f.okta, user("a@example.com", "Ann", "A", "Eng", "externalId", "00uA"))
			gone(a)
			b := f.create(f.okta, user("b@example.com", "Ben", "B", "Sales", "externalId", "00uA"))
			if b == a {
				t.Fatalf("a create with a deleted user's externalId reused its id %s", a)
			}
			wantGone(a, "a@example.com")
			f.wantGrants(b, "app/sales", "app/users")
			// A rename onto a deleted user's userName is refused by name: that userName rehires.
			f.do("PATCH", "/scim/v2/Users/"+b, f.okta, setUserName("A@example.com")).
				wantError(t, http.StatusConflict, "uniqueness", `userName "A@example.com" is held by user `+a+", which this client deleted")

			// A deleted person created before externalId stopped being copied into the employee
			// id (their employee id is their externalId): still not a match.
			l := f.create(f.okta, user("l@example.com", "Lee", "L", "Eng", "externalId", "00uL", enterprise, `{"employeeNumber":"00uL"}`))
			gone(l)
			if m := f.create(f.okta, user("m@example.com", "Max", "M", "Eng", "externalId", "00uL")); m == l {
				t.Fatalf("a create with a legacy externalId reused %s", l)
			}
			wantGone(l, "l@example.com")

			// The same employee number: the number is still the deleted person's, a 409 that
			// names the attribute sent and its holder; nothing is created.
			c := f.create(f.okta, user("c@example.com", "Cy", "C", "Eng", enterprise, `{"employeeNumber":"E7"}`))
			gone(c)
			f.do("POST", "/scim/v2/Users", f.okta, user("d@example.com", "Di", "D", "Eng", enterprise, `{"employeeNumber":"E7"}`)).
				wantError(t, http.StatusConflict, "uniqueness", `employeeNumber "E7" is held by user `+c)
			if got := f.findUsers(`userName eq "d@example.com"`); len(got) != 0 {
				t.Errorf("the refused create made %v", got)
			}
			wantGone(c, "c@example.com")

			// A renamed user's former userName, after the user was deleted.
			e := f.create(f.okta, user("e.old@example.com", "Eve", "E", "Eng"))
			f.do("PATCH", "/scim/v2/Users/"+e, f.okta, setUserName("e.new@example.com")).want(t, http.StatusOK)
			gone(e)
			if again := f.create(f.okta, user("e.old@example.com", "Eve", "Old", "Eng")); again == e {
				t.Fatalf("a create with a deleted user's former userName reused its id %s", e)
			}
			wantGone(e, "e.new@example.com")

			// The same userName: a rehire, as documented, with its employee number kept.
			emp := f.identity(c).EmployeeID
			if again := f.create(f.okta, user("c@example.com", "Cy", "C", "Sales")); again != c {
				t.Errorf("rehire made %s, want %s", again, c)
			}
			if i := f.identity(c); i.EmployeeID != emp || i.Status != gatehouse.StatusActive {
				t.Errorf("rehired: employee id %q (was %q), status %s", i.EmployeeID, emp, i.Status)
			}
			f.do("GET", "/scim/v2/Users/"+c, f.okta, "").want(t, http.StatusOK)
		})
	}
}

// TestExternalIDIsNotAKey: externalId is the client's identifier, kept as sent, filterable and
// not unique (as /Schemas says); employeeNumber is Gatehouse's employee id, unique, and a 409
// names it. Before, externalId became the employee id and a second user with it was refused
// for an "employee number" the client never sent.
func TestExternalIDIsNotAKey(t *testing.T) {
	t.Parallel()
	for _, eng := range scimEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, eng.open(t))
			x := f.create(f.okta, user("x@example.com", "Xi", "X", "Eng", "externalId", "Shared-1"))
			y := f.create(f.okta, user("y@example.com", "Yu", "Y", "Eng", "externalId", "Shared-1"))
			if got, want := f.findUsers(`externalId eq "Shared-1"`), sorted(x, y); !slices.Equal(got, want) {
				t.Errorf("externalId eq Shared-1 = %v, want %v", got, want)
			}
			if got := f.findUsers(`externalId eq "shared-1"`); len(got) != 0 {
				t.Errorf("externalId is caseExact, but another case found %v", got)
			}
			// Not copied into the employee number: a new user without one gets their id.
			r := f.do("GET", "/scim/v2/Users/"+x, f.okta, "").want(t, http.StatusOK)
			if str(r.body, "externalId") != "Shared-1" || str(r.body, enterprise, "employeeNumber") != x {
				t.Errorf("externalId %q, employeeNumber %q (want the id %s)", str(r.body, "externalId"), str(r.body, enterprise, "employeeNumber"), x)
			}
			// A changed externalId is stored as sent and keeps the employee number.
			f.do("PUT", "/scim/v2/Users/"+x, f.okta, user("x@example.com", "Xi", "X", "Eng", "externalId", "00uX")).want(t, http.StatusOK)
			if i := f.identity(x); i.Attributes[service.AttrSCIMExternalID] != "00uX" || i.EmployeeID != x {
				t.Errorf("after PUT: externalId %q employee id %q", i.Attributes[service.AttrSCIMExternalID], i.EmployeeID)
			}

			// employeeNumber is unique: a 409 naming employeeNumber and its holder, on create
			// and on replace; never "employee number".
			e1 := f.create(f.okta, user("e1@example.com", "E", "One", "Eng", enterprise, `{"employeeNumber":"E1"}`))
			for _, r := range []response{
				f.do("POST", "/scim/v2/Users", f.okta, user("e2@example.com", "E", "Two", "Eng", enterprise, `{"employeeNumber":"E1"}`)),
				f.do("PUT", "/scim/v2/Users/"+y, f.okta, user("y@example.com", "Yu", "Y", "Eng", enterprise, `{"employeeNumber":"E1"}`)),
				f.do("PATCH", "/scim/v2/Users/"+y, f.okta, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
					{"op":"replace","path":"`+enterprise+`:employeeNumber","value":"E1"}]}`),
			} {
				r.wantError(t, http.StatusConflict, "uniqueness", `employeeNumber "E1" is already used by user `+e1)
				if strings.Contains(r.raw, "employee number") {
					t.Errorf("409 names an attribute the client did not send: %s", r.raw)
				}
			}
			// Another source's employee number names the source.
			f.do("POST", "/scim/v2/Users", f.entra, user("e3@example.com", "E", "Three", "Eng", enterprise, `{"employeeNumber":"E1"}`)).
				wantError(t, http.StatusConflict, "uniqueness", `employeeNumber "E1" is already used by an identity of source "scim:okta-scim@example.com"`)
			// A userName taken by a rename is named as userName.
			f.do("PATCH", "/scim/v2/Users/"+y, f.okta, setUserName("X@example.com")).
				wantError(t, http.StatusConflict, "uniqueness", `userName "X@example.com" is already used by user `+x)

			// /Schemas says the same.
			r = f.do("GET", "/scim/v2/Schemas", f.okta, "").want(t, http.StatusOK)
			uniq := map[string]string{}
			for _, s := range r.body["Resources"].([]any) {
				for _, a := range s.(map[string]any)["attributes"].([]any) {
					am := a.(map[string]any)
					uniq[str(s.(map[string]any), "id")+":"+str(am, "name")] = str(am, "uniqueness")
				}
			}
			for attr, want := range map[string]string{
				"urn:ietf:params:scim:schemas:core:2.0:User:externalId": "none",
				"urn:ietf:params:scim:schemas:core:2.0:User:userName":   "server",
				enterprise + ":employeeNumber":                          "server",
			} {
				if got := uniq[attr]; got != want && !(want == "none" && got == "") {
					t.Errorf("/Schemas %s uniqueness %q, want %q", attr, got, want)
				}
			}
		})
	}
}

// TestDeletedUserLeavesGroups: DELETE /Users/{id} ends the user's group memberships in the same
// change (each group at a new version, audited), and a group never lists a deleted user, whose
// $ref would answer 404.
func TestDeletedUserLeavesGroups(t *testing.T) {
	t.Parallel()
	for _, eng := range scimEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, eng.open(t))
			u := f.create(f.okta, user("u@example.com", "Uma", "U", "Eng"))
			v := f.create(f.okta, user("v@example.com", "Vic", "V", "Eng"))
			r := f.do("POST", "/scim/v2/Groups", f.okta, `{"displayName":"Eng","members":[{"value":"`+u+`"},{"value":"`+v+`"}]}`).want(t, http.StatusCreated)
			g, etag := str(r.body, "id"), r.header.Get("ETag")
			// Another IdP's group with the same user.
			r = f.do("POST", "/scim/v2/Groups", f.entra, `{"displayName":"All","members":[{"value":"`+u+`"}]}`).want(t, http.StatusCreated)
			h := str(r.body, "id")

			f.do("DELETE", "/scim/v2/Users/"+u, f.okta, "").want(t, http.StatusNoContent)
			r = f.do("GET", "/scim/v2/Groups/"+g, f.okta, "").want(t, http.StatusOK)
			if got := memberIDs(t, r); !slices.Equal(got, []string{v}) {
				t.Errorf("members after the delete: %v, want [%s]", got, v)
			}
			if r.header.Get("ETag") == etag {
				t.Errorf("group ETag unchanged (%s) although its members changed", etag)
			}
			r = f.do("GET", "/scim/v2/Groups/"+h, f.entra, "").want(t, http.StatusOK)
			if got := memberIDs(t, r); len(got) != 0 || r.header.Get("ETag") != `W/"2"` {
				t.Errorf("the other source's group: members %v, ETag %s; want none, version 2", got, r.header.Get("ETag"))
			}
			for _, filter := range []string{`members[value eq "` + u + `"]`, `members.value eq "` + u + `"`} {
				r = f.do("GET", "/scim/v2/Groups?filter="+url.QueryEscape(filter), f.okta, "").want(t, http.StatusOK)
				if r.body["totalResults"] != float64(0) {
					t.Errorf("%s: %s", filter, r.raw)
				}
			}
			// Audited, with the deletion's reference.
			evs, err := f.st.ListAuditEvents(context.Background(), gatehouse.AuditFilter{ObjectID: g, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, ev := range evs.Items {
				found = found || ev.Action == "scim_group.replace" && ev.Reference == "scim:DELETE /Users/"+u && strings.Contains(string(ev.After), u)
			}
			if !found {
				t.Errorf("no audit event of the membership's end: %+v", evs.Items)
			}
			// A deleted user cannot be added back.
			f.do("PATCH", "/scim/v2/Groups/"+g, f.okta, `{`+patchOp+`,"Operations":[{"op":"add","path":"members","value":[{"value":"`+u+`"}]}]}`).
				wantError(t, http.StatusBadRequest, "invalidValue", u)

			// A membership left from before this rule (the row kept, the user deleted) is not
			// listed either.
			w := f.create(f.okta, user("w@example.com", "Wyn", "W", "Eng"))
			f.do("PATCH", "/scim/v2/Groups/"+g, f.okta, `{`+patchOp+`,"Operations":[{"op":"add","path":"members","value":[{"value":"`+w+`"}]}]}`).want(t, http.StatusOK)
			err = f.st.Update(context.Background(), func(tx store.Tx) error {
				i, err := tx.GetIdentity(context.Background(), w)
				if err != nil {
					return err
				}
				i.Attributes = map[string]string{service.AttrSCIMDeleted: "true"}
				if err := tx.UpdateIdentity(context.Background(), i); err != nil {
					return err
				}
				return tx.AppendAudit(context.Background(), &gatehouse.AuditEvent{Actor: "test", Action: "test.legacy", ObjectType: "identity", ObjectID: w})
			})
			if err != nil {
				t.Fatal(err)
			}
			r = f.do("GET", "/scim/v2/Groups/"+g, f.okta, "").want(t, http.StatusOK)
			if got := memberIDs(t, r); !slices.Equal(got, []string{v}) {
				t.Errorf("members with a legacy deleted member: %v, want [%s]", got, v)
			}
			r = f.do("GET", "/scim/v2/Groups?filter="+url.QueryEscape(`members[value eq "`+w+`"]`), f.okta, "").want(t, http.StatusOK)
			if r.body["totalResults"] != float64(0) {
				t.Errorf("legacy deleted member found by filter: %s", r.raw)
			}
		})
	}
}

// TestHeldDeletionLeavesGroupsWhenApproved: a DELETE the leaver guard held ends the user's
// group memberships when an admin approves it, as the DELETE would have.
func TestHeldDeletionLeavesGroupsWhenApproved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var ids []string
	for _, n := range []string{"p1", "p2", "p3", "p4"} {
		ids = append(ids, f.create(f.okta, user(n+"@example.com", "P", n, "Eng")))
	}
	r := f.do("POST", "/scim/v2/Groups", f.okta, `{"displayName":"Eng","members":[{"value":"`+ids[2]+`"},{"value":"`+ids[3]+`"}]}`).want(t, http.StatusCreated)
	g := str(r.body, "id")
	// The guard allows 2 removals an hour: the third DELETE is held.
	f.do("DELETE", "/scim/v2/Users/"+ids[0], f.okta, "").want(t, http.StatusNoContent)
	f.do("DELETE", "/scim/v2/Users/"+ids[1], f.okta, "").want(t, http.StatusNoContent)
	f.do("DELETE", "/scim/v2/Users/"+ids[2], f.okta, "").want(t, http.StatusServiceUnavailable)
	if got := memberIDs(t, f.do("GET", "/scim/v2/Groups/"+g, f.okta, "").want(t, http.StatusOK)); !slices.Equal(got, sorted(ids[2], ids[3])) {
		t.Fatalf("a held DELETE changed the group: %v", got)
	}
	ctx := context.Background()
	held, err := f.svc.ListHRImports(ctx, f.sys, gatehouse.HRImportFilter{Status: gatehouse.ImportHeld})
	if err != nil || len(held.Items) != 1 {
		t.Fatalf("held imports: %v %+v", err, held.Items)
	}
	if _, err := f.svc.ApproveHRImport(ctx, f.sys, held.Items[0].ID, "checked"); err != nil {
		t.Fatal(err)
	}
	r = f.do("GET", "/scim/v2/Groups/"+g, f.okta, "").want(t, http.StatusOK)
	if got := memberIDs(t, r); !slices.Equal(got, []string{ids[3]}) || r.header.Get("ETag") != `W/"2"` {
		t.Errorf("after the approval: members %v, ETag %s; want [%s], version 2", got, r.header.Get("ETag"), ids[3])
	}
}
