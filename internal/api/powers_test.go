package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Designated powers follow the person (catalog pins), and one person decides at most one step of
// a request. Each test below is an attack an insider made, now refused, on both databases.

// powersFixture adds people to the standard fixture: mgr manages ben; own owns the tools
// entitlements and manages ben2; sec and sec2 are the security approvers (admin is no longer
// one). tools/root is privileged; tools/pair asks security, then sec by name.
func powersFixture(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	for _, name := range []string{"mgr", "own", "sec", "sec2"} {
		f.ids[name] = f.person(name, "Engineering")
	}
	for name, mgr := range map[string]string{"ben": "E-mgr", "ben2": "E-own"} {
		id, err := f.svc.CreateIdentity(ctx, f.sys, &gatehouse.Identity{EmployeeID: "E-" + name, Email: name + "@example.com",
			FirstName: "B", LastName: "Tester", Department: "Engineering", Title: "Engineer", ManagerID: mgr, StartDate: "2024-01-02"}, "test setup")
		if err != nil {
			t.Fatal(err)
		}
		f.ids[name] = id
	}
	for _, name := range []string{"mgr", "own", "sec", "sec2", "ben", "ben2", "other"} {
		f.secrets[name] = f.token(name, 0).Secret
	}
	f.apply(powersCatalog)
}

var powersCatalog = strings.NewReplacer(
	"security_approvers: [admin@example.com]", "security_approvers: [sec@example.com, sec2@example.com]",
	"systems:\n", `systems:
  - id: tools
    name: Tools
    owner: admin@example.com
    tier: standard
    connector:
      type: manual
`,
	"entitlements:\n", `entitlements:
  - {id: tools/deploy, system: tools, name: Deploy, kind: group, risk: standard, requestable: true, owner: own@example.com, approval: [manager, owner]}
  - {id: tools/root, system: tools, name: Root, kind: group, risk: privileged, requestable: true, owner: own@example.com, max_duration: 24h, approval: [manager, owner]}
  - {id: tools/pair, system: tools, name: Pair, kind: group, risk: standard, requestable: true, owner: own@example.com, approval: [security, sec@example.com]}
`).Replace(seedCatalog)

const justification = "deploy the billing fix for INC-4211 this week"

func (f *fixture) submit(t *testing.T, who, body string) *gatehouse.AccessRequest {
	t.Helper()
	var r gatehouse.AccessRequest
	must(t, f.as(t, who, "POST", "/api/v1/requests", body), http.StatusCreated).json(t, &r)
	if r.State != gatehouse.RequestPendingApproval {
		t.Fatalf("%s: state %s, want pending_approval", r.Ref, r.State)
	}
	return &r
}

func (f *fixture) approve(t *testing.T, who, ref string, status int) answer {
	t.Helper()
	return must(t, f.as(t, who, "POST", "/api/v1/requests/"+ref+"/approve", `{"comment":"ok"}`), status)
}

func forbiddenSaying(t *testing.T, a answer, want string) {
	t.Helper()
	if e := a.errorOf(t); e.Code != "forbidden" || !strings.Contains(e.Message, want) {
		t.Errorf("error %+v; want forbidden saying %q", e, want)
	}
}

func onEngines(t *testing.T, test func(t *testing.T, f *fixture)) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			powersFixture(t, f)
			test(t, f)
		})
	}
}

