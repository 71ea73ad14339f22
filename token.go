package gatehouse

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// TokenPrefix starts every token Gatehouse issues, so secret scanners can find leaked ones.
const TokenPrefix = "gh_"

// Token is an API token. Only its SHA-256 hash is stored; the secret is shown once at creation.
type Token struct {
	ID          string     `json:"id"`
	IdentityID  string     `json:"identity_id"`
	Description string     `json:"description,omitempty"`
	Hash        string     `json:"-"`
	Hint        string     `json:"hint"` // the first characters, to tell tokens apart
	Scopes      []string   `json:"scopes,omitempty"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// Valid reports whether the token may be used at time now.
func (t *Token) Valid(now time.Time) bool {
	if t.RevokedAt != nil {
		return false
	}
	return t.ExpiresAt == nil || now.Before(*t.ExpiresAt)
}

// NewTokenSecret returns a fresh random token secret (160 bits).
func NewTokenSecret() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("gatehouse: no randomness: " + err.Error())
	}
	return TokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// HashToken is how a token secret is stored and looked up. A plain SHA-256 is right here: the
// secrets are random with 160 bits, so there is nothing for a slow hash to protect.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// TokenHint is the part of a secret that may be shown and stored in plain text.
func TokenHint(secret string) string {
	if len(secret) > 7 {
		return secret[:7] + "…"
	}
	return "…"
}

// Token scopes. A token without scopes acts for its identity everywhere a person may act (API,
// CLI, UI). A token with scopes may do only what they name: ScopeSCIM is the SCIM service
// provider at /scim/v2, for an IdP or HR system pushing people in; such a token cannot call the
// API or sign in to the UI.
const ScopeSCIM = "scim"

// KnownScopes lists the scopes a token may carry.
var KnownScopes = []string{ScopeSCIM}

// Principal is who is calling: the identity behind a token, with its Gatehouse roles, or the
// bootstrap admin.
type Principal struct {
	IdentityID string       `json:"identity_id,omitempty"`
	Email      string       `json:"email,omitempty"`
	Roles      []AccessRole `json:"roles"`
	TokenID    string       `json:"token_id,omitempty"`
	Bootstrap  bool         `json:"bootstrap,omitempty"`
	Scopes     []string     `json:"scopes,omitempty"`
}

// Actor is how the principal appears in audit events.
func (p *Principal) Actor() string {
	switch {
	case p == nil:
		return "anonymous"
	case p.Bootstrap:
		return "bootstrap"
	case p.Email != "":
		return p.Email
	}
	return "identity:" + p.IdentityID
}

// Has reports whether the principal holds role r. Admin implies every role.
func (p *Principal) Has(r AccessRole) bool {
	if p == nil {
		return false
	}
	for _, have := range p.Roles {
		if have == r || have == RoleAdmin {
			return true
		}
	}
	return false
}

// CanReadAll reports whether the principal may read everything (admin, operator, auditor).
func (p *Principal) CanReadAll() bool {
	return p.Has(RoleAdmin) || p.Has(RoleOperator) || p.Has(RoleAuditor)
}

// HasScope reports whether the principal's token carries scope s.
func (p *Principal) HasScope(s string) bool { return p != nil && slices.Contains(p.Scopes, s) }

// Scoped reports whether the principal's token is limited to its scopes (it has any): such a
// token may not use the API or the UI.
func (p *Principal) Scoped() bool { return p != nil && len(p.Scopes) > 0 }
