package jobs

// Coalescing reconciles: at most one pending reconcile_system job per system.
//
// Every change of desired state asks for a reconcile of the systems it touches, and a run
// plans from the desired state as it is when it runs, not from the change. So a change that
// finds its system's reconcile still waiting adds itself to that job instead of queueing one
// more: the waiting job's run will see this change too. Without it, a burst of grant writes
// queued one job per write (thousands of full reads of one directory, hours of work) behind
// which every later change, and every foreground read of the database, waited.
//
// A job is pending while River has not started it: available, scheduled (snoozed behind a
// running reconcile of its system, lease.go) or retryable (waiting out a backoff). A running
// job is never merged into: it may have read the state the change is about before the change
// committed, so the change queues a new job, which runs after it (the lease serializes them).
// A job River started that finds its system's lease held (another run is going on) would
// snooze and come back as a second pending job; when a pending one exists it hands its work
// over to it instead and completes, recording the job it handed over to (handedOver), which
// Jobs follows: a caller following it follows the run that does its work. When none waits it
// snoozes (for leaseSnooze), and meanwhile a change may queue one: for that second two wait,
// at most one more a worker that found the system busy, until one of them hands over.
//
// River owns the river_job table; the merge touches only the columns River reads when it
// fetches a job (args, priority, max_attempts, state and scheduled_at), in the writer's
// transaction, so a change's reconcile is still committed with it, or not at all.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// coalescedMark follows the cause of a reconcile job that later changes merged into: the run
// is for the first change's cause and more.
const coalescedMark = " (and later changes)"

// unstartedStates are the River states of a job that has not started.
const unstartedStates = `('available', 'scheduled', 'retryable')`

// coalesceSQL are one engine's statements: lock serializes the writers of one system's jobs
// until commit ($1 the system), find reads the oldest pending reconcile of a system (id, args
// as JSON text), merge rewrites a pending job ($1 id, $2 args as JSON text, $3 priority,
// $4 max attempts) and affects no row once River took it.
type coalesceSQL struct{ lock, find, merge string }

var coalesceQueries = map[string]coalesceSQL{
	// Two writers' transactions both finding no pending job would both insert one: the lock,
	// taken before the look, makes the second wait for the first's commit and then (READ
	// COMMITTED) see its job. FOR UPDATE keeps River's fetcher (SKIP LOCKED) off the row until
	// the writer commits; a fetcher that locked it first makes find skip it once it commits
	// it as running. Keyed by schema too: test schemas share one database.
	"postgres": {
		lock: `SELECT pg_advisory_xact_lock(hashtextextended('gatehouse.reconcile.' || current_schema() || '.' || $1, 0))`,
		find: `SELECT id, args::text FROM river_job WHERE kind = 'reconcile_system' AND state IN ` + unstartedStates +
			` AND args->>'system_id' = $1 ORDER BY id LIMIT 1 FOR UPDATE`,
		merge: `UPDATE river_job SET args = $2::jsonb, priority = LEAST(priority, $3),
			max_attempts = GREATEST(max_attempts, attempt + $4),
			scheduled_at = CASE WHEN state = 'retryable' THEN LEAST(scheduled_at, now()) ELSE scheduled_at END,
			state = CASE WHEN state = 'retryable' THEN 'available'::river_job_state ELSE state END
			WHERE id = $1 AND state IN ` + unstartedStates,
	},
	// SQLite has one writer, whose transaction the caller holds (BEGIN IMMEDIATE): nobody,
	// River's fetcher included, changes river_job between find and merge. River keeps args as
	// JSONB blobs there; times as text in its own format, which datetime('now', 'subsec') is.
	"sqlite": {
		find: `SELECT id, json(args) FROM river_job WHERE kind = 'reconcile_system' AND state IN ` + unstartedStates +
			` AND json_extract(args, '$.system_id') = $1 ORDER BY id LIMIT 1`,
		merge: `UPDATE river_job SET args = jsonb($2), priority = min(priority, $3),
			max_attempts = max(max_attempts, attempt + $4),
			scheduled_at = CASE WHEN state = 'retryable' THEN min(scheduled_at, datetime('now', 'subsec')) ELSE scheduled_at END,
			state = CASE WHEN state = 'retryable' THEN 'available' ELSE state END
			WHERE id = $1 AND state IN ` + unstartedStates,
	},
}