// TestRenameDoesNotMovePowers: the security approver is renamed away and another identity is
// given the old address. That identity can neither approve the security step of a request nor an
// SoD exception; the renamed person still can; and the next catalog plan says the address now
// names someone else.
func TestRenameDoesNotMovePowers(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		// The operator may not rename a security approver (they hold a designated power).
		forbiddenSaying(t, must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/sec@example.com",
			`{"email":"sec-away@example.com","reason":"take over"}`), http.StatusForbidden), "security approver")
		// An admin may (a real name change), and the operator then hands the old address to other.
		must(t, f.as(t, "admin", "PATCH", "/api/v1/identities/sec@example.com", `{"email":"sec-away@example.com","reason":"name change"}`), http.StatusOK)
		must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/other@example.com", `{"email":"sec@example.com","reason":"reuse"}`), http.StatusOK)

		// The SoD exception: refused to the address's new holder, approved by the pinned person.
		exc, err := f.svc.CreateException(ctx, f.sys, service.NewException{For: "user@example.com", Rule: "eng-vs-admins",
			Rationale: "on-call cover", Controls: "weekly log review", Expires: gatehouse.Duration(30 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		forbiddenSaying(t, must(t, f.as(t, "other", "POST", "/api/v1/exceptions/"+exc.Ref+"/approve", `{"comment":"fine"}`),
			http.StatusForbidden), "security approvers")
		must(t, f.as(t, "sec", "POST", "/api/v1/exceptions/"+exc.Ref+"/approve", `{"comment":"accepted risk"}`), http.StatusOK)

		// The security step of a privileged request asks the pinned people, not the address.
		r := f.submit(t, "ben", `{"entitlement":"tools/root","duration":"8h","justification":"`+justification+`"}`)
		if got := r.Steps[2]; got.Kind != gatehouse.StepSecurity || !strings.Contains(strings.Join(got.Emails, ","), "sec-away@example.com") ||
			strings.Contains(strings.Join(got.Approvers, ","), f.ids["other"].ID) {
			t.Fatalf("security step %+v; want the pinned approvers (sec-away), not other", got)
		}
		f.approve(t, "mgr", r.Ref, http.StatusOK)
		f.approve(t, "own", r.Ref, http.StatusOK)
		forbiddenSaying(t, f.approve(t, "other", r.Ref, http.StatusForbidden), "not one of its approvers")
		var done gatehouse.AccessRequest
		f.approve(t, "sec", r.Ref, http.StatusOK).json(t, &done)
		if done.State != gatehouse.RequestProvisioning {
			t.Errorf("after security: %s, want provisioning", done.State)
		}

		// Planning the same catalog again shows that the address now names someone else.
		var plan catalog.Plan
		must(t, f.as(t, "admin", "POST", "/api/v1/catalog/plan", jsonBody(service.CatalogRequest{Files: []service.CatalogFile{{Name: "c.yaml", Content: powersCatalog}}})),
			http.StatusOK).json(t, &plan)
		found := false
		for _, p := range plan.Pins {
			if p.Field == "security_approvers[0]" && p.IdentityID == f.ids["other"].ID && p.WasID == f.ids["sec"].ID {
				found = true
			}
		}
		if !found {
			t.Errorf("plan pins %+v; want security_approvers[0] moving from sec to other, said", plan.Pins)
		}
	})
}

// TestCatalogApplyPins: apply pins every designated email and the plan names the person.
func TestCatalogApplyPins(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		var st gatehouse.Settings
		must(t, f.as(t, "user", "GET", "/api/v1/settings", ""), http.StatusOK).json(t, &st)
		if len(st.SecurityApproverIDs) != 2 || st.SecurityApproverIDs[0] != f.ids["sec"].ID || st.SecurityApproverIDs[1] != f.ids["sec2"].ID {
			t.Errorf("settings pins %v; want sec, sec2", st.SecurityApproverIDs)
		}
		var sys gatehouse.System
		must(t, f.as(t, "user", "GET", "/api/v1/systems/tools", ""), http.StatusOK).json(t, &sys)
		var ent gatehouse.Entitlement
		must(t, f.as(t, "user", "GET", "/api/v1/entitlements/tools/pair", ""), http.StatusOK).json(t, &ent)
		if sys.OwnerID != f.ids["admin"].ID || ent.OwnerID != f.ids["own"].ID || ent.ApproverID("SEC@example.com") != f.ids["sec"].ID {
			t.Errorf("system owner pin %q, entitlement owner pin %q, approver pins %v", sys.OwnerID, ent.OwnerID, ent.ApproverIDs)
		}
		// A fresh plan of a new person names them, in the JSON and in the text.
		doc := strings.Replace(powersCatalog, "owner: own@example.com, approval: [security, sec@example.com]",
			"owner: own@example.com, approval: [security, mgr@example.com]", 1)
		var plan catalog.Plan
		must(t, f.as(t, "auditor", "POST", "/api/v1/catalog/plan", jsonBody(service.CatalogRequest{Files: []service.CatalogFile{{Name: "c.yaml", Content: doc}}})),
			http.StatusOK).json(t, &plan)
		if len(plan.Pins) != 1 || plan.Pins[0].IdentityID != f.ids["mgr"].ID || !strings.Contains(plan.Pins[0].Name, "E-mgr") {
			t.Errorf("plan pins %+v; want approval[1] pinned to mgr", plan.Pins)
		}
		// An email naming no identity is refused, as before.
		bad := strings.Replace(powersCatalog, "[sec@example.com, sec2@example.com]", "[sec@example.com, nobody@example.com]", 1)
		must(t, f.as(t, "auditor", "POST", "/api/v1/catalog/plan", jsonBody(service.CatalogRequest{Files: []service.CatalogFile{{Name: "c.yaml", Content: bad}}})),
			http.StatusBadRequest)
	})
}

