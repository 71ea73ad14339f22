package client

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// IdentityPatch is the body of PATCH /api/v1/identities/{id}: only the fields set change.
type IdentityPatch struct {
	Email          *string           `json:"email,omitempty"`
	FirstName      *string           `json:"first_name,omitempty"`
	LastName       *string           `json:"last_name,omitempty"`
	Department     *string           `json:"department,omitempty"`
	Title          *string           `json:"title,omitempty"`
	ManagerID      *string           `json:"manager_id,omitempty"`
	Location       *string           `json:"location,omitempty"`
	EmploymentType *string           `json:"employment_type,omitempty"`
	Status         *string           `json:"status,omitempty"`
	StartDate      *string           `json:"start_date,omitempty"`
	EndDate        *string           `json:"end_date,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Reason         string            `json:"reason,omitempty"`
}

// UpdateIdentity calls PATCH /api/v1/identities/{key}.
func (c *Client) UpdateIdentity(ctx context.Context, key string, patch IdentityPatch) (*gatehouse.Identity, error) {
	var out gatehouse.Identity
	return &out, c.do(ctx, http.MethodPatch, "/api/v1/identities/"+seg(key), nil, patch, &out)
}
