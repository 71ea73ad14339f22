package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse"
)

// ListConfirmations calls GET /api/v1/confirmations (status "" for all; mine for only those
// addressed to the caller).
func (c *Client) ListConfirmations(ctx context.Context, status string, mine bool, o ListOptions) (*Page[*gatehouse.Confirmation], error) {
	var out Page[*gatehouse.Confirmation]
	q := url.Values{}
	set(q, "status", status)
	if mine {
		q.Set("mine", "true")
	}
	o.add(q)
	return &out, c.do(ctx, http.MethodGet, "/api/v1/confirmations", q, nil, &out)
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
