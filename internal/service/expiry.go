package service

// Time-bound access: grants with an expiry are revoked when it passes.
//
// A grant past its ExpiresAt is already out of force (Grant.Active), so a reconcile would drop
// the membership anyway; revoking it makes the end of access a recorded fact (grant.expire in
// the audit log, with the grant's reference) and the revocation's event triggers the reconcile
// of the grant's system at once, instead of whenever the next full reconcile happens to run.
// The server runs ExpireGrants from a durable job (jobs.Host.ExpireGrants).
//
// Telling the beneficiary before access ends is internal/notify's: it asks ExpiringGrants for
// the grants ending within its notice window, on its own schedule, and remembers whom it told.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// expiryBatch bounds the grants revoked in one transaction: a large batch of expiries (an
// import of temporary access ending at one time) commits in steps rather than in one long
// transaction that holds the writer.
const expiryBatch = 500

// ExpiryActor is the actor of grant.expire events.
const ExpiryActor = "system:expiry"

// errNoneRevoked rolls back a batch in which every grant was revoked by someone else first.
var errNoneRevoked = errors.New("no grant left to revoke")

// ExpireGrants revokes every grant in force whose expiry is at or before now, recording a
// grant.expire event for each, and returns how many it revoked. It is idempotent and safe to
// run from several replicas at once: a grant another run revoked first is skipped, so each
// expired grant is revoked, and audited, exactly once.
func (s *Grants) ExpireGrants(ctx context.Context, now time.Time) (int, error) {
	p := SystemPrincipal("expiry")
	total := 0
	for {
		n, more, err := s.expireBatch(ctx, p, now)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// expireBatch revokes up to expiryBatch expired grants in one transaction. more says whether
// more may be left.
func (s *Grants) expireBatch(ctx context.Context, p *gatehouse.Principal, now time.Time) (n int, more bool, err error) {
	err = s.change(ctx, func(tx store.Tx, fx *effects) error {
		n, more = 0, false
		page, err := tx.ListGrants(ctx, gatehouse.GrantFilter{Status: "active", ExpiresBefore: now, Limit: expiryBatch})
		if err != nil {
			return fmt.Errorf("list expired grants: %w", err)
		}
		if len(page.Items) == 0 {
			return nil
		}
		more = page.NextCursor != ""
		// The events are appended after every revocation, not between them: the audit head
		// is the one lock every writer takes, so it is taken last, after the grant rows, in
		// the order every other writer takes them (no deadlock with an operator's revoke).
		evs := make([]*gatehouse.AuditEvent, 0, len(page.Items))
		for _, g := range page.Items {
			reason := "expired at " + g.ExpiresAt.UTC().Format(time.RFC3339)
			switch err := tx.RevokeGrant(ctx, g.ID, now, p.Actor(), reason); {
			case gatehouse.ErrorCode(err) == gatehouse.ECONFLICT:
				// Revoked meanwhile (another replica's run, an operator): its own event
				// records that, and this run must not record a second end.
				continue
			case err != nil:
				return fmt.Errorf("expire grant %s: %w", g.ID, err)
			}
			after, err := tx.GetGrant(ctx, g.ID)
			if err != nil {
				return fmt.Errorf("expire grant %s: %w", g.ID, err)
			}
			fx.revoked(g.ID, g.IdentityID, g.EntitlementID)
			ev := s.event(p, gatehouse.AuditGrantExpire, "grant", g.ID, g, after, reason)
			ev.Reference = g.Reference
			evs = append(evs, ev)
		}
		if len(evs) == 0 {
			// Every grant listed was revoked by a concurrent run, which is doing the work.
			more = false
			return errNoneRevoked
		}
		n = len(evs)
		return tx.AppendAudits(ctx, evs)
	})
	if errors.Is(err, errNoneRevoked) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if n > 0 {
		s.log.Info("expired grants revoked", "count", n)
	}
	return n, more, nil
}

// ListExpiringGrants lists the grants in force that expire within the given time from now
// (and have not expired yet), with f's other conditions and paging. As ListGrants, an ordinary
// identity sees only its own.
func (s *Grants) ListExpiringGrants(ctx context.Context, p *gatehouse.Principal, f gatehouse.GrantFilter, within time.Duration) (gatehouse.Page[*gatehouse.Grant], error) {
	if within <= 0 {
		return gatehouse.Page[*gatehouse.Grant]{}, gatehouse.Errorf(gatehouse.EINVALID, "expiring: give a duration above zero, such as 7d or 48h")
	}
	if f.Status != "" && f.Status != "active" {
		return gatehouse.Page[*gatehouse.Grant]{}, gatehouse.Errorf(gatehouse.EINVALID, "expiring: only grants in force expire; leave status unset or active")
	}
	now := s.now()
	f.Status, f.ExpiresAfter, f.ExpiresBefore = "active", now, now.Add(within)
	return s.ListGrants(ctx, p, f)
}

// ExpiringGrants returns every grant in force that expires within the given time from now:
// everyone's for readers (the notifier runs as a system principal), the principal's own for
// others. It is where "your access ends soon" notices come from.
func (s *Grants) ExpiringGrants(ctx context.Context, p *gatehouse.Principal, within time.Duration) ([]*gatehouse.Grant, error) {
	var out []*gatehouse.Grant
	f := gatehouse.GrantFilter{Limit: 500}
	for {
		page, err := s.ListExpiringGrants(ctx, p, f, within)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}
