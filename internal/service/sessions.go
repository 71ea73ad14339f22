package service

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Web sessions. Signing in to the UI with a token opens a server-side session: the browser's
// cookie carries only a random session id, never the token, so a stolen cookie is worth at
// most one session that ends on its own (idle and absolute timeouts) and at sign-out, and the
// token itself never sits in a browser. A session acts as the token that opened it, and is
// checked against it on every request: revoking the token, its expiry or the termination of
// its identity ends the session at once.

// Default session timeouts (serve --session-idle, --session-max).
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 12 * time.Hour
)

// Why a session ended (Session.EndReason).
const (
	SessionEndSignOut      = "sign-out"
	SessionEndTerminated   = "terminated"
	SessionEndTokenRevoked = "token revoked"
)

// SessionLimits are the timeouts of web sessions; zero fields take the defaults.
type SessionLimits struct {
	// Idle ends a session this long after its last request.
	Idle time.Duration
	// Max ends a session this long after sign-in, however busy.
	Max time.Duration
}

func (l SessionLimits) withDefaults() SessionLimits {
	if l.Idle <= 0 {
		l.Idle = DefaultSessionIdle
	}
	if l.Max <= 0 {
		l.Max = DefaultSessionMax
	}
	return l
}

// OpenedSession is a new session and its secret, which goes into the cookie and is not stored.
type OpenedSession struct {
	Session   *gatehouse.Session
	Secret    string
	Principal *gatehouse.Principal
}

// SignIn checks token and opens a web session for it, from the client address addr (kept as
// evidence). The sign-in is audited. A scoped token (an IdP's SCIM credential) is not a
// person's sign-in and is refused.
func (s *Auth) SignIn(ctx context.Context, token, addr string, lim SessionLimits) (*OpenedSession, error) {
	lim = lim.withDefaults()
	p, err := s.Authenticate(ctx, token)
	if err != nil {
		return nil, err
	}
	if p.Scoped() {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "this token may only be used for SCIM")
	}
	now := s.now()
	secret := gatehouse.NewSessionSecret()
	sess := &gatehouse.Session{
		Hash: gatehouse.HashToken(secret), IdentityID: p.IdentityID, TokenID: p.TokenID, Address: addr,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(lim.Max),
	}
	if p.Bootstrap {
		sess.BootstrapKey = s.bootstrapKey()
	}
	err = s.update(ctx, func(tx store.Tx) error {
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.event(p, gatehouse.AuditSessionCreate, "session", sess.ID, nil, sess, "signed in to the web UI"))
	})
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	return &OpenedSession{Session: sess, Secret: secret, Principal: p}, nil
}

// bootstrapKey identifies the configured bootstrap token in a session row without being a hash
// that could be looked up anywhere: a hash of its hash.
func (s *Auth) bootstrapKey() string {
	if s.bootstrapHash == "" {
		return ""
	}
	return gatehouse.HashToken("session:" + s.bootstrapHash)[:32]
}

// SessionPrincipal returns who the web session with this secret acts for; EUNAUTHORIZED when it
// does not exist, has ended or timed out, or its token no longer works. A request records the
// session's activity for the idle timeout (at most once a minute, off the request path, as for
// tokens), so the idle timeout is exact to about a minute.
func (s *Auth) SessionPrincipal(ctx context.Context, secret string, lim SessionLimits) (*gatehouse.Principal, error) {
	_, p, err := s.session(ctx, secret, lim)
	return p, err
}

func (s *Auth) session(ctx context.Context, secret string, lim SessionLimits) (*gatehouse.Session, *gatehouse.Principal, error) {
	lim = lim.withDefaults()
	if secret == "" {
		return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "sign in first")
	}
	sess, err := s.store.GetSessionByHash(ctx, gatehouse.HashToken(secret))
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "sign in again")
	} else if err != nil {
		return nil, nil, err
	}
	now := s.now()
	switch {
	case sess.EndedAt != nil:
		return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "your session has ended (%s); sign in again", sess.EndReason)
	case !now.Before(sess.ExpiresAt):
		return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "your session has expired; sign in again")
	case now.Sub(sess.LastSeenAt) >= lim.Idle:
		return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "your session timed out after %s without activity; sign in again", lim.Idle)
	}
	var p *gatehouse.Principal
	if sess.Bootstrap() {
		// A session of the bootstrap admin lasts only while that same bootstrap token is set.
		if key := s.bootstrapKey(); key == "" || key != sess.BootstrapKey {
			return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "the bootstrap token has changed; sign in again")
		}
		p = &gatehouse.Principal{Bootstrap: true, Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}}
	} else {
		// The token that opened the session still decides: revoked, expired or its identity
		// terminated, the session ends with it.
		tok, err := s.store.GetToken(ctx, sess.TokenID)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "sign in again")
		} else if err != nil {
			return nil, nil, err
		}
		if !tok.Valid(now) {
			return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "the token you signed in with has expired or was revoked; sign in again")
		}
		id, err := s.store.GetIdentity(ctx, sess.IdentityID)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "sign in again")
		} else if err != nil {
			return nil, nil, err
		}
		if id.Status == gatehouse.StatusTerminated {
			return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "your identity is terminated")
		}
		p = &gatehouse.Principal{IdentityID: id.ID, Email: id.Email, Roles: id.Roles, TokenID: tok.ID, Scopes: tok.Scopes}
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery(lim) {
		go func(id string) {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := s.store.TouchSession(ctx, id, now); err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				s.log.Warn("record session activity", "session", id, "err", err)
			}
		}(sess.ID)
	}
	return sess, p, nil
}

// sessionTouchEvery is how stale a session's last activity may get before a request records
// it: a minute, or a tenth of a short idle timeout.
func sessionTouchEvery(lim SessionLimits) time.Duration {
	return min(time.Minute, lim.Idle/10)
}

// SignOut ends the web session with this secret (audited). A session that has already ended
// or timed out needs nothing: it is not valid anyway.
func (s *Auth) SignOut(ctx context.Context, secret string, lim SessionLimits) error {
	sess, p, err := s.session(ctx, secret, lim)
	if gatehouse.ErrorCode(err) == gatehouse.EUNAUTHORIZED {
		return nil
	} else if err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		now := s.now()
		if err := tx.EndSession(ctx, sess.ID, now, SessionEndSignOut); err != nil {
			if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
				return nil // signed out twice at once; the first one is audited
			}
			return err
		}
		after, err := tx.GetSession(ctx, sess.ID)
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.event(p, gatehouse.AuditSessionEnd, "session", sess.ID, sess, after, "signed out"))
	})
}

// endSessionsOfToken ends, in tx, the sessions a revoked token opened, each audited.
func (s *Auth) endSessionsOfToken(ctx context.Context, tx store.Tx, p *gatehouse.Principal, tokenID string, now time.Time) error {
	ended, err := tx.EndSessionsOfToken(ctx, tokenID, now, SessionEndTokenRevoked)
	if err != nil {
		return err
	}
	for _, se := range ended {
		before := *se
		before.EndedAt, before.EndReason = nil, ""
		if err := tx.AppendAudit(ctx, s.event(p, gatehouse.AuditSessionEnd, "session", se.ID, &before, se, "the token that opened it was revoked")); err != nil {
			return err
		}
	}
	return nil
}
