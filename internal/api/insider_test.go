package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Attacks by the people who run Gatehouse on the controls of items 1 to 6, found after those
// controls were built. Each is refused now, on both databases.

// TestDelegationsDoNotMovePowers: an operator may record a delegation for someone who is away,
// but not hand someone else's approvals to themselves, nor a security approver's or an admin's
// to anyone. Before, an operator made the security approver's (and a manager's) approvals their
// own, or an employee's, and decided the security step of a request, a power the catalog gives
// to named people only.
func TestDelegationsDoNotMovePowers(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		ends := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
		for _, from := range []string{"sec@example.com", "mgr@example.com"} {
			forbiddenSaying(t, must(t, f.as(t, "operator", "POST", "/api/v1/delegations",
				`{"from":"`+from+`","to":"operator@example.com","ends_at":"`+ends+`","reason":"cover"}`), http.StatusForbidden),
				"to yourself")
			forbiddenSaying(t, must(t, f.as(t, "admin", "POST", "/api/v1/delegations",
				`{"from":"`+from+`","to":"admin@example.com","ends_at":"`+ends+`","reason":"cover"}`), http.StatusForbidden),
				"to yourself")
		}
		// Nor hands a security approver's (or an admin's) approvals to someone else: that moves a
		// designated power, which only the holder or an admin does.
		forbiddenSaying(t, must(t, f.as(t, "operator", "POST", "/api/v1/delegations",
			`{"from":"sec@example.com","to":"user@example.com","ends_at":"`+ends+`","reason":"cover"}`), http.StatusForbidden),
			"designated power (security approver")
		forbiddenSaying(t, must(t, f.as(t, "operator", "POST", "/api/v1/delegations",
			`{"from":"admin@example.com","to":"user@example.com","ends_at":"`+ends+`","reason":"cover"}`), http.StatusForbidden),
			"approvals of an admin")
		r := f.submit(t, "ben", `{"entitlement":"tools/pair","justification":"`+justification+`"}`)
		forbiddenSaying(t, f.approve(t, "operator", r.Ref, http.StatusForbidden), "not one of its approvers")
		forbiddenSaying(t, f.approve(t, "user", r.Ref, http.StatusForbidden), "not one of its approvers")

		// What stays allowed: one's own approvals to someone; an operator recording a delegation
		// between two other people.
		must(t, f.as(t, "sec", "POST", "/api/v1/delegations", `{"to":"operator@example.com","ends_at":"`+ends+`","reason":"away"}`), http.StatusCreated)
		must(t, f.as(t, "operator", "POST", "/api/v1/delegations",
			`{"from":"mgr@example.com","to":"own@example.com","ends_at":"`+ends+`","reason":"mgr is away"}`), http.StatusCreated)
		must(t, f.as(t, "admin", "POST", "/api/v1/delegations",
			`{"from":"sec2@example.com","to":"user@example.com","ends_at":"`+ends+`","reason":"sec2 is away"}`), http.StatusCreated)
		var done gatehouse.AccessRequest
		f.approve(t, "operator", r.Ref, http.StatusOK).json(t, &done)
		if done.Steps[0].Decision != gatehouse.DecisionApproved {
			t.Errorf("security step %+v; want approved by sec's own delegate", done.Steps[0])
		}

		// A terminated approver's approvals ended with them; nobody delegates them afterwards.
		must(t, f.as(t, "admin", "PATCH", "/api/v1/identities/mgr@example.com", `{"status":"terminated","reason":"left"}`), http.StatusOK)
		if e := must(t, f.as(t, "operator", "POST", "/api/v1/delegations",
			`{"from":"mgr@example.com","to":"own@example.com","ends_at":"`+ends+`","reason":"cover"}`), http.StatusConflict).errorOf(t); !strings.Contains(e.Message, "terminated") {
			t.Errorf("delegation from a leaver: %+v; want conflict saying terminated", e)
		}
	})
}

// TestNobodyChoosesTheirOwnManager: the manager step of a person's requests goes to their
// manager, so an operator who set their own manager_id would choose who approves their own
// access. Like their email and status, it is for someone else to change.
func TestNobodyChoosesTheirOwnManager(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		forbiddenSaying(t, must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/operator@example.com",
			`{"manager_id":"E-ben2","reason":"reorg"}`), http.StatusForbidden), "nobody changes their own manager")
		forbiddenSaying(t, must(t, f.as(t, "admin", "PATCH", "/api/v1/identities/admin@example.com",
			`{"manager_id":"E-ben2","reason":"reorg"}`), http.StatusForbidden), "nobody changes their own manager")
		must(t, f.as(t, "admin", "PATCH", "/api/v1/identities/operator@example.com", `{"manager_id":"E-mgr","reason":"reorg"}`), http.StatusOK)
		// Nor makes themselves the manager of someone they add (a new hire's requests would be
		// theirs to approve once the person has a token).
		newHire := `{"employee_id":"E-new","email":"new@example.com","first_name":"N","last_name":"Hire","department":"Engineering","title":"Engineer","start_date":"2024-01-02","manager_id":"E-operator","reason":"new hire"}`
		forbiddenSaying(t, must(t, f.as(t, "operator", "POST", "/api/v1/identities", newHire), http.StatusForbidden), "nobody makes themselves someone's manager")
		must(t, f.as(t, "admin", "POST", "/api/v1/identities", newHire), http.StatusCreated)
	})
}