// lockSystems takes, in tx, the locks that keep two writers from both queueing a pending
// reconcile of one of these systems (PostgreSQL; SQLite has one writer). Sorted, so that two
// transactions locking overlapping systems cannot deadlock.
func (h *Host) lockSystems(ctx context.Context, tx *sql.Tx, systems []string) error {
	q := coalesceQueries[h.st.Engine()].lock
	if q == "" {
		return nil
	}
	sorted := slices.Clone(systems)
	slices.Sort(sorted)
	for _, s := range slices.Compact(sorted) {
		if _, err := tx.ExecContext(ctx, q, s); err != nil {
			return fmt.Errorf("lock the reconcile queue of %s: %w", s, err)
		}
	}
	return nil
}

// mergePending merges args into the system's pending reconcile job, in tx, and returns its
// id; ok is false when there is none (or River took it meanwhile): the caller inserts a job.
// A merged retryable job runs now rather than after its backoff, with a new job's attempts
// left: the backoff is for retrying the same work, and this is new work, which must not wait
// up to RetryMax behind a system whose last run failed.
func (h *Host) mergePending(ctx context.Context, tx *sql.Tx, args ReconcileArgs, prio int) (id int64, ok bool, err error) {
	q, known := coalesceQueries[h.st.Engine()]
	if !known {
		return 0, false, nil
	}
	var raw string
	err = tx.QueryRowContext(ctx, q.find, args.SystemID).Scan(&id, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("pending reconcile of %s: %w", args.SystemID, err)
	}
	var cur ReconcileArgs
	if err := json.Unmarshal([]byte(raw), &cur); err != nil {
		// Not ours to rewrite (a future version's arguments?): leave it and queue another.
		h.log.Warn("pending reconcile job not merged into: unreadable arguments", "job", id, "err", err)
		return 0, false, nil
	}
	merged, err := json.Marshal(coalesce(cur, args))
	if err != nil {
		return 0, false, fmt.Errorf("merge reconcile of %s: %w", args.SystemID, err)
	}
	res, err := tx.ExecContext(ctx, q.merge, id, string(merged), prio, h.opts.MaxAttempts)
	if err != nil {
		return 0, false, fmt.Errorf("merge reconcile of %s into job %d: %w", args.SystemID, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, fmt.Errorf("merge reconcile of %s into job %d: %w", args.SystemID, id, err)
	}
	return id, n == 1, nil
}

// coalesce is the reconcile that does the work of both pending (cur) and add: the union of
// the people of two targeted runs (a full run beyond provision.MaxTargeted), a full run when
// either is, since the earlier change (the run's latency counts from it), and cur's cause
// marked when add's differs.
func coalesce(cur, add ReconcileArgs) ReconcileArgs {
	out := cur
	if out.Since.IsZero() || (!add.Since.IsZero() && add.Since.Before(out.Since)) {
		out.Since = add.Since
	}
	out.Identities = nil
	if len(cur.Identities) > 0 && len(add.Identities) > 0 {
		out.Identities = provision.TargetIdentities(append(slices.Clone(cur.Identities), add.Identities...))
	}
	if cur.Cause != add.Cause && !strings.HasSuffix(cur.Cause, coalescedMark) {
		out.Cause = cur.Cause + coalescedMark
	}
	return out
}

// handedOver is the output of a reconcile job that handed its work over to the pending job Into.
type handedOver struct {
	Into int64 `json:"handed_over_to"`
}

// handOver merges the work of job id (running, its system's lease held by another run) into
// its system's pending job and returns that job's id, or 0 when there is none.
func (h *Host) handOver(ctx context.Context, id int64, args ReconcileArgs, prio int) (int64, error) {
	var into int64
	err := h.st.Update(ctx, func(tx store.Tx) error {
		if err := h.lockSystems(ctx, tx.SQL(), []string{args.SystemID}); err != nil {
			return err
		}
		got, ok, err := h.mergePending(ctx, tx.SQL(), args, prio)
		if ok && got != id {
			into = got
		}
		return err
	})
	if err != nil {
		h.log.Warn("hand a reconcile over to the pending one", "system", args.SystemID, "job", id, "err", err)
		return 0, err
	}
	return into, nil
}

// follow returns the job that does j's work: j, or the job j handed its work over to (and so
// on: that one may have handed over too).
func (h *Host) follow(ctx context.Context, j *rivertype.JobRow) (*rivertype.JobRow, error) {
	for range 1000 {
		if j.State != rivertype.JobStateCompleted || j.Output() == nil {
			return j, nil
		}
		var out handedOver
		if err := json.Unmarshal(j.Output(), &out); err != nil || out.Into == 0 {
			return j, nil
		}
		next, err := h.client.JobGet(ctx, out.Into)
		if errors.Is(err, river.ErrNotFound) {
			return j, nil // cleaned up after its retention period: it finished long ago
		}
		if err != nil {
			return nil, fmt.Errorf("job %d it was handed over to: %w", out.Into, err)
		}
		j = next
	}
	return j, nil
}
