package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/urlquery"
)

// list calls a list route with filter f encoded as its query (package urlquery, the API's own
// decoder) and decodes the page.
func list[P any](ctx context.Context, c *Client, path string, f any) (*P, error) {
	var out P
	return &out, c.do(ctx, http.MethodGet, path, urlquery.Encode(f), nil, &out)
}

// Health calls GET /healthz.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil)
}

// Ready calls GET /readyz: nil when the server and its database answer.
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil, nil, nil)
}

// Me calls GET /api/v1/me.
func (c *Client) Me(ctx context.Context) (*service.Me, error) {
	var out service.Me
	return &out, c.do(ctx, http.MethodGet, "/api/v1/me", nil, nil, &out)
}

// ListIdentities calls GET /api/v1/identities.
func (c *Client) ListIdentities(ctx context.Context, f gatehouse.IdentityFilter) (*gatehouse.Page[*gatehouse.Identity], error) {
	return list[gatehouse.Page[*gatehouse.Identity]](ctx, c, "/api/v1/identities", f)
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
	var out gatehouse.Page[*gatehouse.System]
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

// ListEntitlements calls GET /api/v1/entitlements.
func (c *Client) ListEntitlements(ctx context.Context, f gatehouse.EntitlementFilter) (*gatehouse.Page[*gatehouse.Entitlement], error) {
	return list[gatehouse.Page[*gatehouse.Entitlement]](ctx, c, "/api/v1/entitlements", f)
}

// GetEntitlement calls GET /api/v1/entitlements/{system}/{slug}.
func (c *Client) GetEntitlement(ctx context.Context, id string) (*gatehouse.Entitlement, error) {
	var out gatehouse.Entitlement
	return &out, c.do(ctx, http.MethodGet, "/api/v1/entitlements/"+segs(id), nil, nil, &out)
}

// ListRoles calls GET /api/v1/roles (not paged).
func (c *Client) ListRoles(ctx context.Context) ([]*gatehouse.Role, error) {
	var out gatehouse.Page[*gatehouse.Role]
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
	var out gatehouse.Page[*gatehouse.SoDRule]
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

// ListGrants calls GET /api/v1/grants.
func (c *Client) ListGrants(ctx context.Context, q gatehouse.GrantQuery) (*gatehouse.Page[*gatehouse.Grant], error) {
	return list[gatehouse.Page[*gatehouse.Grant]](ctx, c, "/api/v1/grants", q)
}

// GetGrant calls GET /api/v1/grants/{id}.
func (c *Client) GetGrant(ctx context.Context, id string) (*gatehouse.Grant, error) {
	var out gatehouse.Grant
	return &out, c.do(ctx, http.MethodGet, "/api/v1/grants/"+seg(id), nil, nil, &out)
}

// CreateGrant calls POST /api/v1/grants.
func (c *Client) CreateGrant(ctx context.Context, in service.NewGrant) (*gatehouse.Grant, error) {
	var out gatehouse.Grant
	return &out, c.do(ctx, http.MethodPost, "/api/v1/grants", nil, in, &out)
}

// RevokeGrant calls POST /api/v1/grants/{id}/revoke.
func (c *Client) RevokeGrant(ctx context.Context, id, reason string) (*gatehouse.Grant, error) {
	var out gatehouse.Grant
	return &out, c.do(ctx, http.MethodPost, "/api/v1/grants/"+seg(id)+"/revoke", nil, map[string]string{"reason": reason}, &out)
}

// ListAccounts calls GET /api/v1/accounts.
func (c *Client) ListAccounts(ctx context.Context, f gatehouse.AccountFilter) (*gatehouse.Page[*gatehouse.Account], error) {
	return list[gatehouse.Page[*gatehouse.Account]](ctx, c, "/api/v1/accounts", f)
}

// ListAuditEvents calls GET /api/v1/audit/events.
func (c *Client) ListAuditEvents(ctx context.Context, f gatehouse.AuditFilter) (*gatehouse.Page[*gatehouse.AuditEvent], error) {
	return list[gatehouse.Page[*gatehouse.AuditEvent]](ctx, c, "/api/v1/audit/events", f)
}

// VerifyAudit calls GET /api/v1/audit/verify. A broken chain is not an error here: the answer
// says where it breaks.
func (c *Client) VerifyAudit(ctx context.Context) (*service.Verification, error) {
	var out service.Verification
	return &out, c.do(ctx, http.MethodGet, "/api/v1/audit/verify", nil, nil, &out)
}

// CreateAuditCheckpoint calls POST /api/v1/audit/checkpoints: the server signs a checkpoint of
// the audit chain head now (admins and auditors; 409 when it has no audit key).
func (c *Client) CreateAuditCheckpoint(ctx context.Context) (*audit.Checkpoint, error) {
	var out audit.Checkpoint
	return &out, c.do(ctx, http.MethodPost, "/api/v1/audit/checkpoints", nil, nil, &out)
}

// ListTokens calls GET /api/v1/tokens. IdentityID narrows an admin's list to one identity.
func (c *Client) ListTokens(ctx context.Context, f gatehouse.TokenFilter) ([]*gatehouse.Token, error) {
	out, err := list[gatehouse.Page[*gatehouse.Token]](ctx, c, "/api/v1/tokens", f)
	if err != nil {
		return nil, err
	}
	return out.Items, nil
}

// CreateToken calls POST /api/v1/tokens.
func (c *Client) CreateToken(ctx context.Context, in service.TokenRequest) (*service.CreatedToken, error) {
	var out service.CreatedToken
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
