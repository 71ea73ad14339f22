package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const hrCatalog = `
settings:
  leaver_guard: {max_fraction: 0.5, min_count: 1}
systems:
  - {id: app, name: App, owner: owner@example.com, tier: standard, connector: {type: manual}}
entitlements:
  - {id: app/users, system: app, name: Users, kind: group, risk: standard}
  - {id: app/eng, system: app, name: Eng, kind: group, risk: standard}
  - {id: app/sales, system: app, name: Sales, kind: group, risk: standard}
roles:
  - {id: all-staff, name: All staff, entitlements: [app/users], birthright: 'identity.status == "active"'}
  - {id: eng, name: Engineering, entitlements: [app/eng], birthright: 'identity.department == "Eng"'}
  - {id: sales, name: Sales, entitlements: [app/sales], birthright: 'identity.department == "Sales"'}
`

const hrHeader = "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date,cost_center\n"

func hrFixture(t *testing.T) (*service.Service, store.Store, *time.Time) {
	t.Helper()
	return hrFixtureOn(t, storetest.OpenSQLite)
}

// hrFixtureOn is hrFixture on the store open returns.
func hrFixtureOn(t *testing.T, open func(testing.TB) store.Store) (*service.Service, store.Store, *time.Time) {
	t.Helper()
	ctx := context.Background()
	st := open(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	svc := service.New(st, service.Options{Now: func() time.Time { return now }, HR: service.HROptions{LeadTime: 7 * 24 * time.Hour}})
	p := service.SystemPrincipal("test")
	// The catalog owner is a service account: HR never owns it, so it is never a leaver.
	if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{Email: "owner@example.com", Kind: gatehouse.KindService}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(hrCatalog)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	return svc, st, &now
}

// heldBy returns "entitlement(source)" of id's active grants, sorted.
func heldBy(t *testing.T, st store.Store, key string) string {
	t.Helper()
	ctx := context.Background()
	id, err := st.GetIdentity(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: id.ID, Status: "active", Limit: gatehouse.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range page.Items {
		out = append(out, g.EntitlementID+"("+string(g.Source)+")")
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func auditHead(t *testing.T, st store.Store) int64 {
	t.Helper()
	seq, _, err := st.AuditHead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// TestImportHR runs on both engines: PostgreSQL writes an import's rows in bulk statements.
func TestImportHR(t *testing.T) {
	t.Parallel()
	for _, eng := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			testImportHR(t, eng.open)
		})
	}
}

func testImportHR(t *testing.T, open func(testing.TB) store.Store) {
	ctx := context.Background()
	svc, st, now := hrFixtureOn(t, open)
	op := &gatehouse.Principal{Email: "ops@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}
	admin := service.SystemPrincipal("test")

	first := hrHeader +
		"E1,ann@example.com,Ann,A,Eng,Lead,,Berlin,employee,active,2020-01-01,,C1\n" +
		"E2,bob@example.com,Bob,B,Sales,Rep,E1,Paris,employee,active,2021-01-01,,C2\n" +
		"E3,cid@example.com,Cid,C,Eng,Dev,E1,Berlin,contractor,active,2022-01-01,2027-01-01,C1\n" +
		"E4,dee@example.com,Dee,D,Eng,Dev,E1,Berlin,employee,active,2026-04-01,,C1\n" + // pre-hire
		"E5,eve@example.com,Eve,E,Eng,Dev,E1,Berlin,employee,terminated,2019-01-01,2025-01-01,C1\n"
	res, err := svc.ImportHR(ctx, op, "hr.csv", []byte(first), false)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Plan.Summary
	if res.Import == nil || res.Import.Status != gatehouse.ImportApplied || s.Joiners != 3 || s.PreHires != 1 || s.NewTerminated != 1 || s.GrantsGained != 6 {
		t.Fatalf("first import: %+v, summary %+v", res.Import, s)
	}
	sum := sha256.Sum256([]byte(first))
	if res.Import.SHA256 != hex.EncodeToString(sum[:]) || res.Import.RowCount != 5 || res.Import.CreatedBy != "ops@example.com" {
		t.Errorf("import record = %+v", res.Import)
	}
	for key, want := range map[string]string{
		"E1": "app/eng(birthright) app/users(birthright)", "E2": "app/sales(birthright) app/users(birthright)",
		"E3": "app/eng(birthright) app/users(birthright)", "E4": "", "E5": "",
	} {
		if got := heldBy(t, st, key); got != want {
			t.Errorf("%s holds %q, want %q", key, got, want)
		}
	}
	dee, _ := st.GetIdentity(ctx, "E4")
	if dee.Attributes[jml.AttrLifecycle] != jml.LifecyclePreHire || dee.Source != jml.Source || dee.Attributes["cost_center"] != "C1" {
		t.Errorf("pre-hire = %+v", dee)
	}
	// Bob got access by request too; after his move his new manager must confirm it.
	// (Requests write their grants internally; CreateGrants is that internal path for tests.)
	if _, err := svc.CreateGrants(ctx, service.SystemPrincipal("test"), []service.NewGrant{{Identity: "E2", Entitlement: "app/eng", Source: gatehouse.SourceRequest, Reference: "REQ-1", Reason: "project"}}); err != nil {
		t.Fatal(err)
	}

	// A dry run and an invalid file change nothing.
	second := hrHeader +
		"E1,ann@example.com,Ann,A,Eng,Lead,,Berlin,employee,active,2020-01-01,,C1\n" +
		"E2,bob@example.com,Bob,B,Eng,Dev,E3,Paris,employee,active,2021-01-01,,C2\n" + // mover
		"E3,cid@example.com,Cid,C,Eng,Dev,E1,Berlin,contractor,terminated,2022-01-01,2026-02-28,C1\n" + // leaver
		"E4,dee@example.com,Dee,D,Eng,Dev,E1,Berlin,employee,active,2026-03-05,,C1\n" + // starts within the lead time
		"E5,eve@example.com,Eve,E,Sales,Rep,E1,Berlin,employee,active,2026-03-01,,C1\n" // rehire
	head := auditHead(t, st)
	dry, err := svc.ImportHR(ctx, op, "hr2.csv", []byte(second), true)
	if err != nil {
		t.Fatal(err)
	}
	if !dry.DryRun || dry.Import != nil || dry.Plan.Summary.Movers != 1 || auditHead(t, st) != head {
		t.Fatalf("dry run: %+v, head %d → %d", dry.Plan.Summary, head, auditHead(t, st))
	}
	bad := second + "E6,ann@EXAMPLE.com,X,Y,Eng,Dev,E9,Berlin,staff,active,2026-13-01,,C1\n"
	_, err = svc.ImportHR(ctx, op, "bad.csv", []byte(bad), false)
	if gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Fatalf("invalid file: %v", err)
	}
	for _, want := range []string{"bad.csv: line 7: email:", "bad.csv: line 7: employment_type:", "bad.csv: line 7: start_date:", "bad.csv: line 7: manager_id:"} {
		if !strings.Contains(gatehouse.ErrorMessage(err), want) {
			t.Errorf("error lacks %q:\n%s", want, gatehouse.ErrorMessage(err))
		}
	}
	if auditHead(t, st) != head {
		t.Fatal("an invalid file changed state")
	}

	res, err = svc.ImportHR(ctx, op, "hr2.csv", []byte(second), false)
	if err != nil {
		t.Fatal(err)
	}
	s = res.Plan.Summary
	if s.Movers != 1 || s.Leavers != 1 || s.Joiners != 1 || s.Rehires != 1 || s.ToConfirm != 1 {
		t.Fatalf("second import summary %+v", s)
	}
	for key, want := range map[string]string{
		"E1": "app/eng(birthright) app/users(birthright)",
		"E2": "app/eng(request) app/users(birthright)", // sales lost; eng already held by request
		"E3": "",
		"E4": "app/eng(birthright) app/users(birthright)",
		"E5": "app/sales(birthright) app/users(birthright)",
	} {
		if got := heldBy(t, st, key); got != want {
			t.Errorf("%s holds %q, want %q", key, got, want)
		}
	}
	var stored service.HRSummary
	imp, err := svc.GetHRImport(ctx, op, res.Import.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(imp.Summary, &stored); err != nil || len(stored.Confirmations) != 1 || stored.Confirmations[0].Manager != "E3" {
		t.Errorf("stored summary = %s (%v)", imp.Summary, err)
	}
	// Every change references the import.
	events, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "grant.revoke", Limit: 10})
	if err != nil || len(events.Items) != 3 || events.Items[0].Reference != "hr-import:"+res.Import.ID {
		t.Fatalf("revoke events = %+v, %v", events.Items, err)
	}

	// Dropping E1 and E2 and sending E4 on leave is 3 removals of 4 active: held.
	third := hrHeader +
		"E3,cid@example.com,Cid,C,Eng,Dev,,Berlin,contractor,terminated,2022-01-01,2026-02-28,C1\n" +
		"E4,dee@example.com,Dee,D,Eng,Dev,,Berlin,employee,leave,2026-03-05,,C1\n" +
		"E5,eve@example.com,Eve,E,Sales,Rep,,Berlin,employee,active,2026-03-01,,C1\n"
	head = auditHead(t, st)
	res, err = svc.ImportHR(ctx, op, "hr3.csv", []byte(third), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Import.Status != gatehouse.ImportHeld || !res.Plan.Held || !strings.Contains(res.Import.Reason, "3 people") {
		t.Fatalf("third import = %+v", res.Import)
	}
	if auditHead(t, st) != head+1 || heldBy(t, st, "E1") == "" {
		t.Fatal("a held import applied something")
	}
	page, err := svc.ListHRImports(ctx, op, gatehouse.HRImportFilter{Status: gatehouse.ImportHeld})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != res.Import.ID {
		t.Fatalf("held list = %+v, %v", page.Items, err)
	}
	if _, err := svc.ApproveHRImport(ctx, op, res.Import.ID, "ok"); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("operator approve: %v", err)
	}
	*now = now.Add(time.Hour)
	approved, err := svc.ApproveHRImport(ctx, admin, res.Import.ID, "reorganisation confirmed")
	if err != nil {
		t.Fatal(err)
	}
	if approved.Import.Status != gatehouse.ImportApplied || approved.Import.DecidedBy != admin.Actor() || approved.Plan.Summary.Removals != 3 {
		t.Fatalf("approved = %+v %+v", approved.Import, approved.Plan.Summary)
	}
	if heldBy(t, st, "E1") != "" || heldBy(t, st, "E4") == "" {
		t.Fatalf("after approval E1 holds %q, E4 (leave) holds %q", heldBy(t, st, "E1"), heldBy(t, st, "E4"))
	}
	if _, err := svc.ApproveHRImport(ctx, admin, res.Import.ID, ""); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Fatalf("second approval: %v", err)
	}

	// A held import can be rejected: nothing applied, the content dropped.
	all := hrHeader + "E9,zed@example.com,Zed,Z,Eng,Dev,,Berlin,employee,active,2020-01-01,,C1\n"
	res, err = svc.ImportHR(ctx, op, "hr4.csv", []byte(all), false)
	if err != nil || res.Import.Status != gatehouse.ImportHeld {
		t.Fatalf("fourth import: %+v, %v", res, err)
	}
	rej, err := svc.RejectHRImport(ctx, admin, res.Import.ID, "wrong file")
	if err != nil || rej.Status != gatehouse.ImportRejected || rej.Reason != "wrong file" {
		t.Fatalf("reject = %+v, %v", rej, err)
	}
	if _, err := st.GetIdentity(ctx, "E9"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Fatalf("rejected import created E9: %v", err)
	}

	// The audit chain holds, and records each import with its hash and row count.
	v, err := svc.VerifyAudit(ctx, admin)
	if err != nil || !v.OK {
		t.Fatalf("verify = %+v, %v", v, err)
	}
	evs, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "hr.import", Limit: 10})
	if err != nil || len(evs.Items) != 4 || !strings.Contains(string(evs.Items[3].After), hex.EncodeToString(sum[:])) || !strings.Contains(string(evs.Items[3].After), `"row_count":5`) {
		t.Fatalf("hr.import events = %d, %v", len(evs.Items), err)
	}
}