// TestHRImportByAnOperatorIsHeldForStandingChanges: an operator may not change an admin's or a
// security approver's email or status, nor their own, by hand. Before, the same operator
// uploaded an HR file that did exactly that (the file is theirs to write), and it was applied.
// Such an import is now held for an admin, as the leaver guard holds one, and changes nothing.
func TestHRImportByAnOperatorIsHeldForStandingChanges(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		row := func(name string) string { // the row of name in f.feed()
			id := f.ids[name]
			return fmt.Sprintf("%s,%s,%s,%s,%s,%s,%s,,employee,active,2024-01-02,",
				id.EmployeeID, id.Email, id.FirstName, id.LastName, id.Department, id.Title, id.ManagerID)
		}
		importAs := func(who, feed string) *service.HRImportResult {
			t.Helper()
			var res service.HRImportResult
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports", token: f.secrets[who],
				body: feed, contentType: "text/csv"}), http.StatusCreated).json(t, &res)
			return &res
		}
		for _, c := range []struct{ name, from, to, want string }{
			{"own manager", row("operator"), strings.Replace(row("operator"), "Engineer,,", "Engineer,E-ben2,", 1), "operator@example.com: own record"},
			{"own department", row("operator"), strings.Replace(row("operator"), "Engineering,Engineer", "Platform,Engineer", 1), "operator@example.com: own record (department)"},
			{"own email", row("operator"), strings.Replace(row("operator"), "operator@", "op2@", 1), "operator@example.com: own record"},
			{"admin email", row("admin"), strings.Replace(row("admin"), "admin@", "boss@", 1), "admin@example.com: email of an admin"},
			{"approver status", row("sec"), strings.Replace(row("sec"), ",active,", ",terminated,", 1), "sec@example.com: status of a holder of a designated power (security approver"},
		} {
			feed := f.feed()
			if !strings.Contains(feed, c.from) {
				t.Fatalf("%s: feed lacks row %q", c.name, c.from)
			}
			res := importAs("operator", strings.Replace(feed, c.from, c.to, 1))
			if res.Import.Status != gatehouse.ImportHeld || !strings.Contains(res.Import.Reason, c.want) {
				t.Errorf("%s: import %s %q; want held saying %q", c.name, res.Import.Status, res.Import.Reason, c.want)
			}
		}
		for _, name := range []string{"operator", "admin", "sec"} {
			id, err := f.st.GetIdentity(ctx, f.ids[name].ID)
			if err != nil {
				t.Fatal(err)
			}
			if id.Email != f.ids[name].Email || id.Status != gatehouse.StatusActive || id.ManagerID != "" {
				t.Errorf("%s changed by a held import: %+v", name, id)
			}
		}
		// An admin's import changes the approver's status; an operator's that changes nobody's
		// standing applies at once, as before.
		res := importAs("admin", strings.Replace(f.feed(), row("sec"), strings.Replace(row("sec"), ",active,", ",terminated,", 1), 1))
		if res.Import.Status != gatehouse.ImportApplied {
			t.Errorf("admin's import %s %q; want applied", res.Import.Status, res.Import.Reason)
		}
		// Nobody, an admin included, changes their own record with a file, nor approves it.
		res = importAs("admin", strings.Replace(f.feed(), row("admin"), strings.Replace(row("admin"), "Engineer,,", "Engineer,E-ben2,", 1), 1))
		if res.Import.Status != gatehouse.ImportHeld || !strings.Contains(res.Import.Reason, "admin@example.com: own record (manager_id)") {
			t.Errorf("admin's own manager: import %s %q; want held", res.Import.Status, res.Import.Reason)
		}
		forbiddenSaying(t, must(t, f.as(t, "admin", "POST", "/api/v1/hr/imports/"+res.Import.ID+"/approve", `{"reason":"mine"}`),
			http.StatusForbidden), "another admin approves")
		res = importAs("operator", strings.Replace(f.feed(), row("user"), strings.Replace(row("user"), "user@", "user2@", 1), 1))
		if res.Import.Status != gatehouse.ImportApplied {
			t.Errorf("operator's import renaming user %s %q; want applied", res.Import.Status, res.Import.Reason)
		}
	})
}

