package service

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The bootstrap token (GATEHOUSE_BOOTSTRAP_TOKEN) is an admin credential that belongs to no
// identity, for creating the first people and tokens. It is the one credential Gatehouse does
// not issue: nobody chose how strong it is, it never expires, and termination cannot revoke it.
// So it must be long, every use is logged (with the client's address, never the secret) and
// audited as "bootstrap", and serve warns (at start and every interval) while it is set although
// an admin has a token of their own (BootstrapRedundant).

// MinBootstrapTokenLength is the shortest bootstrap token serve accepts, in characters.
const MinBootstrapTokenLength = 32

// CheckBootstrapToken says what is wrong with a bootstrap token, or returns nil. The empty
// string (no bootstrap token) is fine.
func CheckBootstrapToken(secret string) error {
	if secret == "" {
		return nil
	}
	if n := utf8.RuneCountInString(secret); n < MinBootstrapTokenLength {
		return fmt.Errorf("GATEHOUSE_BOOTSTRAP_TOKEN is %d characters long; it must be at least %d (for example: openssl rand -hex 32)",
			n, MinBootstrapTokenLength)
	}
	if strings.TrimSpace(secret) != secret {
		return fmt.Errorf("GATEHOUSE_BOOTSTRAP_TOKEN starts or ends with white space, which no client can send")
	}
	return nil
}

// bootstrapAuditEvery bounds the bootstrap.use events: one per client host this often, so that
// a script making a hundred calls writes one event, not a hundred.
const bootstrapAuditEvery = time.Minute

// bootstrapUses remembers when each client address last had its bootstrap use audited.
type bootstrapUses struct {
	sync.Mutex
	last map[string]time.Time
}

type clientAddrKey struct{}

// WithClientAddr returns ctx carrying the address of the client a request came from (the
// server sets it per connection), which the log and audit of bootstrap use name.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// clientAddr returns the client address ctx carries, or "".
func clientAddr(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

// bootstrapUsed logs every use of the bootstrap token and audits it (actor "bootstrap", at most
// once per client host per bootstrapAuditEvery). An error means the use could not be
// audited: the caller refuses it rather than let the master key act unrecorded.
func (s *Auth) bootstrapUsed(ctx context.Context) error {
	addr := clientAddr(ctx)
	if addr != "" {
		s.log.WarnContext(ctx, "bootstrap token used", "client", addr)
	} else {
		s.log.WarnContext(ctx, "bootstrap token used") // in-process, no connection
	}
	// Throttled per host, not per connection: each CLI call comes from a new port.
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	now := s.now()
	s.bootstrap.Lock()
	if s.bootstrap.last == nil {
		s.bootstrap.last = map[string]time.Time{}
	}
	last, seen := s.bootstrap.last[host]
	due := !seen || now.Sub(last) >= bootstrapAuditEvery
	if due {
		s.bootstrap.last[host] = now
		if len(s.bootstrap.last) > 10000 { // addresses come and go; the map must not grow forever
			clear(s.bootstrap.last)
			s.bootstrap.last[host] = now
		}
	}
	s.bootstrap.Unlock()
	if !due {
		return nil
	}
	p := &gatehouse.Principal{Bootstrap: true, Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}}
	err := s.update(ctx, func(tx store.Tx) error {
		ev := s.event(p, gatehouse.AuditBootstrapUse, "token", "bootstrap", nil, map[string]string{"client": addr},
			"GATEHOUSE_BOOTSTRAP_TOKEN used")
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		s.bootstrap.Lock()
		delete(s.bootstrap.last, host)
		s.bootstrap.Unlock()
		return fmt.Errorf("audit bootstrap token use: %w", err)
	}
	return nil
}

// BootstrapRedundant returns the email of an active admin holding a live token, or "" when
// there is none: while there is one, the bootstrap token is no longer needed and should be
// unset. Admins are few, so this reads each one's tokens.
func (s *Auth) BootstrapRedundant(ctx context.Context) (string, error) {
	now := s.now()
	f := gatehouse.IdentityFilter{Role: gatehouse.RoleAdmin, Status: gatehouse.StatusActive, Limit: gatehouse.MaxLimit}
	for {
		page, err := s.store.ListIdentities(ctx, f)
		if err != nil {
			return "", fmt.Errorf("list admins: %w", err)
		}
		for _, id := range page.Items {
			toks, err := s.store.ListTokens(ctx, gatehouse.TokenFilter{IdentityID: id.ID})
			if err != nil {
				return "", fmt.Errorf("tokens of %s: %w", id.Email, err)
			}
			for _, t := range toks {
				if t.Valid(now) && len(t.Scopes) == 0 {
					return id.Email, nil
				}
			}
		}
		if page.NextCursor == "" {
			return "", nil
		}
		f.Cursor = page.NextCursor
	}
}
