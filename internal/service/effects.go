package service

// Side effects of a change, stated by the code that makes it.
//
// A change of desired state implies work after it: reconciles of the systems it concerns, the
// revocation of a time-bound grant when it ends, messages to the people concerned. Whoever
// writes the change knows what it changed (the JML plan its identities and grants, a request
// decision its grants and whom to tell), so it says so in an effects value, and change inserts
// the implied jobs in the same transaction, before the commit: they exist if and only if the
// change does. A process that dies right after a commit loses nothing; the next start's
// workers run the jobs.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// JobQueue inserts the jobs a change implies in the change's transaction (jobs.Host).
type JobQueue interface {
	// ReconcileTx inserts the reconciles t asks for.
	ReconcileTx(ctx context.Context, tx store.Tx, t provision.Trigger) error
	// ScheduleExpiryTx inserts the job that revokes the grants expired at at.
	ScheduleExpiryTx(ctx context.Context, tx store.Tx, at time.Time) error
}

// maxExpiryJobs bounds the expiry jobs one transaction schedules: a bulk change leaves the
// rest to the periodic sweep rather than insert thousands of jobs.
const maxExpiryJobs = 100

// effects is what one transaction's changes imply, collected while it runs.
type effects struct {
	reconcile provision.Changes
	expiries  []time.Time
	messages  []notify.Message
}

// granted states a grant written: its system is reconciled for its person, and a grant with
// an expiry is revoked when it ends.
func (fx *effects) granted(g *gatehouse.Grant) {
	fx.reconcile.Grant(g.ID, g.IdentityID, g.EntitlementID, false)
	if g.ExpiresAt != nil && g.RevokedAt == nil {
		fx.expiries = append(fx.expiries, g.ExpiresAt.UTC())
	}
}

// revoked states a grant revoked or expired: its system is reconciled for its person, first.
func (fx *effects) revoked(grantID, identityID, entitlementID string) {
	fx.reconcile.Grant(grantID, identityID, entitlementID, true)
}

// identity states an identity created or replaced.
func (fx *effects) identity(i *gatehouse.Identity) { fx.reconcile.Identity(i.ID, i.Status) }

// notify states a message to send once the change commits.
func (fx *effects) notify(m notify.Message) { fx.messages = append(fx.messages, m) }

// expiryTimes are the distinct expiry times of the grants written, earliest first, at most
// maxExpiryJobs.
func (fx *effects) expiryTimes() []time.Time {
	at := slices.Clone(fx.expiries)
	slices.SortFunc(at, time.Time.Compare)
	at = slices.CompactFunc(at, time.Time.Equal)
	if len(at) > maxExpiryJobs {
		at = at[:maxExpiryJobs]
	}
	return at
}

// change runs fn in a store transaction and inserts the jobs the effects it stated imply in
// the same transaction, before the commit. Without a job queue (the CLI's offline commands,
// tests) no reconcile or expiry job is inserted; without a notifier no message.
func (s *core) change(ctx context.Context, fn func(tx store.Tx, fx *effects) error) error {
	return s.store.Update(ctx, func(tx store.Tx) error {
		fx := &effects{} // a fresh one per attempt
		if err := fn(tx, fx); err != nil {
			return err
		}
		return s.flush(ctx, tx, fx)
	})
}

// flush inserts fx's jobs in tx. A reconcile or expiry job that cannot be inserted fails the
// change: committed without it, the change would wait for the schedule. A message that cannot
// be handed over is logged, not returned: telling people is not worth refusing the change
// (though on PostgreSQL a failed insert aborts the transaction, and the commit fails with it).
func (s *core) flush(ctx context.Context, tx store.Tx, fx *effects) error {
	if s.jobs != nil {
		if t := fx.reconcile.Trigger(); !t.None() {
			if err := s.jobs.ReconcileTx(ctx, tx, t); err != nil {
				return fmt.Errorf("enqueue the reconciles of this change: %w", err)
			}
		}
		for _, at := range fx.expiryTimes() {
			if err := s.jobs.ScheduleExpiryTx(ctx, tx, at); err != nil {
				return fmt.Errorf("schedule a grant's expiry: %w", err)
			}
		}
	}
	if s.notifier == nil {
		return nil
	}
	for _, m := range fx.messages {
		if err := s.notifier.EnqueueTx(ctx, tx.SQL(), m); err != nil {
			s.log.Error("notification not enqueued", "event", m.Event, "reference", m.Reference, "recipients", len(m.To), "err", err)
		}
	}
	return nil
}
