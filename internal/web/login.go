package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/ratelimit"
)

// sessionCookie holds the id of a server-side session (service/sessions.go): a random secret
// whose hash is stored, never the API token the user signed in with. The token is checked once
// at sign-in; the session then acts for it until sign-out, a timeout, or the token's or the
// identity's end.
const sessionCookie = "gatehouse_session"

type loginView struct {
	Next  string
	Error string
}

// principal returns who the session cookie belongs to; EUNAUTHORIZED when there is no valid one.
// A stale or unknown cookie is not counted as a failed sign-in: its id is 256 random bits, there
// is nothing to guess, and every browser whose session timed out sends one.
func (h *handler) principal(r *http.Request) (*gatehouse.Principal, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "sign in first")
	}
	return h.svc.SessionPrincipal(r.Context(), c.Value, h.sessions)
}

func (h *handler) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	// Someone already signed in has no business on the form; send them on.
	if _, err := h.principal(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, nil, http.StatusOK, "login", &view{Title: "Sign in", Data: loginView{Next: next}})
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	// SameSite=Strict keeps the cookie off cross-site requests, but a login form can be posted
	// from another site to sign a victim in as the attacker (login CSRF). Refuse cross-origin
	// posts by Sec-Fetch-Site, or by Origin against Host when that is all the browser sent.
	if err := h.cop.Check(r); err != nil {
		h.render(w, r, nil, http.StatusForbidden, "login", &view{Title: "Sign in", Data: loginView{
			Next: "/", Error: "This sign-in came from another site and was refused. Open Gatehouse directly and sign in again.",
		}})
		return
	}
	next := safeNext(r.PostFormValue("next"))
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		h.render(w, r, nil, http.StatusBadRequest, "login", &view{Title: "Sign in", Data: loginView{
			Next: next, Error: "Paste a token to sign in.",
		}})
		return
	}
	// An address that failed too often is refused whatever it sends now, unless this very token
	// signed in from it before: otherwise the answer would tell a guesser which guess was right.
	key, err := h.limiter.Check(r, token)
	var blocked *ratelimit.BlockedError
	if errors.As(err, &blocked) {
		w.Header().Set("Retry-After", blocked.RetryAfterSeconds())
		h.render(w, r, nil, http.StatusTooManyRequests, "login", &view{Title: "Sign in", Data: loginView{
			Next: next, Error: fmt.Sprintf("Too many failed sign-ins from your address. Try again in %s.", blocked.RetryAfter),
		}})
		return
	}
	opened, err := h.svc.SignIn(r.Context(), token, ratelimit.Format(key), h.sessions)
	if err != nil {
		status := statusFor(err)
		msg := "That token was not accepted: " + gatehouse.ErrorMessage(err) + ". Check that you copied all of it, and that it has not expired or been revoked."
		if status == http.StatusUnauthorized {
			h.limiter.Failed(r.Context(), h.log, "web", key, gatehouse.ErrorMessage(err))
		} else {
			h.log.Error("web: sign in", "err", err)
			msg = "Gatehouse could not check the token just now. Try again in a moment."
		}
		h.render(w, r, nil, status, "login", &view{Title: "Sign in", Data: loginView{Next: next, Error: msg}})
		return
	}
	h.limiter.Succeeded(key, token)
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    opened.Secret,
		Path:     "/",
		HttpOnly: true, // scripts never see the session id
		Secure:   h.secure || r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
		// No Max-Age: the cookie ends with the browser; the session ends on the server in any
		// case (idle and absolute timeouts).
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	// A forged sign-out is only a nuisance, but it is no more work to refuse it.
	if err := h.cop.Check(r); err != nil {
		h.fail(w, r, nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "this sign-out came from another site and was refused"))
		return
	}
	// The session ends on the server, not only in this browser: a copy of the cookie is
	// worthless afterwards.
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := h.svc.SignOut(r.Context(), c.Value, h.sessions); err != nil {
			h.fail(w, r, nil, err)
			return
		}
	}
	h.clearSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (h *handler) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure || r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// safeNext returns next if it is a path on this site, and "/" otherwise, so that the login
// form cannot be used to send someone to another site after signing in (an open redirect).
func safeNext(next string) string {
	// "//host" and "/\host" are read by browsers as another host; control characters and
	// backslashes have no place in our paths at all.
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if u.Path == "/login" {
		return "/"
	}
	return next
}
