package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/ratelimit"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/web"
)

var sessionEngines = []struct {
	name string
	open func(testing.TB) store.Store
}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}}

// testClock is a settable clock shared by the service and the limiter.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// sessionFixture is the UI over a fresh database with an injected clock, 30 minutes of idle
// timeout and 2 hours of absolute timeout, and at most 3 failed sign-ins per address at once.
type sessionFixture struct {
	st      store.Store
	svc     *service.Service
	clock   *testClock
	h       http.Handler
	logs    *logBuffer
	ids     map[string]*gatehouse.Identity
	tokens  map[string]*service.CreatedToken
	address string
}

func newSessionFixture(t *testing.T, open func(testing.TB) store.Store, opts web.Options) *sessionFixture {
	t.Helper()
	ctx := context.Background()
	st := open(t)
	f := &sessionFixture{st: st, clock: &testClock{t: time.Now().UTC()}, logs: &logBuffer{},
		ids: map[string]*gatehouse.Identity{}, tokens: map[string]*service.CreatedToken{}, address: "203.0.113.20:4444"}
	f.svc = service.New(st, service.Options{Now: f.clock.now, Logger: slog.New(slog.DiscardHandler)})
	sys := service.SystemPrincipal("test")
	for _, who := range []string{"alice", "admin"} {
		id, err := f.svc.CreateIdentity(ctx, sys, &gatehouse.Identity{EmployeeID: "E-" + who, Email: who + "@example.com",
			FirstName: who, LastName: "Tester"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if who == "admin" {
			if id, err = f.svc.SetRoles(ctx, sys, id.ID, []gatehouse.AccessRole{gatehouse.RoleAdmin}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		f.ids[who] = id
		if f.tokens[who], err = f.svc.CreateToken(ctx, sys, service.NewToken{For: id.Email}); err != nil {
			t.Fatal(err)
		}
	}
	opts.Logger = slog.New(slog.NewTextHandler(f.logs, nil))
	if opts.Sessions == (service.SessionLimits{}) {
		opts.Sessions = service.SessionLimits{Idle: 30 * time.Minute, Max: 2 * time.Hour}
	}
	if opts.Limiter == nil {
		opts.Limiter = ratelimit.New(ratelimit.Options{Burst: 3, Window: time.Hour, Now: f.clock.now})
	}
	h, err := web.New(f.svc, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return f
}

func (f *sessionFixture) serve(r *http.Request) *http.Response {
	if r.RemoteAddr == "192.0.2.1:1234" { // httptest's default
		r.RemoteAddr = f.address
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	return rec.Result()
}

// signIn posts the sign-in form with token and returns the answer.
func (f *sessionFixture) signIn(token string) *http.Response {
	return f.serve(postForm("/login", url.Values{"token": {token}, "next": {"/"}}))
}

// sessionCookie signs in as who and returns the session cookie.
func (f *sessionFixture) sessionCookie(t *testing.T, who string) *http.Cookie {
	t.Helper()
	res := f.signIn(f.tokens[who].Secret)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d", who, res.StatusCode)
	}
	for _, c := range res.Cookies() {
		if c.Name == "gatehouse_session" && c.Value != "" {
			return c
		}
	}
	t.Fatalf("sign in as %s: no session cookie", who)
	return nil
}

// home opens / with cookie: 200 when the session is valid, 303 to the sign-in form when not.
func (f *sessionFixture) home(c *http.Cookie) *http.Response {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(c)
	return f.serve(req)
}

func wantSignedIn(t *testing.T, res *http.Response, when string) {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d (Location %q), want 200 signed in", when, res.StatusCode, res.Header.Get("Location"))
	}
}

func wantSignedOut(t *testing.T, res *http.Response, when string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("%s: status %d (Location %q), want a redirect to the sign-in form", when, res.StatusCode, res.Header.Get("Location"))
	}
}

// sessionOf returns the stored session behind a cookie.
func (f *sessionFixture) sessionOf(t *testing.T, c *http.Cookie) *gatehouse.Session {
	t.Helper()
	s, err := f.st.GetSessionByHash(context.Background(), gatehouse.HashToken(c.Value))
	if err != nil {
		t.Fatalf("stored session: %v", err)
	}
	return s
}

// waitSeen waits until the session's recorded activity reaches at (it is recorded off the
// request path).
func (f *sessionFixture) waitSeen(t *testing.T, c *http.Cookie, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !f.sessionOf(t, c).LastSeenAt.Before(at.Truncate(time.Microsecond)) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("session activity at %v was never recorded", at)
}

// TestSessionCookieIsNotTheToken: signing in opens a server-side session; the cookie holds a
// random id, never the token, and the store holds only the id's hash.
func TestSessionCookieIsNotTheToken(t *testing.T) {
	t.Parallel()
	for _, e := range sessionEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f := newSessionFixture(t, e.open, web.Options{})
			token := f.tokens["alice"].Secret
			res := f.signIn(token)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d", res.StatusCode)
			}
			set := strings.Join(res.Header.Values("Set-Cookie"), "\n")
			for _, leak := range []string{token, token[:7], token[3:], base64.RawURLEncoding.EncodeToString([]byte(token)),
				gatehouse.HashToken(token)} {
				if strings.Contains(set, leak) {
					t.Fatalf("Set-Cookie carries the token (%q): %s", leak, set)
				}
			}
			c := res.Cookies()[0]
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP", c)
			}
			s := f.sessionOf(t, c)
			if s.IdentityID != f.ids["alice"].ID || s.TokenID != f.tokens["alice"].Token.ID || s.Hash == gatehouse.HashToken(token) ||
				s.Address != "203.0.113.20" {
				t.Errorf("stored session %+v", s)
			}
			wantSignedIn(t, f.home(c), "with the session cookie")
			// The token itself is no session.
			wantSignedOut(t, f.home(&http.Cookie{Name: "gatehouse_session", Value: token}), "the token as a cookie")
			// The sign-in is audited.
			page, err := f.st.ListAuditEvents(context.Background(), gatehouse.AuditFilter{Action: "session.create"})
			if err != nil || len(page.Items) != 1 || page.Items[0].ObjectID != s.ID || page.Items[0].Actor != "alice@example.com" {
				t.Fatalf("audit of the sign-in: %v %+v", err, page.Items)
			}
		})
	}
}

