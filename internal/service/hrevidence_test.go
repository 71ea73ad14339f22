package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// changesOf reads every evidence row of an import.
func changesOf(t *testing.T, svc *service.Service, p *gatehouse.Principal, id string) map[string]*gatehouse.HRImportChange {
	t.Helper()
	page, err := svc.ListHRImportChanges(context.Background(), p, gatehouse.HRImportChangeFilter{ImportID: id, Limit: gatehouse.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*gatehouse.HRImportChange{}
	for _, c := range page.Items {
		out[c.EmployeeID] = c
	}
	return out
}

// TestHRImportEvidenceAndLateLeavers: an applied import keeps its plan, a person a row named
// by name; a leaver terminated after their end date is flagged late in the plan, the evidence
// and the audit event of the termination; a held import keeps no evidence until it is
// approved, and then keeps what the approval applied.
func TestHRImportEvidenceAndLateLeavers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t) // today is 2026-03-02
	op := &gatehouse.Principal{Email: "ops@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}
	auditor := &gatehouse.Principal{Email: "audit@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAuditor}}
	admin := service.SystemPrincipal("test")
	first := hrHeader +
		"E1,ann@example.com,Ann,Adams,Eng,Lead,,Berlin,employee,active,2020-01-01,,C1\n" +
		"E2,bob@example.com,Bob,Brown,Sales,Rep,E1,Paris,employee,active,2021-01-01,,C2\n" +
		"E3,cid@example.com,Cid,Clark,Eng,Dev,E1,Berlin,contractor,active,2022-01-01,,C1\n" +
		"E4,dee@example.com,Dee,Dunn,Eng,Dev,E1,Berlin,employee,active,2020-04-01,,C1\n" +
		"E5,eve@example.com,Eve,Evans,Eng,Dev,E1,Berlin,employee,active,2020-04-01,,C1\n"
	if _, err := svc.ImportHR(ctx, op, "hr.csv", []byte(first), false); err != nil {
		t.Fatal(err)
	}
	// Bob moves to Eng; Cid left on 2026-02-27 and HR says so only now (3 days late); Dee is
	// terminated ahead of her end date (not late).
	second := hrHeader +
		"E1,ann@example.com,Ann,Adams,Eng,Lead,,Berlin,employee,active,2020-01-01,,C1\n" +
		"E2,bob@example.com,Bob,Brown,Eng,Rep,E1,Paris,employee,active,2021-01-01,,C2\n" +
		"E3,cid@example.com,Cid,Clark,Eng,Dev,E1,Berlin,contractor,terminated,2022-01-01,2026-02-27,C1\n" +
		"E4,dee@example.com,Dee,Dunn,Eng,Dev,E1,Berlin,employee,terminated,2020-04-01,2026-03-10,C1\n" +
		"E5,eve@example.com,Eve,Evans,Eng,Dev,E1,Berlin,employee,active,2020-04-01,,C1\n"
	dry, err := svc.ImportHR(ctx, op, "hr2.csv", []byte(second), true)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Plan.Summary.LateLeavers != 1 {
		t.Fatalf("dry run: late_leavers = %d", dry.Plan.Summary.LateLeavers)
	}
	res, err := svc.ImportHR(ctx, op, "hr2.csv", []byte(second), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Import.Status != gatehouse.ImportApplied || res.Plan.Summary.LateLeavers != 1 {
		t.Fatalf("second import: %+v %+v", res.Import, res.Plan.Summary)
	}
	for _, it := range res.Plan.Items {
		want := map[string]int{"E3": 3}[it.EmployeeID]
		if it.LateDays != want {
			t.Errorf("plan: %s late_days = %d, want %d", it.EmployeeID, it.LateDays, want)
		}
	}
	if !strings.Contains(string(res.Import.Summary), `"late_leavers":1`) {
		t.Errorf("stored summary = %s", res.Import.Summary)
	}

	// The evidence: a row per person changed, named, readable by auditors.
	ev := changesOf(t, svc, auditor, res.Import.ID)
	if len(ev) != 3 {
		t.Fatalf("evidence rows = %v", ev)
	}
	cid, dee, bob := ev["E3"], ev["E4"], ev["E2"]
	if cid.Name != "Cid Clark" || cid.Class != "leaver" || cid.LateDays != 3 || cid.Late != "terminated 3 days after end date" ||
		len(cid.Lost) != 2 || cid.Lost[0].GrantID == "" {
		t.Errorf("Cid's row = %+v", cid)
	}
	if dee.LateDays != 0 || dee.Late != "" {
		t.Errorf("Dee (end date in the future) is late: %+v", dee)
	}
	if got, want := service.HRChangeLine(bob), "Bob Brown (E2): department Sales → Eng; +app/eng; −app/sales"; got != want {
		t.Errorf("Bob's line = %q, want %q", got, want)
	}
	if bob.Gained[0].GrantID == "" || bob.IdentityID == "" {
		t.Errorf("Bob's row lacks ids: %+v", bob)
	}
	late, err := svc.ListHRImportChanges(ctx, auditor, gatehouse.HRImportChangeFilter{ImportID: res.Import.ID, Late: true})
	if err != nil || len(late.Items) != 1 || late.Items[0].EmployeeID != "E3" {
		t.Fatalf("late leavers = %+v, %v", late.Items, err)
	}
	// Readers only; a bad class and an unknown import are refused.
	if _, err := svc.ListHRImportChanges(ctx, &gatehouse.Principal{Email: "x@example.com"}, gatehouse.HRImportChangeFilter{ImportID: res.Import.ID}); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Errorf("a plain user reads the evidence: %v", err)
	}
	if _, err := svc.ListHRImportChanges(ctx, auditor, gatehouse.HRImportChangeFilter{ImportID: res.Import.ID, Class: "boss"}); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("bad class: %v", err)
	}
	if _, err := svc.ListHRImportChanges(ctx, auditor, gatehouse.HRImportChangeFilter{ImportID: "nope"}); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("unknown import: %v", err)
	}

	// The audit event of the late termination says so; Dee's does not.
	events, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "identity.update", Limit: gatehouse.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range events.Items {
		if e.Reference == "hr-import:"+res.Import.ID {
			seen[e.ObjectID] = e.Reason
		}
	}
	cidID, deeID := cid.IdentityID, dee.IdentityID
	if !strings.Contains(seen[cidID], "late: terminated 3 days after end date") || strings.Contains(seen[deeID], "late") {
		t.Errorf("termination events: Cid %q, Dee %q", seen[cidID], seen[deeID])
	}

	// Ann and Bob leave: with the window's two removals, held. Nothing is kept as evidence
	// while it is held.
	third := hrHeader +
		"E3,cid@example.com,Cid,Clark,Eng,Dev,,Berlin,contractor,terminated,2022-01-01,2026-02-27,C1\n" +
		"E4,dee@example.com,Dee,Dunn,Eng,Dev,,Berlin,employee,terminated,2020-04-01,2026-03-10,C1\n" +
		"E5,eve@example.com,Eve,Evans,Eng,Dev,,Berlin,employee,active,2020-04-01,,C1\n"
	held, err := svc.ImportHR(ctx, op, "hr3.csv", []byte(third), false)
	if err != nil || held.Import.Status != gatehouse.ImportHeld {
		t.Fatalf("third import: %+v, %v", held, err)
	}
	if ev := changesOf(t, svc, auditor, held.Import.ID); len(ev) != 0 {
		t.Fatalf("a held import has evidence: %v", ev)
	}
	// Meanwhile Ann is given access by request: the approval plans the file again, so her
	// evidence row lists that grant too — what was applied, not what was held.
	grants, err := svc.CreateGrants(ctx, admin, []service.NewGrant{{Identity: "E1", Entitlement: "app/sales", Source: gatehouse.SourceRequest, Reference: "REQ-7", Reason: "project"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApproveHRImport(ctx, admin, held.Import.ID, "confirmed"); err != nil {
		t.Fatal(err)
	}
	ev = changesOf(t, svc, auditor, held.Import.ID)
	ann := ev["E1"]
	// Ann and Bob leave; the others lose their manager (movers).
	if len(ev) != 5 || ann == nil || ann.Class != "leaver" || ann.Name != "Ann Adams" || ev["E5"].Class != "mover" {
		t.Fatalf("approved evidence = %v", ev)
	}
	lost := map[string]string{}
	for _, g := range ann.Lost {
		lost[g.EntitlementID] = g.GrantID
	}
	if lost["app/sales"] != grants[0].ID || len(ann.Lost) != 3 {
		t.Errorf("Ann lost %+v, want app/sales (grant %s) among 3", ann.Lost, grants[0].ID)
	}
}

// TestHandTerminationAfterEndDateIsLate: terminating someone by hand after their end date
// flags the audit event of the termination late, as an import does; on the end date it does
// not.
func TestHandTerminationAfterEndDateIsLate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t) // today is 2026-03-02
	admin := service.SystemPrincipal("test")
	for _, tc := range []struct {
		emp, end, want string
	}{
		{"E1", "2026-02-25", "left; late: terminated 5 days after end date"},
		{"E2", "2026-03-02", "left"},
		{"E3", "", "left"},
	} {
		if _, err := svc.CreateIdentity(ctx, admin, &gatehouse.Identity{EmployeeID: tc.emp, Email: strings.ToLower(tc.emp) + "@example.com",
			StartDate: "2020-01-01", EndDate: tc.end, Kind: gatehouse.KindPerson}, "test"); err != nil {
			t.Fatal(err)
		}
		terminated := gatehouse.StatusTerminated
		who, err := svc.UpdateIdentity(ctx, admin, tc.emp, service.IdentityPatch{Status: &terminated}, "left")
		if err != nil {
			t.Fatal(err)
		}
		events, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "identity.update", ObjectID: who.ID, Limit: 10})
		if err != nil || len(events.Items) != 1 {
			t.Fatalf("%s: events %v, %v", tc.emp, events.Items, err)
		}
		if got := events.Items[0].Reason; got != tc.want {
			t.Errorf("%s: reason %q, want %q", tc.emp, got, tc.want)
		}
	}
}
