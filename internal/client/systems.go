package client

// Systems' health: the connector test and a system's provisioning status.

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/service"
)

// TestSystem calls POST /api/v1/systems/{id}/test. A failed check is a result with OK false,
// not an error.
func (c *Client) TestSystem(ctx context.Context, id string) (*service.SystemTest, error) {
	var out service.SystemTest
	return &out, c.do(ctx, http.MethodPost, "/api/v1/systems/"+seg(id)+"/test", nil, nil, &out)
}

// SystemStatus calls GET /api/v1/systems/{id}/status.
func (c *Client) SystemStatus(ctx context.Context, id string) (*service.SystemStatus, error) {
	var out service.SystemStatus
	return &out, c.do(ctx, http.MethodGet, "/api/v1/systems/"+seg(id)+"/status", nil, nil, &out)
}
