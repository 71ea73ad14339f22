package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// CreateException calls POST /api/v1/exceptions.
func (c *Client) CreateException(ctx context.Context, in service.NewException) (*gatehouse.Exception, error) {
	var out gatehouse.Exception
	return &out, c.do(ctx, http.MethodPost, "/api/v1/exceptions", nil, in, &out)
}

// ListExceptions calls GET /api/v1/exceptions.
func (c *Client) ListExceptions(ctx context.Context, q service.ExceptionQuery) (*gatehouse.Page[*gatehouse.Exception], error) {
	return list[gatehouse.Page[*gatehouse.Exception]](ctx, c, "/api/v1/exceptions", q)
}

// GetException calls GET /api/v1/exceptions/{id} (an id or EXC-000123).
func (c *Client) GetException(ctx context.Context, id string) (*gatehouse.Exception, error) {
	var out gatehouse.Exception
	return &out, c.do(ctx, http.MethodGet, "/api/v1/exceptions/"+seg(id), nil, nil, &out)
}

// DecideException calls POST /api/v1/exceptions/{id}/{verb}: verb is approve, reject or
// revoke.
func (c *Client) DecideException(ctx context.Context, id, verb string, d service.ExceptionDecision) (*gatehouse.Exception, error) {
	var out gatehouse.Exception
	return &out, c.do(ctx, http.MethodPost, "/api/v1/exceptions/"+seg(id)+"/"+seg(verb), nil, d, &out)
}
