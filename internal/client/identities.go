package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// UpdateIdentity calls PATCH /api/v1/identities/{key}: only the fields patch sets change.
func (c *Client) UpdateIdentity(ctx context.Context, key string, patch service.IdentityPatch, reason string) (*gatehouse.Identity, error) {
	body := struct {
		service.IdentityPatch
		Reason string `json:"reason,omitempty"`
	}{patch, reason}
	var out gatehouse.Identity
	return &out, c.do(ctx, http.MethodPatch, "/api/v1/identities/"+seg(key), nil, body, &out)
}
