package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/ratelimit"
	"github.com/gatehouse/gatehouse/internal/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the web UI.
type Options struct {
	// Logger receives internal errors; the page only says that something went wrong.
	Logger *slog.Logger
	// SecureCookie marks the session cookie Secure even on plain-HTTP requests, for a server
	// behind a TLS-terminating proxy. Requests that arrive over TLS always get a Secure cookie.
	SecureCookie bool
	// TrustedOrigins are further origins ("https://gatehouse.example.com") whose forms may post
	// to the UI, for a proxy that rewrites the Host header. Same-origin posts need nothing here.
	TrustedOrigins []string
	// Sessions are the timeouts of sign-in sessions; zero fields take the service's defaults.
	Sessions service.SessionLimits
	// Limiter counts failed sign-ins per client address (shared with the API and SCIM, so a
	// guesser cannot spread attempts over them); nil: one of the UI's own with the defaults.
	Limiter *ratelimit.Limiter
}

// handler is the UI. It keeps no per-user state: a session is a row in the database, checked on
// every request, so several replicas need no shared session store.
type handler struct {
	svc    *service.Service
	log    *slog.Logger
	secure bool
	cop    *http.CrossOriginProtection
	// sessions are the session timeouts; limiter counts failed sign-ins per address.
	sessions service.SessionLimits
	limiter  *ratelimit.Limiter
	pages    map[string]*template.Template
	assets   map[string]string // file name → URL with a content hash, so it can be cached for ever
	mux      *http.ServeMux
}

// New returns the web UI as an http.Handler meant to be mounted at "/".
func New(svc *service.Service, opts Options) (http.Handler, error) {
	if svc == nil {
		return nil, errors.New("web: a service is required")
	}
	h := &handler{svc: svc, log: opts.Logger, secure: opts.SecureCookie, cop: http.NewCrossOriginProtection(),
		sessions: opts.Sessions, limiter: opts.Limiter}
	if h.limiter == nil {
		h.limiter = ratelimit.New(ratelimit.Options{})
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	for _, o := range opts.TrustedOrigins {
		if err := h.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("web: trusted origin %q: %w", o, err)
		}
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	if h.assets, err = hashAssets(static); err != nil {
		return nil, err
	}
	if h.pages, err = h.parseTemplates(); err != nil {
		return nil, err
	}
	h.mux = h.routes(static)
	return h, nil
}

// routes is the one place that lists every URL of the UI.
func (h *handler) routes(static fs.FS) *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(static)))
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, h.assets["favicon.svg"], http.StatusMovedPermanently)
	})

	m.HandleFunc("GET /login", h.loginForm)
	m.HandleFunc("POST /login", h.login)
	m.HandleFunc("POST /logout", h.logout)

	m.Handle("GET /{$}", h.page(h.home))

	m.Handle("GET /identities", h.page(h.identities))
	m.Handle("GET /identities/{id}", h.page(h.identity))

	m.Handle("GET /catalog", http.RedirectHandler("/catalog/systems", http.StatusFound))
	m.Handle("GET /catalog/systems", h.page(h.systems))
	m.Handle("GET /catalog/systems/{id}", h.page(h.system))
	m.Handle("POST /catalog/systems/{id}/test", h.action(h.systemTest))
	m.Handle("GET /catalog/entitlements", h.page(h.entitlements))
	m.Handle("GET /catalog/entitlements/{id...}", h.page(h.entitlement))
	m.Handle("GET /catalog/roles", h.page(h.roles))
	m.Handle("GET /catalog/roles/{id}", h.page(h.role))
	m.Handle("GET /catalog/sod", h.page(h.sodRules))

	m.Handle("GET /audit", h.page(h.audit))

	m.Handle("GET /hr", h.page(h.hrImports))
	m.Handle("GET /hr/imports", http.RedirectHandler("/hr", http.StatusFound))
	m.Handle("POST /hr/imports", h.action(h.hrUpload))
	m.Handle("GET /hr/imports/{id}", h.page(h.hrImport))
	m.Handle("POST /hr/imports/{id}/approve", h.action(h.hrDecide(true)))
	m.Handle("POST /hr/imports/{id}/reject", h.action(h.hrDecide(false)))

	m.Handle("GET /operations", h.page(h.operations))
	m.Handle("GET /drift", h.page(h.drift))
	m.Handle("GET /tasks", h.page(h.tasks))
	m.Handle("POST /tasks/{id}/complete", h.action(h.taskComplete))

	m.Handle("GET /requests", h.page(h.myRequests))
	m.Handle("GET /requests/new", h.page(h.requestNew))
	m.Handle("POST /requests/new", h.action(h.requestSubmit))
	m.Handle("GET /requests/queue", h.page(h.requestQueue))
	m.Handle("GET /requests/{ref}", h.page(h.request))
	for _, a := range []string{"approve", "deny", "return", "cancel", "resubmit"} {
		m.Handle("POST /requests/{ref}/"+a, h.action(h.requestAction(a)))
	}
	m.Handle("GET /approvals", h.page(h.approvals))

	// Anything else is a friendly 404, but only for someone signed in: a stranger learns
	// nothing about which paths exist.
	m.Handle("/", h.page(func(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "there is no page at %s", r.URL.Path)
	}))
	return m
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// Nothing is loaded from elsewhere, so the policy can be strict; it blunts any injection
	// that slips past html/template.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// staticHandler serves embedded assets. URLs carry a content hash (see hashAssets), so a
