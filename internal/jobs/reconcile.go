package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ReconcileArgs is the reconcile_system job: reconcile one system. It carries no operations:
// the job plans from the desired state when it runs, so a retry after an outage or a crash
// plans again from scratch and nothing is lost.
type ReconcileArgs struct {
	SystemID string    `json:"system_id"`
	Cause    string    `json:"cause"`
	Since    time.Time `json:"since"` // when the desired state changed, for KPIs
	// Identities: a targeted run of the people a change touched (RunOptions.Identities);
	// empty for a full run.
	Identities []string `json:"identities,omitempty"`
}

// Kind is the River job kind.
func (ReconcileArgs) Kind() string { return "reconcile_system" }

// ReconcileAllArgs is the scheduled job that enqueues a reconcile of every system.
type ReconcileAllArgs struct {
	Cause string `json:"cause"`
	// Start marks the scheduled run at start: it skips the systems a full run reconciled, and
	// converged, less than an interval ago (Due), so that restarts do not each read every
	// system again, while a process stopped longer than an interval still reconciles at once.
	Start bool `json:"start,omitempty"`
}

// Kind is the River job kind.
func (ReconcileAllArgs) Kind() string { return "reconcile_all" }

// Enqueue asks for a reconcile of each system, in the order given (callers order critical
// systems first); deprovision gives the jobs the highest priority. It returns the job ids,
// one a system: the job that will do the work, which may be a pending job merged into
// (EnqueueFor).
func (h *Host) Enqueue(ctx context.Context, systems []string, cause string, deprovision bool) ([]int64, error) {
	return h.EnqueueFor(ctx, systems, nil, cause, deprovision)
}

// EnqueueFor is Enqueue of targeted runs: each system is reconciled for these identities only
// (nil: a full run, as Enqueue). A system keeps at most one pending reconcile (coalesce.go):
// when one waits to run, the request merges into it (the union of the people, or a full run
// when either is full or the union is more than provision.MaxTargeted; the higher priority;
// the earlier change) and its id is returned, so that a caller following it follows the run
// that does this work. A running reconcile is never merged into: the request queues a new
// job, which runs after it (concurrent runs of one system are serialized by the lease), so
// that changes committed after a run started are not left to it.
func (h *Host) EnqueueFor(ctx context.Context, systems, identities []string, cause string, deprovision bool) ([]int64, error) {
	var ids []int64
	err := h.st.Update(ctx, func(tx store.Tx) error {
		var err error
		ids, err = h.enqueue(ctx, tx.SQL(), systems, identities, cause, deprovision)
		return err
	})
	return ids, err
}

