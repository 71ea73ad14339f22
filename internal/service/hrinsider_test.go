package service_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Insider attempts on HR delta imports: a delta goes through the same leaver guard, standing
// rules and ownership as a snapshot, so splitting a change into small deltas, or sending only
// the rows one wants, gets around none of them.

func deltaUp(t *testing.T, svc *service.Service, p *gatehouse.Principal, name, body string) *service.HRImportResult {
	t.Helper()
	res, err := svc.ImportHRFrom(context.Background(), p, service.HRUpload{Name: name, Body: strings.NewReader(body), Delta: true})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func TestDeltaInsider(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := service.SystemPrincipal("test")
	op := &gatehouse.Principal{Email: "ops@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}

	// Small deltas, each under the guard's limit, add up within its window: the third is held.
	t.Run("guard counts small deltas together", func(t *testing.T) {
		t.Parallel()
		svc, _, _ := hrFixture(t)
		if _, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(hrCompany), false); err != nil {
			t.Fatal(err)
		}
		// 6 active (the catalog owner, a service account, counts), guard max(1, 0.5 × 6) = 3:
		// the fourth termination in the window is one too many.
		for i, row := range []string{
			"E5,eva@example.com,Eva,E,Eng,Dev,E1,Berlin,employee,terminated,2022-01-01,2026-03-02,C1\n",
			"E4,dan@example.com,Dan,D,Eng,Dev,E1,Berlin,employee,terminated,2022-01-01,2026-03-02,C1\n",
			"E3,cid@example.com,Cid,C,Eng,Dev,E1,Berlin,contractor,terminated,2022-01-01,2026-03-02,\n",
			"E2,bob@example.com,Bob,B,Sales,Rep,E1,Paris,employee,terminated,2021-01-01,2026-03-02,C2\n",
		} {
			res := deltaUp(t, svc, op, "d.csv", hrHeader+row)
			held := res.Import.Status == gatehouse.ImportHeld
			if held != (i == 3) {
				t.Fatalf("delta %d: status %s (%s) %+v", i+1, res.Import.Status, res.Import.Reason, res.Plan.Summary)
			}
			if held && !strings.Contains(res.Import.Reason, "4 with the 3 that HR imports did within the last") {
				t.Fatalf("held reason = %q", res.Import.Reason)
			}
		}
	})

	// An operator's delta that terminates an admin, or changes the uploader's own department
	// (birthright), or makes the uploader someone's manager, waits for an admin, as a snapshot.
	t.Run("standing rules", func(t *testing.T) {
		t.Parallel()
		svc, st, _ := hrFixture(t)
		if _, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(hrCompany), false); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetRoles(ctx, admin, "E1", []gatehouse.AccessRole{gatehouse.RoleAdmin}, "test"); err != nil {
			t.Fatal(err)
		}
		bob, err := st.GetIdentity(ctx, "E2")
		if err != nil {
			t.Fatal(err)
		}
		self := &gatehouse.Principal{IdentityID: bob.ID, Email: bob.Email, Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}
		for _, tc := range []struct{ name, row, why string }{
			{"admin leaver", "E1,ann@example.com,Ann,A,Eng,Lead,,Berlin,employee,terminated,2020-01-01,2026-03-02,C1\n", "ann@example.com: status and end_date of an admin"},
			{"own department", "E2,bob@example.com,Bob,B,Eng,Rep,E1,Paris,employee,active,2021-01-01,,C2\n", "bob@example.com: own record (department)"},
			{"own report", "E5,eva@example.com,Eva,E,Eng,Dev,E2,Berlin,employee,active,2022-01-01,,C1\n", "eva@example.com: makes the uploader their manager"},
			{"own new report", "E9,ivy@example.com,Ivy,I,Eng,Dev,E2,Berlin,employee,active,2026-03-01,,C1\n", "ivy@example.com: a new person whose manager is the uploader"},
		} {
			res := deltaUp(t, svc, self, tc.name+".csv", hrHeader+tc.row)
			if res.Import.Status != gatehouse.ImportHeld || !strings.Contains(res.Import.Reason, tc.why) {
				t.Errorf("%s: %s %q, want held for %q", tc.name, res.Import.Status, res.Import.Reason, tc.why)
			}
		}
		if ann, _ := st.GetIdentity(ctx, "E1"); ann.Status != gatehouse.StatusActive {
			t.Fatalf("the admin was terminated by a held delta: %s", ann.Status)
		}
		if _, err := st.GetIdentity(ctx, "E9"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Fatalf("a held delta created the uploader's report: %v", err)
		}
		if b, _ := st.GetIdentity(ctx, "E2"); b.Department != "Sales" {
			t.Fatalf("the uploader moved themselves: %s", b.Department)
		}
	})

	// A person a SCIM client owns is skipped by a delta as by a snapshot, and unchanged.
	t.Run("SCIM-owned people are skipped", func(t *testing.T) {
		t.Parallel()
		svc, st, _ := hrFixture(t)
		if _, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(hrCompany), false); err != nil {
			t.Fatal(err)
		}
		if err := st.Update(ctx, func(tx store.Tx) error {
			id := &gatehouse.Identity{EmployeeID: "S1", Email: "sam@example.com", Kind: gatehouse.KindPerson, Source: "scim:okta",
				Status: gatehouse.StatusActive, EmploymentType: gatehouse.Employee, StartDate: "2020-01-01"}
			if err := tx.CreateIdentity(ctx, id); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "identity.create", ObjectType: "identity", ObjectID: id.ID})
		}); err != nil {
			t.Fatal(err)
		}
		res := deltaUp(t, svc, op, "scim.csv", hrHeader+"S1,sam@example.com,Sam,S,Eng,Dev,E1,Berlin,employee,terminated,2020-01-01,2026-03-02,\n")
		if res.Plan.Summary.Skipped != 1 || res.Plan.Summary.Leavers != 0 {
			t.Fatalf("plan = %+v", res.Plan.Summary)
		}
		if sam, _ := st.GetIdentity(ctx, "S1"); sam.Status != gatehouse.StatusActive || sam.Source != "scim:okta" {
			t.Fatalf("SCIM person = %s %s", sam.Status, sam.Source)
		}
	})

	// Managers through the stored people: a cycle is refused naming the chain; a terminated
	// stored manager is accepted (as in a snapshot) but said in the plan's warnings.
	t.Run("managers", func(t *testing.T) {
		t.Parallel()
		svc, _, _ := hrFixture(t)
		if _, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(hrCompany), false); err != nil {
			t.Fatal(err)
		}
		_, err := svc.ImportHRFrom(ctx, op, service.HRUpload{Name: "cycle.csv", Delta: true, DryRun: true,
			Body: strings.NewReader(hrHeader + "E1,ann@example.com,Ann,A,Eng,Lead,E2,Berlin,employee,active,2020-01-01,,C1\n")})
		if gatehouse.ErrorCode(err) != gatehouse.EINVALID || !strings.Contains(err.Error(), "cycle.csv: line 2: manager_id: manager cycle with the stored people: E1 → E2 → E1") {
			t.Fatalf("cycle: %v", err)
		}
		deltaUp(t, svc, admin, "leaver.csv", hrHeader+"E4,dan@example.com,Dan,D,Eng,Dev,E1,Berlin,employee,terminated,2022-01-01,2026-03-02,C1\n")
		res := deltaUp(t, svc, op, "joiner.csv", hrHeader+"E9,ivy@example.com,Ivy,I,Eng,Dev,E4,Berlin,employee,active,2026-03-01,,C1\n")
		if res.Plan.Summary.Joiners != 1 || !strings.Contains(strings.Join(res.Plan.Warnings, "\n"), `E9: manager_id "E4" is a terminated person (dan@example.com)`) {
			t.Fatalf("terminated manager: %+v warnings %q", res.Plan.Summary, res.Plan.Warnings)
		}
	})
}

