package scim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/scimproto"
)

// maxBody bounds what one response may hold: a page of resources, or one group with its members.
const maxBody = 64 << 20

// response is an HTTP answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// request is one SCIM request.
type request struct {
	method  string
	path    string     // relative to the base URL, e.g. /Users/123
	query   url.Values // nil: none
	body    any        // JSON-encoded when not nil
	ifMatch string     // sent as If-Match when not ""
}

// step names a request in errors and check failures: "GET /Users/123".
func (r *request) step() string { return r.method + " " + r.path }

// send sends r and reads the answer. 429 and 503 are waited out (Retry-After, bounded by
// MaxRetryAfter and ctx) up to max_retries times; then, like any transport failure, they are a
// retryable error. Every other status is returned for the caller to interpret (see statusError).
func (c *Connector) send(ctx context.Context, r request) (*response, error) {
	var body []byte
	if r.body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r.body); err != nil {
			return nil, connector.Permanentf("scim %s: encode body: %w", r.step(), err)
		}
		body = buf.Bytes()
	}
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, r.method, u, bytes.NewReader(body))
		if err != nil {
			return nil, connector.Permanentf("scim %s: %w", r.step(), err)
		}
		req.Header.Set("Accept", scimproto.MediaType+", application/json")
		if body != nil {
			req.Header.Set("Content-Type", scimproto.MediaType)
		}
		if r.ifMatch != "" {
			req.Header.Set("If-Match", r.ifMatch)
		}
		if c.cfg.Username != "" {
			req.SetBasicAuth(c.cfg.Username, c.password)
		} else {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, transportError(ctx, r.step(), err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		if err != nil {
			return nil, transportError(ctx, r.step(), err)
		}
		if len(b) > maxBody {
			return nil, connector.Permanentf("scim %s: response larger than %d MiB", r.step(), maxBody>>20)
		}
		res := &response{status: resp.StatusCode, header: resp.Header, body: b}
		if res.status != http.StatusTooManyRequests && res.status != http.StatusServiceUnavailable {
			return res, nil
		}
		if attempt >= c.cfg.MaxRetries {
			// Retryable: the job queue backs off and runs the operation again later.
			return nil, fmt.Errorf("scim %s: still refused after %d retries: %w", r.step(), attempt, c.scimError(res))
		}
		wait := retryAfter(resp.Header.Get("Retry-After"), time.Now(), attempt)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("scim %s: waiting %v to retry after %d: %w", r.step(), wait, res.status, ctx.Err())
		case <-t.C:
		}
	}
}

// retryAfter is how long to wait before retry number attempt+1: the server's Retry-After
// (seconds or an HTTP-date), else an exponential back-off from one second; at most MaxRetryAfter.
func retryAfter(h string, now time.Time, attempt int) time.Duration {
	d := time.Second << min(attempt, 5)
	if h = strings.TrimSpace(h); h != "" {
		if s, err := strconv.Atoi(h); err == nil && s >= 0 {
			d = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(h); err == nil {
			d = max(t.Sub(now), 0)
		}
	}
	return min(d, MaxRetryAfter)
}

// transportError classifies a request that got no answer: a rejected certificate needs
// ca_file or the server fixed (Permanent); anything else (refused, DNS, timeout, a dropped
// connection) is retryable, because every operation is idempotent.
func transportError(ctx context.Context, step string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("scim %s: %w", step, ctx.Err())
	}
	wrapped := fmt.Errorf("scim %s: %w", step, err)
	if isTLSError(err) {
		return connector.Failed(connector.FailTLS, step, connector.Permanent(wrapped))
	}
	return connector.Failed(connector.FailUnreachable, step, wrapped)
}

func isTLSError(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		alert    tls.AlertError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &record) || errors.As(err, &alert) ||
		strings.Contains(err.Error(), "tls: ") || strings.Contains(err.Error(), "HTTP response to HTTPS client")
}

// isNetError reports whether err is a network failure (for Check's classification).
func isNetError(err error) bool {
	var ne net.Error
	var dns *net.DNSError
	return errors.As(err, &ne) || errors.As(err, &dns)
}

// scimError decodes an error answer into a *scimproto.Error: the SCIM error body when there is one
// (detail and scimType are what the server says went wrong), else the HTTP status with the start
// of the body, so a proxy's error page is still recognisable.
func (c *Connector) scimError(res *response) *scimproto.Error {
	e := &scimproto.Error{Status: res.status}
	var body struct {
		Status   json.RawMessage `json:"status"`
		ScimType string          `json:"scimType"`
		Detail   string          `json:"detail"`
		Message  string          `json:"message"` // some servers answer {"message": …}
	}
	if json.Unmarshal(res.body, &body) == nil && (body.Detail != "" || body.ScimType != "" || body.Message != "") {
		e.ScimType, e.Detail = body.ScimType, body.Detail
		if e.Detail == "" {
			e.Detail = body.Message
		}
		return e
	}
	e.Detail = http.StatusText(res.status)
	if snippet := strings.TrimSpace(string(res.body)); snippet != "" {
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		e.Detail += ": " + strings.Join(strings.Fields(snippet), " ")
	}
	return e
}

// statusError maps an unexpected answer to the connector's error classes. 401 and 403 are
// Permanent and carry their failure kind; 404 is a Permanent ErrNotFound (the resource named in
// the path does not exist); other 4xx are Permanent (the request must change first); 5xx and
// anything else are retryable.
func (c *Connector) statusError(what string, res *response) error {
	se := c.scimError(res)
	err := fmt.Errorf("scim %s: %w", what, se)
	switch {
	case res.status == http.StatusUnauthorized:
		return connector.Failed(connector.FailCredentials, what, connector.Permanent(err))
	case res.status == http.StatusForbidden:
		return connector.Failed(connector.FailPermission, what, connector.Permanent(err))
	case res.status == http.StatusNotFound:
		return connector.Permanent(fmt.Errorf("scim %s: %w: %w", what, connector.ErrNotFound, se))
	case res.status == http.StatusRequestTimeout || res.status == http.StatusTooManyRequests:
		return err
	case res.status >= 400 && res.status < 500:
		return connector.Permanent(err)
	case res.status >= 500:
		return connector.Failed(connector.FailServer, what, err)
	}
	return err
}

// decode decodes a JSON answer into v. A body that is not JSON means the URL points at some
// other web server (an HTML page): a configuration problem.
func decode(what string, res *response, v any) error {
	if err := json.Unmarshal(res.body, v); err != nil {
		return connector.Failed(connector.FailURL, what, connector.Permanentf(
			"scim %s: the answer is not SCIM JSON (Content-Type %q): %v", what, res.header.Get("Content-Type"), err))
	}
	return nil
}

// quote is a filter value: a JSON string, as RFC 7644's filter grammar wants it.
func quote(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}
