package client

import (
	"context"
	"net/http"

	"time"

	"github.com/gatehouse/gatehouse"
)

// NewRequest is the body of CreateRequest and PreviewRequest (the server's service.NewRequest).
type NewRequest struct {
	For           string                  `json:"for,omitempty"`
	Action        gatehouse.RequestAction `json:"action,omitempty"`
	Entitlement   string                  `json:"entitlement,omitempty"`
	Role          string                  `json:"role,omitempty"`
	Justification string                  `json:"justification"`
	Duration      gatehouse.Duration      `json:"duration,omitempty"`
	Priority      gatehouse.Priority      `json:"priority,omitempty"`
}

// RequestPreview is what a request would be (the server's service.RequestPreview).
type RequestPreview struct {
	Beneficiary  string                    `json:"beneficiary"`
	Entitlements []string                  `json:"entitlements"`
	Steps        []gatehouse.ApprovalStep  `json:"steps"`
	Findings     gatehouse.RequestFindings `json:"findings"`
	Missing      []string                  `json:"missing,omitempty"`
	DueAt        time.Time                 `json:"due_at"`
}

// NewDelegation is the body of CreateDelegation (the server's service.NewDelegation).
type NewDelegation struct {
	From     string    `json:"from,omitempty"`
	To       string    `json:"to"`
	StartsAt time.Time `json:"starts_at,omitzero"`
	EndsAt   time.Time `json:"ends_at"`
	Reason   string    `json:"reason,omitempty"`
}

// CreateRequest calls POST /api/v1/requests.
func (c *Client) CreateRequest(ctx context.Context, in NewRequest) (*gatehouse.AccessRequest, error) {
	var out gatehouse.AccessRequest
	return &out, c.do(ctx, http.MethodPost, "/api/v1/requests", nil, in, &out)
}

// PreviewRequest calls POST /api/v1/requests/preview: the steps and findings, nothing created.
func (c *Client) PreviewRequest(ctx context.Context, in NewRequest) (*RequestPreview, error) {
	var out RequestPreview
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
func (c *Client) CreateDelegation(ctx context.Context, in NewDelegation) (*gatehouse.Delegation, error) {
	var out gatehouse.Delegation
	return &out, c.do(ctx, http.MethodPost, "/api/v1/delegations", nil, in, &out)
}