// TestStandingChangesNeedAnAdmin: operators cannot rename or suspend admins or holders of a
// designated power; nobody changes their own email, status or roles.
func TestStandingChangesNeedAnAdmin(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		patch := func(who, whom, body string, status int) answer {
			t.Helper()
			return must(t, f.as(t, who, "PATCH", "/api/v1/identities/"+whom, body), status)
		}
		forbiddenSaying(t, patch("operator", "admin@example.com", `{"email":"boss@example.com"}`, http.StatusForbidden), "only an admin")
		forbiddenSaying(t, patch("operator", "admin@example.com", `{"status":"suspended"}`, http.StatusForbidden), "only an admin")
		forbiddenSaying(t, patch("operator", "sec2@example.com", `{"status":"suspended"}`, http.StatusForbidden), "security approver")
		forbiddenSaying(t, patch("operator", "own@example.com", `{"email":"own2@example.com"}`, http.StatusForbidden), "owner of")
		forbiddenSaying(t, patch("operator", "operator@example.com", `{"email":"op2@example.com"}`, http.StatusForbidden), "nobody changes their own")
		forbiddenSaying(t, patch("admin", "admin@example.com", `{"status":"suspended"}`, http.StatusForbidden), "nobody changes their own")
		forbiddenSaying(t, must(t, f.as(t, "admin", "PUT", "/api/v1/identities/admin@example.com/roles", `{"roles":["admin","operator"]}`),
			http.StatusForbidden), "nobody changes their own roles")
		// What stays allowed: an operator renames someone without powers; an admin renames an
		// approver; anyone edits other fields of their own record through an operator.
		patch("operator", "user@example.com", `{"email":"user2@example.com"}`, http.StatusOK)
		patch("admin", "sec2@example.com", `{"email":"sec2b@example.com"}`, http.StatusOK)
		forbiddenSaying(t, patch("operator", "operator@example.com", `{"title":"Senior operator"}`, http.StatusForbidden), "nobody changes their own record")
	})
}

// TestTwoDelegationsDecideOneStep: an admin holding delegations from the manager, the owner and
// a security approver decides one step of a request, not all three.
func TestTwoDelegationsDecideOneStep(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		ends := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
		for _, from := range []string{"mgr", "own", "sec"} {
			must(t, f.as(t, from, "POST", "/api/v1/delegations", `{"to":"admin@example.com","ends_at":"`+ends+`","reason":"away"}`), http.StatusCreated)
		}
		r := f.submit(t, "ben", `{"entitlement":"tools/root","duration":"8h","justification":"`+justification+`"}`)
		f.approve(t, "admin", r.Ref, http.StatusOK) // the manager step, as mgr's delegate
		forbiddenSaying(t, f.approve(t, "admin", r.Ref, http.StatusForbidden), "you decided the manager step")
		f.approve(t, "own", r.Ref, http.StatusOK)
		forbiddenSaying(t, f.approve(t, "admin", r.Ref, http.StatusForbidden), "you decided the manager step")
		var done gatehouse.AccessRequest
		f.approve(t, "sec2", r.Ref, http.StatusOK).json(t, &done)
		if done.State != gatehouse.RequestProvisioning {
			t.Fatalf("state %s, want provisioning", done.State)
		}
		if done.Steps[0].DecidedByID != f.ids["admin"].ID || done.Steps[1].DecidedByID != f.ids["own"].ID {
			t.Errorf("decided by %q, %q; want the people who acted", done.Steps[0].DecidedByID, done.Steps[1].DecidedByID)
		}
	})
}

