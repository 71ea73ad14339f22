package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse"
)

// SCIMGroupFilter selects SCIM groups (groups an IdP pushed).
type SCIMGroupFilter struct {
	DisplayName string // exact, case-insensitive
	Member      string // groups of this identity: id, email or employee_id
	ListOptions
}

// ListSCIMGroups calls GET /api/v1/scim-groups.
func (c *Client) ListSCIMGroups(ctx context.Context, f SCIMGroupFilter) (*Page[*gatehouse.SCIMGroup], error) {
	q := url.Values{}
	set(q, "display_name", f.DisplayName)
	set(q, "member", f.Member)
	f.ListOptions.add(q)
	var out Page[*gatehouse.SCIMGroup]
	return &out, c.do(ctx, http.MethodGet, "/api/v1/scim-groups", q, nil, &out)
}

// GetSCIMGroup calls GET /api/v1/scim-groups/{id}.
func (c *Client) GetSCIMGroup(ctx context.Context, id string) (*gatehouse.SCIMGroup, error) {
	var out gatehouse.SCIMGroup
	return &out, c.do(ctx, http.MethodGet, "/api/v1/scim-groups/"+seg(id), nil, nil, &out)
}
