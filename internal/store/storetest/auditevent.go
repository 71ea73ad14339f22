package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testAuditEventBySeq: one event by its sequence, as stored (what a signed checkpoint's check
// compares); ENOTFOUND past the end.
func testAuditEventBySeq(t *testing.T, open func(t *testing.T) Harness) {
	h := open(t)
	s := h.Store
	ctx := t.Context()
	evs := auditFixture(5, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	must(t, s.Update(ctx, func(tx store.Tx) error { return tx.AppendAudits(ctx, evs) }))
	stored := scanAll(t, s)
	for _, want := range stored {
		got, err := s.AuditEvent(ctx, want.Seq)
		must(t, err)
		equal(t, "event by seq", got, want)
	}
	if _, err := s.AuditEvent(ctx, int64(len(stored)+1)); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Fatalf("AuditEvent past the end: %v, want not_found", err)
	}
	// A range, inclusive at both ends, in order.
	var got []*gatehouse.AuditEvent
	must(t, s.ScanAuditRange(ctx, 2, 4, func(ev *gatehouse.AuditEvent) error {
		got = append(got, ev)
		return nil
	}))
	equal(t, "range 2..4", got, stored[1:4])
}
