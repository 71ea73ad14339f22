package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testHRImportChanges: an applied import's evidence rows are stored in batches larger than one
// INSERT, read back as written (lists as JSON columns), paged in plan order, filtered by class
// and lateness, and kept apart per import.
func testHRImportChanges(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	imp := &gatehouse.HRImport{CreatedBy: "ops@example.com", FileName: "hr.csv", SHA256: "abc", RowCount: 450, Status: gatehouse.ImportApplied}
	other := &gatehouse.HRImport{CreatedBy: "ops@example.com", FileName: "hr2.csv", SHA256: "def", RowCount: 1, Status: gatehouse.ImportApplied}
	const n = 450 // more than one INSERT's batch
	var rows []*gatehouse.HRImportChange
	for i := 1; i <= n; i++ {
		c := &gatehouse.HRImportChange{ImportID: imp.ID, Seq: i, Class: "joiner", EmployeeID: fmt.Sprintf("E%04d", i),
			IdentityID: fmt.Sprintf("id-%d", i), Name: fmt.Sprintf("Sam Taylor %d", i), Email: fmt.Sprintf("p%d@example.com", i),
			Gained: []gatehouse.HRGrantChange{{EntitlementID: "github/infra-team", Role: "eng", Source: gatehouse.SourceBirthright, GrantID: fmt.Sprintf("g-%d", i)}}}
		switch {
		case i == 1:
			c.Class, c.Reason, c.LateDays, c.Late = "leaver", "terminated by HR", 3, "terminated 3 days after end date"
			c.Gained = nil
			c.Changes = []gatehouse.HRFieldChange{{Field: "status", From: "active", To: "terminated"}}
			c.Lost = []gatehouse.HRGrantChange{{EntitlementID: "aws/billing-read", Source: gatehouse.SourceRequest, GrantID: "g-x"}}
		case i == 2:
			c.Class, c.Reason = "leaver", "terminated by HR"
			c.Gained = nil
		case i <= 5:
			c.Class = "mover"
			c.Changes = []gatehouse.HRFieldChange{{Field: "department", From: "Finance", To: "Engineering"}, {Field: "manager_id", From: "", To: "E0001"}}
		}
		rows = append(rows, c)
	}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := joinErr(tx.CreateHRImport(ctx, imp), tx.CreateHRImport(ctx, other)); err != nil {
			return err
		}
		for _, c := range rows {
			c.ImportID = imp.ID
		}
		// Two calls, as the service writes batches while it applies.
		if err := tx.CreateHRImportChanges(ctx, rows[:300]); err != nil {
			return err
		}
		if err := tx.CreateHRImportChanges(ctx, rows[300:]); err != nil {
			return err
		}
		return tx.CreateHRImportChanges(ctx, []*gatehouse.HRImportChange{{ImportID: other.ID, Seq: 1, Class: "updated", EmployeeID: "E9"}})
	})

	// Every row reads back as written, a page at a time, in plan order.
	var got []*gatehouse.HRImportChange
	f := gatehouse.HRImportChangeFilter{ImportID: imp.ID, Limit: 100}
	pages := 0
	for {
		p, err := s.ListHRImportChanges(ctx, f)
		must(t, err)
		got = append(got, p.Items...)
		pages++
		if p.NextCursor == "" {
			break
		}
		f.Cursor = p.NextCursor
	}
	if pages != 5 || len(got) != n {
		t.Fatalf("read %d rows in %d pages, want %d in 5", len(got), pages, n)
	}
	for i := range got {
		equal(t, fmt.Sprintf("change %d", i+1), got[i], rows[i])
	}

	// Filters: class, late leavers.
	movers, err := s.ListHRImportChanges(ctx, gatehouse.HRImportChangeFilter{ImportID: imp.ID, Class: "mover"})
	must(t, err)
	if len(movers.Items) != 3 || movers.Items[0].Seq != 3 || movers.Items[0].Changes[0].To != "Engineering" {
		t.Fatalf("movers = %+v", movers.Items)
	}
	late, err := s.ListHRImportChanges(ctx, gatehouse.HRImportChangeFilter{ImportID: imp.ID, Late: true})
	must(t, err)
	if len(late.Items) != 1 || late.Items[0].EmployeeID != "E0001" || late.Items[0].Late != "terminated 3 days after end date" {
		t.Fatalf("late = %+v", late.Items)
	}
	// Another import's rows are its own.
	o, err := s.ListHRImportChanges(ctx, gatehouse.HRImportChangeFilter{ImportID: other.ID})
	must(t, err)
	if len(o.Items) != 1 || o.Items[0].EmployeeID != "E9" || o.Items[0].Changes != nil || o.Items[0].Gained != nil {
		t.Fatalf("other import = %+v", o.Items)
	}
	none, err := s.ListHRImportChanges(ctx, gatehouse.HRImportChangeFilter{ImportID: "nope"})
	must(t, err)
	if len(none.Items) != 0 || none.NextCursor != "" {
		t.Fatalf("unknown import = %+v", none)
	}

	// Bad input: no import id; a cursor of another list; a row of an import that does not
	// exist; a seq stored twice.
	_, err = s.ListHRImportChanges(ctx, gatehouse.HRImportChangeFilter{})
	wantCode(t, err, gatehouse.EINVALID)
	_, err = s.ListHRImportChanges(ctx, gatehouse.HRImportChangeFilter{ImportID: imp.ID, Cursor: "bm9wZQ"})
	wantCode(t, err, gatehouse.EINVALID)
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateHRImportChanges(ctx, []*gatehouse.HRImportChange{{ImportID: "nope", Seq: 1, Class: "joiner", EmployeeID: "E1"}})
	})
	wantCode(t, err, gatehouse.ENOTFOUND)
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateHRImportChanges(ctx, []*gatehouse.HRImportChange{{ImportID: imp.ID, Seq: 7, Class: "joiner", EmployeeID: "E1"}})
	})
	wantCode(t, err, gatehouse.ECONFLICT)
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateHRImportChanges(ctx, []*gatehouse.HRImportChange{{ImportID: imp.ID, Class: "joiner", EmployeeID: "E1"}})
	})
	wantCode(t, err, gatehouse.EINVALID)
	// Nothing of a refused batch is kept.
	after, err := s.ListHRImportChanges(ctx, gatehouse.HRImportChangeFilter{ImportID: imp.ID, Limit: gatehouse.MaxLimit})
	must(t, err)
	if len(after.Items) != n {
		t.Fatalf("after refused batches: %d rows, want %d", len(after.Items), n)
	}
}
