package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/ratelimit"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Body size limits. A catalog is a directory of YAML files, so it gets more room than the small
// JSON bodies of every other route; both bound the memory one request can take.
const (
	DefaultBodyLimit    = 1 << 20  // 1 MiB
	DefaultCatalogLimit = 10 << 20 // 10 MiB
	DefaultHRLimit      = 64 << 20 // 64 MiB: a feed of 100,000 people is about 15 MiB
)

// DefaultReadyTimeout bounds the database ping of /readyz: a load balancer asks often, and a
// database that takes longer than this to answer a ping is not ready for traffic either.
const DefaultReadyTimeout = 2 * time.Second

// Options configure the API handler. The zero value is usable.
type Options struct {
	// Logger receives request logs and internal errors; nil means slog.Default().
	Logger *slog.Logger
	// Version is shown in the OpenAPI document's info.version; "" means "dev".
	Version string
	// BodyLimit and CatalogLimit bound request bodies; 0 means DefaultBodyLimit and
	// DefaultCatalogLimit.
	BodyLimit    int64
	CatalogLimit int64
	// HRLimit bounds HR feed bodies; 0 means DefaultHRLimit.
	HRLimit int64
	// ReadyTimeout bounds the database ping of /readyz; 0 means DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Limiter counts failed authentications per client address and refuses a blocked one
	// (429); nil means one of the API's own with the defaults. The server shares one between
	// the API, SCIM and the UI.
	Limiter *ratelimit.Limiter
}

// api holds what the handlers share.
type api struct {
	svc     *service.Service
	log     *slog.Logger
	opts    Options
	mux     *http.ServeMux
	metrics *metrics
	openapi []byte // the OpenAPI document, built once from the route table
	// patterns are the ServeMux patterns registered, in order (tests compare them with the
	// OpenAPI document).
	patterns []string
}

// New returns the handler of the API, health and metrics routes. Mount it at "/" or for the
// paths /api/, /healthz, /readyz and /metrics.
func New(svc *service.Service, opts Options) http.Handler { return newAPI(svc, opts) }

func newAPI(svc *service.Service, opts Options) *api {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.HRLimit <= 0 {
		opts.HRLimit = DefaultHRLimit
	}
	if opts.CatalogLimit <= 0 {
		opts.CatalogLimit = DefaultCatalogLimit
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.Limiter == nil {
		opts.Limiter = ratelimit.New(ratelimit.Options{})
	}
	a := &api{svc: svc, log: opts.Logger, opts: opts, mux: http.NewServeMux()}
	a.metrics = newMetrics(svc, a.log)
	doc, err := marshalOpenAPI(buildOpenAPI(routeTable, opts.Version))
	if err != nil {
		// The document is built from static Go values; failing to encode it is a programming
		// error that every test run would catch.
		panic("api: encode OpenAPI document: " + err.Error())
	}
	a.openapi = doc
	a.register(a.mux)
	return a
}

// requestState is what the outer middleware learns about a request while it is handled: the
// route pattern (set by the endpoint wrapper), the caller, and an internal error to log.
type requestState struct {
	route string
	actor string
}

type stateKey struct{}
type principalKey struct{}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	if st == nil {
		st = &requestState{}
	}
	return st
}

// principal returns the authenticated caller of r, or nil on a public route.
func principal(r *http.Request) *gatehouse.Principal {
	p, _ := r.Context().Value(principalKey{}).(*gatehouse.Principal)
	return p
}

