package scim

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/scimproto"
)

// Connector is an open SCIM connector: an HTTP client for one service provider and what it
// learnt of the server at open. It is safe for concurrent use.
type Connector struct {
	cfg      Config
	base     string // the base URL without a trailing slash
	token    string // bearer token, or ""
	password string // basic auth password, or ""
	http     *http.Client

	// Discovered at open (discover).
	patch      bool   // PATCH supported; else read-modify-write with PUT
	filter     bool   // filter supported; else full listings
	maxResults int    // the server's page cap (filter.maxResults), 0: none announced
	groups     bool   // the server has a Group resource
	usersPath  string // "/Users" unless ResourceTypes says otherwise
	groupsPath string

	mu       sync.Mutex
	groupIDs map[string]string // displayName → id, learnt from lookups and inventories
	noAttrs  bool              // the server refused the attributes= parameter once
	noOr     bool              // the server refused a filter joined with `or` once
}

var (
	_ connector.Connector     = (*Connector)(nil)
	_ connector.Checker       = (*Connector)(nil)
	_ connector.MemberBatcher = (*Connector)(nil)
	_ connector.Finder        = (*Connector)(nil)
	_ connector.Concurrent    = (*Connector)(nil)
)

// Concurrency is the concurrency setting (connector.Concurrent): requests in flight at once,
// each waiting out a 429 or 503 by itself as send does.
func (c *Connector) Concurrency() int { return c.cfg.Concurrency }

// Capabilities: accounts always; groups when the server has them (and then they are created
// when missing). Deleting on deprovision removes the memberships with the user.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{
		CreateAccount:             true,
		Disable:                   true,
		Groups:                    c.groups,
		CreatesGroups:             c.groups,
		DisableRemovesMemberships: c.cfg.Deprovision == DeprovisionDelete,
	}
}

// Close releases idle connections.
func (c *Connector) Close() error {
	if c.http != nil {
		c.http.CloseIdleConnections()
	}
	return nil
}

// spConfig is the part of ServiceProviderConfig the connector uses (RFC 7643 section 5).
type spConfig struct {
	Patch struct {
		Supported *flexBool `json:"supported"`
	} `json:"patch"`
	Filter struct {
		Supported  *flexBool `json:"supported"`
		MaxResults int       `json:"maxResults"`
	} `json:"filter"`
}

type resourceType struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
	Schema   string `json:"schema"`
}

// discover reads ServiceProviderConfig and ResourceTypes, then one user. A server without them
// gets the RFC's defaults (PATCH and filters supported) and is probed for /Groups. The
// discovery endpoints may be served without authentication (RFC 7644 section 4), and a missing
// ServiceProviderConfig says nothing: the user read tells whether this is a SCIM base and
// whether the credentials work.
func (c *Connector) discover(ctx context.Context) error {
	if err := c.discoverTypes(ctx); err != nil {
		return err
	}
	r := request{method: http.MethodGet, path: c.usersPath, query: url.Values{"count": {"1"}}}
	res, err := c.send(ctx, r)
	if err != nil {
		return fmt.Errorf("scim discovery: %w", err)
	}
	if err := c.checkAnswer(r, res); err != nil {
		return fmt.Errorf("scim discovery: %w", err)
	}
	return nil
}

