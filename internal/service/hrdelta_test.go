package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

const hrCompany = hrHeader +
	"E1,ann@example.com,Ann,A,Eng,Lead,,Berlin,employee,active,2020-01-01,,C1\n" +
	"E2,bob@example.com,Bob,B,Sales,Rep,E1,Paris,employee,active,2021-01-01,,C2\n" +
	"E3,cid@example.com,Cid,C,Eng,Dev,E1,Berlin,contractor,active,2022-01-01,2027-01-01,\n" +
	"E4,dan@example.com,Dan,D,Eng,Dev,E1,Berlin,employee,active,2022-01-01,,C1\n" +
	"E5,eva@example.com,Eva,E,Eng,Dev,E1,Berlin,employee,active,2022-01-01,,C1\n"

// TestImportHRDelta: a delta's rows are upserts (joiner, mover, leaver), the people it does
// not list are untouched, its managers may be stored people, an unknown one is refused by
// file, line and field, and the import record says it was a delta — also once a held delta is
// approved.
func TestImportHRDelta(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t)
	op := &gatehouse.Principal{Email: "ops@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}
	if _, err := svc.ImportHR(ctx, op, "hr.csv", []byte(hrCompany), false); err != nil {
		t.Fatal(err)
	}
	changes := hrHeader +
		"E6,fay@example.com,Fay,F,Sales,Rep,E2,Paris,employee,active,2026-03-01,,C2\n" + // joiner under a stored manager
		"E3,cid@example.com,Cid,C,Sales,Rep,E2,Paris,contractor,active,2022-01-01,2027-01-01,\n" + // mover
		"E4,dan@example.com,Dan,D,Eng,Dev,E1,Berlin,employee,terminated,2022-01-01,2026-03-01,C1\n" // leaver

	// The same file as a snapshot: the stored manager is unknown, said with the hint.
	_, err := svc.ImportHR(ctx, op, "changes.csv", []byte(changes), true)
	if err == nil || !strings.Contains(err.Error(), `changes.csv: line 2: manager_id: "E2" is not the employee_id of any row: `+jml.SnapshotHint) {
		t.Fatalf("as a snapshot: %v", err)
	}

	up := func(name, body string, dry bool) (*service.HRImportResult, error) {
		return svc.ImportHRFrom(ctx, op, service.HRUpload{Name: name, Body: strings.NewReader(body), DryRun: dry, Delta: true})
	}
	dry, err := up("changes.csv", changes, true)
	if err != nil {
		t.Fatal(err)
	}
	s := dry.Plan.Summary
	if s.Joiners != 1 || s.Movers != 1 || s.Leavers != 1 || s.Missing != 0 || s.Rows != 3 || dry.Import != nil {
		t.Fatalf("dry run = %+v", s)
	}
	res, err := up("changes.csv", changes, false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Import.Delta || res.Import.Status != gatehouse.ImportApplied {
		t.Fatalf("import = %+v", res.Import)
	}
	got, err := svc.GetHRImport(ctx, op, res.Import.ID)
	if err != nil || !got.Delta {
		t.Fatalf("stored import = %+v, %v", got, err)
	}
	for key, want := range map[string]string{"E1": "active", "E2": "active", "E5": "active", "E4": "terminated", "E6": "active"} {
		id, err := st.GetIdentity(ctx, key)
		if err != nil || string(id.Status) != want {
			t.Fatalf("%s: %v, %v", key, id, err)
		}
	}
	if cid, _ := st.GetIdentity(ctx, "E3"); cid.Department != "Sales" || cid.ManagerID != "E2" {
		t.Fatalf("mover = %+v", cid)
	}
	if heldBy(t, st, "E4") != "" || heldBy(t, st, "E6") != "app/sales(birthright) app/users(birthright)" {
		t.Fatalf("E4 holds %q, E6 holds %q", heldBy(t, st, "E4"), heldBy(t, st, "E6"))
	}

	// An unknown manager: file, line, field; nothing changes.
	head := auditHead(t, st)
	_, err = up("bad.csv", hrHeader+"E7,gus@example.com,Gus,G,Eng,Dev,E99,Berlin,employee,active,2026-03-01,,\n", false)
	if err == nil || err.Error() != `bad.csv: line 2: manager_id: "E99" is neither the employee_id of a row nor of a stored person` || gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Fatalf("unknown manager: %v", err)
	}
	if auditHead(t, st) != head {
		t.Fatal("a refused delta changed something")
	}

	// The leaver guard counts a delta's leavers as a snapshot's (max_fraction 0.5 of 5 active):
	// held, and approved as the delta it is (the others stay untouched).
	many := hrHeader +
		"E1,ann@example.com,Ann,A,Eng,Lead,,Berlin,employee,terminated,2020-01-01,2026-03-01,C1\n" +
		"E2,bob@example.com,Bob,B,Sales,Rep,E1,Paris,employee,terminated,2021-01-01,2026-03-01,C2\n" +
		"E5,eva@example.com,Eva,E,Eng,Dev,E1,Berlin,employee,terminated,2022-01-01,2026-03-01,C1\n"
	held, err := up("many.csv", many, false)
	if err != nil || held.Import.Status != gatehouse.ImportHeld || !held.Import.Delta {
		t.Fatalf("held = %+v, %v", held, err)
	}
	if strings.Contains(held.Plan.HeldReason, "partial file") {
		t.Fatalf("a delta is partial by design: %q", held.Plan.HeldReason)
	}
	approved, err := svc.ApproveHRImport(ctx, service.SystemPrincipal("test"), held.Import.ID, "reorg")
	if err != nil || approved.Plan.Summary.Leavers != 3 || approved.Plan.Summary.Rows != 3 {
		t.Fatalf("approve = %+v, %v", approved, err)
	}
	if fay, _ := st.GetIdentity(ctx, "E6"); fay.Status != gatehouse.StatusActive {
		t.Fatalf("approving a delta terminated someone it does not list: %+v", fay)
	}
}

