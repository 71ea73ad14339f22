package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/service"
)

// walkRow is one route of the authorization walk: how to call it, and the status each caller
// gets. Calls that change state are built per caller (unique emails, one's own token) so the
// callers' columns do not depend on each other.
type walkRow struct {
	path func(f *fixture) string
	body func(f *fixture, caller string) string
	ct   string
	// want is the status for none, user, auditor, operator, admin (see callers).
	want [5]int
}

func static(p string) func(*fixture) string { return func(*fixture) string { return p } }

func noBody(*fixture, string) string { return "" }

const (
	s200 = http.StatusOK
	s201 = http.StatusCreated
	s401 = http.StatusUnauthorized
	s403 = http.StatusForbidden
)

var (
	public     = [5]int{s200, s200, s200, s200, s200}
	signedIn   = [5]int{s401, s200, s200, s200, s200}
	readers    = [5]int{s401, s403, s200, s200, s200}
	operators  = [5]int{s401, s403, s403, s200, s200}
	operators1 = [5]int{s401, s403, s403, s201, s201}
	admins     = [5]int{s401, s403, s403, s403, s200}
	// managerOrAdmin: the walk's confirmations are addressed to "user".
	managerOrAdmin = [5]int{s401, s200, s403, s403, s200}
	// approverOnly: "user" alone, as the step's approver or the request's party; admins do not
	// bypass.
	approverOnly = [5]int{s401, s200, s403, s403, s403}
)

