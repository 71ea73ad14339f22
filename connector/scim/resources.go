package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/scimproto"
)

// flexBool is a boolean that also accepts the strings "true" and "false", which some servers
// send for active and primary.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	if s == "null" || s == "" {
		return nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("not a boolean: %s", data)
	}
	*b = flexBool(v)
	return nil
}

type email struct {
	Value   string   `json:"value"`
	Type    string   `json:"type"`
	Primary flexBool `json:"primary"`
}

type meta struct {
	Version string `json:"version"`
}

// user is the part of a User resource the connector reads.
type user struct {
	ID         string    `json:"id"`
	ExternalID string    `json:"externalId"`
	UserName   string    `json:"userName"`
	Active     *flexBool `json:"active"`
	Emails     []email   `json:"emails"`
	Meta       meta      `json:"meta"`
}

// enabled: a user without active is active (the attribute is optional, RFC 7643 section 4.1.1).
func (u *user) enabled() bool { return u.Active == nil || bool(*u.Active) }

// primaryEmail is the primary email, else the work email, else the first.
func (u *user) primaryEmail() string {
	for _, e := range u.Emails {
		if e.Primary {
			return e.Value
		}
	}
	for _, e := range u.Emails {
		if strings.EqualFold(e.Type, "work") {
			return e.Value
		}
	}
	if len(u.Emails) > 0 {
		return u.Emails[0].Value
	}
	return ""
}

// account is u as the engine sees it. match_by says which attributes are reported for matching:
// all of them by default; one alone when the others are set by somebody else (another
// provisioning source may own externalId, say) and must not match people.
func (c *Connector) account(u *user) connector.Account {
	a := connector.Account{Ref: connector.AccountRef{ID: u.ID}, Username: u.UserName, Enabled: u.enabled()}
	userNameEmail := ""
	if strings.Contains(u.UserName, "@") {
		userNameEmail = u.UserName
	}
	switch c.cfg.MatchBy {
	case MatchUserName:
		a.Email = userNameEmail
	case MatchExternalID:
		// Username stays empty: the engine would match its local part to people too.
		a.EmployeeID, a.Username = u.ExternalID, ""
	case MatchEmail:
		a.Email, a.Username = u.primaryEmail(), ""
	default:
		a.EmployeeID = u.ExternalID
		a.Email = u.primaryEmail()
		if a.Email == "" {
			a.Email = userNameEmail
		}
	}
	return a
}

type member struct {
	Value string `json:"value"`
	Type  string `json:"type,omitempty"`
}

// group is the part of a Group resource the connector reads.
type group struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Members     []member `json:"members"`
	Meta        meta     `json:"meta"`
}

// resource is one resource read in full, for read-modify-write.
type resource struct {
	raw     map[string]any
	body    []byte
	version string // If-Match value: the ETag header, else meta.version
}

// get reads the resource at path. A missing one is a Permanent ErrNotFound.
func (c *Connector) get(ctx context.Context, path string, query url.Values) (*resource, error) {
	r := request{method: http.MethodGet, path: path, query: query}
	res, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	if res.status != http.StatusOK {
		return nil, c.statusError(r.step(), res)
	}
	out := &resource{body: res.body, version: res.header.Get("ETag")}
	if err := decode(r.step(), res, &out.raw); err != nil {
		return nil, err
	}
	if out.version == "" {
		if m, ok := out.raw["meta"].(map[string]any); ok {
			out.version, _ = m["version"].(string)
		}
	}
	return out, nil
}

// into decodes the resource into v.
func (r *resource) into(v any) error { return json.Unmarshal(r.body, v) }

// write changes the resource at path, read as cur: PATCH ops when the server supports PATCH,
// else PUT of cur's representation after mutate (read-modify-write). cur's version goes in
// If-Match. It returns errStale on 412: the caller reads again and decides again.
func (c *Connector) write(ctx context.Context, path string, cur *resource, ops []scimproto.PatchOp, mutate func(map[string]any)) error {
	r := request{method: http.MethodPatch, path: path,
		body: scimproto.PatchRequest{Schemas: []string{schemaPatchOp}, Operations: ops}}
	if cur != nil {
		r.ifMatch = cur.version
	}
	if !c.patch {
		if cur == nil {
			return fmt.Errorf("scim %s: internal error: read-modify-write without a read", path)
		}
		body := cur.raw
		delete(body, "meta") // read-only; some servers refuse it in a PUT
		mutate(body)
		r.method, r.body = http.MethodPut, body
	}
	res, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	switch {
	case res.status == http.StatusOK || res.status == http.StatusNoContent:
		return nil
	case res.status == http.StatusPreconditionFailed && r.ifMatch != "":
		return fmt.Errorf("scim %s: %w", r.step(), errStale)
	}
	return c.statusError(r.step(), res)
}

