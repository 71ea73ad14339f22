package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/ratelimit"
)

// callFrom calls the API from a client address with a bearer token.
func callFrom(t *testing.T, a *api, remote, token, path string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = remote
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, r)
	return rec
}

// TestFailedAuthenticationsAreRateLimited: an address that guesses tokens gets 429 with a
// Retry-After after the allowed failures, for a right token too; others are not affected; each
// failure is logged with the address and never with the token or a part of it.
func TestFailedAuthenticationsAreRateLimited(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, e.open(t))
			var logs syncBuffer
			lim := ratelimit.New(ratelimit.Options{Burst: 5, Window: time.Minute, Now: f.clock.now})
			a := newAPI(f.svc, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Limiter: lim})
			const attacker, honest = "203.0.113.9:40000", "198.51.100.4:5555"
			guess := gatehouse.NewTokenSecret()

			for i := range 5 {
				if rec := callFrom(t, a, attacker, guess, "/api/v1/me"); rec.Code != http.StatusUnauthorized {
					t.Fatalf("guess %d: status %d, want 401: %s", i+1, rec.Code, rec.Body)
				}
			}
			rec := callFrom(t, a, attacker, guess, "/api/v1/me")
			if rec.Code != http.StatusTooManyRequests {
				t.Fatalf("guess 6: status %d, want 429: %s", rec.Code, rec.Body)
			}
			if s, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || s < 1 || s > 60 {
				t.Errorf("Retry-After %q, want seconds until one more try (about 12)", rec.Header().Get("Retry-After"))
			}
			if !strings.Contains(rec.Body.String(), `"code":"too_many_requests"`) {
				t.Errorf("body %s, want code too_many_requests", rec.Body)
			}
			// A right token from the blocked address is refused too: otherwise the answer would
			// tell the guesser which guess was right.
			if rec := callFrom(t, a, attacker, f.secrets["admin"], "/api/v1/me"); rec.Code != http.StatusTooManyRequests {
				t.Fatalf("right token from the blocked address: %d, want 429", rec.Code)
			}
			// Another address is not affected, and a request with no token is not a failure.
			if rec := callFrom(t, a, honest, f.secrets["user"], "/api/v1/me"); rec.Code != http.StatusOK {
				t.Fatalf("another address: %d, want 200: %s", rec.Code, rec.Body)
			}
			// The allowance refills: one failure every Window/Burst = 12 s.
			f.clock.shift(13 * time.Second)
			if rec := callFrom(t, a, attacker, f.secrets["admin"], "/api/v1/me"); rec.Code != http.StatusOK {
				t.Fatalf("after the refill: %d, want 200: %s", rec.Code, rec.Body)
			}

			out := logs.String()
			if !strings.Contains(out, `"msg":"authentication failed"`) || !strings.Contains(out, `"addr":"203.0.113.9"`) ||
				!strings.Contains(out, `"surface":"api"`) || !strings.Contains(out, `"msg":"authentication blocked: too many failures"`) {
				t.Errorf("logs lack the failure with its address:\n%s", out)
			}
			for _, secret := range []string{guess, guess[:7], guess[3:12], f.secrets["admin"][:7], gatehouse.HashToken(guess)} {
				if strings.Contains(out, secret) {
					t.Errorf("logs contain the token or a part of it (%q):\n%s", secret, out)
				}
			}
		})
	}
}