// walk has a row for every route of the route table, by operationId.
var walk = map[string]walkRow{
	"healthz": {path: static("/healthz"), want: public},
	"readyz":  {path: static("/readyz"), want: public},
	"metrics": {path: static("/metrics"), want: public},
	"openapi": {path: static("/api/v1/openapi.json"), want: public},

	"me":             {path: static("/api/v1/me"), want: signedIn},
	"listIdentities": {path: static("/api/v1/identities?department=Engineering&limit=2"), want: readers},
	"createIdentity": {path: static("/api/v1/identities"), want: operators1,
		body: func(_ *fixture, c string) string {
			return fmt.Sprintf(`{"employee_id":"N-%s","email":"new-%s@example.com","department":"Sales","reason":"walk"}`, c, c)
		}},
	"getIdentity": {path: func(f *fixture) string { return "/api/v1/identities/" + f.ids["other"].ID }, want: readers},
	"updateIdentity": {path: func(f *fixture) string { return "/api/v1/identities/" + f.ids["other"].ID }, want: operators,
		body: func(_ *fixture, c string) string { return `{"title":"Changed by ` + c + `","reason":"walk"}` }},
	"setRoles": {path: static("/api/v1/identities/other@example.com/roles"), want: admins,
		body: func(*fixture, string) string { return `{"roles":["auditor"],"reason":"walk"}` }},

	"getSettings": {path: static("/api/v1/settings"), want: signedIn},
	"getCatalog":  {path: static("/api/v1/catalog"), want: signedIn},
	"planCatalog": {path: static("/api/v1/catalog/plan"), want: readers, ct: "application/yaml",
		body: func(*fixture, string) string { return seedCatalog }},
	"applyCatalog": {path: static("/api/v1/catalog/apply?reason=walk"), want: admins, ct: "application/yaml",
		body: func(*fixture, string) string { return seedCatalog }},
	"listSystems":      {path: static("/api/v1/systems"), want: signedIn},
	"getSystem":        {path: static("/api/v1/systems/corp-ldap"), want: signedIn},
	"listEntitlements": {path: static("/api/v1/entitlements?system=corp-ldap&requestable=true"), want: signedIn},
	"getEntitlement":   {path: static("/api/v1/entitlements/corp-ldap/engineering"), want: signedIn},
	"listRoles":        {path: static("/api/v1/roles"), want: signedIn},
	"getRole":          {path: static("/api/v1/roles/engineering-baseline"), want: signedIn},
	"listSoDRules":     {path: static("/api/v1/sod-rules"), want: signedIn},
	"getSoDRule":       {path: static("/api/v1/sod-rules/eng-vs-admins"), want: signedIn},

	"listSoDViolations": {path: static("/api/v1/sod/violations?rule=eng-vs-admins"), want: readers},

	"listGrants": {path: static("/api/v1/grants?status=active"), want: signedIn},
	"createGrant": {path: static("/api/v1/grants"), want: operators1,
		body: func(*fixture, string) string {
			return `{"identity":"auditor@example.com","entitlement":"corp-ldap/admins","reference":"CHG-1","duration":"8h","reason":"walk"}`
		}},
	"getGrant": {path: func(f *fixture) string { return "/api/v1/grants/" + f.otherGrant.ID }, want: readers},
	"revokeGrant": {path: func(f *fixture) string { return "/api/v1/grants/" + f.revokable.ID + "/revoke" }, want: operators,
		body: func(*fixture, string) string { return `{"reason":"walk"}` }},
	"listAccounts": {path: static("/api/v1/accounts?orphaned=false"), want: readers},

	"importHR": {path: static("/api/v1/hr/imports?dry_run=true"), want: operators, ct: "text/csv",
		body: func(f *fixture, _ string) string { return f.feed() }},
	"applyHRDates":  {path: static("/api/v1/hr/dates"), want: operators},
	"exportHR":      {path: static("/api/v1/hr/export"), want: readers}, // personal data: never an employee
	"listHRImports": {path: static("/api/v1/hr/imports?status=held"), want: readers},
	"getHRImport":   {path: func(f *fixture) string { return "/api/v1/hr/imports/" + f.heldImport("get") }, want: readers},

	"listHRImportChanges": {path: func(f *fixture) string { return "/api/v1/hr/imports/" + f.heldImport("get") + "/changes" }, want: readers},
	"approveHRImport": {path: func(f *fixture) string { return "/api/v1/hr/imports/" + f.heldImport("approve") + "/approve" }, want: admins,
		body: func(*fixture, string) string { return `{"reason":"walk"}` }},
	"rejectHRImport": {path: func(f *fixture) string { return "/api/v1/hr/imports/" + f.heldImport("reject") + "/reject" }, want: admins,
		body: func(*fixture, string) string { return `{"reason":"walk"}` }},

	// Mover confirmations are addressed to "user" (confirmations_test.go): the addressed manager
	// and admins decide; readers without being addressed do not.
	"listConfirmations": {path: static("/api/v1/confirmations?status=open&limit=5"), want: signedIn},
	"getConfirmation": {path: func(f *fixture) string { return "/api/v1/confirmations/" + f.confirmation("get") },
		want: [5]int{s401, s200, s200, s200, s200}},
	"confirmConfirmation": {path: func(f *fixture) string { return "/api/v1/confirmations/" + f.confirmation("confirm") + "/confirm" },
		want: managerOrAdmin, body: func(*fixture, string) string { return `{"comment":"walk"}` }},
	"revokeConfirmation": {path: func(f *fixture) string { return "/api/v1/confirmations/" + f.confirmation("revoke") + "/revoke" },
		want: managerOrAdmin, body: func(*fixture, string) string { return `{"comment":"walk"}` }},

	// Access requests (requests_test.go): the walk's requests to decide are for people whose
	// manager is "user", so "user" decides their first step and nobody else may, admins
	// included; "user" resubmits and cancels a request of their own.
	"listRequests": {path: static("/api/v1/requests?view=mine&limit=5"), want: signedIn},
	"getRequest":   {path: func(f *fixture) string { return "/api/v1/requests/" + f.request("get") }, want: signedIn},
	"previewRequest": {path: static("/api/v1/requests/preview"), want: signedIn,
		body: func(*fixture, string) string {
			return `{"entitlement":"wiki/members","justification":"document the on-call runbook"}`
		}},
	"approveRequest": {path: func(f *fixture) string { return "/api/v1/requests/" + f.request("approve") + "/approve" },
		want: approverOnly, body: func(*fixture, string) string { return `{"comment":"walk"}` }},
	"denyRequest": {path: func(f *fixture) string { return "/api/v1/requests/" + f.request("deny") + "/deny" },
		want: approverOnly, body: func(*fixture, string) string { return `{"comment":"walk"}` }},
	"returnRequest": {path: func(f *fixture) string { return "/api/v1/requests/" + f.request("return") + "/return" },
		want: approverOnly, body: func(*fixture, string) string { return `{"comment":"walk"}` }},
	"resubmitRequest": {path: func(f *fixture) string { return "/api/v1/requests/" + f.userRequest() + "/resubmit" },
		want: approverOnly, body: func(*fixture, string) string { return `{"justification":"document the on-call runbook"}` }},
	"cancelRequest": {path: func(f *fixture) string { return "/api/v1/requests/" + f.userRequest() + "/cancel" },
		want: approverOnly, body: func(*fixture, string) string { return `{"comment":"walk"}` }},
	"createRequest": {path: static("/api/v1/requests"), want: [5]int{s401, s201, s201, s201, s201},
		body: func(*fixture, string) string {
			return `{"entitlement":"wiki/members","justification":"document the on-call runbook"}`
		}},
	"createDelegation": {path: static("/api/v1/delegations"), want: [5]int{s401, s201, s201, s201, s201},
		body: func(*fixture, string) string { return `{"to":"other@example.com","ends_at":"2099-01-01T00:00:00Z"}` }},

	// Exceptions register: admin@example.com is the walk's security approver and an admin.
	"listExceptions":  {path: static("/api/v1/exceptions?expiring=30d"), want: signedIn},
	"getException":    {path: func(f *fixture) string { return "/api/v1/exceptions/" + f.exception("get") }, want: [5]int{s401, http.StatusNotFound, s200, s200, s200}},
	"createException": {path: static("/api/v1/exceptions"), want: [5]int{s401, s403, s403, s201, s201}, body: exceptionBody},
	"approveException": {path: func(f *fixture) string { return "/api/v1/exceptions/" + f.exception("approve") + "/approve" }, want: admins,
		body: func(*fixture, string) string { return `{"comment":"controls checked"}` }},
	"rejectException": {path: func(f *fixture) string { return "/api/v1/exceptions/" + f.exception("reject") + "/reject" }, want: admins,
		body: func(*fixture, string) string { return `{"comment":"not acceptable"}` }},
	"revokeException": {path: func(f *fixture) string { return "/api/v1/exceptions/" + f.exception("revoke") + "/revoke" }, want: admins,
		body: func(*fixture, string) string { return `{"comment":"no longer needed"}` }},

	// Emergency access (emergency_test.go): "operator" and "admin" are emergency operators;
	// the reviews were granted by a third operator, so both may complete them.
	"grantEmergency": {path: static("/api/v1/emergency/grants"), want: operators1,
		body: func(f *fixture, _ string) string {
			f.emergencyReady()
			return `{"identity":"other@example.com","entitlement":"corp-ldap/breakglass","reason":"INC-9 directory outage, walk","duration":"1h"}`
		}},
	"listEmergencyReviews": {path: static("/api/v1/emergency/reviews?open=true&limit=5"), want: readers},
	"getEmergencyReview":   {path: func(f *fixture) string { return "/api/v1/emergency/reviews/" + f.emergencyReview("get") }, want: readers},
	"completeEmergencyReview": {path: func(f *fixture) string {
		return "/api/v1/emergency/reviews/" + f.emergencyReview("complete") + "/complete"
	},
		want: operators, body: func(*fixture, string) string { return `{"who":"other","why":"INC-9","what":"restarted"}` }},

	// Provisioning: the fixture's provisioner is a fake queue (provision_test.go).
	"reconcile": {path: static("/api/v1/reconcile"), want: operators,
		body: func(*fixture, string) string { return `{"system":"corp-ldap"}` }},
	"reconcileJobs":  {path: static("/api/v1/reconcile/jobs?ids=1,2"), want: readers},
	"listOperations": {path: static("/api/v1/operations?system=corp-ldap&status=failed"), want: readers},
	"drift":          {path: static("/api/v1/drift?system=corp-ldap"), want: readers},
	// corp-ldap is a manual system in the fixture: its test connects to nothing.
	"testSystem":   {path: static("/api/v1/systems/corp-ldap/test"), want: operators},
	"systemStatus": {path: static("/api/v1/systems/corp-ldap/status"), want: readers},

	// Manual tasks are assigned to "user" (tasks_test.go): the assignee sees them, operators
	// complete them.
	"listTasks": {path: static("/api/v1/tasks?status=open&overdue=true&limit=5"), want: signedIn},
	"getTask": {path: func(f *fixture) string { return "/api/v1/tasks/" + f.task("get") },
		want: [5]int{s401, s200, s200, s200, s200}},
	"completeTask": {path: func(f *fixture) string { return "/api/v1/tasks/" + f.task("complete") + "/complete" },
		want: operators, body: func(*fixture, string) string { return `{"note":"walk"}` }},

	// SCIM groups are pushed by an IdP (scimgroups_test.go) and read by readers.
	"listSCIMGroups": {path: static("/api/v1/scim-groups?member=other@example.com&limit=5"), want: readers},
	"getSCIMGroup":   {path: func(f *fixture) string { return "/api/v1/scim-groups/" + f.scimGroup().ID }, want: readers},

	"listAuditEvents": {path: static("/api/v1/audit/events?action=grant.&limit=5"), want: readers},
	"verifyAudit":     {path: static("/api/v1/audit/verify"), want: readers},
	// The walk's server has no audit key: admins and auditors pass authorization and get 409
	// saying so (audit_test.go signs with one).
	"createAuditCheckpoint": {path: static("/api/v1/audit/checkpoints"), want: [5]int{s401, s403, http.StatusConflict, s403, http.StatusConflict}},

	"listTokens": {path: static("/api/v1/tokens?include_revoked=true"), want: signedIn},
	"createToken": {path: static("/api/v1/tokens"), want: [5]int{s401, s201, s201, s201, s201},
		body: func(*fixture, string) string { return `{"ttl":"1h","description":"walk"}` }},
	"revokeToken": {path: func(f *fixture) string { return "/api/v1/tokens/" + f.otherToken.ID }, want: admins},
}

