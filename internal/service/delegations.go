package service

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Delegations: an approver away hands their approval steps to someone else for a while.

// NewDelegation lets To decide, for a while, the steps that ask From.
type NewDelegation struct {
	From     string    `json:"from,omitempty"` // "" for oneself; someone else's needs an operator
	To       string    `json:"to"`
	StartsAt time.Time `json:"starts_at,omitzero"` // default now
	EndsAt   time.Time `json:"ends_at"`
	Reason   string    `json:"reason,omitempty"`
}

// SetDelegation records that To may decide, between StartsAt and EndsAt, the steps that ask
// From. One delegates one's own approvals; an operator may record it for someone away.
func (s *Requests) SetDelegation(ctx context.Context, p *gatehouse.Principal, in NewDelegation) (*gatehouse.Delegation, error) {
	if err := checkTexts(idText("from", in.From), idText("to", in.To), reasonText("reason", in.Reason)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	now := s.now()
	if in.StartsAt.IsZero() {
		in.StartsAt = now
	}
	if !in.EndsAt.After(in.StartsAt) {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "ends_at: a delegation ends after it starts")
	}
	var out *gatehouse.Delegation
	err := s.update(ctx, func(tx store.Tx) error {
		fromKey := in.From
		if fromKey == "" {
			fromKey = p.IdentityID
		}
		if fromKey == "" {
			return gatehouse.Errorf(gatehouse.EINVALID, "from: say whose approvals are delegated")
		}
		from, err := tx.GetIdentity(ctx, fromKey)
		if err != nil {
			return err
		}
		if from.ID != p.IdentityID && !p.Has(gatehouse.RoleOperator) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may delegate only your own approvals")
		}
		to, err := tx.GetIdentity(ctx, in.To)
		if err != nil {
			return err
		}
		if to.ID == from.ID {
			return gatehouse.Errorf(gatehouse.EINVALID, "to: delegate to someone else")
		}
		// An operator records a delegation for someone who is away, but never to themselves:
		// that would make any approver's power (a manager's, a security approver's) theirs.
		if to.ID == p.IdentityID && from.ID != p.IdentityID {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may not delegate someone else's approvals to yourself; %s delegates them, or another operator does", from.Email)
		}
		// Handing on the approvals of an admin or of a holder of a designated power moves that
		// power to someone the catalog did not name: theirs or an admin's to do, as is changing
		// their email or status (mayChangeStanding).
		if from.ID != p.IdentityID && !p.Has(gatehouse.RoleAdmin) {
			if from.HasRole(gatehouse.RoleAdmin) {
				return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin delegates the approvals of an admin (%s)", from.Email)
			}
			powers, err := designatedPowers(ctx, tx, from)
			if err != nil {
				return err
			}
			if len(powers) > 0 {
				return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin delegates the approvals of %s, who holds a designated power (%s)",
					from.Email, strings.Join(powers, "; "))
			}
		}
		if to.Status == gatehouse.StatusTerminated {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is terminated", to.Email)
		}
		// A leaver's powers ended with them (termination.go); nobody revives them by delegation.
		if from.Status == gatehouse.StatusTerminated {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is terminated: their approvals ended with them", from.Email)
		}
		d := &gatehouse.Delegation{FromID: from.ID, ToID: to.ID, StartsAt: in.StartsAt, EndsAt: in.EndsAt, Reason: in.Reason, CreatedBy: p.Actor()}
		if err := tx.CreateDelegation(ctx, d); err != nil {
			return err
		}
		out = d
		return tx.AppendAudit(ctx, s.event(p, gatehouse.AuditDelegationCreate, "delegation", d.ID, nil, d, in.Reason))
	})
	return out, err
}
