package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// brokenStore fails or panics on listing identities, the way a database or a bug would.
type brokenStore struct {
	store.Store
	panics bool
}

func (b brokenStore) ListIdentities(context.Context, gatehouse.IdentityFilter) (gatehouse.Page[*gatehouse.Identity], error) {
	if b.panics {
		panic("boom")
	}
	return gatehouse.Page[*gatehouse.Identity]{}, errors.New(`pq: relation "identities" does not exist at /var/lib/db`)
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogging checks that requests are logged by route without secrets, and that internal
// errors and panics are logged in full but answered with a generic message.
func TestLogging(t *testing.T) {
	t.Parallel()
	base := newFixture(t, engines[0].open(t))
	for _, panics := range []bool{false, true} {
		var logs syncBuffer
		log := slog.New(slog.NewJSONHandler(&logs, nil))
		a := newAPI(service.New(brokenStore{Store: base.st, panics: panics}, service.Options{BootstrapToken: bootstrapSecret}), Options{Logger: log})
		f := *base
		f.api = a

		ans := must(t, f.as(t, "auditor", "GET", "/api/v1/identities?department=Engineering", ""), http.StatusInternalServerError)
		if e := ans.errorOf(t); e.Code != "internal" || e.Message != "internal error" {
			t.Errorf("panics=%v: answer %+v; want a generic internal error", panics, e)
		}
		must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: bootstrapSecret}), http.StatusOK)
		must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: "gh_wrong-secret"}), http.StatusUnauthorized)

		text := logs.String()
		wantCause := "does not exist"
		if panics {
			wantCause = "boom"
		}
		for _, want := range []string{wantCause, `"route":"/api/v1/identities"`, `"status":500`, `"method":"GET"`,
			`"route":"/api/v1/me"`, `"status":401`, `"actor":"auditor@example.com"`} {
			if !strings.Contains(text, want) {
				t.Errorf("panics=%v: log lacks %s:\n%s", panics, want, text)
			}
		}
		for _, secret := range []string{base.secrets["auditor"], bootstrapSecret, "gh_wrong-secret"} {
			if strings.Contains(text, secret) {
				t.Errorf("panics=%v: a token is in the log:\n%s", panics, text)
			}
		}
		if strings.Contains(string(ans.body), "does not exist") || strings.Contains(string(ans.body), "boom") {
			t.Errorf("panics=%v: the cause leaks to the client: %s", panics, ans.body)
		}
	}
}

// TestAbandonedRequestIsNotAnError: a request whose client hung up fails in the store with the
// context's error; that is logged as an abandoned request (info, status 499), not as a server
// failure at level ERROR.
func TestAbandonedRequestIsNotAnError(t *testing.T) {
	t.Parallel()
	base := newFixture(t, engines[0].open(t))
	var logs syncBuffer
	f := *base
	f.api = newAPI(service.New(base.st, service.Options{BootstrapToken: bootstrapSecret}), Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := httptest.NewRequestWithContext(ctx, "GET", "/api/v1/identities", nil)
	r.Header.Set("Authorization", "Bearer "+base.secrets["auditor"])
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	if w.Code != statusClientClosed {
		t.Errorf("status %d, want %d; body %s", w.Code, statusClientClosed, w.Body)
	}
	text := logs.String()
	if strings.Contains(text, `"level":"ERROR"`) || !strings.Contains(text, "request abandoned by its client") {
		t.Errorf("log of an abandoned request:\n%s", text)
	}
}
