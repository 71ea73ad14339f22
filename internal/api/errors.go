package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/ratelimit"
)

// statusOf is THE table from error code to HTTP status (docs/api.md). A handler never picks an
// error status itself: it returns an error, and writeError looks its code up here.
var statusOf = map[string]int{
	gatehouse.EINVALID:      http.StatusBadRequest,
	gatehouse.EUNAUTHORIZED: http.StatusUnauthorized,
	gatehouse.EFORBIDDEN:    http.StatusForbidden,
	gatehouse.ENOTFOUND:     http.StatusNotFound,
	gatehouse.ECONFLICT:     http.StatusConflict,
	gatehouse.EUNAVAILABLE:  http.StatusServiceUnavailable,
	gatehouse.EINTERNAL:     http.StatusInternalServerError,
	gatehouse.ETOOMANY:      http.StatusTooManyRequests,
}

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Details are the problems of a rejected file (a catalog, an HR feed), one per problem,
	// located: file, line, field and reason (docs/api.md, "Problems").
	Details []gatehouse.Problem `json:"details,omitempty"`
	// Revocations are what a refused catalog apply would revoke (409): confirm them with
	// their confirmation (docs/api.md).
	Revocations *catalog.Revocations `json:"revocations,omitempty"`
}

// problemList is an error that lists problems of a file: catalog.Problems, jml.Problems.
type problemList interface {
	error
	List() []gatehouse.Problem
}

// statusClientClosed is the status of a request its client abandoned (nginx's 499): it is in
// the access log and the metrics, apart from the server's own 5xx failures.
const statusClientClosed = 499

// writeError answers err. Messages of *gatehouse.Error are safe to show; anything else is our
// fault, logged in full and answered with a generic text so no SQL or path leaks out.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	body := errorBody{Error: errorDetail{Code: gatehouse.ErrorCode(err), Message: gatehouse.ErrorMessage(err)}}

	var probs problemList
	if errors.As(err, &probs) {
		body.Error.Code = gatehouse.EINVALID
		body.Error.Details = probs.List()
	}
	var unconfirmed *catalog.UnconfirmedError
	if errors.As(err, &unconfirmed) {
		body.Error.Revocations = unconfirmed.Revocations
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		body.Error.Code = gatehouse.EINVALID
		body.Error.Message = "request body is larger than " + byteSize(tooBig.Limit)
	}

	status, ok := statusOf[body.Error.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if tooBig != nil {
		// The one status not in the table: the code stays "invalid" for clients that map
		// codes, and the status says the body, not its content, is what was refused.
		status = http.StatusRequestEntityTooLarge
	}
	switch {
	case r.Context().Err() != nil:
		// The client hung up (or its deadline passed) and the work was cut short with it: not a
		// server failure, and nobody reads the answer. 499 is the status proxies log for it.
		status = statusClientClosed
		a.log.InfoContext(r.Context(), "request abandoned by its client", "method", r.Method, "path", r.URL.Path,
			"route", stateFrom(r.Context()).route, "err", err)
	case status >= 500:
		a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path,
			"route", stateFrom(r.Context()).route, "code", body.Error.Code, "err", err)
	case status == http.StatusUnauthorized:
		// RFC 6750: tell the client which scheme to use.
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	}
	var blocked *ratelimit.BlockedError
	if errors.As(err, &blocked) {
		w.Header().Set("Retry-After", blocked.RetryAfterSeconds())
	}
	_ = writeJSON(w, status, body) // errorBody always encodes
}

// writeJSON writes v as the JSON answer with the given status. API answers may carry secrets (a
// new token) or personal data, so they are never cached. An error says v does not encode, and
// nothing was written: the caller answers it like any other error.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
	return nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