// TestSessionTimeouts: a session ends after 30 minutes without a request, and 2 hours after
// sign-in however busy (injected clock).
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	for _, e := range sessionEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f := newSessionFixture(t, e.open, web.Options{})

			// Idle: each request moves the idle deadline.
			idle := f.sessionCookie(t, "alice")
			f.clock.advance(29 * time.Minute)
			wantSignedIn(t, f.home(idle), "29 minutes after sign-in")
			f.waitSeen(t, idle, f.clock.now())
			f.clock.advance(29 * time.Minute)
			wantSignedIn(t, f.home(idle), "58 minutes after sign-in, 29 after the last request")
			f.waitSeen(t, idle, f.clock.now())
			f.clock.advance(31 * time.Minute)
			wantSignedOut(t, f.home(idle), "31 minutes without a request")

			// Absolute: a session used every 20 minutes still ends 2 hours after sign-in.
			busy := f.sessionCookie(t, "admin")
			for range 5 {
				f.clock.advance(20 * time.Minute)
				wantSignedIn(t, f.home(busy), "a busy session within its 2 hours")
				f.waitSeen(t, busy, f.clock.now())
			}
			f.clock.advance(20 * time.Minute)
			wantSignedOut(t, f.home(busy), "2 hours after sign-in")
		})
	}
}

// TestSignOutEndsSession: after sign-out the old cookie is worthless (a copy of it too).
func TestSignOutEndsSession(t *testing.T) {
	t.Parallel()
	for _, e := range sessionEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f := newSessionFixture(t, e.open, web.Options{})
			c := f.sessionCookie(t, "alice")
			wantSignedIn(t, f.home(c), "signed in")
			req := httptest.NewRequest(http.MethodPost, "/logout", nil)
			req.AddCookie(c)
			if res := f.serve(req); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-out: %d", res.StatusCode)
			}
			wantSignedOut(t, f.home(c), "the old cookie after sign-out")
			s := f.sessionOf(t, c)
			if s.EndedAt == nil || s.EndReason != service.SessionEndSignOut {
				t.Fatalf("stored session after sign-out: %+v", s)
			}
			page, err := f.st.ListAuditEvents(context.Background(), gatehouse.AuditFilter{Action: "session.end", ObjectID: s.ID})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("audit of the sign-out: %v %v", err, page.Items)
			}
			// The token still works: signing out ends the session, not the token.
			wantSignedIn(t, f.home(f.sessionCookie(t, "alice")), "signed in again")
		})
	}
}

