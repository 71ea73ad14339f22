package client

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/service"
)

// SoDViolations calls GET /api/v1/sod/violations.
func (c *Client) SoDViolations(ctx context.Context, f service.SoDViolationFilter) (*service.SoDViolations, error) {
	return list[service.SoDViolations](ctx, c, "/api/v1/sod/violations", f)
}
