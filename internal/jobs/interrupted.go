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

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/provision"
)

// RecoverInterrupted runs at start, before the workers: every reconcile run still recorded as
// running whose job holds no live reconcile lease (lease.go) was cut short by a process that
// stopped, so the reconciler marks it interrupted (provision.Reconciler.MarkInterrupted), and
// its system is reconciled again: by the same job, which River would otherwise keep in state
// running until its rescuer gives up on it (the job timeout plus an hour), so that `gatehouse
// reconcile --wait` following that job sees it finish; or by a new job when that one will not
// run again. The new run plans from the desired state, as any retry does, and closes the
// operations the interrupted run left pending.
//
// The runs and jobs of other replicas that are alive hold their leases and are left alone. A
// killed process's leases count as run out once its beacon is out (beacon.go) and they missed
// a renewal (renewalMissed: within about 3/8 TTL of its death; a host that finds them dark
// but not yet late looks again by itself then, keepRechecking), else a lease TTL after it
// died; when no host is running then, the leader's recover_reconciles job (every TTL)
// recovers them.
func (h *Host) RecoverInterrupted(ctx context.Context) (int, error) {
	return h.recoverInterrupted(ctx, time.Now()) // wall time: River stamps attempted_at with it
}

// recoverInterrupted recovers the reconciles without a live lease whose jobs were attempted
// before horizon: a job attempted since may not have taken its lease yet.
func (h *Host) recoverInterrupted(ctx context.Context, horizon time.Time) (int, error) {
	if h.rec == nil {
		return 0, nil // a host for other jobs only (notifications): no reconciles to recover
	}
	// The leases are read after the runs are listed (at the first question): a run is
	// recorded after its job took the lease, so a run listed alive has its lease in the list.
	var live map[string]int64
	var liveErr error
	alive := func(system string, job int64) bool {
		if live == nil && liveErr == nil {
			live, liveErr = h.liveLeases(ctx)
		}
		return liveErr == nil && job != 0 && live[system] == job
	}
	runs, at, err := h.rec.MarkInterrupted(ctx, func(run *gatehouse.Reconcile) bool {
		ok := alive(run.SystemID, run.JobID)
		return ok || liveErr != nil // unsure: leave the run as it is until the next time
	})
	if err != nil {
		return 0, err
	}
	if liveErr != nil {
		return 0, liveErr
	}

	// Make the interrupted jobs available now, as River's rescuer would much later: the running
	// jobs of the runs above, and reconcile jobs a process was running before it recorded a run
	// (it was opening the connector), attempted before the horizon and without a live lease.
	marked := map[int64]bool{}
	for _, run := range runs {
		marked[run.JobID] = true
	}
	listed := time.Now() // wall time, as River's attempted_at
	left, err := h.client.JobList(ctx, river.NewJobListParams().Kinds(ReconcileArgs{}.Kind()).
		States(rivertype.JobStateRunning).First(10000))
	if err != nil {
		return 0, fmt.Errorf("interrupted reconcile jobs: %w", err)
	}
	if live == nil {
		if live, err = h.liveLeases(ctx); err != nil {
			return 0, err
		}
	}
	jobs := map[int64]int{} // job id → its attempt
	for _, j := range left.Jobs {
		var args ReconcileArgs
		if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
			continue
		}
		before := j.AttemptedAt != nil && j.AttemptedAt.Before(horizon)
		if (marked[j.ID] || before) && live[args.SystemID] != j.ID {
			jobs[j.ID] = j.Attempt
		}
	}
	// A job whose run of this attempt finished less than a lease TTL ago is not interrupted: its
	// worker returned and dropped the lease, and River's completer (batched, asynchronous) has
	// yet to record it. Rescued, it would run the finished reconcile again. (One whose run ended
	// longer ago lost its completion with its process, and is rescued.)
	if err := h.dropFinished(ctx, jobs, marked); err != nil {
		return 0, err
	}
	if len(runs) == 0 && len(jobs) == 0 {
		return 0, nil
	}
	var rescue riverdriver.JobRescueManyParams
	// Only jobs attempted before the listing: one fetched again since is not the job above.
	// (Not horizon: the jobs of the marked runs may have been attempted after it, and the
	// jobs chosen above are already before horizon or marked.)
	rescue.StuckHorizon = listed
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

// RecoverArgs is the recover_reconciles job: the periodic RecoverInterrupted of the reconciles
// that processes which died left behind, once their leases ran out. The leader enqueues it every
// lease TTL.
type RecoverArgs struct{}

// Kind is the River job kind.
func (RecoverArgs) Kind() string { return "recover_reconciles" }

type recoverWorker struct {
	river.WorkerDefaults[RecoverArgs]
	h *Host
}

func (w *recoverWorker) Work(ctx context.Context, _ *river.Job[RecoverArgs]) error {
	// A job attempted a TTL ago without a lease never took one: its process died first.
	n, err := w.h.recoverInterrupted(ctx, time.Now().Add(-w.h.opts.LeaseTTL))
	if err != nil {
		w.h.log.Warn("recover interrupted reconciles", "err", err)
		return err
	}
	if n > 0 {
		w.h.log.Warn("reconciles of a stopped process recovered", "runs", n)
	}
	return nil
}

// dropFinished removes from jobs (id → attempt) those not in marked whose run of that attempt
// ended within the last lease TTL.
func (h *Host) dropFinished(ctx context.Context, jobs map[int64]int, marked map[int64]bool) error {
	recent := time.Now().Add(-h.opts.LeaseTTL)
	var ids []int64
	for id := range jobs {
		if !marked[id] {
			ids = append(ids, id)
		}
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 100)]
		ids = ids[len(chunk):]
		f := gatehouse.ReconcileFilter{JobIDs: chunk, Limit: gatehouse.MaxLimit}
		for {
			page, err := h.st.ListReconciles(ctx, f)
			if err != nil {
				return fmt.Errorf("runs of interrupted reconcile jobs: %w", err)
			}
			for _, r := range page.Items {
				if r.Status != gatehouse.ReconcileRunning && r.FinishedAt != nil && r.FinishedAt.After(recent) &&
					jobs[r.JobID] == r.Attempt && !marked[r.JobID] {
					delete(jobs, r.JobID)
				}
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
	}
	return nil
}
