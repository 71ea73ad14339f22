package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/catalog"
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

// ApplyResult is the answer of an apply: the plan carried out and what it did.
type ApplyResult struct {
	Plan   *catalog.Plan   `json:"plan"`
	Result *catalog.Result `json:"result"`
	// Birthright counts the grants recomputed because a birthright rule changed; nil otherwise.
	Birthright *BirthrightResult `json:"birthright,omitempty"`
}

// BirthrightResult counts a birthright recomputation after a catalog apply.
type BirthrightResult struct {
	Identities   int      `json:"identities"`
	GrantsGained int      `json:"grants_gained"`
	GrantsLost   int      `json:"grants_lost"`
	Warnings     []string `json:"warnings,omitempty"`
}

// ApplyCatalog calls POST /api/v1/catalog/apply. Without prune, removing an entitlement that
// still has active grants is refused with a conflict; an apply that revokes grants is refused
// too (see ApplyCatalogWith).
func (c *Client) ApplyCatalog(ctx context.Context, files []CatalogFile, prune bool, reason string, rebindSecrets ...string) (*ApplyResult, error) {
	return c.ApplyCatalogWith(ctx, files, ApplyOptions{Prune: prune, Reason: reason, RebindSecrets: rebindSecrets})
}

// ApplyOptions say how to apply a catalog.
type ApplyOptions struct {
	Prune         bool
	Reason        string
	RebindSecrets []string
	// ConfirmRevocations is the Revocations.Confirmation of the plan shown: the server revokes
	// grants only when given it, and refuses (a conflict) when they changed since.
	ConfirmRevocations string
}

// ApplyCatalogWith calls POST /api/v1/catalog/apply with options.
func (c *Client) ApplyCatalogWith(ctx context.Context, files []CatalogFile, o ApplyOptions) (*ApplyResult, error) {
	var out ApplyResult
	body := map[string]any{"files": files}
	if len(o.RebindSecrets) > 0 {
		body["rebind_secrets"] = o.RebindSecrets
	}
	if o.Prune {
		body["prune"] = true
	}
	if o.Reason != "" {
		body["reason"] = o.Reason
	}
	if o.ConfirmRevocations != "" {
		body["confirm_revocations"] = o.ConfirmRevocations
	}
	return &out, c.do(ctx, http.MethodPost, "/api/v1/catalog/apply", nil, body, &out)
}
