package scimserver_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/ratelimit"
	"github.com/gatehouse/gatehouse/internal/scimserver"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSCIMFailedAuthenticationsAreRateLimited: a client address guessing SCIM tokens gets 429
// with Retry-After after the allowed failures, a right token included; the log names the
// address and never the token.
func TestSCIMFailedAuthenticationsAreRateLimited(t *testing.T) {
	t.Parallel()
	for _, e := range scimEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, e.open(t))
			var logs lockedBuffer
			h := scimserver.New(f.svc, scimserver.Options{
				Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
				Limiter: ratelimit.New(ratelimit.Options{Burst: 3, Window: time.Hour}),
			})
			call := func(remote, token string) *httptest.ResponseRecorder {
				r := httptest.NewRequest(http.MethodGet, "/scim/v2/Users", nil)
				r.RemoteAddr = remote
				r.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				return rec
			}
			guess := gatehouse.NewTokenSecret()
			for i := range 3 {
				if rec := call("203.0.113.50:1234", guess); rec.Code != http.StatusUnauthorized {
					t.Fatalf("guess %d: %d, want 401: %s", i+1, rec.Code, rec.Body)
				}
			}
			for _, tok := range []string{guess, f.okta} {
				rec := call("203.0.113.50:1234", tok)
				if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
					t.Fatalf("blocked address: %d, Retry-After %q; want 429 with Retry-After: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
				}
				if !strings.Contains(rec.Body.String(), `"status":"429"`) {
					t.Errorf("not a SCIM error body: %s", rec.Body)
				}
			}
			if rec := call("198.51.100.7:1234", f.okta); rec.Code != http.StatusOK {
				t.Fatalf("another address: %d, want 200: %s", rec.Code, rec.Body)
			}
			out := logs.String()
			if !strings.Contains(out, "authentication failed") || !strings.Contains(out, "addr=203.0.113.50") || !strings.Contains(out, "surface=scim") {
				t.Errorf("logs lack the failure with its address:\n%s", out)
			}
			for _, s := range []string{guess, guess[:7], gatehouse.HashToken(guess), f.okta[:7]} {
				if strings.Contains(out, s) {
					t.Errorf("logs contain the token or a part of it (%q):\n%s", s, out)
				}
			}
		})
	}
}