// TestLateLeaverCannotBeHidden: a file that terminates someone whose stored end date has
// passed is late by that date even when it also moves the end date to today; a backdated end
// date is late by the date the file gives. The same holds for a termination by hand.
func TestLateLeaverCannotBeHidden(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, now := hrFixture(t)
	admin := service.SystemPrincipal("test")
	op := &gatehouse.Principal{Email: "ops@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}
	*now = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	company := strings.Replace(hrCompany, "E5,eva@example.com,Eva,E,Eng,Dev,E1,Berlin,employee,active,2022-01-01,,C1",
		"E5,eva@example.com,Eva,E,Eng,Dev,E1,Berlin,employee,active,2022-01-01,2026-02-20,C1", 1)
	company = strings.Replace(company, "E2,bob@example.com,Bob,B,Sales,Rep,E1,Paris,employee,active,2021-01-01,,C2",
		"E2,bob@example.com,Bob,B,Sales,Rep,E1,Paris,employee,active,2021-01-01,2026-02-10,C2", 1)
	if _, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(company), false); err != nil {
		t.Fatal(err)
	}
	*now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // Eva's end date passed 10 days ago, Bob's 20

	res := deltaUp(t, svc, op, "late.csv", hrHeader+
		"E5,eva@example.com,Eva,E,Eng,Dev,E1,Berlin,employee,terminated,2022-01-01,2026-03-02,C1\n"+ // end date moved to today
		"E4,dan@example.com,Dan,D,Eng,Dev,E1,Berlin,employee,terminated,2022-01-01,2026-02-01,C1\n") // backdated
	if res.Plan.Summary.LateLeavers != 2 {
		t.Fatalf("late leavers = %d, items %+v", res.Plan.Summary.LateLeavers, res.Plan.Items)
	}
	ev := changesOf(t, svc, op, res.Import.ID)
	if e := ev["E5"]; e == nil || e.LateDays != 10 || !strings.Contains(e.Late, "terminated 10 days after end date (2026-02-20, as stored before this import, which moves it to 2026-03-02)") {
		t.Errorf("Eva's evidence = %+v", e)
	}
	if e := ev["E4"]; e == nil || e.LateDays != 29 || e.Late != "terminated 29 days after end date" {
		t.Errorf("Dan's evidence = %+v", e)
	}

	// Two steps instead: a file that only moves Bob's passed end date later terminates nobody,
	// and says so in its warnings (kept in the import's summary).
	ext, err := svc.ImportHRFrom(ctx, op, service.HRUpload{Name: "extend.csv", Delta: true, DryRun: true, Body: strings.NewReader(hrHeader +
		"E2,bob@example.com,Bob,B,Sales,Rep,E1,Paris,employee,active,2021-01-01,2026-03-10,C2\n")})
	if err != nil || !strings.Contains(strings.Join(ext.Plan.Warnings, "\n"), "E2: end_date 2026-02-10 had passed and is moved to 2026-03-10 while bob@example.com stays active") {
		t.Fatalf("extension: %+v, %v", ext, err)
	}

	// By hand: the same patch that terminates Bob moves his end date to today.
	terminated, today := gatehouse.StatusTerminated, "2026-03-02"
	bob, err := svc.UpdateIdentity(ctx, admin, "E2", service.IdentityPatch{Status: &terminated, EndDate: &today}, "left")
	if err != nil {
		t.Fatal(err)
	}
	events, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "identity.update", ObjectID: bob.ID, Limit: 1})
	if err != nil || len(events.Items) != 1 || !strings.Contains(events.Items[0].Reason, "late: terminated 20 days after end date (2026-02-10") {
		t.Fatalf("hand termination events = %+v, %v", events.Items, err)
	}
}

