package service

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Termination and Gatehouse itself. Revoking a leaver's grants removes their access to the
// systems Gatehouse governs; this file removes their access to Gatehouse. Authenticate refuses
// a terminated identity's tokens, but that check alone is undone by a rehire or a status
// correction: the old tokens would work again. So every path that terminates an identity (an
// HR import or date check, a SCIM client's deactivation or DELETE, identities update --status
// terminated) calls endGatehouseAccess in the same transaction, and so does the path that
// brings one back (a token or delegation left over from before this rule is ended then).

// ending is one identity whose Gatehouse access ends, and why (the reason of its audit events).
type ending struct {
	IdentityID string
	Why        string
	// Back is a return from termination (a rehire or a correction), not a leaver.
	Back bool
}

// endGatehouseAccess ends, in tx (the transaction that terminates the identities), what they
// may do in Gatehouse itself: their live tokens are revoked and the delegations from and to
// them end, each with an audit event carrying ref (the import, SCIM request or "" by hand).
// Many identities (a large HR import) cost one statement per batch of identities per kind, and
// the events are appended as one batch.
func (s *Identities) endGatehouseAccess(ctx context.Context, tx store.Tx, p *gatehouse.Principal, ref string, people []ending) error {
	if len(people) == 0 {
		return nil
	}
	now := s.now()
	ids := make([]string, len(people))
	why := make(map[string]string, len(people))
	for i, e := range people {
		ids[i] = e.IdentityID
		why[e.IdentityID] = e.Why
	}
	var evs []*gatehouse.AuditEvent

	// Tokens: an API or CLI token, and a SCIM client's token, of the leaver.
	toks, err := tx.RevokeTokensOf(ctx, ids, now)
	if err != nil {
		return fmt.Errorf("end Gatehouse access: %w", err)
	}
	for _, t := range toks {
		before := *t
		before.RevokedAt = nil
		ev := s.event(p, gatehouse.AuditTokenRevoke, "token", t.ID, &before, t, why[t.IdentityID])
		ev.Reference = ref
		evs = append(evs, ev)
	}

	// Delegations from a leaver (their approvals, decided by someone else) and to a leaver
	// (someone's approvals, decided by them).
	dels, err := tx.EndDelegations(ctx, ids, now)
	if err != nil {
		return fmt.Errorf("end Gatehouse access: %w", err)
	}
	for _, d := range dels {
		after := *d
		after.EndsAt = now.UTC().Truncate(time.Microsecond)
		if after.StartsAt.After(after.EndsAt) {
			after.StartsAt = after.EndsAt
		}
		r, ok := why[d.FromID]
		if !ok {
			r = why[d.ToID]
		}
		ev := s.event(p, gatehouse.AuditDelegationEnd, "delegation", d.ID, d, &after, r)
		ev.Reference = ref
		evs = append(evs, ev)
	}

	// Web sessions of a leaver: a browser signed in before the termination is signed out at
	// its next click, and stays so after a rehire (sessions.go).
	sess, err := tx.EndSessionsOf(ctx, ids, now, SessionEndTerminated)
	if err != nil {
		return fmt.Errorf("end Gatehouse access: %w", err)
	}
	for _, se := range sess {
		before := *se
		before.EndedAt, before.EndReason = nil, ""
		ev := s.event(p, gatehouse.AuditSessionEnd, "session", se.ID, &before, se, why[se.IdentityID])
		ev.Reference = ref
		evs = append(evs, ev)
	}

	// Approval steps waiting for a leaver move on at once (termination_requests.go).
	leavers := map[string]string{}
	for _, e := range people {
		if !e.Back {
			leavers[e.IdentityID] = e.Why
		}
	}
	if err := s.rerouteFromLeavers(ctx, tx, p, leavers); err != nil {
		return fmt.Errorf("end Gatehouse access: %w", err)
	}

	if len(evs) == 0 {
		return nil
	}
	return tx.AppendAudits(ctx, evs)
}

// statusEnding returns the ending of an identity whose status changes from before to after, if
// the change crosses termination: into it (a leaver, for reason why) or out of it (a rehire or
// a correction, which must not bring back what the termination ended).
func statusEnding(before, after *gatehouse.Identity, why string) (ending, bool) {
	if before == nil {
		return ending{}, false
	}
	was, is := before.Status == gatehouse.StatusTerminated, after.Status == gatehouse.StatusTerminated
	switch {
	case !was && is:
		return ending{IdentityID: after.ID, Why: why}, true
	case was && !is:
		return ending{IdentityID: after.ID, Why: "no longer terminated: Gatehouse tokens and delegations from before the termination stay ended", Back: true}, true
	}
	return ending{}, false
}