// errStale: the resource changed since it was read (412 on If-Match). Callers read again and
// retry once; a resource that keeps changing is a retryable error, for the job queue.
var errStale = errors.New("scim: the resource changed since it was read (412 Precondition Failed)")

// list reads every resource at path matching query (filter, attributes), page by page
// (startIndex and count, RFC 7644 section 3.4.2.4), and calls each for every one. It stops at
// totalResults, on an empty page, and when a server that ignores startIndex sends the first
// page again.
func list[T any](ctx context.Context, c *Connector, path string, query url.Values, id func(*T) string, each func(*T)) error {
	count := c.cfg.PageSize
	if c.maxResults > 0 && count > c.maxResults {
		count = c.maxResults
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if c.noAttributes() {
		q.Del("attributes")
	}
	first, start, got := "", 1, 0
	for {
		q.Set("startIndex", strconv.Itoa(start))
		q.Set("count", strconv.Itoa(count))
		r := request{method: http.MethodGet, path: path, query: q}
		res, err := c.send(ctx, r)
		if err != nil {
			return err
		}
		if res.status == http.StatusBadRequest && q.Has("attributes") && start == 1 {
			// attributes= is optional to support; read whole resources instead.
			c.mu.Lock()
			c.noAttrs = true
			c.mu.Unlock()
			q.Del("attributes")
			continue
		}
		if res.status != http.StatusOK {
			return c.statusError(r.step(), res)
		}
		var page struct {
			TotalResults int `json:"totalResults"`
			Resources    []T `json:"Resources"`
		}
		if err := decodePage(r.step(), res, &page); err != nil {
			return err
		}
		n := len(page.Resources)
		if n == 0 {
			return nil
		}
		if start == 1 {
			first = id(&page.Resources[0])
		} else if first != "" && id(&page.Resources[0]) == first {
			if got >= page.TotalResults {
				return nil // it sent everything at once; we have it
			}
			return connector.Permanentf("scim %s: the server ignores startIndex and keeps sending the first page", r.step())
		}
		for i := range page.Resources {
			each(&page.Resources[i])
		}
		got += n
		start += n
		if (page.TotalResults > 0 && got >= page.TotalResults) || (page.TotalResults == 0 && n < count) {
			return nil
		}
	}
}

// decodePage decodes a list response. The Resources key is case-insensitive in encoding/json,
// which some servers need ("resources").
func decodePage(step string, res *response, v any) error {
	dec := json.NewDecoder(bytes.NewReader(res.body))
	if err := dec.Decode(v); err != nil {
		return connector.Failed(connector.FailURL, step, connector.Permanentf(
			"scim %s: the answer is not a SCIM list response (Content-Type %q): %v", step, res.header.Get("Content-Type"), err))
	}
	return nil
}

func (c *Connector) noAttributes() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.noAttrs
}

// filterUnsupported reports whether an answer to a filtered request says the server cannot
// filter (so the caller lists everything instead).
func filterUnsupported(res *response) bool {
	return res.status == http.StatusNotImplemented ||
		(res.status == http.StatusBadRequest && bytes.Contains(res.body, []byte(scimproto.ScimTypeInvalidFilter)))
}

// find returns the resources at path whose attr equals value: with a filter when the server
// supports one, else from a full listing compared here (case-insensitively, as SCIM compares
// userName and displayName).
func find[T any](ctx context.Context, c *Connector, path, attr, value, attributes string, id func(*T) string, key func(*T) string) ([]T, error) {
	var out []T
	keep := func(x *T) {
		if strings.EqualFold(key(x), value) {
			out = append(out, *x)
		}
	}
	if c.filter {
		q := url.Values{"filter": {attr + " eq " + quote(value)}}
		if attributes != "" && !c.noAttributes() {
			q.Set("attributes", attributes)
		}
		r := request{method: http.MethodGet, path: path, query: q}
		res, err := c.send(ctx, r)
		if err != nil {
			return nil, err
		}
		if res.status == http.StatusOK {
			var page struct {
				Resources []T `json:"Resources"`
			}
			if err := decodePage(r.step(), res, &page); err != nil {
				return nil, err
			}
			for i := range page.Resources {
				keep(&page.Resources[i])
			}
			return out, nil
		}
		if !filterUnsupported(res) && !(res.status == http.StatusBadRequest && q.Has("attributes")) {
			return nil, c.statusError(r.step(), res)
		}
	}
	q := url.Values{}
	if attributes != "" {
		q.Set("attributes", attributes)
	}
	if err := list(ctx, c, path, q, id, keep); err != nil {
		return nil, err
	}
	return out, nil
}

func userID(u *user) string   { return u.ID }
func groupID(g *group) string { return g.ID }