// TestExportRoundTripAwkwardValues: values CSV must quote (commas, quotes), and values a
// spreadsheet would read as a formula, leave and come back unchanged: the export is a data
// file, not a report (docs/hr.md, "Export").
func TestExportRoundTripAwkwardValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, _, _ := hrFixture(t)
	admin := service.SystemPrincipal("test")
	company := hrHeader +
		`E1,ann@example.com,"Ann, Jr.","O""Neil",Eng,"=HYPERLINK(""http://x"")",,Berlin,employee,active,2020-01-01,,+1 555` + "\n" +
		"E2,bob@example.com,@bob,-Brown,Sales,Rep,E1,Zürich,employee,active,2021-01-01,,C2\n"
	if _, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(company), false); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := svc.ExportHR(ctx, admin, &buf); err != nil {
		t.Fatal(err)
	}
	if buf.String() != company {
		t.Fatalf("export =\n%s\nwant\n%s", buf.String(), company)
	}
	res, err := svc.ImportHR(ctx, admin, "export.csv", buf.Bytes(), true)
	if err != nil || len(res.Plan.Items) != 0 {
		t.Fatalf("round trip = %+v, %v", res, err)
	}
}

// TestGuardWindowCountsDateChecks: end dates set a day ahead terminate nobody in the import that
// sets them, but the date check's terminations count in the leaver guard's window, both ways:
// for the imports after it and for a date check after imports.
func TestGuardWindowCountsDateChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := service.SystemPrincipal("test")
	op := &gatehouse.Principal{Email: "ops@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}
	endToday := hrHeader +
		"E4,dan@example.com,Dan,D,Eng,Dev,E1,Berlin,employee,active,2022-01-01,2026-03-02,C1\n" +
		"E5,eva@example.com,Eva,E,Eng,Dev,E1,Berlin,employee,active,2022-01-01,2026-03-02,C1\n"
	leave := hrHeader +
		"E2,bob@example.com,Bob,B,Sales,Rep,E1,Paris,employee,terminated,2021-01-01,2026-03-03,C2\n" +
		"E3,cid@example.com,Cid,C,Eng,Dev,E1,Berlin,contractor,terminated,2022-01-01,2026-03-03,\n"
	// 6 active (the catalog owner counts), guard max(1, 0.5 × 6) = 3: 2 + 2 is one too many.
	t.Run("date check, then import", func(t *testing.T) {
		t.Parallel()
		svc, _, now := hrFixture(t)
		if _, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(hrCompany), false); err != nil {
			t.Fatal(err)
		}
		if res := deltaUp(t, svc, op, "ends.csv", endToday); res.Import.Status != gatehouse.ImportApplied || res.Plan.Summary.Removals != 0 {
			t.Fatalf("end dates: %s %+v", res.Import.Status, res.Plan.Summary)
		}
		*now = now.Add(24 * time.Hour)
		plan, err := svc.ApplyHRDates(ctx, service.SystemPrincipal("hr-dates"))
		if err != nil || plan.Held || plan.Summary.Removals != 2 {
			t.Fatalf("date check: %+v, %v", plan, err)
		}
		res := deltaUp(t, svc, op, "leave.csv", leave)
		if res.Import.Status != gatehouse.ImportHeld || !strings.Contains(res.Import.Reason, "4 with the 2 that HR imports did within the last") {
			t.Fatalf("import after the date check: %s %q", res.Import.Status, res.Import.Reason)
		}
	})
	t.Run("import, then date check", func(t *testing.T) {
		t.Parallel()
		svc, st, now := hrFixture(t)
		if _, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(hrCompany), false); err != nil {
			t.Fatal(err)
		}
		if res := deltaUp(t, svc, op, "both.csv", leave+strings.TrimPrefix(endToday, hrHeader)); res.Import.Status != gatehouse.ImportApplied {
			t.Fatalf("import: %s %q", res.Import.Status, res.Import.Reason)
		}
		*now = now.Add(24 * time.Hour)
		plan, err := svc.ApplyHRDates(ctx, service.SystemPrincipal("hr-dates"))
		if err != nil || !plan.Held {
			t.Fatalf("date check after the import: %+v, %v", plan.Summary, err)
		}
		if dan, _ := st.GetIdentity(ctx, "E4"); dan.Status != gatehouse.StatusActive {
			t.Fatalf("a held date check terminated Dan: %s", dan.Status)
		}
	})
}

