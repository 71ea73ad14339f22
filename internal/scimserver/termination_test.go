package scimserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var scimEngines = []struct {
	name string
	open func(testing.TB) store.Store
}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}}

const deactivate = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`
const reactivate = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}`

// roomyGuard lets a test terminate a handful of people within the hour.
func (f *fixture) roomyGuard() {
	f.t.Helper()
	c := strings.Replace(testCatalog, "min_count: 2", "min_count: 50", 1)
	if _, err := f.svc.ApplyCatalog(context.Background(), f.sys, []catalog.File{{Name: "c.yaml", Content: []byte(c)}}, false, "test"); err != nil {
		f.t.Fatal(err)
	}
}

// personWithAccess creates a person through okta's SCIM client, gives them a Gatehouse token
// of their own and a delegation (their approvals to the admin), and checks the token works.
func (f *fixture) personWithAccess(token, email string) (id, secret string) {
	f.t.Helper()
	id = f.create(token, user(email, "P", "Q", "Eng"))
	secret = f.token(email)
	f.do("GET", "/api/v1/me", secret, "").want(f.t, http.StatusOK)
	if _, err := f.svc.SetDelegation(context.Background(), f.sys, service.NewDelegation{From: id, To: "admin@example.com",
		EndsAt: time.Now().Add(30 * 24 * time.Hour), Reason: "holiday"}); err != nil {
		f.t.Fatal(err)
	}
	return id, secret
}

// wantAccessEnded checks that identity id's Gatehouse token answers 401 and was revoked with an
// audit event (reason naming the leaver), and that no delegation of theirs is in force.
func (f *fixture) wantAccessEnded(id, secret, reason string) {
	f.t.Helper()
	ctx := context.Background()
	f.do("GET", "/api/v1/me", secret, "").want(f.t, http.StatusUnauthorized)
	toks, err := f.st.ListTokens(ctx, gatehouse.TokenFilter{IdentityID: id, IncludeRevoked: true})
	if err != nil || len(toks) != 1 || toks[0].RevokedAt == nil {
		f.t.Fatalf("tokens of %s = %+v, %v: want one, revoked", id, toks, err)
	}
	evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "token.revoke", ObjectID: toks[0].ID, Limit: 10})
	if err != nil || len(evs.Items) != 1 || !strings.Contains(evs.Items[0].Reason, reason) {
		f.t.Fatalf("token.revoke events of %s = %+v, %v: want one with reason %q", id, evs.Items, err, reason)
	}
	if ds, err := f.st.ListDelegations(ctx, gatehouse.DelegationFilter{FromID: id, ActiveAt: time.Now()}); err != nil || len(ds) != 0 {
		f.t.Fatalf("delegations of %s in force: %+v, %v", id, ds, err)
	}
	ended, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "delegation.end", Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	found := false
	for _, ev := range ended.Items {
		var d gatehouse.Delegation
		if json.Unmarshal(ev.Before, &d) == nil && d.FromID == id {
			found = true
		}
	}
	if !found {
		f.t.Fatalf("no delegation.end event for the delegation from %s", id)
	}
}

// TestSCIMTerminationEndsGatehouseAccess: a person an IdP deactivates (PATCH active false) or
// deletes loses their Gatehouse token and delegations in the same change, audited, and a
// reactivation or rehire does not bring the old token back. Before, the token was refused only
// while the person was terminated and worked again after the rehire.
func TestSCIMTerminationEndsGatehouseAccess(t *testing.T) {
	t.Parallel()
	for _, eng := range scimEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, eng.open(t))
			f.roomyGuard()

			ann, annSecret := f.personWithAccess(f.okta, "ann@example.com")
			f.do("PATCH", "/scim/v2/Users/"+ann, f.okta, deactivate).want(t, http.StatusOK)
			f.wantAccessEnded(ann, annSecret, "deactivated by scim:okta-scim@example.com")
			f.do("PATCH", "/scim/v2/Users/"+ann, f.okta, reactivate).want(t, http.StatusOK)
			if i := f.identity(ann); i.Status != gatehouse.StatusActive {
				t.Fatalf("reactivated: status %s", i.Status)
			}
			f.do("GET", "/api/v1/me", annSecret, "").want(t, http.StatusUnauthorized)

			bob, bobSecret := f.personWithAccess(f.okta, "bob@example.com")
			f.do("DELETE", "/scim/v2/Users/"+bob, f.okta, "").want(t, http.StatusNoContent)
			f.wantAccessEnded(bob, bobSecret, "deactivated by scim:okta-scim@example.com")
			if again := f.create(f.okta, user("bob@example.com", "P", "Q", "Eng")); again != bob {
				t.Fatalf("rehire made %s, want %s", again, bob)
			}
			f.do("GET", "/api/v1/me", bobSecret, "").want(t, http.StatusUnauthorized)

			v, err := f.svc.VerifyAudit(context.Background(), f.sys)
			if err != nil || !v.OK {
				t.Fatalf("audit verify: %+v %v", v, err)
			}
		})
	}
}

