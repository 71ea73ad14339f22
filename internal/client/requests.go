package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// CreateRequest calls POST /api/v1/requests.
func (c *Client) CreateRequest(ctx context.Context, in service.NewRequest) (*gatehouse.AccessRequest, error) {
	var out gatehouse.AccessRequest
	return &out, c.do(ctx, http.MethodPost, "/api/v1/requests", nil, in, &out)
}

// PreviewRequest calls POST /api/v1/requests/preview: the steps and findings, nothing created.
func (c *Client) PreviewRequest(ctx context.Context, in service.NewRequest) (*service.RequestPreview, error) {
	var out service.RequestPreview
	return &out, c.do(ctx, http.MethodPost, "/api/v1/requests/preview", nil, in, &out)
}

// ListRequests calls GET /api/v1/requests.
func (c *Client) ListRequests(ctx context.Context, q gatehouse.RequestQuery) (*gatehouse.Page[*gatehouse.AccessRequest], error) {
	return list[gatehouse.Page[*gatehouse.AccessRequest]](ctx, c, "/api/v1/requests", q)
}

// GetRequest calls GET /api/v1/requests/{id} (an id or REQ-000123).
func (c *Client) GetRequest(ctx context.Context, id string) (*gatehouse.AccessRequest, error) {
	var out gatehouse.AccessRequest
	return &out, c.do(ctx, http.MethodGet, "/api/v1/requests/"+seg(id), nil, nil, &out)
}

// DecideRequest calls POST /api/v1/requests/{id}/{verb}: verb is approve, deny, return or
// cancel.
func (c *Client) DecideRequest(ctx context.Context, id, verb, comment string) (*gatehouse.AccessRequest, error) {
	var out gatehouse.AccessRequest
	return &out, c.do(ctx, http.MethodPost, "/api/v1/requests/"+seg(id)+"/"+seg(verb), nil, map[string]string{"comment": comment}, &out)
}

// ResubmitRequest calls POST /api/v1/requests/{id}/resubmit with a new justification.
func (c *Client) ResubmitRequest(ctx context.Context, id, justification string) (*gatehouse.AccessRequest, error) {
	var out gatehouse.AccessRequest
	return &out, c.do(ctx, http.MethodPost, "/api/v1/requests/"+seg(id)+"/resubmit", nil, map[string]string{"justification": justification}, &out)
}

// CreateDelegation calls POST /api/v1/delegations.
func (c *Client) CreateDelegation(ctx context.Context, in service.NewDelegation) (*gatehouse.Delegation, error) {
	var out gatehouse.Delegation
	return &out, c.do(ctx, http.MethodPost, "/api/v1/delegations", nil, in, &out)
}