// TestSCIMClientStandingNeedsAnAdmin: an IdP's SCIM client is the service account whose token
// it holds, and terminating that account revokes the token (the termination rule). Before, an
// operator terminated okta-scim, so Okta's deactivations answered 401 and its leavers kept
// access, the outcome ownership by id exists to prevent. Like an approver's, the email and
// status of an identity with a live SCIM token are an admin's to change.
func TestSCIMClientStandingNeedsAnAdmin(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if _, err := f.svc.CreateIdentity(ctx, f.sys, &gatehouse.Identity{Email: "okta-scim@example.com", Kind: gatehouse.KindService}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateToken(ctx, f.sys, service.NewToken{For: "okta-scim@example.com", Scopes: []string{gatehouse.ScopeSCIM}}); err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{`{"status":"terminated","reason":"cleanup"}`, `{"email":"okta-old@example.com","reason":"cleanup"}`} {
			forbiddenSaying(t, must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/okta-scim@example.com", body), http.StatusForbidden),
				"SCIM client")
		}
		must(t, f.as(t, "admin", "PATCH", "/api/v1/identities/okta-scim@example.com", `{"status":"terminated","reason":"Okta retired"}`), http.StatusOK)
	})
}

// TestBirthrightIsNoWayAroundApproval: a direct grant to oneself is refused, but an admin wrote
// a birthright rule naming themselves (identity.email == "admin@…") on a role holding the
// privileged corp-ldap/admins, and on another holding both sides of a block SoD rule, and the
// apply granted both: no request, no security step, no expiry. Privileged access is requested
// and security-approved (the catalog already says so of each privileged entitlement), and a
// role cannot carry what a block rule forbids together; such a catalog is refused.
func TestBirthrightIsNoWayAroundApproval(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		for _, c := range []struct{ name, role, want string }{
			{"privileged", `  - id: self-admin
    name: Self admin
    entitlements: [corp-ldap/admins]
    birthright: identity.email == "admin@example.com"
`, "corp-ldap/admins is privileged"},
			{"both sides of a block rule", `  - id: self-both
    name: Self both
    entitlements: [corp-ldap/engineering, wiki/members, corp-ldap/admins]
    birthright: identity.email == "admin@example.com"
`, "eng-vs-admins"},
		} {
			doc := strings.Replace(powersCatalog, "roles:\n", "roles:\n"+c.role, 1)
			a := must(t, f.as(t, "admin", "POST", "/api/v1/catalog/apply",
				jsonBody(service.CatalogRequest{Files: []service.CatalogFile{{Name: "c.yaml", Content: doc}}, CatalogApply: service.CatalogApply{Reason: "mine"}})), http.StatusBadRequest)
			if e := a.errorOf(t); !strings.Contains(e.Message, c.want) {
				t.Errorf("%s: %+v; want it to say %q", c.name, e, c.want)
			}
		}
		var page struct {
			Items []*gatehouse.Grant `json:"items"`
		}
		must(t, f.as(t, "auditor", "GET", "/api/v1/grants?identity=admin@example.com", ""), http.StatusOK).json(t, &page)
		if len(page.Items) != 0 {
			t.Errorf("admin holds %d grants after refused applies: %+v", len(page.Items), page.Items[0])
		}
	})
}

// TestEndDateIsStanding: the daily date check terminates whoever's end date has passed, so an
// end date is a status change scheduled in advance. Before, an operator refused the suspension
// of a security approver set the approver's end_date to yesterday, and the date check
// terminated them. The end and start dates of an admin or a holder of a designated power are now
// an admin's to change, and one's own are someone else's.
func TestEndDateIsStanding(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		yesterday := time.Now().Add(-24 * time.Hour).UTC().Format("2006-01-02")
		for _, who := range []string{"sec@example.com", "admin@example.com", "operator@example.com"} {
			a := must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/"+who, `{"end_date":"`+yesterday+`","reason":"left"}`), http.StatusForbidden)
			if e := a.errorOf(t); !strings.Contains(e.Message, "end_date") {
				t.Errorf("%s: %+v; want it to name end_date", who, e)
			}
		}
		if _, err := f.svc.ApplyHRDates(ctx, f.sys); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"sec", "admin", "operator"} {
			if id, err := f.st.GetIdentity(ctx, f.ids[name].ID); err != nil || id.Status != gatehouse.StatusActive {
				t.Errorf("%s after the date check: %+v %v; want active", name, id, err)
			}
		}
		// An admin may; an operator may set the end date of someone without powers.
		must(t, f.as(t, "admin", "PATCH", "/api/v1/identities/sec@example.com", `{"end_date":"2099-12-31","reason":"fixed-term"}`), http.StatusOK)
		must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/user@example.com", `{"end_date":"2099-12-31","reason":"fixed-term"}`), http.StatusOK)
	})
}

