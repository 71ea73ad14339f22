package service

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ListGrants lists grants. An ordinary identity sees only its own.
func (s *Service) ListGrants(ctx context.Context, p *gatehouse.Principal, f store.GrantFilter) (store.Page[*gatehouse.Grant], error) {
	if err := authenticated(p); err != nil {
		return store.Page[*gatehouse.Grant]{}, err
	}
	if !p.CanReadAll() {
		if f.IdentityID == "" {
			f.IdentityID = p.IdentityID
		}
		if err := s.requireSelf(ctx, p, f.IdentityID); err != nil {
			return store.Page[*gatehouse.Grant]{}, err
		}
		f.IdentityID = p.IdentityID
	} else if f.IdentityID != "" {
		// Accept an email or employee_id as well as an id.
		id, err := s.store.GetIdentity(ctx, f.IdentityID)
		if err != nil {
			return store.Page[*gatehouse.Grant]{}, err
		}
		f.IdentityID = id.ID
	}
	return s.store.ListGrants(ctx, f)
}

func (s *Service) requireSelf(ctx context.Context, p *gatehouse.Principal, key string) error {
	if key == p.IdentityID {
		return nil
	}
	id, err := s.store.GetIdentity(ctx, key)
	if err != nil || id.ID != p.IdentityID {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may only see your own access")
	}
	return nil
}

// GetGrant returns one grant.
func (s *Service) GetGrant(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.Grant, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	g, err := s.store.GetGrant(ctx, id)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && !p.CanReadAll() {
			return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may only see your own access")
		}
		return nil, err
	}
	if err := requireSelfOrReadAll(p, g.IdentityID); err != nil {
		return nil, err
	}
	return g, nil
}

// NewGrant is a direct grant by an operator: an exception or emergency, with a reference.
// Everyday access arrives through requests and birthright rules instead.
type NewGrant struct {
	Identity    string                `json:"identity"`    // id, email or employee_id
	Entitlement string                `json:"entitlement"` // entitlement id
	Source      gatehouse.GrantSource `json:"source"`      // default exception
	Reference   string                `json:"reference"`   // ticket or exception id (required)
	Duration    gatehouse.Duration    `json:"duration"`    // 0: the entitlement's max_duration, or none
	Reason      string                `json:"reason"`
}

// CreateGrant records a grant (operators). The entitlement's rules still hold: privileged and
// time-limited entitlements get an expiry no later than max_duration, and an identity cannot
// receive what it already holds, nor anything after termination. CreateGrants records many.
func (s *Service) CreateGrant(ctx context.Context, p *gatehouse.Principal, in NewGrant) (*gatehouse.Grant, error) {
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	if in.Source == "" {
		in.Source = gatehouse.SourceException
	}
	if err := checkNewGrant(in); err != nil {
		return nil, err
	}
	var out *gatehouse.Grant
	err := s.update(ctx, func(tx store.Tx) error {
		b := newGrantBatch(tx, s.now())
		g, err := b.add(ctx, p, in)
		if err != nil {
			return err
		}
		if err := tx.CreateGrant(ctx, g); err != nil {
			return err
		}
		out = g
		ev := s.event(p, "grant.create", "grant", g.ID, nil, g, in.Reason)
		ev.Reference = in.Reference
		return tx.AppendAudit(ctx, ev)
	})
	return out, err
}

// RevokeGrant revokes a grant (operators). The grant row stays, as evidence.
func (s *Service) RevokeGrant(ctx context.Context, p *gatehouse.Principal, id, reason string) (*gatehouse.Grant, error) {
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "reason: say why the access is removed")
	}
	var out *gatehouse.Grant
	err := s.update(ctx, func(tx store.Tx) error {
		before, err := tx.GetGrant(ctx, id)
		if err != nil {
			return err
		}
		if before.RevokedAt != nil {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "grant %s was already revoked at %s", id, before.RevokedAt.Format(time.RFC3339))
		}
		now := s.now()
		if err := tx.RevokeGrant(ctx, id, now, p.Actor(), reason); err != nil {
			return err
		}
		if out, err = tx.GetGrant(ctx, id); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.event(p, "grant.revoke", "grant", id, before, out, reason))
	})
	return out, err
}

// ListAccounts lists observed accounts (readers only).
func (s *Service) ListAccounts(ctx context.Context, p *gatehouse.Principal, f store.AccountFilter) (store.Page[*gatehouse.Account], error) {
	if err := requireReadAll(p); err != nil {
		return store.Page[*gatehouse.Account]{}, err
	}
	return s.store.ListAccounts(ctx, f)
}
