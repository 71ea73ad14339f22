package gatehouse

import (
	"crypto/rand"
	"encoding/base64"
	"time"
)

// Session is a web UI sign-in: a browser that presented a token once and now carries only a
// random session id in its cookie. Only the SHA-256 hash of that id is stored (HashToken), as
// for tokens. A session acts as the token that opened it, and ends at sign-out, after its idle
// or absolute timeout, when that token is revoked or expires, or when its identity is
// terminated.
type Session struct {
	ID         string `json:"id"`
	Hash       string `json:"-"`
	IdentityID string `json:"identity_id,omitempty"` // "" for the bootstrap admin
	// TokenID is the token that opened the session ("" for the bootstrap admin).
	TokenID string `json:"token_id,omitempty"`
	// BootstrapKey identifies, for a bootstrap admin's session, the bootstrap token that opened
	// it (a hash of its hash): setting another bootstrap token ends such sessions.
	BootstrapKey string     `json:"-"`
	Address      string     `json:"address,omitempty"` // the client address at sign-in
	CreatedAt    time.Time  `json:"created_at"`
	LastSeenAt   time.Time  `json:"last_seen_at"`
	ExpiresAt    time.Time  `json:"expires_at"` // the absolute timeout
	EndedAt      *time.Time `json:"ended_at,omitempty"`
	EndReason    string     `json:"end_reason,omitempty"` // sign-out, terminated, token revoked
}

// Bootstrap reports whether the bootstrap admin opened the session.
func (s *Session) Bootstrap() bool { return s.BootstrapKey != "" }

// SessionPrefix starts every session id, so a leaked one is recognisable for what it is.
const SessionPrefix = "ghs_"

// NewSessionSecret returns a fresh random session id (256 bits), for the cookie.
func NewSessionSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("gatehouse: no randomness: " + err.Error())
	}
	return SessionPrefix + base64.RawURLEncoding.EncodeToString(b)
}
