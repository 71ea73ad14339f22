package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
)

// CatalogFile is one catalog file as the API takes it: a name (for problem messages) and its
// YAML text.
type CatalogFile struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// FilesOf converts catalog files read with catalog.Load to the API's form.
func FilesOf(files []catalog.File) []CatalogFile {
	out := make([]CatalogFile, len(files))
	for i, f := range files {
		out[i] = CatalogFile{Name: f.Name, Content: string(f.Content)}
	}
	return out
}

// PlanCatalog calls POST /api/v1/catalog/plan: what applying files would change. A catalog with
// problems is an *Error with one Detail per problem.
func (c *Client) PlanCatalog(ctx context.Context, files []CatalogFile) (*catalog.Plan, error) {
	var out catalog.Plan
	body := map[string]any{"files": files}
	return &out, c.do(ctx, http.MethodPost, "/api/v1/catalog/plan", nil, body, &out)
}

// ApplyCatalog calls POST /api/v1/catalog/apply. Without prune, removing an entitlement that
// still has active grants is refused with a conflict; an apply that revokes grants is refused
// too unless o.ConfirmRevocations is the plan's Revocations.Confirmation.
func (c *Client) ApplyCatalog(ctx context.Context, files []CatalogFile, o service.CatalogApply) (*service.ApplyResult, error) {
	body := struct {
		Files []CatalogFile `json:"files"`
		service.CatalogApply
	}{files, o}
	var out service.ApplyResult
	return &out, c.do(ctx, http.MethodPost, "/api/v1/catalog/apply", nil, body, &out)
}
