package service

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Mover confirmations. A mover keeps the access that came from requests (revoking it on the day
// of the move would break work in progress), but nobody has vouched for it in the new job: the
// import opens one confirmation per such grant, addressed to the new manager, who confirms it
// or revokes it. Who decides: the addressed manager, or an admin; never the mover, whatever
// their roles — no one decides on their own access.

// RevokeNotConfirmed is the reason recorded on a grant its mover's new manager did not confirm.
const RevokeNotConfirmed = "mover review: not confirmed by new manager"

// createConfirmations opens a confirmation per request-sourced grant a mover kept, addressed to
// the new manager, with an audit event each, in the import's transaction. A grant that already
// has an open confirmation for the same manager (the same move imported twice) gets no second.
func (s *HR) createConfirmations(ctx context.Context, tx store.Tx, p *gatehouse.Principal, imp *gatehouse.HRImport, plan *jml.Plan) error {
	managers := map[string]string{} // employee_id → identity id
	var out []*gatehouse.Confirmation
	for _, it := range plan.Items {
		if len(it.Confirm) == 0 || it.ConfirmBy == "" {
			continue
		}
		mgr, ok := managers[it.ConfirmBy]
		if !ok {
			// The feed's validation guarantees the manager is a row of the file, so the
			// identity exists now (created earlier in this transaction if it is new).
			m, err := identityByEmployeeID(ctx, tx, it.ConfirmBy)
			if err != nil {
				return fmt.Errorf("%s: new manager %s: %w", it.EmployeeID, it.ConfirmBy, err)
			}
			mgr, managers[it.ConfirmBy] = m.ID, m.ID
		}
		for _, c := range it.Confirm {
			open, err := tx.ListConfirmations(ctx, gatehouse.ConfirmationFilter{GrantID: c.GrantID, ManagerID: mgr,
				Status: gatehouse.ConfirmationOpen, Limit: 1})
			if err != nil {
				return err
			}
			if len(open.Items) > 0 {
				continue
			}
			out = append(out, &gatehouse.Confirmation{IdentityID: it.IdentityID, GrantID: c.GrantID,
				EntitlementID: c.EntitlementID, ManagerID: mgr, HRImportID: imp.ID, CreatedAt: s.now(),
				Status: gatehouse.ConfirmationOpen})
		}
	}
	if len(out) == 0 {
		return nil
	}
	if err := tx.CreateConfirmations(ctx, out); err != nil {
		return err
	}
	events := make([]*gatehouse.AuditEvent, len(out))
	for i, c := range out {
		events[i] = s.event(p, gatehouse.AuditConfirmationCreate, "confirmation", c.ID, nil, c, "mover: request access kept, for the new manager to confirm")
		events[i].Reference = "hr-import:" + imp.ID
	}
	return tx.AppendAudits(ctx, events)
}

// ListConfirmations lists mover confirmations, newest first. Readers (auditor, operator, admin)
// see all of them, and with mine only those addressed to them; anyone else sees only those
// addressed to them, whatever the filter asks.
func (s *HR) ListConfirmations(ctx context.Context, p *gatehouse.Principal, f gatehouse.ConfirmationFilter, mine bool) (gatehouse.Page[*gatehouse.Confirmation], error) {
	var none gatehouse.Page[*gatehouse.Confirmation]
	if err := authenticated(p); err != nil {
		return none, err
	}
	if f.Status != "" && !f.Status.Valid() {
		return none, gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not one of open, confirmed, revoked", f.Status)
	}
	if mine || !p.CanReadAll() {
		if p.IdentityID == "" {
			if !mine {
				return none, gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs the auditor, operator or admin role")
			}
			return gatehouse.Page[*gatehouse.Confirmation]{Items: []*gatehouse.Confirmation{}}, nil
		}
		if f.ManagerID != "" && f.ManagerID != p.IdentityID && !p.CanReadAll() {
			return none, gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may only see the confirmations addressed to you")
		}
		f.ManagerID = p.IdentityID
	}
	return s.store.ListConfirmations(ctx, f)
}

// GetConfirmation returns one confirmation: to readers, and to the manager it is addressed to.
func (s *HR) GetConfirmation(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.Confirmation, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	c, err := s.store.GetConfirmation(ctx, id)
	if err != nil {
		return nil, err
	}
	if !p.CanReadAll() && (p.IdentityID == "" || p.IdentityID != c.ManagerID) {
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "this confirmation is addressed to someone else")
	}
	return c, nil
}

