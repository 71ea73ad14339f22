package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// ListSCIMGroups calls GET /api/v1/scim-groups.
func (c *Client) ListSCIMGroups(ctx context.Context, f gatehouse.SCIMGroupFilter) (*gatehouse.Page[*gatehouse.SCIMGroup], error) {
	return list[gatehouse.Page[*gatehouse.SCIMGroup]](ctx, c, "/api/v1/scim-groups", f)
}

// GetSCIMGroup calls GET /api/v1/scim-groups/{id}.
func (c *Client) GetSCIMGroup(ctx context.Context, id string) (*gatehouse.SCIMGroup, error) {
	var out gatehouse.SCIMGroup
	return &out, c.do(ctx, http.MethodGet, "/api/v1/scim-groups/"+seg(id), nil, nil, &out)
}
