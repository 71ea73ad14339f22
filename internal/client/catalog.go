package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
)

// PlanCatalog calls POST /api/v1/catalog/plan: what applying files would change. A catalog with
// problems is an *Error with one gatehouse.Problem per problem in Details.
func (c *Client) PlanCatalog(ctx context.Context, files []service.CatalogFile) (*catalog.Plan, error) {
	var out catalog.Plan
	return &out, c.do(ctx, http.MethodPost, "/api/v1/catalog/plan", nil, service.CatalogRequest{Files: files}, &out)
}

// ApplyCatalog calls POST /api/v1/catalog/apply. Without prune, removing an entitlement that
// still has active grants is refused with a conflict; an apply that revokes grants is refused
// too unless o.ConfirmRevocations is the plan's Revocations.Confirmation.
func (c *Client) ApplyCatalog(ctx context.Context, files []service.CatalogFile, o service.CatalogApply) (*service.ApplyResult, error) {
	body := service.CatalogRequest{Files: files, CatalogApply: o}
	var out service.ApplyResult
	return &out, c.do(ctx, http.MethodPost, "/api/v1/catalog/apply", nil, body, &out)
}
