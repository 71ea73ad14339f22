package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Default timeouts. Dialing fails fast so that a wrong GATEHOUSE_ADDR is reported at once; a
// whole request may take longer, because a catalog apply or an audit verification of a long
// log does real work on the server.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 2 * time.Minute
)

// Options configure a Client.
type Options struct {
	// UserAgent is sent with every request, e.g. "gatehouse-cli/1.2.3", so that server logs
	// tell the CLI from browsers and scripts.
	UserAgent string
	// Timeout bounds one request, including reading the body; 0 means DefaultRequestTimeout.
	Timeout time.Duration
	// HTTPClient replaces the default transport (tests); Timeout is then ignored.
	HTTPClient *http.Client
}

// Client calls one Gatehouse server with one bearer token. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	ua    string
	http  *http.Client
}

// New returns a client for the server at addr (its base URL, e.g. "http://127.0.0.1:8080";
// "127.0.0.1:8080" without a scheme means http) that authenticates with token.
func New(addr, token string, opts Options) (*Client, error) {
	base, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	hc := opts.HTTPClient
	if hc == nil {
		timeout := opts.Timeout
		if timeout == 0 {
			timeout = DefaultRequestTimeout
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: DefaultDialTimeout, KeepAlive: 30 * time.Second}).DialContext
		tr.ResponseHeaderTimeout = timeout
		hc = &http.Client{Timeout: timeout, Transport: tr}
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "gatehouse-client"
	}
	return &Client{base: base, token: token, ua: ua, http: hc}, nil
}

// ParseAddr checks a server address and returns it as a base URL without a trailing slash.
func ParseAddr(addr string) (*url.URL, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil, errors.New("no server address")
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("server address %q is not a URL: %w", addr, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("server address %q: the scheme must be http or https", addr)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("server address %q has no host", addr)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("server address %q must not have a query or fragment", addr)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// Addr returns the server's base URL.
func (c *Client) Addr() string { return c.base.String() }

// Error is an error answer from the server: the JSON error body of docs/api.md, or a
// description of a non-JSON answer (from a proxy, say).
type Error struct {
	StatusCode int    // HTTP status
	Code       string // gatehouse error code: invalid, unauthorized, forbidden, not_found, …
	Message    string // safe to show as it is
	// Details are the problems of a rejected file (a catalog, an HR feed) as the server
	// located them: file, line, field and reason each.
	Details []gatehouse.Problem
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s (HTTP %d)", e.Code, e.StatusCode)
	}
	return e.Message
}

// UnreachableError says that no server answered at the address: it is not running, the
// address is wrong, or the network is in the way.
type UnreachableError struct {
	Addr string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the Gatehouse server at %s: %v (is it running, and is GATEHOUSE_ADDR right?)", e.Addr, unwrapURLError(e.Err))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// unwrapURLError drops the "Get \"http://…\": " prefix of a *url.Error: the address is
// already in the message.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// do sends one request and decodes a 2xx JSON answer into out (when out is not nil). path is
// already escaped; body, when not nil, is sent as JSON.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	// path is already escaped (see seg and segs), so the URL is built as text: an entitlement
	// id's slash must stay a separator while other characters are escaped.
	target := c.base.String() + path
	if q := query.Encode(); q != "" {
		target += "?" + q
	}

	var rd io.Reader
	raw, isRaw := body.(rawBody)
	if isRaw {
		rd = bytes.NewReader(raw.data)
	} else if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Accept", "application/json")
	switch {
	case isRaw:
		req.Header.Set("Content-Type", raw.contentType)
		for k, v := range raw.header {
			req.Header.Set(k, v)
		}
	case body != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &UnreachableError{Addr: c.base.String(), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorAnswer))
		if err != nil {
			return fmt.Errorf("read answer of %s %s: %w", method, path, err)
		}
		return decodeError(resp, data)
	}
	if err := ownAnswer(resp, method, path); err != nil {
		return err
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorAnswer)) // lets the connection be reused
		return nil
	}
	// Decoded as it arrives, whatever its size: answers are pages, and a limit here would turn
	// a change the server made into an error.
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return &AnswerError{Method: method, Path: path, Query: query, Status: resp.StatusCode, Header: resp.Header, Err: err}
	}
	return nil
}