// TestTerminationAndTokenRevocationEndSessions: terminating the identity ends its sessions in
// the same transaction (and a rehire does not bring them back); revoking the token that opened
// a session ends it too.
func TestTerminationAndTokenRevocationEndSessions(t *testing.T) {
	t.Parallel()
	for _, e := range sessionEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f := newSessionFixture(t, e.open, web.Options{})
			ctx := context.Background()
			sys := service.SystemPrincipal("test")

			c := f.sessionCookie(t, "alice")
			terminated, active := gatehouse.StatusTerminated, gatehouse.StatusActive
			if _, err := f.svc.UpdateIdentity(ctx, sys, "alice@example.com", service.IdentityPatch{Status: &terminated}, "left"); err != nil {
				t.Fatal(err)
			}
			if s := f.sessionOf(t, c); s.EndedAt == nil || s.EndReason != service.SessionEndTerminated {
				t.Fatalf("session after termination: %+v", s)
			}
			wantSignedOut(t, f.home(c), "after termination")
			if _, err := f.svc.UpdateIdentity(ctx, sys, "alice@example.com", service.IdentityPatch{Status: &active}, "rehired"); err != nil {
				t.Fatal(err)
			}
			wantSignedOut(t, f.home(c), "after a rehire")

			a := f.sessionCookie(t, "admin")
			if _, err := f.svc.RevokeToken(ctx, sys, f.tokens["admin"].Token.ID); err != nil {
				t.Fatal(err)
			}
			if s := f.sessionOf(t, a); s.EndedAt == nil || s.EndReason != service.SessionEndTokenRevoked {
				t.Fatalf("session after its token was revoked: %+v", s)
			}
			wantSignedOut(t, f.home(a), "after the token was revoked")
		})
	}
}

// TestSignInRateLimited: an address that tries wrong tokens at the sign-in form gets 429 with
// Retry-After, a right token included; the log has the address and not the token.
func TestSignInRateLimited(t *testing.T) {
	t.Parallel()
	for _, e := range sessionEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f := newSessionFixture(t, e.open, web.Options{})
			guess := gatehouse.NewTokenSecret()
			for i := range 3 {
				if res := f.signIn(guess); res.StatusCode != http.StatusUnauthorized {
					t.Fatalf("guess %d: %d, want 401", i+1, res.StatusCode)
				}
			}
			for _, tok := range []string{guess, f.tokens["alice"].Secret} {
				res := f.signIn(tok)
				if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || len(res.Cookies()) != 0 {
					t.Fatalf("blocked address: %d, Retry-After %q, cookies %v; want 429, Retry-After, no cookie",
						res.StatusCode, res.Header.Get("Retry-After"), res.Cookies())
				}
			}
			// Someone else signs in from another address.
			f.address = "198.51.100.30:5555"
			if res := f.signIn(f.tokens["alice"].Secret); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("another address: %d", res.StatusCode)
			}
			out := f.logs.String()
			if !strings.Contains(out, "authentication failed") || !strings.Contains(out, "addr=203.0.113.20") || !strings.Contains(out, "surface=web") {
				t.Errorf("logs lack the failure with its address:\n%s", out)
			}
			for _, s := range []string{guess, guess[:7], gatehouse.HashToken(guess), f.tokens["alice"].Secret} {
				if strings.Contains(out, s) {
					t.Errorf("logs contain a token or a part of it (%q):\n%s", s, out)
				}
			}
		})
	}
}

// TestSecureCookie: with an https public URL the server marks the session cookie Secure even
// on plain HTTP behind a TLS-terminating proxy (serve sets SecureCookie from --public-url).
func TestSecureCookie(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t, storetest.OpenSQLite, web.Options{SecureCookie: true})
	c := f.sessionCookie(t, "alice")
	if !c.Secure || !c.HttpOnly {
		t.Fatalf("cookie %+v: want Secure and HttpOnly", c)
	}
}

// TestEmployeeSystemPageHidesConnectorSettings: the system page shows an employee the
// connector's type but not its settings; readers see them.
func TestEmployeeSystemPageHidesConnectorSettings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res, body := f.get(t, "alice", "/catalog/systems/corp-ldap")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "manual")
	wantNotContains(t, body, "Connector settings", "assignee")
	res, body = f.get(t, "auditor", "/catalog/systems/corp-ldap")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Connector settings", "assignee")
}