// TestImportHRLooksPartial: a snapshot that removes most of the active people says it looks
// partial, in the guard's held reason, and the guard still holds it.
func TestImportHRLooksPartial(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, _, _ := hrFixture(t)
	op := &gatehouse.Principal{Email: "ops@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}
	if _, err := svc.ImportHR(ctx, op, "hr.csv", []byte(hrCompany), false); err != nil {
		t.Fatal(err)
	}
	partial := hrHeader +
		"E1,ann@example.com,Ann,A,Eng,Lead,,Berlin,employee,active,2020-01-01,,C1\n" +
		"E6,fay@example.com,Fay,F,Sales,Rep,E1,Paris,employee,active,2026-03-01,,C2\n"
	res, err := svc.ImportHR(ctx, op, "partial.csv", []byte(partial), false)
	if err != nil {
		t.Fatal(err)
	}
	want := "it would remove 4 of the 5 current people: this looks like a partial file; " + jml.SnapshotHint
	if res.Import.Status != gatehouse.ImportHeld || !strings.Contains(res.Import.Reason, want) || !strings.HasPrefix(res.Import.Reason, "the import would terminate or suspend 4 people") {
		t.Fatalf("import = %s %q", res.Import.Status, res.Import.Reason)
	}
}

// TestExportHR: the export is the people HR owns, in the contract's format, audited with the
// count; imported back it changes nothing; an ordinary identity may not export.
func TestExportHR(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t)
	admin := service.SystemPrincipal("test")
	if _, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(hrCompany), false); err != nil {
		t.Fatal(err)
	}
	// A person a SCIM client owns is not exported (the owner, a service account, neither).
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

	user := &gatehouse.Principal{IdentityID: "x", Email: "x@example.com"}
	var buf bytes.Buffer
	if _, err := svc.ExportHR(ctx, user, &buf); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN || buf.Len() != 0 {
		t.Fatalf("ordinary identity exports: %v (%d bytes)", err, buf.Len())
	}
	auditor := &gatehouse.Principal{Email: "aud@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAuditor}}
	x, err := svc.ExportHR(ctx, auditor, &buf)
	if err != nil {
		t.Fatal(err)
	}
	// E3 has no cost_center: an empty cell, no empty attribute.
	if e3, _ := st.GetIdentity(ctx, "E3"); e3.Attributes != nil {
		t.Fatalf("E3 attributes = %#v", e3.Attributes)
	}
	if buf.String() != hrCompany {
		t.Fatalf("export =\n%s\nwant\n%s", buf.String(), hrCompany)
	}
	if x.People != 5 || len(x.Attributes) != 1 {
		t.Fatalf("export = %+v", x)
	}
	evs, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: string(gatehouse.AuditIdentitiesExport), Limit: 10})
	if err != nil || len(evs.Items) != 1 || evs.Items[0].Actor != "aud@example.com" {
		t.Fatalf("export events = %+v, %v", evs.Items, err)
	}
	var after service.HRExport
	if err := json.Unmarshal(evs.Items[0].After, &after); err != nil || after.People != 5 {
		t.Fatalf("event after = %s", evs.Items[0].After)
	}
	res, err := svc.ImportHR(ctx, admin, "export.csv", buf.Bytes(), true)
	if err != nil || len(res.Plan.Items) != 0 || res.Plan.Summary.Unchanged != 5 {
		t.Fatalf("round trip = %+v, %v", res.Plan, err)
	}
}

// pagedStore is a real store that records how identities are read: the export must page, and
// write each page before reading the next.
type pagedStore struct {
	store.Store
	calls, most int
}

func (s *pagedStore) ListIdentities(ctx context.Context, f gatehouse.IdentityFilter) (gatehouse.Page[*gatehouse.Identity], error) {
	page, err := s.Store.ListIdentities(ctx, f)
	s.calls++
	s.most = max(s.most, len(page.Items))
	return page, err
}

// firstWrite notes how many pages had been read when the first byte was written.
type firstWrite struct {
	st    *pagedStore
	at    int
	bytes int
}

func (w *firstWrite) Write(p []byte) (int, error) {
	if w.bytes == 0 {
		w.at = w.st.calls
	}
	w.bytes += len(p)
	return len(p), nil
}

// TestExportHRBounded: an export of more people than a page pages the store and streams each
// page: never everyone in one slice.
func TestExportHRBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t)
	p := service.SystemPrincipal("test")
	const n = gatehouse.MaxLimit*2 + 10
	var b strings.Builder
	b.WriteString(hrHeader)
	for i := range n {
		fmt.Fprintf(&b, "P%05d,p%05d@example.com,P,N,Sales,Rep,,Berlin,employee,active,2024-01-02,,\n", i, i)
	}
	if _, err := svc.ImportHR(ctx, p, "big.csv", []byte(b.String()), false); err != nil {
		t.Fatal(err)
	}
	ps := &pagedStore{Store: st}
	exp := service.New(ps, service.Options{})
	w := &firstWrite{st: ps}
	x, err := exp.ExportHR(ctx, p, w)
	if err != nil {
		t.Fatal(err)
	}
	pages := ps.calls / 2 // two passes
	if x.People != n || ps.most > gatehouse.MaxLimit || pages < 3 || w.at != pages+1 {
		t.Fatalf("exported %d; %d reads of at most %d identities; first write after read %d", x.People, ps.calls, ps.most, w.at)
	}
}
