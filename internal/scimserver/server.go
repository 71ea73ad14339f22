// Package scimserver is Gatehouse's SCIM 2.0 service provider (RFC 7643, RFC 7644) at
// /scim/v2: an identity provider such as Okta or Entra ID pushes people (Users) and groups into
// Gatehouse with a token that carries the scim scope. It is the HTTP side only: the users are
// identities written through the service's JML engine (internal/service/scim.go) and the
// groups go through the service's SCIM group methods; the protocol (filters, PATCH, errors)
// is internal/scimproto.
package scimserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/ratelimit"
	"github.com/gatehouse/gatehouse/internal/scimproto"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Prefix is where the handler is mounted.
const Prefix = "/scim/v2"

// DefaultBodyLimit bounds request bodies (ServiceProviderConfig says bulk is off, so a body
// is one resource or one PATCH).
const DefaultBodyLimit = 1 << 20

// Options configure the handler. The zero value is usable.
type Options struct {
	Logger    *slog.Logger // nil: slog.Default()
	BodyLimit int64        // 0: DefaultBodyLimit
	// Limiter counts failed authentications per client address (shared with the API and the
	// UI); nil: one of the handler's own with the defaults.
	Limiter *ratelimit.Limiter
}

// Handler serves /scim/v2.
type Handler struct {
	svc   *service.Service
	log   *slog.Logger
	limit int64
	rl    *ratelimit.Limiter
	mux   *http.ServeMux
	pages *cursorCache
}

// New returns the SCIM handler. Mount it at Prefix + "/".
func New(svc *service.Service, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.Limiter == nil {
		opts.Limiter = ratelimit.New(ratelimit.Options{})
	}
	h := &Handler{svc: svc, log: opts.Logger, limit: opts.BodyLimit, rl: opts.Limiter, mux: http.NewServeMux(), pages: newCursorCache(256)}
	h.routes()
	return h
}

type principalKey struct{}

// endpoint is a SCIM handler: it returns an error to be written as a SCIM error body.
type endpoint func(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error

// methods routes by method, answering 405 with a SCIM body for the others.
type methods map[string]endpoint

func (h *Handler) routes() {
	h.mux.Handle(Prefix+"/Users", methods{http.MethodGet: h.listUsers, http.MethodPost: h.createUser})
	h.mux.Handle(Prefix+"/Users/.search", methods{http.MethodPost: h.searchUsers})
	h.mux.Handle(Prefix+"/Users/{id}", methods{http.MethodGet: h.getUser, http.MethodPut: h.putUser,
		http.MethodPatch: h.patchUser, http.MethodDelete: h.deleteUser})
	h.mux.Handle(Prefix+"/Groups", methods{http.MethodGet: h.listGroups, http.MethodPost: h.createGroup})
	h.mux.Handle(Prefix+"/Groups/.search", methods{http.MethodPost: h.searchGroups})
	h.mux.Handle(Prefix+"/Groups/{id}", methods{http.MethodGet: h.getGroup, http.MethodPut: h.putGroup,
		http.MethodPatch: h.patchGroup, http.MethodDelete: h.deleteGroup})
	h.mux.Handle(Prefix+"/ServiceProviderConfig", methods{http.MethodGet: h.spConfig})
	h.mux.Handle(Prefix+"/ResourceTypes", methods{http.MethodGet: h.resourceTypes})
	h.mux.Handle(Prefix+"/ResourceTypes/{name}", methods{http.MethodGet: h.resourceType})
	h.mux.Handle(Prefix+"/Schemas", methods{http.MethodGet: h.schemas})
	h.mux.Handle(Prefix+"/Schemas/{urn}", methods{http.MethodGet: h.schema})
	h.mux.Handle(Prefix+"/Bulk", methods{})
	// RFC 7644 section 3.11: a provider without /Me answers 501, whatever the method.
	h.mux.Handle(Prefix+"/Me", notImplemented("/Me is not supported: a SCIM client here is a service account, not a user; use /Users/{id}"))
	h.mux.Handle(Prefix+"/Me/", notImplemented("/Me is not supported: a SCIM client here is a service account, not a user; use /Users/{id}"))
	h.mux.Handle(Prefix+"/", methods{"": nil})
}

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, unknown := m[""]; unknown {
		scimproto.WriteError(w, scimproto.Errorf(http.StatusNotFound, "", "no SCIM resource at %s", r.URL.Path))
		return
	}
	if strings.HasSuffix(r.URL.Path, "/Bulk") {
		scimproto.WriteError(w, scimproto.Errorf(http.StatusNotImplemented, "", "bulk operations are not supported (see /ServiceProviderConfig)"))
		return
	}
	fn, ok := m[r.Method]
	if !ok {
		allow := make([]string, 0, len(m))
		for k := range m {
			allow = append(allow, k)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		scimproto.WriteError(w, scimproto.Errorf(http.StatusMethodNotAllowed, "", "%s is not allowed on %s", r.Method, r.URL.Path))
		return
	}
	h := r.Context().Value(handlerKey{}).(*Handler)
	p := r.Context().Value(principalKey{}).(*gatehouse.Principal)
	if err := fn(w, r, p); err != nil {
		h.writeError(w, r, err)
	}
}

type handlerKey struct{}

// notImplemented answers 501 with its text, for every method.
type notImplemented string

func (n notImplemented) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	scimproto.WriteError(w, scimproto.Errorf(http.StatusNotImplemented, "", "%s", string(n)))
}

