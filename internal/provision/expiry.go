package provision

// Expiry of time-bound grants, as durable River jobs.
//
// Two kinds of expire_grants job run the same idempotent sweep (revoke every grant whose
// expiry has passed; see service.ExpireGrants):
//
//   - one scheduled at each expiry, inserted when a grant with an expiry is committed
//     (ScheduleExpiries): access ends on time, within about a second (River's scheduler moves
//     jobs due within its next tick to available ahead of time; workers poll every second);
//   - a periodic one every interval, and one at start: the safety net. A job lost in a crash
//     between a grant's commit and its job's insert, a clock moved, a grant written around the
//     service, or a server that was down when access ended: the next sweep revokes it.
//
// Both live in the database with the provisioning queue, so a restart loses none. The sweep's
// grant.expire events then trigger a reconcile of the grant's system (Triggering), which takes
// the membership away in the target.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ExpireArgs is the expire_grants job: revoke the grants whose expiry has passed.
type ExpireArgs struct {
	// At is the expiry this job was scheduled for; zero for the periodic sweep. Grants ending
	// at the same time (a batch granted together for the same duration) share one job.
	At time.Time `json:"at,omitzero"`
}

// Kind is the River job kind.
func (ExpireArgs) Kind() string { return "expire_grants" }

// Expirer revokes the grants expired by now and says how many (service.Service).
type Expirer interface {
	ExpireGrants(ctx context.Context, now time.Time) (int, error)
}

// expiry is the queue's expiry state, set by ExpireGrants.
type expiry struct {
	mu sync.Mutex
	e  Expirer
}

func (x *expiry) get() Expirer {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.e
}

// DefaultExpiryInterval is how often serve sweeps for expired grants by default, besides the
// job scheduled at each expiry.
const DefaultExpiryInterval = 30 * time.Second

// ExpireGrants makes the queue revoke expired grants with e: at once (a server that was down
// when access ended catches up as it starts), every interval, and at each expiry scheduled by
// ScheduleExpiries. Call it once, after Start.
func (q *Queue) ExpireGrants(ctx context.Context, e Expirer, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("expiry interval %s: use a duration above zero", every)
	}
	q.exp.mu.Lock()
	q.exp.e = e
	q.exp.mu.Unlock()
	// Only River's elected leader enqueues periodic jobs, so replicas do not multiply them.
	q.client.PeriodicJobs().Add(river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) {
			return ExpireArgs{}, &river.InsertOpts{Priority: PriorityDeprovision, MaxAttempts: q.opts.MaxAttempts}
		}, nil))
	// The catch-up run is inserted directly rather than left to the periodic job's
	// RunOnStart: after a crash, leadership waits for the dead leader's lease to lapse.
	if _, err := q.client.Insert(ctx, ExpireArgs{}, &river.InsertOpts{Priority: PriorityDeprovision,
		MaxAttempts: q.opts.MaxAttempts}); err != nil {
		return fmt.Errorf("enqueue the expiry catch-up: %w", err)
	}
	return nil
}

// ScheduleExpiry inserts a job that revokes what has expired at the given time. Jobs for the
// same time are one job.
func (q *Queue) ScheduleExpiry(ctx context.Context, at time.Time) error {
	at = at.UTC()
	_, err := q.client.Insert(ctx, ExpireArgs{At: at}, &river.InsertOpts{
		ScheduledAt: at,
		Priority:    PriorityDeprovision,
		MaxAttempts: q.opts.MaxAttempts,
		// Not unique against completed jobs: a second grant for a second already swept
		// (clock skew between replicas) must still get its job.
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled}},
	})
	if err != nil {
		return fmt.Errorf("schedule the expiry at %s: %w", at.Format(time.RFC3339Nano), err)
	}
	return nil
}

type expireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	q *Queue
}

func (w *expireWorker) Work(ctx context.Context, job *river.Job[ExpireArgs]) error {
	e := w.q.exp.get()
	if e == nil {
		// Started before the server wired the service in (a replica starting up): soon.
		return river.JobSnooze(time.Second)
	}
	now := w.q.rec.now()
	if wait := job.Args.At.Sub(now); wait > 0 {
		// Ran early (a replica's clock behind the one that scheduled it).
		return river.JobSnooze(wait)
	}
	n, err := e.ExpireGrants(ctx, now)
	if err != nil {
		w.q.log.Warn("expire grants", "attempt", job.Attempt, "err", err)
		return err
	}
	if n > 0 {
		w.q.log.Info("expired grants revoked", "count", n, "scheduled_for", job.Args.At)
	}
	return nil
}

// ExpiryScheduler is what ScheduleExpiries needs from the queue.
type ExpiryScheduler interface {
	ScheduleExpiry(ctx context.Context, at time.Time) error
}

// ScheduleExpiries wraps a store so that every committed grant with an expiry schedules its
// expiry job (q.ScheduleExpiry). It reads the audit events each transaction appends, as
// Triggering does, so whatever writes grants (direct grants, approved requests, emergency
// access, imports) needs no change. The insert happens after the commit; a crash in between
// leaves the grant to the periodic sweep.
func ScheduleExpiries(st store.Store, q ExpiryScheduler, log *slog.Logger) store.Store {
	if log == nil {
		log = slog.Default()
	}
	return &expiryStore{Store: st, q: q, log: log}
}

// maxScheduled bounds the expiry jobs one transaction schedules.
const maxScheduled = 100

type expiryStore struct {
	store.Store
	q   ExpiryScheduler
	log *slog.Logger
}

// DB forwards the wrapped store's database (see DB).
func (s *expiryStore) DB() *sql.DB {
	if d, ok := s.Store.(DB); ok {
		return d.DB()
	}
	return nil
}

func (s *expiryStore) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	var w *watchTx
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		w = &watchTx{Tx: tx}
		return fn(w)
	})
	if err != nil || w == nil {
		return err
	}
	at := Expiries(w.events)
	if len(at) > maxScheduled {
		// A bulk change: the periodic sweep, not thousands of jobs, ends most of these.
		at = at[:maxScheduled]
	}
	qctx := context.WithoutCancel(ctx)
	for _, t := range at {
		if err := s.q.ScheduleExpiry(qctx, t); err != nil {
			// The grant is committed; the periodic sweep revokes it a little later.
			s.log.Warn("schedule a grant's expiry; the periodic sweep will catch it", "err", err)
		}
	}
	return nil
}

// Expiries returns the distinct expiry times of the grants in force that the events created or
// changed, earliest first.
func Expiries(events []*gatehouse.AuditEvent) []time.Time {
	var out []time.Time
	seen := map[time.Time]bool{}
	for _, ev := range events {
		if ev.ObjectType != "grant" || len(ev.After) == 0 {
			continue
		}
		var g struct {
			ExpiresAt *time.Time `json:"expires_at"`
			RevokedAt *time.Time `json:"revoked_at"`
		}
		if json.Unmarshal(ev.After, &g) != nil || g.ExpiresAt == nil || g.RevokedAt != nil {
			continue
		}
		at := g.ExpiresAt.UTC()
		if !seen[at] {
			seen[at] = true
			out = append(out, at)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}