func TestImportHRAuthorizationAndJSON(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t)
	user := &gatehouse.Principal{IdentityID: "x", Email: "x@example.com"}
	if _, err := svc.ImportHR(ctx, user, "hr.csv", []byte(hrHeader), true); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("ordinary identity: %v", err)
	}
	if _, err := svc.ListHRImports(ctx, user, gatehouse.HRImportFilter{}); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("ordinary identity lists: %v", err)
	}
	body := `[{"employee_id":"E1","email":"ann@example.com","department":"Eng","employment_type":"employee","status":"active","start_date":"2020-01-01","end_date":null}]`
	res, err := svc.ImportHR(ctx, service.SystemPrincipal("test"), "api", []byte(body), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Import.Format != "json" || res.Plan.Summary.Joiners != 1 || heldBy(t, st, "E1") != "app/eng(birthright) app/users(birthright)" {
		t.Fatalf("json import = %+v %+v", res.Import, res.Plan.Summary)
	}
}

func TestCatalogApplyRecomputesBirthright(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t)
	p := service.SystemPrincipal("test")
	if _, err := svc.ImportHR(ctx, p, "hr.csv", []byte(hrHeader+"E1,ann@example.com,Ann,A,Eng,Lead,,Berlin,employee,active,2020-01-01,,C1\n"), false); err != nil {
		t.Fatal(err)
	}
	// Engineering now gets sales too; all-staff goes away.
	changed := strings.Replace(hrCatalog, "entitlements: [app/eng], birthright", "entitlements: [app/eng, app/sales], birthright", 1)
	changed = strings.Replace(changed, `birthright: 'identity.status == "active"'`, `birthright: 'identity.status == "nobody"'`, 1)
	files := []catalog.File{{Name: "c.yaml", Content: []byte(changed)}}
	// Two birthright grants are lost: refused without the plan's confirmation, nothing changed.
	var unconfirmed *catalog.UnconfirmedError
	if _, err := svc.ApplyCatalog(ctx, p, files, false, "test"); !errors.As(err, &unconfirmed) ||
		gatehouse.ErrorCode(err) != gatehouse.ECONFLICT || unconfirmed.Revocations.Birthright != 2 {
		t.Fatalf("unconfirmed apply: %v", err)
	}
	plan, err := svc.PlanCatalog(ctx, p, files)
	if err != nil {
		t.Fatal(err)
	}
	if rv := plan.Revocations; rv == nil || rv.Grants != 2 || rv.Birthright != 2 || rv.People != 2 {
		t.Fatalf("plan revocations = %+v", plan.Revocations)
	}
	res, err := svc.ApplyCatalogWith(ctx, p, files, service.CatalogApply{Reason: "test", ConfirmRevocations: plan.Revocations.Confirmation})
	if err != nil {
		t.Fatal(err)
	}
	// The owner (a service account) loses all-staff too: birthright rules apply to every active identity.
	if res.Birthright == nil || res.Birthright.GrantsGained != 1 || res.Birthright.GrantsLost != 2 {
		t.Fatalf("birthright = %+v", res.Birthright)
	}
	if got := heldBy(t, st, "E1"); got != "app/eng(birthright) app/sales(birthright)" {
		t.Fatalf("E1 holds %q", got)
	}
}