// TestSCIMOwnershipFollowsTheAccountNotItsEmail: what a SCIM client owns is keyed by its
// service account's identity id. Renaming okta-scim@… keeps Okta's users (before, its
// deactivations answered 403 and its leavers kept their access), and an account later given
// the old email owns none of them (before, it took them over). People see the account's
// current email.
func TestSCIMOwnershipFollowsTheAccountNotItsEmail(t *testing.T) {
	t.Parallel()
	for _, eng := range scimEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, eng.open(t))
			f.roomyGuard()
			ctx := context.Background()
			oktaSA := f.identity("okta-scim@example.com")
			carol, carolSecret := f.personWithAccess(f.okta, "carol@example.com")
			dave := f.create(f.okta, user("dave@example.com", "D", "E", "Eng"))
			group := f.do("POST", "/scim/v2/Groups", f.okta,
				`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"okta-eng","members":[{"value":"`+dave+`"}]}`).
				want(t, http.StatusCreated)
			gid := str(group.body, "id")

			// The admin renames Okta's service account.
			f.do("PATCH", "/api/v1/identities/"+oktaSA.ID, f.admin, `{"email":"okta-provisioning@example.com","reason":"rename"}`).
				want(t, http.StatusOK)
			// Okta still owns its people: its deactivation works and ends the leaver's access.
			f.do("PATCH", "/scim/v2/Users/"+carol, f.okta, deactivate).want(t, http.StatusOK)
			f.wantAccessEnded(carol, carolSecret, "deactivated by scim:okta-provisioning@example.com")
			f.do("PUT", "/scim/v2/Groups/"+gid, f.okta,
				`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"okta-eng","members":[]}`).
				want(t, http.StatusOK)

			// A new account given the old email owns nothing: its changes are refused, naming
			// the owner by its current email.
			if _, err := f.svc.CreateIdentity(ctx, f.sys, &gatehouse.Identity{Email: "okta-scim@example.com", Kind: gatehouse.KindService}, "test"); err != nil {
				t.Fatal(err)
			}
			impostor := f.token("okta-scim@example.com", gatehouse.ScopeSCIM)
			f.do("PATCH", "/scim/v2/Users/"+dave, impostor, deactivate).
				wantError(t, http.StatusForbidden, "", `"scim:okta-provisioning@example.com"`)
			f.do("DELETE", "/scim/v2/Users/"+dave, impostor, "").wantError(t, http.StatusForbidden, "", "scim:okta-provisioning@example.com")
			f.do("POST", "/scim/v2/Users", impostor, user("dave@example.com", "D", "E", "Eng")).
				wantError(t, http.StatusConflict, "uniqueness", "scim:okta-provisioning@example.com")
			f.do("DELETE", "/scim/v2/Groups/"+gid, impostor, "").wantError(t, http.StatusForbidden, "", "scim:okta-provisioning@example.com")
			if i := f.identity(dave); i.Status != gatehouse.StatusActive || i.Source != "scim:"+oktaSA.ID {
				t.Fatalf("dave after the impostor: %+v", i)
			}

			// People see the account by its current email; the stored key stays the id.
			r := f.do("GET", "/api/v1/identities/"+dave, f.admin, "").want(t, http.StatusOK)
			if r.body["source"] != "scim:"+oktaSA.ID || r.body["source_name"] != "scim:okta-provisioning@example.com" {
				t.Fatalf("identity source = %v, source_name = %v", r.body["source"], r.body["source_name"])
			}
			r = f.do("GET", "/api/v1/scim-groups/"+gid, f.admin, "").want(t, http.StatusOK)
			if r.body["source"] != "scim:"+oktaSA.ID || r.body["source_name"] != "scim:okta-provisioning@example.com" {
				t.Fatalf("group source = %v, source_name = %v", r.body["source"], r.body["source_name"])
			}
		})
	}
}

// TestSCIMLeaverGuardSurvivesARename: the SCIM leaver guard counts a source's removals over the
// hour by the source, not by the service account's email; renaming the account in the middle
// of a mass deactivation does not restart the count. Before, it did.
func TestSCIMLeaverGuardSurvivesARename(t *testing.T) {
	t.Parallel()
	for _, eng := range scimEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, eng.open(t))
			// Guard: max(min_count 2, 0.05 × active) = 2 removals an hour for this source.
			var ids []string
			for _, email := range []string{"p0@example.com", "p1@example.com", "p2@example.com", "p3@example.com"} {
				ids = append(ids, f.create(f.okta, user(email, "P", "Q", "Eng")))
			}
			f.do("PATCH", "/scim/v2/Users/"+ids[0], f.okta, deactivate).want(t, http.StatusOK)
			f.do("PATCH", "/scim/v2/Users/"+ids[1], f.okta, deactivate).want(t, http.StatusOK)
			oktaSA := f.identity("okta-scim@example.com")
			f.do("PATCH", "/api/v1/identities/"+oktaSA.ID, f.admin, `{"email":"okta-renamed@example.com","reason":"rename"}`).
				want(t, http.StatusOK)
			f.do("PATCH", "/scim/v2/Users/"+ids[2], f.okta, deactivate).
				wantError(t, http.StatusServiceUnavailable, "", "an admin must approve HR import")
			if i := f.identity(ids[2]); i.Status != gatehouse.StatusActive {
				t.Fatalf("third deactivation after the rename applied: %s", i.Status)
			}
		})
	}
}