// statusWriter remembers the status written, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP authenticates the caller (a bearer token with the scim scope), then routes. Each
// request is logged with its caller and status; the query is not, since filters carry
// people's email addresses.
func (h *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	actor := "anonymous"
	defer func() {
		h.log.Info("scim request", "method", r.Method, "path", r.URL.Path, "status", w.status, "actor", actor,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	}()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("scim: panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			scimproto.WriteError(w, errors.New("panic"))
		}
	}()
	p, err := h.authenticate(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	actor = p.Actor()
	if !p.HasScope(gatehouse.ScopeSCIM) {
		scimproto.WriteError(w, scimproto.Errorf(http.StatusForbidden, "", "this needs a token with the scim scope (gatehouse token create --scope scim)"))
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, h.limit)
	}
	if err := checkInput(r); err != nil {
		h.writeError(w, r, err)
		return
	}
	ctx := context.WithValue(r.Context(), principalKey{}, p)
	ctx = context.WithValue(ctx, handlerKey{}, h)
	h.mux.ServeHTTP(w, r.WithContext(ctx))
}

func (h *Handler) authenticate(r *http.Request) (*gatehouse.Principal, error) {
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if auth == "" || !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "a bearer token is required (Authorization: Bearer <token>)")
	}
	// A blocked address is refused before its token is looked at (ratelimit.Check).
	token = strings.TrimSpace(token)
	key, err := h.rl.Check(r, token)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.Authenticate(r.Context(), token)
	if gatehouse.ErrorCode(err) == gatehouse.EUNAUTHORIZED {
		h.rl.Failed(r.Context(), h.log, "scim", key, gatehouse.ErrorMessage(err))
	}
	if err == nil {
		h.rl.Succeeded(key, token)
	}
	return p, err
}

// writeError writes err as a SCIM error body, mapping Gatehouse errors to statuses.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	se := h.toSCIM(r, err)
	switch se.Status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "3600")
	}
	var blocked *ratelimit.BlockedError
	if errors.As(err, &blocked) {
		w.Header().Set("Retry-After", blocked.RetryAfterSeconds())
	}
	scimproto.WriteError(w, se)
}

