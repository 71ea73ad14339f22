package provision

// Expiry of time-bound grants: every committed grant with an expiry schedules an expire_grants
// job at that time (ScheduleExpiries), besides the periodic sweep; the jobs themselves are the
// job host's (internal/jobs, expiry.go there). The sweep's grant.expire events then trigger a
// reconcile of the grant's system (Triggering), which takes the membership away in the target.

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ExpiryScheduler is what ScheduleExpiries needs from the job host (jobs.Host).
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

// DB forwards the wrapped store's database (see sqlDB).
func (s *expiryStore) DB() *sql.DB {
	if d, ok := s.Store.(sqlDB); ok {
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