func TestApplyHRDates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, now := hrFixture(t)
	p := service.SystemPrincipal("hr-dates")
	feed := hrHeader +
		"E1,ann@example.com,Ann,A,Eng,Lead,,Berlin,employee,active,2020-01-01,,C1\n" +
		"E2,bob@example.com,Bob,B,Eng,Dev,E1,Paris,contractor,active,2021-01-01,2026-03-10,C2\n" + // contract ends
		"E3,cid@example.com,Cid,C,Eng,Dev,E1,Berlin,employee,active,2026-03-20,,C1\n" // starts later
	if _, err := svc.ImportHR(ctx, p, "hr.csv", []byte(feed), false); err != nil {
		t.Fatal(err)
	}
	if heldBy(t, st, "E3") != "" || heldBy(t, st, "E2") == "" {
		t.Fatal("unexpected access before the dates")
	}
	// Nothing happens before the dates.
	plan, err := svc.ApplyHRDates(ctx, p)
	if err != nil || len(plan.Items) != 0 {
		t.Fatalf("first run: %+v, %v", plan, err)
	}
	// On 2026-03-14 the contract has ended and E3 is within the 7-day lead time.
	*now = time.Date(2026, 3, 14, 6, 0, 0, 0, time.UTC)
	plan, err = svc.ApplyHRDates(ctx, p)
	if err != nil || plan.Summary.Leavers != 1 || plan.Summary.Joiners != 1 {
		t.Fatalf("second run: %+v, %v", plan.Summary, err)
	}
	bob, _ := st.GetIdentity(ctx, "E2")
	cid, _ := st.GetIdentity(ctx, "E3")
	if bob.Status != gatehouse.StatusTerminated || heldBy(t, st, "E2") != "" || cid.Attributes[jml.AttrLifecycle] != "" || heldBy(t, st, "E3") == "" {
		t.Fatalf("after the run: bob %s holds %q; cid %v holds %q", bob.Status, heldBy(t, st, "E2"), cid.Attributes, heldBy(t, st, "E3"))
	}
	// Idempotent.
	head := auditHead(t, st)
	if plan, err = svc.ApplyHRDates(ctx, p); err != nil || len(plan.Items) != 0 || auditHead(t, st) != head {
		t.Fatalf("third run: %+v, %v", plan, err)
	}
}
