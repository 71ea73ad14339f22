package jobs

// Expiry of time-bound grants, as durable River jobs.
//
// Two kinds of expire_grants job run the same idempotent sweep (revoke every grant whose
// expiry has passed; see service.ExpireGrants):
//
//   - one scheduled at each expiry, inserted in the transaction that writes a grant with an
//     expiry (ScheduleExpiryTx, which the service calls): access ends on time, within about a
//     second (River's scheduler moves jobs due within its next tick to available ahead of time;
//     workers poll every second), and a crash right after the commit loses no job;
//   - a periodic one every interval, and one at start: the safety net. A clock moved, a grant
//     written around the service, the expiries of a bulk change beyond the jobs one
//     transaction schedules, or a server that was down when access ended: the next sweep
//     revokes it.
//
// Both live in the database with the provisioning jobs, so a restart loses none.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/internal/store"
)

// DefaultExpiryInterval is how often serve sweeps for expired grants by default, besides the
// job scheduled at each expiry.
const DefaultExpiryInterval = 30 * time.Second

// ExpireArgs is the expire_grants job: revoke the grants whose expiry has passed.
type ExpireArgs struct {
	// At is the expiry this job was scheduled for; zero for the periodic sweep. Grants ending
	// at the same time (a batch granted together for the same duration) share one job.
	At time.Time `json:"at,omitzero"`
	// Start marks the catch-up run a process makes as it starts (startOpts).
	Start bool `json:"start,omitempty"`
}

// Kind is the River job kind.
func (ExpireArgs) Kind() string { return "expire_grants" }

// Expirer revokes the grants expired by now and says how many (service.Service).
type Expirer interface {
	ExpireGrants(ctx context.Context, now time.Time) (int, error)
}

// expiry is the host's expiry state, set by ExpireGrants.
type expiry struct {
	mu sync.Mutex
	e  Expirer
}

func (x *expiry) get() Expirer {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.e
}

// ExpireGrants makes the host revoke expired grants with e: at once (a server that was down
// when access ended catches up as it starts), every interval, and at each expiry scheduled by
// ScheduleExpiryTx. Call it once (Schedule does), before or after Start.
func (h *Host) ExpireGrants(ctx context.Context, e Expirer, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("expiry interval %s: use a duration above zero", every)
	}
	h.exp.mu.Lock()
	h.exp.e = e
	h.exp.mu.Unlock()
	// Only River's elected leader enqueues periodic jobs, so replicas do not multiply them.
	// The sweep is unique within its interval, as the other periodic tasks are (periodicOpts),
	// by its arguments too: the jobs at each grant's expiry are of the same kind.
	sweep := func() *river.InsertOpts {
		return &river.InsertOpts{Priority: PriorityDeprovision, MaxAttempts: h.opts.MaxAttempts,
			UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: every, ByState: onceStates}}
	}
	h.client.PeriodicJobs().Add(river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return ExpireArgs{}, sweep() }, nil))
	// The catch-up run is inserted directly rather than left to the periodic job's
	// RunOnStart: after a crash, leadership waits for the dead leader's lease to lapse.
	catchUp := &river.InsertOpts{Priority: PriorityDeprovision, MaxAttempts: h.opts.MaxAttempts, UniqueOpts: startUnique}
	if _, err := h.client.Insert(ctx, ExpireArgs{Start: true}, catchUp); err != nil {
		return fmt.Errorf("enqueue the expiry catch-up: %w", err)
	}
	return nil
}

// ScheduleExpiryTx inserts a job that revokes what has expired at the given time, in the
// transaction that writes the grant ending then: the job is committed with the grant, so a
// crash right after the commit does not leave the grant to the periodic sweep. Jobs for the
// same time are one job.
func (h *Host) ScheduleExpiryTx(ctx context.Context, tx store.Tx, at time.Time) error {
	at = at.UTC()
	args := ExpireArgs{At: at}
	opts := &river.InsertOpts{
		ScheduledAt: at,
		Priority:    PriorityDeprovision,
		MaxAttempts: h.opts.MaxAttempts,
		// Not unique against completed jobs: a second grant for a second already swept
		// (clock skew between replicas) must still get its job.
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates},
	}
	if _, err := h.client.InsertTx(ctx, tx.SQL(), args, opts); err != nil {
		return fmt.Errorf("schedule the expiry at %s: %w", at.Format(time.RFC3339Nano), err)
	}
	return nil
}

// pendingStates are the states of a job that has yet to finish: uniqueness among them lets a
// job be inserted again once the last one finished.
var pendingStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

type expireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	h *Host
}

func (w *expireWorker) Work(ctx context.Context, job *river.Job[ExpireArgs]) error {
	e := w.h.exp.get()
	if e == nil {
		// Started before the server wired the service in (a replica starting up): soon.
		return river.JobSnooze(time.Second)
	}
	now := w.h.now()
	if wait := job.Args.At.Sub(now); wait > 0 {
		// Ran early (a replica's clock behind the one that scheduled it).
		return river.JobSnooze(wait)
	}
	n, err := e.ExpireGrants(ctx, now)
	if err != nil {
		w.h.log.Warn("expire grants", "attempt", job.Attempt, "err", err)
		return err
	}
	if n > 0 {
		w.h.log.Info("expired grants revoked", "count", n, "scheduled_for", job.Args.At)
	}
	return nil
}
