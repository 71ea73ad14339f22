package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/web"
)

// TestAbandonedPageIsNotAnError: a page whose browser went away fails in the store with the
// context's error; that is logged as an abandoned page, not as a server failure ("page
// failed" at level ERROR), and answered 499.
func TestAbandonedPageIsNotAnError(t *testing.T) {
	f := newSessionFixture(t, storetest.OpenSQLite, web.Options{})
	c := f.sessionCookie(t, "admin")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/identities", nil)
	req.AddCookie(c)
	res := f.serve(req)
	logs := f.logs.String()
	if strings.Contains(logs, "level=ERROR") {
		t.Errorf("an abandoned page is logged as an error:\n%s", logs)
	}
	if res.StatusCode != 499 || !strings.Contains(logs, "page abandoned by its client") {
		t.Errorf("status %d, want 499 and the abandonment logged:\n%s", res.StatusCode, logs)
	}
}
