package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// A token with the scim scope is an identity provider's credential: it cannot sign in to the
// UI, neither at the form nor as a session cookie, even when its identity is an admin.
func TestSCIMTokenCannotSignIn(t *testing.T) {
	f := newFixture(t)
	tok, err := f.svc.CreateToken(context.Background(), service.SystemPrincipal("test"),
		service.NewToken{For: "it@example.com", Scopes: []string{gatehouse.ScopeSCIM}, Description: "scim"})
	if err != nil {
		t.Fatal(err)
	}
	res, body := f.do(t, postForm("/login", url.Values{"token": {tok.Secret}, "next": {"/"}}))
	wantStatus(t, res, body, http.StatusUnauthorized)
	wantContains(t, body, "this token may only be used for SCIM")
	if len(res.Cookies()) != 0 {
		t.Errorf("a refused sign-in set cookies: %v", res.Cookies())
	}
	req := httptest.NewRequest(http.MethodGet, "/identities", nil)
	req.AddCookie(&http.Cookie{Name: "gatehouse_session", Value: tok.Secret})
	res, _ = f.do(t, req)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("a SCIM token as a session cookie: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// The same person's ordinary token still signs in.
	res, body = f.do(t, postForm("/login", url.Values{"token": {f.tokens["admin"]}}))
	wantStatus(t, res, body, http.StatusSeeOther)
}