// TestNobodyCompletesTasksAboutTheirOwnAccount: a manual task's completion is the evidence that
// a system changed, and the next reconcile reads it as the system's state. Before, an operator
// whose access was revoked completed the task to remove them ("done") and kept the access; one
// could equally attest their own addition. Someone else completes a task about one's own account.
func TestNobodyCompletesTasksAboutTheirOwnAccount(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		op := f.ids["operator"]
		mk := func(kind string, id, account string) string {
			now := f.svc.Now()
			task := &gatehouse.ManualTask{SystemID: "tools", Kind: kind, IdentityID: id, Account: account,
				Group: "root", EntitlementID: "tools/root", CreatedAt: now, DueAt: now.Add(time.Hour)}
			if err := f.st.Update(ctx, func(tx store.Tx) error {
				if _, err := tx.CreateTask(ctx, task, time.Time{}); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "task.create", ObjectType: "task", ObjectID: task.Ref()})
			}); err != nil {
				t.Fatal(err)
			}
			return task.Ref()
		}
		for _, ref := range []string{mk("remove_member", op.ID, op.Email), mk("add_member", "", strings.ToUpper(op.Email))} {
			forbiddenSaying(t, must(t, f.as(t, "operator", "POST", "/api/v1/tasks/"+ref+"/complete", `{"note":"done"}`),
				http.StatusForbidden), "your own account")
			must(t, f.as(t, "admin", "POST", "/api/v1/tasks/"+ref+"/complete", `{"note":"removed in the console"}`), http.StatusOK)
		}
	})
}

// TestNobodyEditsTheirOwnRecord: birthright rules read a person's department, title, location,
// employment type and attributes, so editing one's own record is a way to grant oneself access.
// Before, an operator moved themselves to the Platform department by hand and the next catalog
// apply that touched a birthright rule granted them Platform's birthright role. Nobody changes
// their own record by hand; HR or another operator does.
func TestNobodyEditsTheirOwnRecord(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		for _, body := range []string{`{"department":"Platform","reason":"moved"}`, `{"attributes":{"cost_center":"CC-1"},"reason":"fix"}`,
			`{"title":"Senior operator","reason":"promoted"}`} {
			forbiddenSaying(t, must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/operator@example.com", body), http.StatusForbidden),
				"nobody changes their own")
		}
		// A later birthright change recomputes everyone: the operator is not in Platform.
		f.apply(strings.Replace(powersCatalog, `identity.department == "Platform" && identity.status == "active"`,
			`identity.status == "active" && identity.department == "Platform"`, 1))
		var page struct {
			Items []*gatehouse.Grant `json:"items"`
		}
		must(t, f.as(t, "auditor", "GET", "/api/v1/grants?identity=operator@example.com&source=birthright", ""), http.StatusOK).json(t, &page)
		if len(page.Items) != 0 {
			t.Errorf("operator holds %d birthright grants: %+v", len(page.Items), page.Items[0])
		}
		must(t, f.as(t, "admin", "PATCH", "/api/v1/identities/operator@example.com", `{"title":"Senior operator","reason":"promoted"}`), http.StatusOK)
	})
}

// TestManagerIsAPersonNotAnAddress: manager_id was stored as given, and an email names whoever
// holds the address when a request is routed. An operator set ben's manager by email, renamed
// that manager away and gave the address to someone else, who then decided ben's manager step.
// A manager is now stored by employee_id, whatever key named them.
func TestManagerIsAPersonNotAnAddress(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		var ben gatehouse.Identity
		must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/ben@example.com", `{"manager_id":"other@example.com","reason":"reorg"}`),
			http.StatusOK).json(t, &ben)
		if ben.ManagerID != "E-other" {
			t.Errorf("manager_id stored as %q; want the employee_id E-other", ben.ManagerID)
		}
		must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/other@example.com", `{"email":"other-old@example.com","reason":"rename"}`), http.StatusOK)
		must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/user@example.com", `{"email":"other@example.com","reason":"reuse"}`), http.StatusOK)
		r := f.submit(t, "ben", `{"entitlement":"tools/deploy","justification":"`+justification+`"}`)
		if got := r.Steps[0]; got.Kind != gatehouse.StepManager || len(got.Approvers) != 1 || got.Approvers[0] != f.ids["other"].ID {
			t.Errorf("manager step %+v; want the person who was named (other), not the address's new holder", got)
		}
	})
}