// ServeHTTP wraps every request: request id, panic recovery, metrics and the request log, and
// JSON answers for paths and methods that no route matches.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := &requestState{}
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	reqID := r.Header.Get("X-Request-Id")
	if !validRequestID(reqID) {
		reqID = newRequestID()
	}
	w.Header().Set("X-Request-Id", reqID)
	rec := &recorder{ResponseWriter: w}

	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // net/http's way to abort a response; it must reach the server
			}
			a.log.ErrorContext(r.Context(), "panic in handler", "method", r.Method, "path", r.URL.Path, "request_id", reqID,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rec.wrote {
				_ = writeJSON(rec, http.StatusInternalServerError, errorBody{Error: errorDetail{
					Code: gatehouse.EINTERNAL, Message: "internal error"}})
			}
		}
		route := st.route
		if route == "" {
			route = "unmatched"
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		d := time.Since(start)
		a.metrics.observe(route, r.Method, status, d)
		// The log names the route pattern, not the path: paths carry emails and ids, and the
		// pattern is what an operator groups by. Headers are never logged (they carry tokens).
		attrs := []any{"method", r.Method, "route", route, "status", status,
			"duration_ms", float64(d.Microseconds()) / 1000, "bytes", rec.bytes, "request_id", reqID}
		if st.actor != "" {
			attrs = append(attrs, "actor", st.actor)
		}
		a.log.InfoContext(r.Context(), "http request", attrs...)
	}()

	if h, pattern := a.mux.Handler(r); pattern == "" {
		a.unmatched(rec, r, h)
		return
	}
	a.mux.ServeHTTP(rec, r)
}

// unmatched answers a request no route matches. The mux decides between 404, 405 (a path that
// exists with another method) and a redirect to a clean path; we keep its decision but give
// API clients a JSON error body instead of plain text.
func (a *api) unmatched(w http.ResponseWriter, r *http.Request, h http.Handler) {
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	switch probe.status {
	case http.StatusNotFound:
		_ = writeJSON(w, http.StatusNotFound, errorBody{Error: errorDetail{
			Code: gatehouse.ENOTFOUND, Message: fmt.Sprintf("no such route: %s %s (see /api/v1/openapi.json)", r.Method, r.URL.Path)}})
	case http.StatusMethodNotAllowed:
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		_ = writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorDetail{
			Code: gatehouse.EINVALID, Message: fmt.Sprintf("method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow)}})
	default:
		h.ServeHTTP(w, r) // a redirect: stateless, so running it again for real is fine
	}
}

// headerProbe records what a mux-internal handler would answer, without sending it.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

// recorder remembers the status and size of a response for the log and the metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status = code
		r.wrote = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status = http.StatusOK
		r.wrote = true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flush, deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// endpoint wraps one route's handler: it records the route for logs and metrics, authenticates
// the caller of a non-public route, checks the query parameters against the route table and
// limits the body.
func (a *api) endpoint(rt *route) http.Handler {
	limit := a.opts.BodyLimit
	if rt.catalogBody {
		limit = a.opts.CatalogLimit
	}
	if rt.hrBody {
		limit = a.opts.HRLimit
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateFrom(r.Context())
		st.route = rt.path
		if rt.access != accessPublic {
			p, err := a.authenticate(r)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			st.actor = p.Actor()
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		if err := checkInput(r, rt); err != nil {
			a.writeError(w, r, err)
			return
		}
		if err := checkQuery(r, rt); err != nil {
			a.writeError(w, r, err)
			return
		}
		if rt.body != nil || rt.catalogBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if err := rt.handle(a, w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// authenticate turns the request's bearer token into a Principal. A request without one is
// refused here rather than passed on as anonymous: every non-public route needs a caller, and
// refusing before the body is read keeps anonymous callers from learning anything about input
// validation.
func (a *api) authenticate(r *http.Request) (*gatehouse.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "a bearer token is required (Authorization: Bearer <token>)")
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "the Authorization header must be \"Bearer <token>\"")
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "the bearer token is empty")
	}
	// A blocked address is refused before its token is looked at (ratelimit.Check).
	key, err := a.opts.Limiter.Check(r, token)
	if err != nil {
		return nil, err
	}
	p, err := a.svc.Authenticate(r.Context(), token)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.EUNAUTHORIZED {
			a.opts.Limiter.Failed(r.Context(), a.log, "api", key, gatehouse.ErrorMessage(err))
		}
		return nil, err
	}
	a.opts.Limiter.Succeeded(key, token)
	if p == nil {
		return nil, fmt.Errorf("authenticate: %w", errors.New("service returned no principal and no error"))
	}
	if p.Scoped() {
		// A scoped token (an IdP's SCIM client) works only where its scope does.
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "this token may only be used for SCIM")
	}
	return p, nil
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// validRequestID accepts a caller's request id only when it is short and plain, so it cannot
// forge log lines or bloat them.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