// TestManagerWhoOwnsIsAskedOnce: the beneficiary's manager also owns the entitlement; the owner
// step falls to the system owner, and says why.
func TestManagerWhoOwnsIsAskedOnce(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		r := f.submit(t, "ben2", `{"entitlement":"tools/deploy","justification":"`+justification+`"}`)
		if len(r.Steps) != 2 || r.Steps[0].Approvers[0] != f.ids["own"].ID || strings.Join(r.Steps[1].Approvers, ",") != f.ids["admin"].ID {
			t.Fatalf("steps %+v; want manager own, then owner falling to the system owner admin", r.Steps)
		}
		for _, want := range []string{"own@example.com already decides the manager step", "so it goes to the owner of system tools"} {
			if !strings.Contains(r.Steps[1].Why, want) {
				t.Errorf("owner step why %q; want it to say %q", r.Steps[1].Why, want)
			}
		}
		f.approve(t, "own", r.Ref, http.StatusOK)
		forbiddenSaying(t, f.approve(t, "own", r.Ref, http.StatusForbidden), "not one of its approvers")
		var done gatehouse.AccessRequest
		f.approve(t, "admin", r.Ref, http.StatusOK).json(t, &done)
		if done.State != gatehouse.RequestProvisioning {
			t.Errorf("state %s, want provisioning", done.State)
		}
	})
}

// TestNextStepReroutedAtDecision: sec decides the security step (which sec2 could also have
// decided); the next step names only sec, so it is re-routed to the system owner, saying why.
func TestNextStepReroutedAtDecision(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		r := f.submit(t, "ben", `{"entitlement":"tools/pair","justification":"`+justification+`"}`)
		if len(r.Steps) != 2 || r.Steps[1].Kind != gatehouse.StepPerson || strings.Join(r.Steps[1].Approvers, ",") != f.ids["sec"].ID {
			t.Fatalf("steps %+v; want security, then sec by name", r.Steps)
		}
		var mid gatehouse.AccessRequest
		f.approve(t, "sec", r.Ref, http.StatusOK).json(t, &mid)
		next := mid.Steps[1]
		if strings.Join(next.Approvers, ",") != f.ids["admin"].ID || !strings.Contains(next.Why, "decided the security step") ||
			!strings.Contains(next.Why, "owner of system tools") {
			t.Fatalf("next step %+v; want it re-routed to the system owner, saying why", next)
		}
		forbiddenSaying(t, f.approve(t, "sec", r.Ref, http.StatusForbidden), "not one of its approvers")
		f.approve(t, "admin", r.Ref, http.StatusOK)
	})
}

// TestNobodyMakesThemselvesAManager: an operator sets their own employee id as ben's manager to
// take the manager step of ben's requests. Refused; another operator's correction is not.
func TestNobodyMakesThemselvesAManager(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		op := f.ids["operator"]
		body := `{"manager_id":"` + op.EmployeeID + `"}`
		forbiddenSaying(t, must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/ben@example.com", body), http.StatusForbidden),
			"nobody makes themselves someone's manager")
		var got gatehouse.Identity
		must(t, f.as(t, "admin", "GET", "/api/v1/identities/ben@example.com", ""), http.StatusOK).json(t, &got)
		if got.ManagerID != "E-mgr" {
			t.Fatalf("ben's manager is %q after a refused change, want E-mgr", got.ManagerID)
		}
		// An admin (someone else) may still correct who manages ben.
		must(t, f.as(t, "admin", "PATCH", "/api/v1/identities/ben@example.com", body), http.StatusOK)
	})
}