// TestExportRoundTripHandMade: a value set by hand (source api) that a CSV must quote over lines
// exports and imports back unchanged; one with spaces around it is exported as stored, and the
// import, which trims every value, shows that trim as its only change (docs/hr.md, "Export").
func TestExportRoundTripHandMade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, _, _ := hrFixture(t)
	admin := service.SystemPrincipal("test")
	if _, err := svc.CreateIdentity(ctx, admin, &gatehouse.Identity{EmployeeID: "H1", Email: "hand@example.com", FirstName: " Hal ",
		LastName: "Hand", StartDate: "2020-01-01", Kind: gatehouse.KindPerson,
		Attributes: map[string]string{"note": "line one\nline \"two\"", "pad": " x "}}, "test"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := svc.ExportHR(ctx, admin, &buf); err != nil {
		t.Fatal(err)
	}
	res, err := svc.ImportHR(ctx, admin, "export.csv", buf.Bytes(), true)
	if err != nil {
		t.Fatalf("export =\n%s\nimport: %v", buf.String(), err)
	}
	if len(res.Plan.Items) != 1 || fmt.Sprint(res.Plan.Items[0].Changes) != "[{first_name  Hal  Hal} {attributes.pad  x  x}]" {
		t.Fatalf("export =\n%s\nround trip = %+v", buf.String(), res.Plan.Items)
	}
	if !strings.Contains(buf.String(), "\"line one\nline \"\"two\"\"\"") {
		t.Fatalf("multi-line value not quoted:\n%s", buf.String())
	}
}