func (h *Handler) toSCIM(r *http.Request, err error) *scimproto.Error {
	var se *scimproto.Error
	if errors.As(err, &se) {
		return se
	}
	var held *service.SCIMHeldError
	if errors.As(err, &held) {
		return scimproto.Errorf(http.StatusServiceUnavailable, "", "%s", held.Error())
	}
	var stale *service.SCIMStaleError
	if errors.As(err, &stale) {
		return scimproto.Errorf(http.StatusPreconditionFailed, "", "%s", stale.Error())
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return scimproto.Errorf(http.StatusRequestEntityTooLarge, "", "the request body is larger than %d bytes", mbe.Limit)
	}
	msg := gatehouse.ErrorMessage(err)
	switch gatehouse.ErrorCode(err) {
	case gatehouse.EINVALID:
		return scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "%s", msg)
	case gatehouse.ENOTFOUND:
		return scimproto.Errorf(http.StatusNotFound, "", "%s", msg)
	case gatehouse.ECONFLICT:
		return scimproto.Errorf(http.StatusConflict, scimproto.ScimTypeUniqueness, "%s", msg)
	case gatehouse.EFORBIDDEN:
		return scimproto.Errorf(http.StatusForbidden, "", "%s", msg)
	case gatehouse.EUNAUTHORIZED:
		return scimproto.Errorf(http.StatusUnauthorized, "", "%s", msg)
	case gatehouse.EUNAVAILABLE:
		return scimproto.Errorf(http.StatusServiceUnavailable, "", "%s", msg)
	case gatehouse.ETOOMANY:
		return scimproto.Errorf(http.StatusTooManyRequests, "", "%s", msg)
	}
	h.log.Error("scim: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	return scimproto.Errorf(http.StatusInternalServerError, "", "internal error")
}

// readBody reads a request body of a JSON media type (application/scim+json or
// application/json; none given is taken as JSON).
func readBody(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != scimproto.MediaType && mt != "application/json") {
			return nil, scimproto.Errorf(http.StatusUnsupportedMediaType, scimproto.ScimTypeInvalidSyntax, "Content-Type must be %s or application/json, not %q", scimproto.MediaType, ct)
		}
	}
	if r.Body == nil {
		return nil, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidSyntax, "the request has no body")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	// A NUL or bytes that are not UTF-8 are refused by their path (400 invalidValue): the JSON
	// decoder would silently turn the latter into U+FFFD.
	if err := gatehouse.CheckJSON(body); err != nil {
		return nil, err
	}
	return body, nil
}

// readJSON decodes a request body into a JSON object.
func readJSON(r *http.Request) (map[string]any, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		if err == nil {
			err = errors.New("not an object")
		}
		return nil, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidSyntax, "the body is not a JSON object: %v", err)
	}
	return m, nil
}

// readPatch decodes a PatchOp body.
func readPatch(r *http.Request) (scimproto.PatchRequest, error) {
	body, err := readBody(r)
	if err != nil {
		return scimproto.PatchRequest{}, err
	}
	return scimproto.DecodePatchRequest(bytes.NewReader(body))
}

// writeJSON writes a SCIM response body.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	ct := scimproto.MediaType
	if acc := r.Header.Get("Accept"); strings.Contains(acc, "application/json") && !strings.Contains(acc, scimproto.MediaType) {
		ct = "application/json"
	}
	b, err := json.Marshal(v)
	if err != nil {
		scimproto.WriteError(w, fmt.Errorf("encode response: %w", err))
		return
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// baseURL is the absolute URL of /scim/v2 as the client reached it (meta.location, $ref).
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix
}

// etagMatches reports whether an If-Match / If-None-Match header value names etag ("*" names
// any).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == etag || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// checkIfMatch answers 412 when the request's If-Match does not name the current version.
func checkIfMatch(r *http.Request, etag string) error {
	if im := r.Header.Get("If-Match"); im != "" && !etagMatches(im, etag) {
		return scimproto.Errorf(http.StatusPreconditionFailed, "", "the resource changed: its version is %s, not %s", etag, im)
	}
	return nil
}

// writeResource writes one resource with its ETag, honouring If-None-Match on reads.
func writeResource(w http.ResponseWriter, r *http.Request, status int, res map[string]any, etag string) {
	w.Header().Set("ETag", etag)
	if r.Method == http.MethodGet {
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if meta, _ := res["meta"].(map[string]any); meta != nil && status == http.StatusCreated {
		if loc, ok := meta["location"].(string); ok {
			w.Header().Set("Location", loc)
		}
	}
	q := r.URL.Query()
	res = project(res, splitList(q.Get("attributes")), splitList(q.Get("excludedAttributes")))
	writeJSON(w, r, status, res)
}

func splitList(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
