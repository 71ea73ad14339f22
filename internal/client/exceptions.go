package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse"
)

// NewException is the body of CreateException (the server's service.NewException).
type NewException struct {
	For          string                  `json:"for,omitempty"`
	Kind         gatehouse.ExceptionKind `json:"kind,omitempty"`
	Rule         string                  `json:"rule,omitempty"`
	Entitlements []string                `json:"entitlements,omitempty"`
	Rationale    string                  `json:"rationale"`
	Controls     string                  `json:"controls"`
	Expires      gatehouse.Duration      `json:"expires"`
	Review       gatehouse.Duration      `json:"review,omitempty"`
	OnExpiry     gatehouse.OnExpiry      `json:"on_expiry,omitempty"`
}

// ExceptionDecision is the body of approve and reject (the server's service.ExceptionDecision).
type ExceptionDecision struct {
	Comment string             `json:"comment"`
	Expires gatehouse.Duration `json:"expires,omitempty"`
	Review  gatehouse.Duration `json:"review,omitempty"`
}

// CreateException calls POST /api/v1/exceptions.
func (c *Client) CreateException(ctx context.Context, in NewException) (*gatehouse.Exception, error) {
	var out gatehouse.Exception
	return &out, c.do(ctx, http.MethodPost, "/api/v1/exceptions", nil, in, &out)
}

// ListExceptions calls GET /api/v1/exceptions; status is "" or comma-separated statuses,
// expiring "" or a duration such as 30d.
func (c *Client) ListExceptions(ctx context.Context, identity, status, expiring string, o ListOptions) (*Page[*gatehouse.Exception], error) {
	var out Page[*gatehouse.Exception]
	q := url.Values{}
	set(q, "identity", identity)
	set(q, "status", status)
	set(q, "expiring", expiring)
	o.add(q)
	return &out, c.do(ctx, http.MethodGet, "/api/v1/exceptions", q, nil, &out)
}

// GetException calls GET /api/v1/exceptions/{id} (an id or EXC-000123).
func (c *Client) GetException(ctx context.Context, id string) (*gatehouse.Exception, error) {
	var out gatehouse.Exception
	return &out, c.do(ctx, http.MethodGet, "/api/v1/exceptions/"+seg(id), nil, nil, &out)
}

// DecideException calls POST /api/v1/exceptions/{id}/{verb}: verb is approve, reject or
// revoke.
func (c *Client) DecideException(ctx context.Context, id, verb string, d ExceptionDecision) (*gatehouse.Exception, error) {
	var out gatehouse.Exception
	return &out, c.do(ctx, http.MethodPost, "/api/v1/exceptions/"+seg(id)+"/"+seg(verb), nil, d, &out)
}