// enqueue merges a reconcile of each system into its pending job or inserts one, in tx: the
// look for a pending job and the insert must be one transaction, or two writers could each
// insert one.
func (h *Host) enqueue(ctx context.Context, tx *sql.Tx, systems, identities []string, cause string, deprovision bool) ([]int64, error) {
	identities = provision.TargetIdentities(identities)
	prio := PriorityChange
	if deprovision {
		prio = PriorityDeprovision
	}
	if cause == provision.CauseSchedule && !deprovision {
		// A change that names no grant (a person put on leave or terminated by hand, holding
		// nothing Gatehouse granted) has no cause of its own, but taking access away still
		// goes first, not behind every scheduled run.
		prio = PrioritySchedule
	}
	if err := h.lockSystems(ctx, tx, systems); err != nil {
		return nil, err
	}
	since := h.now()
	ids := make([]int64, 0, len(systems))
	for _, s := range systems {
		args := ReconcileArgs{SystemID: s, Cause: cause, Since: since, Identities: identities}
		id, merged, err := h.mergePending(ctx, tx, args, prio)
		if err != nil {
			return ids, err
		}
		if !merged {
			res, err := h.client.InsertTx(ctx, tx, args, &river.InsertOpts{Priority: prio, MaxAttempts: h.opts.MaxAttempts})
			if err != nil {
				return ids, fmt.Errorf("enqueue reconcile of %s: %w", s, err)
			}
			id = res.Job.ID
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// EnqueueAll asks for a reconcile of every system, critical ones first.
func (h *Host) EnqueueAll(ctx context.Context, cause string, deprovision bool) ([]int64, error) {
	return h.EnqueueAllFor(ctx, nil, cause, deprovision)
}

// EnqueueAllFor asks for a targeted reconcile of every system for these identities (nil: full).
func (h *Host) EnqueueAllFor(ctx context.Context, identities []string, cause string, deprovision bool) ([]int64, error) {
	ids, err := h.allSystems(ctx, h.st)
	if err != nil {
		return nil, err
	}
	return h.EnqueueFor(ctx, ids, identities, cause, deprovision)
}

// allSystems lists every system this binary can reconcile, critical ones first.
func (h *Host) allSystems(ctx context.Context, rd store.Reader) ([]string, error) {
	systems, err := rd.ListSystems(ctx)
	if err != nil {
		return nil, fmt.Errorf("enqueue reconciles: %w", err)
	}
	provision.OrderSystems(systems)
	ids := make([]string, 0, len(systems))
	for _, s := range systems {
		if h.opts.Supported != nil && !h.opts.Supported(s.Connector.Type) {
			h.log.Debug("not reconciled: no connector of this type", "system", s.ID, "type", s.Connector.Type)
			continue
		}
		ids = append(ids, s.ID)
	}
	return ids, nil
}

// ReconcileTx inserts the reconciles a change asks for (t) in the change's own transaction:
// they are committed with it, or not at all, so a process that dies right after the commit
// loses none; the next start's workers run them. Every system is read in tx, so that the
// systems a catalog apply adds in it are reconciled too. On SQLite the insert must go through
// tx: the store and the queue share the one write connection, which tx holds.
func (h *Host) ReconcileTx(ctx context.Context, tx store.Tx, t provision.Trigger) error {
	if t.None() {
		return nil
	}
	systems := t.Systems
	if t.All {
		var err error
		if systems, err = h.allSystems(ctx, tx); err != nil {
			return err
		}
	}
	_, err := h.enqueue(ctx, tx.SQL(), systems, t.Identities, t.Cause, t.Deprovision)
	return err
}

// Jobs returns the state of reconcile jobs.
func (h *Host) Jobs(ctx context.Context, ids []int64) ([]provision.JobState, error) {
	out := make([]provision.JobState, 0, len(ids))
	for _, id := range ids {
		j, err := h.client.JobGet(ctx, id)
		if errors.Is(err, river.ErrNotFound) {
			// Cleaned up after its retention period: it finished long ago.
			out = append(out, provision.JobState{ID: id, State: "completed", Done: true})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("job %d: %w", id, err)
		}
		if j.Kind != (ReconcileArgs{}).Kind() && j.Kind != (ReconcileAllArgs{}).Kind() {
			// The queue holds other work too (notifications, whose errors name mail hosts and
			// addresses): a reader following reconciles sees reconciles only.
			return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "job %d: no such reconcile job", id)
		}
		if j, err = h.follow(ctx, j); err != nil {
			return nil, fmt.Errorf("job %d: %w", id, err)
		}
		st := provision.JobState{ID: id, State: string(j.State), Attempt: j.Attempt}
		if j.ID != id {
			st.HandedOverTo = j.ID
		}
		switch j.State {
		case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
			st.Done = true
		}
		if n := len(j.Errors); n > 0 {
			st.Error = j.Errors[n-1].Error
		}
		var args ReconcileArgs
		if err := json.Unmarshal(j.EncodedArgs, &args); err == nil {
			st.SystemID = args.SystemID
		}
		out = append(out, st)
	}
	return out, nil
}

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	h *Host
}

func (w *reconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileArgs]) error {
	h, sys := w.h, job.Args.SystemID
	runCtx, release, err := h.takeLease(ctx, sys, job.ID, job.Attempt)
	if errors.Is(err, errLeased) {
		// Another reconcile of this system is running, here or in another replica: run after
		// it, so this one sees (and applies) whatever changed since it started; as part of the
		// system's pending job when there is one (coalesce.go).
		into, err := h.handOver(ctx, job.JobRow.ID, job.Args, job.Priority)
		if err != nil || into == 0 {
			return river.JobSnooze(leaseSnooze)
		}
		h.log.Debug("reconcile handed over to the pending one", "system", sys, "job", job.ID, "into", into)
		return river.RecordOutput(ctx, handedOver{Into: into})
	}
	if err != nil {
		return err
	}
	defer release()
	run, err := h.rec.Reconcile(runCtx, sys, provision.RunOptions{Cause: job.Args.Cause, Since: job.Args.Since, JobID: job.ID,
		Attempt: job.Attempt, Identities: job.Args.Identities})
	if err == nil {
		h.log.Info("reconciled", "system", sys, "cause", run.Cause, "planned", run.Planned, "applied", run.Applied,
			"findings", len(run.Findings))
		return nil
	}
	h.log.Warn("reconcile failed", "system", sys, "attempt", job.Attempt, "err", err)
	if connector.IsPermanent(err) {
		// Retrying cannot help; the next change or the schedule plans again.
		return river.JobCancel(err)
	}
	return err
}

type reconcileAllWorker struct {
	river.WorkerDefaults[ReconcileAllArgs]
	h *Host
}

func (w *reconcileAllWorker) Work(ctx context.Context, job *river.Job[ReconcileAllArgs]) error {
	h := w.h
	if !job.Args.Start || h.opts.Interval <= 0 {
		_, err := h.EnqueueAll(ctx, job.Args.Cause, false)
		return err
	}
	systems, err := h.st.ListSystems(ctx)
	if err != nil {
		return fmt.Errorf("scheduled reconcile at start: %w", err)
	}
	provision.OrderSystems(systems)
	due := make([]string, 0, len(systems))
	for _, s := range systems {
		if h.opts.Supported != nil && !h.opts.Supported(s.Connector.Type) {
			continue
		}
		ok, err := h.Due(ctx, s.ID)
		if err != nil {
			return err
		}
		if ok {
			due = append(due, s.ID)
		} else {
			h.log.Debug("scheduled reconcile at start skipped: reconciled less than an interval ago", "system", s.ID)
		}
	}
	_, err = h.EnqueueFor(ctx, due, nil, job.Args.Cause, false)
	return err
}

// Due says whether the schedule is due for a system: its newest finished full run did not
// converge or started an interval ago or more. Targeted runs left everybody else unchecked, and
// a running or interrupted one read nothing to the end: neither counts.
func (h *Host) Due(ctx context.Context, system string) (bool, error) {
	since := h.now().Add(-h.opts.Interval)
	for cursor := ""; ; {
		p, err := h.st.ListReconciles(ctx, gatehouse.ReconcileFilter{SystemID: system, Limit: 100, Cursor: cursor})
		if err != nil {
			return false, fmt.Errorf("last reconcile of %s: %w", system, err)
		}
		for _, run := range p.Items { // newest first
			if run.StartedAt.Before(since) {
				return true, nil
			}
			if run.FinishedAt == nil || run.Status == gatehouse.ReconcileRunning ||
				run.Status == gatehouse.ReconcileInterrupted || strings.Contains(run.Cause, provision.TargetedMark) {
				continue
			}
			return run.Status != gatehouse.ReconcileConverged, nil
		}
		if cursor = p.NextCursor; cursor == "" {
			return true, nil
		}
	}
}
