package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func testHRImports(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	applied := &gatehouse.HRImport{CreatedBy: "ops@example.com", FileName: "hr.csv", SHA256: "abc", RowCount: 3,
		Status: gatehouse.ImportApplied, Summary: json.RawMessage(`{"joiners":3}`)}
	held := &gatehouse.HRImport{CreatedBy: "ops@example.com", FileName: "hr2.csv", SHA256: "def", RowCount: 2,
		Status: gatehouse.ImportHeld, Reason: "too many leavers", Format: "json", Content: `[{"employee_id":"E1"}]`, Delta: true}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.CreateHRImport(ctx, applied), tx.CreateHRImport(ctx, held))
	})
	wantUUIDv7(t, "HR import", applied.ID)
	wantStored(t, "CreatedAt", applied.CreatedAt)
	if applied.Format != "csv" {
		t.Fatalf("default format = %q", applied.Format)
	}

	got := mustGet[*gatehouse.HRImport](t)(s.GetHRImport(ctx, held.ID))
	equal(t, "GetHRImport", got, held)
	_, err := s.GetHRImport(ctx, "nope")
	wantError(t, err, gatehouse.ENOTFOUND, `HR import "nope" not found`)

	// Lists are newest first, without content, and page.
	p1, err := s.ListHRImports(ctx, gatehouse.HRImportFilter{Limit: 1})
	must(t, err)
	if len(p1.Items) != 1 || p1.Items[0].ID != held.ID || p1.Items[0].Content != "" || p1.NextCursor == "" {
		t.Fatalf("page 1 = %+v", p1)
	}
	p2, err := s.ListHRImports(ctx, gatehouse.HRImportFilter{Limit: 1, Cursor: p1.NextCursor})
	must(t, err)
	if len(p2.Items) != 1 || p2.Items[0].ID != applied.ID || p2.NextCursor != "" {
		t.Fatalf("page 2 = %+v", p2)
	}
	equal(t, "listed import", p2.Items[0], applied)
	hp, err := s.ListHRImports(ctx, gatehouse.HRImportFilter{Status: gatehouse.ImportHeld})
	must(t, err)
	if len(hp.Items) != 1 || hp.Items[0].ID != held.ID {
		t.Fatalf("held = %+v", hp.Items)
	}

	// A decision updates status, reason, summary and content.
	at := time.Date(2031, 2, 3, 4, 5, 6, 789_123_456, time.UTC)
	held.Status, held.Reason, held.DecidedBy, held.DecidedAt = gatehouse.ImportRejected, "wrong file", "admin@example.com", &at
	held.Content, held.Summary = "", json.RawMessage(`{"leavers":40}`)
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateHRImport(ctx, held) })
	if !held.DecidedAt.Equal(at.Truncate(time.Microsecond)) {
		t.Fatalf("DecidedAt = %v", held.DecidedAt)
	}
	equal(t, "updated import", mustGet[*gatehouse.HRImport](t)(s.GetHRImport(ctx, held.ID)), held)

	bad := &gatehouse.HRImport{ID: "nope", Status: gatehouse.ImportApplied}
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateHRImport(ctx, bad) })
	wantCode(t, err, gatehouse.ENOTFOUND)
	bad.Status = "dry-run"
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateHRImport(ctx, bad) })
	wantCode(t, err, gatehouse.EINVALID)
}
