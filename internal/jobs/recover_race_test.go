package jobs_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestRecoverLeavesJobBeingCompleted: a reconcile job drops its lease when its Work returns,
// before River's completer (asynchronous, batched) records the job completed, so for a moment
// the job is "running" with no lease although its run has finished. The periodic recovery
// must not take it for interrupted: rescued, it would run the finished reconcile again (the
// completer's update then finds it no longer running) and carry an "interrupted" error.
func TestRecoverLeavesJobBeingCompleted(t *testing.T) {
	st := leaseFixture(t, 1)[0]
	ctx := t.Context()
	h, err := jobs.New(ctx, st, &provision.Reconciler{Store: st}, jobs.Options{LeaseTTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Never started: the job row is put where a worker that just returned leaves it.
	ids, err := h.Enqueue(ctx, []string{"a"}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.(jobs.DB).DB().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1,
		attempted_at = now() - interval '1 hour' WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	started := time.Now().Add(-time.Minute).UTC()
	finished := time.Now().UTC()
	run := &gatehouse.Reconcile{SystemID: "a", Cause: "test", JobID: ids[0], Attempt: 1, StartedAt: started,
		FinishedAt: &finished, Status: gatehouse.ReconcileConverged, Findings: []gatehouse.DriftFinding{}}
	if err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateReconcile(ctx, run); err != nil {
			return err
		}
		if err := tx.UpdateReconcile(ctx, run); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Time: time.Now(), Actor: "system:test", Action: gatehouse.AuditReconcileFinish,
			ObjectType: "reconcile", ObjectID: run.ID})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.RecoverInterrupted(ctx); err != nil {
		t.Fatal(err)
	}
	j, err := h.Client().JobGet(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if j.State != rivertype.JobStateRunning || len(j.Errors) != 0 {
		t.Errorf("a job whose run finished, being completed: state %s, errors %+v; want running (its completion pending), no error", j.State, j.Errors)
	}
}