func (c *Connector) discoverTypes(ctx context.Context) error {
	c.patch, c.filter, c.usersPath, c.groupsPath = true, true, "/Users", "/Groups"
	res, err := c.send(ctx, request{method: http.MethodGet, path: "/ServiceProviderConfig"})
	if err != nil {
		return fmt.Errorf("scim discovery: %w", err)
	}
	switch {
	case res.status == http.StatusOK:
		var sp spConfig
		if err := decode("GET /ServiceProviderConfig", res, &sp); err != nil {
			return err
		}
		if sp.Patch.Supported != nil {
			c.patch = bool(*sp.Patch.Supported)
		}
		if sp.Filter.Supported != nil {
			c.filter = bool(*sp.Filter.Supported)
		}
		c.maxResults = sp.Filter.MaxResults
	case res.status == http.StatusNotFound || res.status == http.StatusNotImplemented:
		// Optional in practice: assume the RFC defaults.
	default:
		return fmt.Errorf("scim discovery: %w", c.statusError("GET /ServiceProviderConfig", res))
	}

	res, err = c.send(ctx, request{method: http.MethodGet, path: "/ResourceTypes"})
	if err != nil {
		return fmt.Errorf("scim discovery: %w", err)
	}
	if res.status == http.StatusOK {
		var list struct {
			Resources []resourceType `json:"Resources"`
		}
		var plain []resourceType // some servers answer a bare array
		if decode("GET /ResourceTypes", res, &list) != nil {
			if err := decode("GET /ResourceTypes", res, &plain); err != nil {
				return err
			}
			list.Resources = plain
		}
		if len(list.Resources) > 0 {
			c.groups = false
			for _, rt := range list.Resources {
				ep := "/" + strings.Trim(rt.Endpoint, "/")
				switch {
				case strings.EqualFold(rt.Name, "User") || rt.Schema == schemaUser:
					if rt.Endpoint != "" && !strings.Contains(rt.Endpoint, "://") {
						c.usersPath = ep
					}
				case strings.EqualFold(rt.Name, "Group") || rt.Schema == schemaGroup:
					c.groups = true
					if rt.Endpoint != "" && !strings.Contains(rt.Endpoint, "://") {
						c.groupsPath = ep
					}
				}
			}
			return nil
		}
	} else if res.status != http.StatusNotFound && res.status != http.StatusNotImplemented {
		return fmt.Errorf("scim discovery: %w", c.statusError("GET /ResourceTypes", res))
	}
	// No usable ResourceTypes: ask for a group.
	res, err = c.send(ctx, request{method: http.MethodGet, path: c.groupsPath, query: url.Values{"count": {"1"}}})
	if err != nil {
		return fmt.Errorf("scim discovery: %w", err)
	}
	switch {
	case res.status == http.StatusOK:
		c.groups = true
	case res.status == http.StatusNotFound || res.status == http.StatusNotImplemented:
		c.groups = false
	default:
		return fmt.Errorf("scim discovery: %w", c.statusError("GET "+c.groupsPath, res))
	}
	return nil
}

// Check reads ServiceProviderConfig, one user and (when the server has groups) one group, and
// says what is wrong in terms of connector.Failure: unreachable, TLS, a URL that is not a SCIM
// base, credentials, permission, a server error.
func (c *Connector) Check(ctx context.Context) error {
	steps := []request{
		{method: http.MethodGet, path: "/ServiceProviderConfig"},
		{method: http.MethodGet, path: c.usersPath, query: url.Values{"count": {"1"}}},
	}
	if c.groups {
		steps = append(steps, request{method: http.MethodGet, path: c.groupsPath, query: url.Values{"count": {"1"}}})
	}
	for i, r := range steps {
		res, err := c.send(ctx, r)
		if err != nil {
			return checkTransport(r.step(), err)
		}
		if i == 0 && (res.status == http.StatusNotFound || res.status == http.StatusNotImplemented) {
			continue // optional: the /Users step tells whether this is a SCIM base at all
		}
		if err := c.checkAnswer(r, res); err != nil {
			return err
		}
	}
	return nil
}

// checkAnswer classifies one answer of Check.
func (c *Connector) checkAnswer(r request, res *response) error {
	step := r.step()
	switch {
	case res.status == http.StatusNotFound:
		return connector.Failed(connector.FailURL, step, connector.Permanent(
			fmt.Errorf("scim %s: 404: %s is not a SCIM base URL (%w)", step, c.cfg.URL, c.scimError(res))))
	case res.status == http.StatusUnauthorized, res.status == http.StatusForbidden, res.status >= 500:
		return c.statusError(step, res)
	case res.status >= 300 && res.status < 400:
		return connector.Failed(connector.FailURL, step, connector.Permanentf(
			"scim %s: redirected to %q: set url to the SCIM base URL itself", step, res.header.Get("Location")))
	case res.status != http.StatusOK:
		return connector.Failed(connector.FailServer, step, c.statusError(step, res))
	}
	ct, _, _ := mime.ParseMediaType(res.header.Get("Content-Type"))
	if ct == "text/html" {
		return connector.Failed(connector.FailURL, step, connector.Permanentf(
			"scim %s: the server answered with an HTML page, not SCIM JSON: %s is not a SCIM base URL", step, c.cfg.URL))
	}
	var body map[string]any
	if err := decode(step, res, &body); err != nil {
		return err
	}
	if r.path != "/ServiceProviderConfig" {
		if _, ok := body["Resources"]; !ok {
			if _, ok := body["totalResults"]; !ok {
				return connector.Failed(connector.FailURL, step, connector.Permanentf(
					"scim %s: the answer is JSON but not a SCIM list response: %s is not a SCIM base URL", step, c.cfg.URL))
			}
		}
	}
	return nil
}

// checkTransport gives a request that got no answer its failure kind (send already did; this
// covers the context's own deadline).
func checkTransport(step string, err error) error {
	if connector.FailureOf(err) != "" {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || isNetError(err) {
		return connector.Failed(connector.FailUnreachable, step, err)
	}
	return err
}

// Schema URNs used in request bodies.
const (
	schemaUser    = scimproto.SchemaUser
	schemaGroup   = scimproto.SchemaGroup
	schemaPatchOp = scimproto.SchemaPatchOp
)
