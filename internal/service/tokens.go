package service

import (
	"context"
	"crypto/subtle"
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

// TokenRequest is the body of POST /api/v1/tokens, as the API takes it and the client sends it.
// TTL is text ("720h", "30d") because that is what people type; NewToken turns it into the
// NewToken the service takes.
type TokenRequest struct {
	For         string   `json:"for,omitempty"` // id, email or employee_id; "" means the caller
	TTL         string   `json:"ttl,omitempty"` // default 720h
	Description string   `json:"description,omitempty"`
	Scopes      []string `json:"scopes,omitempty"` // admins only: "scim" makes a SCIM client's credential
}

// NewToken checks the request's TTL and returns what CreateToken takes.
func (in TokenRequest) NewToken() (NewToken, error) {
	var ttl time.Duration
	if in.TTL != "" {
		d, err := gatehouse.ParseDuration(in.TTL)
		if err != nil {
			return NewToken{}, gatehouse.Errorf(gatehouse.EINVALID, "ttl: %v", err)
		}
		if d == 0 {
			return NewToken{}, gatehouse.Errorf(gatehouse.EINVALID, "ttl: must be longer than 0s (omit it for the default %s)", DefaultTokenTTL)
		}
		ttl = time.Duration(d)
	}
	return NewToken{For: in.For, TTL: ttl, Description: in.Description, Scopes: in.Scopes}, nil
}

// CreatedToken carries the secret, which is shown this once and never stored.
type CreatedToken struct {
	Token  *gatehouse.Token `json:"token"`
	Secret string           `json:"secret"`
}

// CreateToken issues a token. Admins issue tokens for anyone; every identity may issue tokens
// for itself (for the CLI), which carry its own roles and no more.
func (s *Auth) CreateToken(ctx context.Context, p *gatehouse.Principal, in NewToken) (*CreatedToken, error) {
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
func (s *Auth) ListTokens(ctx context.Context, p *gatehouse.Principal, identity string, includeRevoked bool) ([]*gatehouse.Token, error) {
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
func (s *Auth) RevokeToken(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.Token, error) {
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

// Authenticate turns a bearer token into a Principal. A token of a terminated identity no longer
// works: leaving the company ends Gatehouse access too.
func (s *Auth) Authenticate(ctx context.Context, secret string) (*gatehouse.Principal, error) {
	if secret == "" {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "a bearer token is required")
	}
	hash := gatehouse.HashToken(secret)
	if s.bootstrapHash != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(s.bootstrapHash)) == 1 {
		// Logged and audited (bootstrap.go); a use that cannot be audited is refused.
		if err := s.bootstrapUsed(ctx); err != nil {
			return nil, err
		}
		return &gatehouse.Principal{Bootstrap: true, Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}}, nil
	}
	tok, err := s.store.GetTokenByHash(ctx, hash)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "invalid token")
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if !tok.Valid(now) {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "token expired or revoked")
	}
	id, err := s.store.GetIdentity(ctx, tok.IdentityID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "the token's identity no longer exists")
	} else if err != nil {
		return nil, err
	}
	if id.Status == gatehouse.StatusTerminated {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "the token's identity is terminated")
	}
	// Recording use is best effort and off the request path: on SQLite it waits for the single
	// writer, and a long import must not stall every signed-in request.
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > time.Minute {
		go func(id string) {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := s.store.TouchToken(ctx, id, now); err != nil {
				s.log.Warn("record token use", "token", id, "err", err)
			}
		}(tok.ID)
	}
	return &gatehouse.Principal{
		IdentityID: id.ID, Email: id.Email, Roles: id.Roles, TokenID: tok.ID, Scopes: tok.Scopes,
	}, nil
}