// browser may keep them for a year and still never see a stale stylesheet after an upgrade.
func staticHandler(static fs.FS) http.Handler {
	files := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(w, r)
	})
}

func hashAssets(static fs.FS) (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(static, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path] = "/static/" + path + "?v=" + hex.EncodeToString(sum[:6])
		return nil
	})
	return out, err
}

// pageFunc is a page handler for a signed-in principal. It returns an error instead of writing
// one, so that every page maps service errors the same way.
type pageFunc func(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error

// page requires a valid session: without one the browser goes to the login page, and comes
// back to where it was going afterwards.
func (h *handler) page(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Pages show personal data: no shared or back-button caches.
		w.Header().Set("Cache-Control", "no-store")
		p, err := h.principal(r)
		if err != nil {
			if gatehouse.ErrorCode(err) == gatehouse.EUNAUTHORIZED {
				h.clearSession(w, r)
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.fail(w, r, nil, err)
			return
		}
		if err := checkInput(r); err != nil { // input.go: NULs and bytes that are not UTF-8
			h.fail(w, r, p, err)
			return
		}
		if err := fn(w, r, p); err != nil {
			h.fail(w, r, p, err)
		}
	})
}

// action is a page that changes something, behind a form. The session cookie is SameSite=Strict,
// and on top of that a post from another origin is refused (by Sec-Fetch-Site, or Origin
// against Host), as for the sign-in form, before the form is read.
func (h *handler) action(fn pageFunc) http.Handler {
	return h.page(func(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
		if err := h.cop.Check(r); err != nil {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "this form came from another site and was refused; open Gatehouse directly and try again")
		}
		if err := checkForm(w, r); err != nil {
			return err
		}
		return fn(w, r, p)
	})
}

// statusFor is the one table from gatehouse error codes to HTTP status for the UI; it matches
// the API's table in docs/api.md.
func statusFor(err error) int {
	switch gatehouse.ErrorCode(err) {
	case gatehouse.EINVALID:
		return http.StatusBadRequest
	case gatehouse.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case gatehouse.EFORBIDDEN:
		return http.StatusForbidden
	case gatehouse.ENOTFOUND:
		return http.StatusNotFound
	case gatehouse.ECONFLICT:
		return http.StatusConflict
	case gatehouse.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case gatehouse.ETOOMANY:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// errorView is what the error page shows.
type errorView struct {
	Status  int
	Heading string
	Message string
}

// fail renders err as a friendly page. Internal errors are logged with their detail and shown
// only as "something went wrong", so no SQL or stack text reaches a browser.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal, err error) {
	status := statusFor(err)
	ev := errorView{Status: status, Message: sentence(gatehouse.ErrorMessage(err))}
	switch status {
	case http.StatusForbidden:
		ev.Heading = "You don't have access to this page"
	case http.StatusNotFound:
		ev.Heading = "Not found"
	case http.StatusBadRequest:
		ev.Heading = "That request was not valid"
	case http.StatusConflict:
		ev.Heading = "That conflicts with the current state"
	case http.StatusServiceUnavailable:
		ev.Heading = "Gatehouse is unavailable"
		ev.Message = "A service Gatehouse depends on did not answer. Try again in a moment."
	default:
		ev.Heading = "Something went wrong"
		ev.Message = "The error has been logged. Try again, and tell your Gatehouse admin if it keeps happening."
	}
	switch {
	case r.Context().Err() != nil:
		// The browser went away (a closed tab, a click elsewhere) and cut the work short: not
		// a failure of the server, and nobody sees the page.
		h.log.Info("web: page abandoned by its client", "method", r.Method, "path", r.URL.Path, "err", err)
		w.WriteHeader(499)
		return
	case status >= 500:
		h.log.Error("web: page failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	h.render(w, r, p, status, "error", &view{Title: ev.Heading, Data: ev})
}

// deny replaces a forbidden error's message with one written for the page at hand ("You need
// the auditor role…"); other errors pass unchanged. The service still made the decision.
func deny(err error, message string) error {
	if gatehouse.ErrorCode(err) == gatehouse.EFORBIDDEN {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "%s", message)
	}
	return err
}

// sentence makes a service message ("you may only see your own access") read as a sentence.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

// view is what the layout needs on every page; Data is the page's own.
type view struct {
	Title   string
	Section string // the nav item marked current: home, identities, catalog, requests, approvals, hr, operations, drift, tasks, audit
	Tab     string // the catalog tab marked current
	Data    any

	// Filled by render from the principal.
	User       string
	SelfID     string
	CanReadAll bool
	SignedIn   bool
}

// render executes a page into a buffer first, so that a template error becomes a clean 500
// instead of half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal, status int, name string, v *view) {
	t, ok := h.pages[name]
	if !ok {
		h.log.Error("web: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if p != nil {
		v.SignedIn = true
		v.User = p.Actor()
		if p.Bootstrap {
			v.User = "bootstrap admin"
		}
		v.SelfID = p.IdentityID
		v.CanReadAll = p.CanReadAll()
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.log.Error("web: render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