// TestAuthorizationWalk calls every route of the route table as every kind of caller and checks
// the status. Each caller gets its own database, so what one caller changes cannot change what
// another sees; within a caller's database the routes run in table order.
func TestAuthorizationWalk(t *testing.T) {
	t.Parallel()
	for _, rt := range routeTable {
		if _, ok := walk[rt.name]; !ok {
			t.Errorf("route %s (%s) has no row in the authorization walk", rt.name, rt.pattern())
		}
	}
	for name := range walk {
		if findRoute(name) == nil {
			t.Errorf("walk row %s names no route of the table", name)
		}
	}
	if t.Failed() {
		return
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			for ci, caller := range callers {
				t.Run(caller, func(t *testing.T) {
					t.Parallel()
					f := newFixture(t, eng.open(t))
					for _, rt := range routeTable {
						row := walk[rt.name]
						body := ""
						if row.body != nil {
							body = row.body(f, caller)
						}
						a := f.do(t, request{method: rt.method, path: row.path(f), token: f.secrets[caller], body: body, contentType: row.ct})
						if want := row.want[ci]; a.status != want {
							t.Errorf("%s %s as %s: status %d, want %d; body: %.300s", rt.method, row.path(f), caller, a.status, want, a.body)
						}
						if a.status >= 400 {
							a.errorOf(t) // every error has the documented shape
						}
						if a.status == s401 && a.header.Get("WWW-Authenticate") == "" {
							t.Errorf("%s %s: 401 without WWW-Authenticate", rt.method, row.path(f))
						}
					}
				})
			}
		})
	}
}

