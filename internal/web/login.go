package web

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// sessionCookie holds the API token the user signed in with. It is the token itself rather
// than a separate session id: there is then one credential to revoke, and revoking it (or
// terminating its identity) signs the browser out on its next click.
const sessionCookie = "gatehouse_session"

type loginView struct {
	Next  string
	Error string
}

// principal returns who the session cookie belongs to; EUNAUTHORIZED when there is no valid one.
func (h *handler) principal(r *http.Request) (*gatehouse.Principal, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "sign in first")
	}
	token, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "sign in again")
	}
	p, err := h.svc.Authenticate(r.Context(), string(token))
	if err == nil && p.Scoped() {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "this token may only be used for SCIM")
	}
	return p, err
}

// cookieValue encodes a token for the cookie. Issued tokens are cookie-safe already, but the
// bootstrap token is whatever an operator put in an environment variable, and net/http would
// silently drop the characters a cookie cannot carry (spaces, quotes, semicolons).
func cookieValue(token string) string { return base64.RawURLEncoding.EncodeToString([]byte(token)) }

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
	p, err := h.svc.Authenticate(r.Context(), token)
	if err == nil && p.Scoped() {
		// An IdP's SCIM credential is not a person's sign-in.
		err = gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "this token may only be used for SCIM")
	}
	if err != nil {
		status := statusFor(err)
		msg := "That token was not accepted: " + gatehouse.ErrorMessage(err) + ". Check that you copied all of it, and that it has not expired or been revoked."
		if status != http.StatusUnauthorized {
			h.log.Error("web: sign in", "err", err)
			msg = "Gatehouse could not check the token just now. Try again in a moment."
		}
		h.render(w, r, nil, status, "login", &view{Title: "Sign in", Data: loginView{Next: next, Error: msg}})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    cookieValue(token),
		Path:     "/",
		HttpOnly: true, // scripts never see the token
		Secure:   h.secure || r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
		// No Max-Age: the session ends with the browser, and in any case with the token.
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	// A forged sign-out is only a nuisance, but it is no more work to refuse it.
	if err := h.cop.Check(r); err != nil {
		h.fail(w, r, nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "this sign-out came from another site and was refused"))
		return
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
