package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// DefaultTokenTTL is the lifetime of a token created without one.
const DefaultTokenTTL = 720 * time.Hour

// MaxTokenTTL bounds token lifetimes: a forgotten token must die on its own.
const MaxTokenTTL = 366 * 24 * time.Hour

// NewToken asks for a token.
type NewToken struct {
	For         string        `json:"for"` // id, email or employee_id; "" means the caller
	TTL         time.Duration `json:"-"`
	Description string        `json:"description"`
	Scopes      []string      `json:"scopes,omitempty"`
}

// CreatedToken carries the secret, which is shown this once and never stored.
type CreatedToken struct {
	Token  *gatehouse.Token `json:"token"`
	Secret string           `json:"secret"`
}

// CreateToken issues a token. Admins issue tokens for anyone; every identity may issue tokens
// for itself (for the CLI), which carry its own roles and no more.
func (s *Service) CreateToken(ctx context.Context, p *gatehouse.Principal, in NewToken) (*CreatedToken, error) {
	if err := checkTexts(idText("for", in.For), descriptionText("description", in.Description)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	if in.For == "" {
		if p.IdentityID == "" {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "for: the bootstrap admin has no identity; name the identity the token is for")
		}
		in.For = p.IdentityID
	}
	if in.TTL == 0 {
		in.TTL = DefaultTokenTTL
	}
	if in.TTL < 0 || in.TTL > MaxTokenTTL {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "ttl: %s is outside 1s..%s", in.TTL, MaxTokenTTL)
	}
	// A scoped token is an identity source's credential (a SCIM client), not a person's: only
	// an admin hands one out.
	for _, sc := range in.Scopes {
		if !slices.Contains(gatehouse.KnownScopes, sc) {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "scopes: %q is not one of %s", sc, strings.Join(gatehouse.KnownScopes, ", "))
		}
	}
	if len(in.Scopes) > 0 && !p.Has(gatehouse.RoleAdmin) {
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin may create a token with scopes")
	}
	if p.Scoped() {
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "this token may only be used for SCIM")
	}
	var out *CreatedToken
	err := s.update(ctx, func(tx store.Tx) error {
		id, err := tx.GetIdentity(ctx, in.For)
		if err != nil {
			return err
		}
		if id.ID != p.IdentityID && !p.Has(gatehouse.RoleAdmin) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin may create tokens for someone else")
		}
		if id.Status == gatehouse.StatusTerminated {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is terminated; no tokens for leavers", id.Email)
		}
		now := s.now()
		secret := gatehouse.NewTokenSecret()
		exp := now.Add(in.TTL)
		t := &gatehouse.Token{
			IdentityID: id.ID, Description: in.Description, Hash: gatehouse.HashToken(secret),
			Hint: gatehouse.TokenHint(secret), Scopes: in.Scopes, CreatedBy: p.Actor(), CreatedAt: now, ExpiresAt: &exp,
		}
		if err := tx.CreateToken(ctx, t); err != nil {
			return err
		}
		out = &CreatedToken{Token: t, Secret: secret}
		ev := s.event(p, gatehouse.AuditTokenCreate, "token", t.ID, nil, t, in.Description)
		ev.Reference = id.Email
		return tx.AppendAudit(ctx, ev)
	})
	return out, err
}

// ListTokens lists tokens: an admin sees all (or one identity's), others their own.
func (s *Service) ListTokens(ctx context.Context, p *gatehouse.Principal, identity string, includeRevoked bool) ([]*gatehouse.Token, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	f := gatehouse.TokenFilter{IncludeRevoked: includeRevoked}
	switch {
	case p.Has(gatehouse.RoleAdmin):
		if identity != "" {
			id, err := s.store.GetIdentity(ctx, identity)
			if err != nil {
				return nil, err
			}
			f.IdentityID = id.ID
		}
	default:
		if identity != "" {
			if err := s.requireSelf(ctx, p, identity); err != nil {
				return nil, err
			}
		}
		if p.IdentityID == "" {
			return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "no identity")
		}
		f.IdentityID = p.IdentityID
	}
	return s.store.ListTokens(ctx, f)
}

// RevokeToken revokes a token: admins any, others their own.
func (s *Service) RevokeToken(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.Token, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	var out *gatehouse.Token
	err := s.update(ctx, func(tx store.Tx) error {
		before, err := tx.GetToken(ctx, id)
		if err != nil {
			return err
		}
		if before.IdentityID != p.IdentityID && !p.Has(gatehouse.RoleAdmin) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin may revoke someone else's token")
		}
		if before.RevokedAt != nil {
			out = before
			return nil
		}
		if err := tx.RevokeToken(ctx, id, s.now()); err != nil {
			return err
		}
		// The web sessions it opened end with it (sessions.go).
		if err := s.endSessionsOfToken(ctx, tx, p, id, s.now()); err != nil {
			return err
		}
		if out, err = tx.GetToken(ctx, id); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.event(p, gatehouse.AuditTokenRevoke, "token", id, before, out, ""))
	})
	return out, err
}
