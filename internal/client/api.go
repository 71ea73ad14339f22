package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
)

// Page is one page of a list answer. NextCursor is "" on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// UnmarshalJSON accepts the documented {"items": [...]} and also a bare array, so that a list
// route that returns a plain array (a short, unpaged list) decodes the same way.
func (p *Page[T]) UnmarshalJSON(b []byte) error {
	var items []T
	if err := json.Unmarshal(b, &items); err == nil {
		*p = Page[T]{Items: items}
		return nil
	}
	type page Page[T]
	var v page
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Page[T](v)
	return nil
}

// ListOptions page through a list.
type ListOptions struct {
	Limit  int
	Cursor string
}

func (o ListOptions) add(q url.Values) {
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
}

// set adds a query parameter when v is not empty.
func set(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// Health calls GET /healthz.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil)
}

// Ready calls GET /readyz: nil when the server and its database answer.
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil, nil, nil)
}

// Me is who the token belongs to.
type Me struct {
	Principal gatehouse.Principal `json:"principal"`
	Identity  *gatehouse.Identity `json:"identity"` // nil for the bootstrap admin
}

// Me calls GET /api/v1/me.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var out Me
	return &out, c.do(ctx, http.MethodGet, "/api/v1/me", nil, nil, &out)
}

// IdentityFilter selects identities. Empty fields do not filter.
type IdentityFilter struct {
	Query          string
	Department     string
	Status         string
	EmploymentType string
	ManagerID      string
	Role           string
	Location       string
	ListOptions
}

// ListIdentities calls GET /api/v1/identities.
func (c *Client) ListIdentities(ctx context.Context, f IdentityFilter) (*Page[*gatehouse.Identity], error) {
	q := url.Values{}
	set(q, "q", f.Query)
	set(q, "department", f.Department)
	set(q, "status", f.Status)
	set(q, "employment_type", f.EmploymentType)
	set(q, "manager_id", f.ManagerID)
	set(q, "role", f.Role)
	set(q, "location", f.Location)
	f.ListOptions.add(q)
	var out Page[*gatehouse.Identity]
	return &out, c.do(ctx, http.MethodGet, "/api/v1/identities", q, nil, &out)
}

// GetIdentity calls GET /api/v1/identities/{key}; key is an id, email or employee_id.
func (c *Client) GetIdentity(ctx context.Context, key string) (*gatehouse.Identity, error) {
	var out gatehouse.Identity
	return &out, c.do(ctx, http.MethodGet, "/api/v1/identities/"+seg(key), nil, nil, &out)
}

// CreateIdentity calls POST /api/v1/identities.
func (c *Client) CreateIdentity(ctx context.Context, in *gatehouse.Identity, reason string) (*gatehouse.Identity, error) {
	body := struct {
		*gatehouse.Identity
		Reason string `json:"reason,omitempty"`
	}{in, reason}
	var out gatehouse.Identity
	return &out, c.do(ctx, http.MethodPost, "/api/v1/identities", nil, body, &out)
}

// SetRoles calls PUT /api/v1/identities/{key}/roles.
func (c *Client) SetRoles(ctx context.Context, key string, roles []gatehouse.AccessRole, reason string) (*gatehouse.Identity, error) {
	if roles == nil {
		roles = []gatehouse.AccessRole{} // "[]" clears; null might be read as "unchanged"
	}
	body := map[string]any{"roles": roles}
	if reason != "" {
		body["reason"] = reason
	}
	var out gatehouse.Identity
	return &out, c.do(ctx, http.MethodPut, "/api/v1/identities/"+seg(key)+"/roles", nil, body, &out)
}

// GetSettings calls GET /api/v1/settings.
func (c *Client) GetSettings(ctx context.Context) (*gatehouse.Settings, error) {
	var out gatehouse.Settings
	return &out, c.do(ctx, http.MethodGet, "/api/v1/settings", nil, nil, &out)
}

// GetCatalog calls GET /api/v1/catalog.
func (c *Client) GetCatalog(ctx context.Context) (*gatehouse.Catalog, error) {
	var out gatehouse.Catalog
	return &out, c.do(ctx, http.MethodGet, "/api/v1/catalog", nil, nil, &out)
}