func findRoute(name string) *route {
	for i := range routeTable {
		if routeTable[i].name == name {
			return &routeTable[i]
		}
	}
	return nil
}

// TestAuthentication checks the tokens that must not work, and the bootstrap token that must.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			ctx := t.Context()

			// Minted two hours ago with a one-hour lifetime.
			f.clock.shift(-2 * time.Hour)
			expired := f.token("user", time.Hour).Secret
			f.clock.shift(2 * time.Hour)

			revoked := f.token("user", 0)
			if _, err := f.svc.RevokeToken(ctx, f.sys, revoked.Token.ID); err != nil {
				t.Fatal(err)
			}

			leaver := f.person("leaver", "Sales")
			leaverSecret := f.token("leaver", 0).Secret
			status := "terminated"
			if _, err := f.svc.UpdateIdentity(ctx, f.sys, leaver.ID, patchStatus(status), "left"); err != nil {
				t.Fatal(err)
			}

			for _, tc := range []struct {
				name   string
				header string
				want   int
			}{
				{"no header", "", s401},
				{"expired token", "Bearer " + expired, s401},
				{"revoked token", "Bearer " + revoked.Secret, s401},
				{"terminated identity", "Bearer " + leaverSecret, s401},
				{"unknown token", "Bearer gh_doesnotexist", s401},
				{"basic scheme", "Basic dXNlcjpwYXNz", s401},
				{"empty bearer", "Bearer ", s401},
				{"valid token", "Bearer " + f.secrets["user"], s200},
				{"lower-case scheme", "bearer " + f.secrets["user"], s200},
				{"bootstrap token", "Bearer " + bootstrapSecret, s200},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := f.do(t, request{method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": tc.header}})
					must(t, a, tc.want)
					if tc.want == s401 {
						e := a.errorOf(t)
						if e.Code != "unauthorized" {
							t.Errorf("code %q, want unauthorized", e.Code)
						}
						if strings.Contains(string(a.body), "gh_") {
							t.Errorf("the answer echoes a token: %s", a.body)
						}
					}
				})
			}

			// The bootstrap token is an admin without an identity.
			var me service.Me
			must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: bootstrapSecret}), s200).json(t, &me)
			if !me.Principal.Bootstrap || !me.Principal.Has("admin") || me.Identity != nil {
				t.Errorf("bootstrap me = %+v, identity %v; want a bootstrap admin without identity", me.Principal, me.Identity)
			}
			must(t, f.do(t, request{method: "PUT", path: "/api/v1/identities/user@example.com/roles", token: bootstrapSecret,
				body: `{"roles":["operator"],"reason":"bootstrap test"}`}), s200)
			must(t, f.do(t, request{method: "POST", path: "/api/v1/catalog/apply", token: bootstrapSecret,
				body: seedCatalog, contentType: "application/yaml"}), s200)
		})
	}
}
