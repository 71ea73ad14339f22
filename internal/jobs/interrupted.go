package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/internal/provision"
)

// RecoverInterrupted runs at start, before the workers: every reconcile run still recorded as
// running was cut short by a process that stopped, so the reconciler marks it interrupted
// (provision.Reconciler.MarkInterrupted), and its system is reconciled again: by the same job,
// which River would otherwise keep in state running until its rescuer gives up on it (the job
// timeout plus an hour), so that `gatehouse reconcile --wait` following that job sees it finish;
// or by a new job when that one will not run again. The new run plans from the desired state,
// as any retry does, and closes the operations the interrupted run left pending.
//
// With several replicas on one PostgreSQL database, a replica that starts also marks the runs
// other replicas are running at that moment. Those runs overwrite the mark when they finish,
// and the extra reconcile is idempotent, as any overlap of two replicas is.
func (h *Host) RecoverInterrupted(ctx context.Context) (int, error) {
	if h.rec == nil {
		return 0, nil // a host for other jobs only (notifications): no reconciles to recover
	}
	start := time.Now() // wall time: River stamps attempted_at with it
	runs, at, err := h.rec.MarkInterrupted(ctx)
	if err != nil {
		return 0, err
	}

	// Make the interrupted jobs available now, as River's rescuer would much later: the jobs of
	// the runs above, and reconcile jobs the process was running before it recorded a run (it
	// was opening the connector). Only jobs attempted before this process started are touched
	// (the stuck horizon).
	jobs := map[int64]int{} // job id → its attempt
	for _, run := range runs {
		if run.JobID != 0 {
			jobs[run.JobID] = run.Attempt
		}
	}
	left, err := h.client.JobList(ctx, river.NewJobListParams().Kinds(ReconcileArgs{}.Kind()).
		States(rivertype.JobStateRunning).First(10000))
	if err != nil {
		return 0, fmt.Errorf("interrupted reconcile jobs: %w", err)
	}
	for _, j := range left.Jobs {
		if j.AttemptedAt != nil && j.AttemptedAt.Before(start) {
			jobs[j.ID] = j.Attempt
		}
	}
	var rescue riverdriver.JobRescueManyParams
	rescue.StuckHorizon = start
	for id, attempt := range jobs {
		msg, _ := json.Marshal(rivertype.AttemptError{At: at, Attempt: attempt, Error: provision.InterruptedError})
		rescue.ID = append(rescue.ID, id)
		rescue.Error = append(rescue.Error, msg)
		rescue.FinalizedAt = append(rescue.FinalizedAt, nil)
		rescue.ScheduledAt = append(rescue.ScheduledAt, at)
		rescue.State = append(rescue.State, string(rivertype.JobStateAvailable))
	}
	if len(rescue.ID) > 0 {
		if _, err := h.driver.GetExecutor().JobRescueMany(ctx, &rescue); err != nil {
			return 0, fmt.Errorf("requeue interrupted reconcile jobs: %w", err)
		}
		h.log.Warn("reconcile jobs interrupted by a stop run again", "jobs", len(rescue.ID))
	}
	again := map[string]bool{} // systems whose job will not run again: a new job each
	for _, run := range runs {
		h.log.Warn("reconcile interrupted by a stop; reconciling again", "system", run.SystemID, "run", run.ID, "job", run.JobID)
		if run.JobID == 0 {
			again[run.SystemID] = true
			continue
		}
		j, err := h.client.JobGet(ctx, run.JobID)
		switch {
		case errors.Is(err, river.ErrNotFound):
			again[run.SystemID] = true
		case err != nil:
			return 0, fmt.Errorf("interrupted reconcile job %d: %w", run.JobID, err)
		case j.State == rivertype.JobStateCompleted || j.State == rivertype.JobStateCancelled || j.State == rivertype.JobStateDiscarded:
			again[run.SystemID] = true
		}
	}
	for sys := range again {
		if _, err := h.EnqueueFor(ctx, []string{sys}, nil, "interrupted", false); err != nil {
			return 0, err
		}
	}
	return len(runs), nil
}