// ListSystems calls GET /api/v1/systems (a short list, not paged).
func (c *Client) ListSystems(ctx context.Context) ([]*gatehouse.System, error) {
	var out Page[*gatehouse.System]
	if err := c.do(ctx, http.MethodGet, "/api/v1/systems", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// GetSystem calls GET /api/v1/systems/{id}.
func (c *Client) GetSystem(ctx context.Context, id string) (*gatehouse.System, error) {
	var out gatehouse.System
	return &out, c.do(ctx, http.MethodGet, "/api/v1/systems/"+seg(id), nil, nil, &out)
}

// EntitlementFilter selects entitlements.
type EntitlementFilter struct {
	System      string
	Risk        string
	Query       string
	Requestable *bool
	ListOptions
}

// ListEntitlements calls GET /api/v1/entitlements.
func (c *Client) ListEntitlements(ctx context.Context, f EntitlementFilter) (*Page[*gatehouse.Entitlement], error) {
	q := url.Values{}
	set(q, "system", f.System)
	set(q, "risk", f.Risk)
	set(q, "q", f.Query)
	if f.Requestable != nil {
		q.Set("requestable", strconv.FormatBool(*f.Requestable))
	}
	f.ListOptions.add(q)
	var out Page[*gatehouse.Entitlement]
	return &out, c.do(ctx, http.MethodGet, "/api/v1/entitlements", q, nil, &out)
}

// GetEntitlement calls GET /api/v1/entitlements/{system}/{slug}.
func (c *Client) GetEntitlement(ctx context.Context, id string) (*gatehouse.Entitlement, error) {
	var out gatehouse.Entitlement
	return &out, c.do(ctx, http.MethodGet, "/api/v1/entitlements/"+segs(id), nil, nil, &out)
}

// ListRoles calls GET /api/v1/roles (not paged).
func (c *Client) ListRoles(ctx context.Context) ([]*gatehouse.Role, error) {
	var out Page[*gatehouse.Role]
	if err := c.do(ctx, http.MethodGet, "/api/v1/roles", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// GetRole calls GET /api/v1/roles/{id}.
func (c *Client) GetRole(ctx context.Context, id string) (*gatehouse.Role, error) {
	var out gatehouse.Role
	return &out, c.do(ctx, http.MethodGet, "/api/v1/roles/"+seg(id), nil, nil, &out)
}

// ListSoDRules calls GET /api/v1/sod-rules (not paged).
func (c *Client) ListSoDRules(ctx context.Context) ([]*gatehouse.SoDRule, error) {
	var out Page[*gatehouse.SoDRule]
	if err := c.do(ctx, http.MethodGet, "/api/v1/sod-rules", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// GetSoDRule calls GET /api/v1/sod-rules/{id}.
func (c *Client) GetSoDRule(ctx context.Context, id string) (*gatehouse.SoDRule, error) {
	var out gatehouse.SoDRule
	return &out, c.do(ctx, http.MethodGet, "/api/v1/sod-rules/"+seg(id), nil, nil, &out)
}

// GrantFilter selects grants.
type GrantFilter struct {
	Identity    string // id, email or employee_id
	Entitlement string
	System      string
	Source      string
	Status      string // active, revoked, or "" for all
	Expiring    string // only grants in force expiring within this time from now ("7d")
	ListOptions
}

// ListGrants calls GET /api/v1/grants.
func (c *Client) ListGrants(ctx context.Context, f GrantFilter) (*Page[*gatehouse.Grant], error) {
	q := url.Values{}
	set(q, "identity", f.Identity)
	set(q, "entitlement", f.Entitlement)
	set(q, "system", f.System)
	set(q, "source", f.Source)
	set(q, "status", f.Status)
	set(q, "expiring", f.Expiring)
	f.ListOptions.add(q)
	var out Page[*gatehouse.Grant]
	return &out, c.do(ctx, http.MethodGet, "/api/v1/grants", q, nil, &out)
}

// GetGrant calls GET /api/v1/grants/{id}.
func (c *Client) GetGrant(ctx context.Context, id string) (*gatehouse.Grant, error) {
	var out gatehouse.Grant
	return &out, c.do(ctx, http.MethodGet, "/api/v1/grants/"+seg(id), nil, nil, &out)
}

// NewGrant is the body of POST /api/v1/grants.
type NewGrant struct {
	Identity    string             `json:"identity"`
	Entitlement string             `json:"entitlement"`
	Source      string             `json:"source,omitempty"`
	Reference   string             `json:"reference"`
	Duration    gatehouse.Duration `json:"duration,omitempty"`
	Reason      string             `json:"reason"`
}

// CreateGrant calls POST /api/v1/grants.
func (c *Client) CreateGrant(ctx context.Context, in NewGrant) (*gatehouse.Grant, error) {
	var out gatehouse.Grant
	return &out, c.do(ctx, http.MethodPost, "/api/v1/grants", nil, in, &out)
}

// RevokeGrant calls POST /api/v1/grants/{id}/revoke.
func (c *Client) RevokeGrant(ctx context.Context, id, reason string) (*gatehouse.Grant, error) {
	var out gatehouse.Grant
	return &out, c.do(ctx, http.MethodPost, "/api/v1/grants/"+seg(id)+"/revoke", nil, map[string]string{"reason": reason}, &out)
}

// AccountFilter selects observed accounts.
type AccountFilter struct {
	System   string
	Identity string
	Orphaned bool
	ListOptions
}

// ListAccounts calls GET /api/v1/accounts.
func (c *Client) ListAccounts(ctx context.Context, f AccountFilter) (*Page[*gatehouse.Account], error) {
	q := url.Values{}
	set(q, "system", f.System)
	set(q, "identity", f.Identity)
	if f.Orphaned {
		q.Set("orphaned", "true")
	}
	f.ListOptions.add(q)
	var out Page[*gatehouse.Account]
	return &out, c.do(ctx, http.MethodGet, "/api/v1/accounts", q, nil, &out)
}

// AuditFilter selects audit events; newest first unless Ascending.
type AuditFilter struct {
	Since, Until time.Time
	Actor        string
	Action       string
	ObjectType   string
	ObjectID     string
	Ascending    bool
	ListOptions
}

// ListAuditEvents calls GET /api/v1/audit/events.
func (c *Client) ListAuditEvents(ctx context.Context, f AuditFilter) (*Page[*gatehouse.AuditEvent], error) {
	q := url.Values{}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	set(q, "actor", f.Actor)
	set(q, "action", f.Action)
	set(q, "object_type", f.ObjectType)
	set(q, "object_id", f.ObjectID)
	if f.Ascending {
		q.Set("order", "asc")
	}
	f.ListOptions.add(q)
	var out Page[*gatehouse.AuditEvent]
	return &out, c.do(ctx, http.MethodGet, "/api/v1/audit/events", q, nil, &out)
}

// Verification is the answer of GET /api/v1/audit/verify.
type Verification struct {
	OK       bool   `json:"ok"`
	Count    int64  `json:"count"`
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	Break    *Break `json:"break,omitempty"`
}

// Break is where the audit chain first fails.
type Break struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
	// Through and Checkpoint: a range found by a signed checkpoint (audit.Break).
	Through    int64 `json:"through,omitempty"`
	Checkpoint int64 `json:"checkpoint,omitempty"`
}

// VerifyAudit calls GET /api/v1/audit/verify. A broken chain is not an error here: the answer
// says where it breaks.
func (c *Client) VerifyAudit(ctx context.Context) (*Verification, error) {
	var out Verification
	return &out, c.do(ctx, http.MethodGet, "/api/v1/audit/verify", nil, nil, &out)
}

// CreateAuditCheckpoint calls POST /api/v1/audit/checkpoints: the server signs a checkpoint of
// the audit chain head now (admins and auditors; 409 when it has no audit key).
func (c *Client) CreateAuditCheckpoint(ctx context.Context) (*audit.Checkpoint, error) {
	var out audit.Checkpoint
	return &out, c.do(ctx, http.MethodPost, "/api/v1/audit/checkpoints", nil, nil, &out)
}

// ListTokens calls GET /api/v1/tokens. identity narrows an admin's list to one identity.
func (c *Client) ListTokens(ctx context.Context, identity string, includeRevoked bool) ([]*gatehouse.Token, error) {
	q := url.Values{}
	set(q, "identity", identity)
	if includeRevoked {
		q.Set("include_revoked", "true")
	}
	var out Page[*gatehouse.Token]
	if err := c.do(ctx, http.MethodGet, "/api/v1/tokens", q, nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// NewToken is the body of POST /api/v1/tokens.
type NewToken struct {
	For         string `json:"for,omitempty"` // email, id or employee_id; "" for the caller
	TTL         string `json:"ttl,omitempty"` // Go duration text, e.g. "720h"
	Description string `json:"description,omitempty"`
	// Scopes limit the token (admins only): "scim" makes it a SCIM client's credential.
	Scopes []string `json:"scopes,omitempty"`
}

// CreatedToken carries a new token's secret, which the server shows this once.
type CreatedToken struct {
	Token  *gatehouse.Token `json:"token"`
	Secret string           `json:"secret"`
}

// CreateToken calls POST /api/v1/tokens.
func (c *Client) CreateToken(ctx context.Context, in NewToken) (*CreatedToken, error) {
	var out CreatedToken
	return &out, c.do(ctx, http.MethodPost, "/api/v1/tokens", nil, in, &out)
}

// RevokeToken calls DELETE /api/v1/tokens/{id}. The answer is the revoked token, or nil when
// the server answers 204 without a body.
func (c *Client) RevokeToken(ctx context.Context, id string) (*gatehouse.Token, error) {
	var out *gatehouse.Token
	if err := c.do(ctx, http.MethodDelete, "/api/v1/tokens/"+seg(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}
