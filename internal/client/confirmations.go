package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// ListConfirmations calls GET /api/v1/confirmations (q.Mine: only those addressed to the
// caller).
func (c *Client) ListConfirmations(ctx context.Context, q gatehouse.ConfirmationQuery) (*gatehouse.Page[*gatehouse.Confirmation], error) {
	return list[gatehouse.Page[*gatehouse.Confirmation]](ctx, c, "/api/v1/confirmations", q)
}

// ConfirmConfirmation calls POST /api/v1/confirmations/{id}/confirm.
func (c *Client) ConfirmConfirmation(ctx context.Context, id, comment string) (*gatehouse.Confirmation, error) {
	var out gatehouse.Confirmation
	return &out, c.do(ctx, http.MethodPost, "/api/v1/confirmations/"+seg(id)+"/confirm", nil, map[string]string{"comment": comment}, &out)
}

// RevokeConfirmation calls POST /api/v1/confirmations/{id}/revoke: the grant is revoked.
func (c *Client) RevokeConfirmation(ctx context.Context, id, comment string) (*gatehouse.Confirmation, error) {
	var out gatehouse.Confirmation
	return &out, c.do(ctx, http.MethodPost, "/api/v1/confirmations/"+seg(id)+"/revoke", nil, map[string]string{"comment": comment}, &out)
}