// ownAnswer checks that a 2xx answer is the server's answer to the request as sent: a redirect
// that turned it into a GET (an authenticating proxy's sign-in page, say), or an answer that is
// not JSON, says nothing about whether the server carried the request out — it most likely
// never saw it — so it is an error, never an AnswerError that says the change is done.
func ownAnswer(resp *http.Response, method, path string) error {
	if resp.Request != nil && resp.Request.Method != method {
		return fmt.Errorf("%s %s was redirected to %s %s (HTTP %d): not carried out; check GATEHOUSE_ADDR and any proxy in front of the server",
			method, path, resp.Request.Method, resp.Request.URL.Redacted(), resp.StatusCode)
	}
	if resp.StatusCode == http.StatusNoContent || resp.ContentLength == 0 {
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("%s %s: the answer (HTTP %d, %q) is not the Gatehouse server's: nothing says it was carried out; check GATEHOUSE_ADDR and any proxy in front of the server",
			method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return nil
}

// maxErrorAnswer bounds what is read of an error answer (a file's problems, one per line).
const maxErrorAnswer = 64 << 20

// AnswerError is a request the server carried out (it answered 2xx) whose answer could not be
// read or decoded: what it did is done, only its description is missing, so it must not be
// sent again as if it had failed (Done reports which requests change something).
type AnswerError struct {
	Method, Path string
	Query        url.Values
	Status       int
	// Header is the answer's header, which arrived whole: a created object's Location, an
	// HR import's X-Gatehouse-Import-Status.
	Header http.Header
	Err    error
}

func (e *AnswerError) Error() string {
	at := ""
	if loc := e.Header.Get("Location"); loc != "" {
		at = " (" + loc + ")"
	}
	return fmt.Sprintf("the server carried out %s %s%s (HTTP %d %s), but its answer could not be read: %v", e.Method, e.Path,
		at, e.Status, http.StatusText(e.Status), e.Err)
}

func (e *AnswerError) Unwrap() error { return e.Err }

// Done reports whether the request changed something on the server: it succeeded, and sending
// it again would do it twice. Reads are not, and neither are the POSTs that only compute an
// answer (a dry run, a preview, a plan, a system's test): without their answer nothing was done.
func (e *AnswerError) Done() bool {
	if e.Method == http.MethodGet || e.Method == http.MethodHead || e.Query.Get("dry_run") == "true" {
		return false
	}
	switch {
	case e.Path == "/api/v1/catalog/plan", e.Path == "/api/v1/requests/preview",
		strings.HasPrefix(e.Path, "/api/v1/systems/") && strings.HasSuffix(e.Path, "/test"):
		return false
	}
	return true
}

// rawBody is a request body sent as it is (an HR feed CSV), not encoded as JSON.
type rawBody struct {
	contentType string
	header      map[string]string
	data        []byte
}

// decodeError turns an error answer into an *Error. A body that is not Gatehouse's JSON error
// (a proxy's HTML page) still yields a useful message: the status and the start of the body.
func decodeError(resp *http.Response, data []byte) error {
	var env struct {
		Error *struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Details []json.RawMessage `json:"details"`
		} `json:"error"`
	}
	e := &Error{StatusCode: resp.StatusCode, Code: codeForStatus(resp.StatusCode)}
	if json.Unmarshal(data, &env) == nil && env.Error != nil {
		if env.Error.Code != "" {
			e.Code = env.Error.Code
		}
		e.Message = env.Error.Message
		for _, raw := range env.Error.Details {
			var d gatehouse.Problem
			if json.Unmarshal(raw, &d) != nil {
				// A detail that is not a problem object: show it as text rather than drop it.
				var s string
				if json.Unmarshal(raw, &s) != nil {
					s = string(raw)
				}
				d = gatehouse.Problem{Message: s}
			}
			e.Details = append(e.Details, d)
		}
		return e
	}
	snippet := strings.TrimSpace(string(data))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	e.Message = fmt.Sprintf("the server answered %s", resp.Status)
	if snippet != "" {
		e.Message += ": " + snippet
	}
	return e
}

// codeForStatus is the inverse of the server's code→status table, for answers without a
// Gatehouse error body.
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return "invalid"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return "unavailable"
	}
	return "internal"
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// segs escapes an id that may contain slashes (an entitlement id) segment by segment, so that
// the slashes stay path separators.
func segs(s string) string {
	parts := strings.Split(s, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
