package provision_test

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestMarkInterruptedLeavesFinishedRun: the leader's periodic recovery (jobs.recoverInterrupted)
// lists the running runs, then reads the leases. A run of a live replica that finishes and
// drops its lease in between is not alive by its lease any more, but it is not interrupted
// either: it finished. MarkInterrupted must not overwrite its recorded end (status, counts)
// with the stale "running" row it listed.
func TestMarkInterruptedLeavesFinishedRun(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	ctx := t.Context()
	_, rec, _ := fakeFixture(t, st)
	run := &gatehouse.Reconcile{SystemID: "app", Cause: "test", JobID: 7, Attempt: 1, StartedAt: time.Now().UTC(),
		Status: gatehouse.ReconcileRunning, Findings: []gatehouse.DriftFinding{}}
	audit := func(tx store.Tx, a gatehouse.AuditAction, r *gatehouse.Reconcile) error {
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Time: time.Now(), Actor: "system:test", Action: a, ObjectType: "reconcile", ObjectID: r.ID})
	}
	if err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateReconcile(ctx, run); err != nil {
			return err
		}
		return audit(tx, gatehouse.AuditReconcileStart, run)
	}); err != nil {
		t.Fatal(err)
	}
	// The run finishes (on another replica) after it was listed, before its lease is read.
	alive := func(r *gatehouse.Reconcile) bool {
		done := *r
		at := time.Now().UTC()
		done.Status, done.FinishedAt, done.Planned, done.Applied = gatehouse.ReconcileConverged, &at, 3, 3
		if err := st.Update(ctx, func(tx store.Tx) error {
			if err := tx.UpdateReconcile(ctx, &done); err != nil {
				return err
			}
			return audit(tx, gatehouse.AuditReconcileFinish, &done)
		}); err != nil {
			t.Error(err)
		}
		return false // its lease is gone: it was released
	}
	marked, _, err := rec.MarkInterrupted(ctx, alive)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.GetReconcile(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != gatehouse.ReconcileConverged || got.Applied != 3 || len(marked) != 0 {
		t.Errorf("a run that finished meanwhile: status %s, applied %d, %d marked; want converged, 3, none (it finished, it was not interrupted)",
			got.Status, got.Applied, len(marked))
	}
}