// ConfirmConfirmation keeps the access: the new manager vouches for it.
func (s *HR) ConfirmConfirmation(ctx context.Context, p *gatehouse.Principal, id, comment string) (*gatehouse.Confirmation, error) {
	return s.decideConfirmation(ctx, p, id, gatehouse.ConfirmationConfirmed, comment)
}

// RevokeConfirmation removes the access: the grant is revoked as Service.RevokeGrant would
// (the row kept as evidence, a grant.revoke event) with reason RevokeNotConfirmed, in the same
// transaction as the decision.
func (s *HR) RevokeConfirmation(ctx context.Context, p *gatehouse.Principal, id, comment string) (*gatehouse.Confirmation, error) {
	return s.decideConfirmation(ctx, p, id, gatehouse.ConfirmationRevoked, comment)
}

func (s *HR) decideConfirmation(ctx context.Context, p *gatehouse.Principal, id string, status gatehouse.ConfirmationStatus, comment string) (*gatehouse.Confirmation, error) {
	if err := checkTexts(reasonText("comment", comment)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	var out *gatehouse.Confirmation
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		c, err := tx.GetConfirmation(ctx, id)
		if err != nil {
			return err
		}
		// Self-decision first: it holds even for an admin who is also the addressed manager.
		if p.IdentityID != "" && p.IdentityID == c.IdentityID {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "no one decides on their own access: confirmation %s is about your grant", id)
		}
		if !p.Has(gatehouse.RoleAdmin) && (p.IdentityID == "" || p.IdentityID != c.ManagerID) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only the new manager it is addressed to, or an admin, decides confirmation %s", id)
		}
		if c.Status != gatehouse.ConfirmationOpen {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "confirmation %s was already decided (%s by %s)", id, c.Status, c.DecidedBy)
		}
		// A second move opens a confirmation for the next manager; the earlier one is stale and
		// its manager no longer decides about this person's access.
		newer, err := tx.ListConfirmations(ctx, gatehouse.ConfirmationFilter{GrantID: c.GrantID, Status: gatehouse.ConfirmationOpen, Limit: 1})
		if err != nil {
			return err
		}
		if len(newer.Items) > 0 && newer.Items[0].ID > c.ID {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "confirmation %s is superseded by %s, addressed to the current manager", id, newer.Items[0].ID)
		}
		g, err := tx.GetGrant(ctx, c.GrantID)
		if err != nil {
			return err
		}
		now := s.now()
		if status == gatehouse.ConfirmationConfirmed && g.RevokedAt != nil {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "grant %s was revoked at %s: nothing left to confirm; revoke the confirmation to close it",
				g.ID, g.RevokedAt.Format(time.RFC3339))
		}
		before := *c
		c.Status, c.DecidedBy, c.DecidedAt, c.Comment = status, p.Actor(), &now, comment
		if err := tx.DecideConfirmation(ctx, c); err != nil {
			return err
		}
		events := []*gatehouse.AuditEvent{s.event(p, confirmAction(status), "confirmation", c.ID, &before, c, comment)}
		// A grant revoked meanwhile (the mover left) has nothing more to revoke: the decision
		// alone is recorded.
		if status == gatehouse.ConfirmationRevoked && g.RevokedAt == nil {
			if err := tx.RevokeGrant(ctx, g.ID, now, p.Actor(), RevokeNotConfirmed); err != nil {
				return err
			}
			after, err := tx.GetGrant(ctx, g.ID)
			if err != nil {
				return err
			}
			fx.revoked(g.ID, g.IdentityID, g.EntitlementID)
			ev := s.event(p, gatehouse.AuditGrantRevoke, "grant", g.ID, g, after, RevokeNotConfirmed)
			ev.Reference = "confirmation:" + c.ID
			events = append(events, ev)
		}
		out = c
		return tx.AppendAudits(ctx, events)
	})
	return out, err
}

func confirmAction(s gatehouse.ConfirmationStatus) gatehouse.AuditAction {
	if s == gatehouse.ConfirmationConfirmed {
		return gatehouse.AuditConfirmationConfirm
	}
	return gatehouse.AuditConfirmationRevoke
}
