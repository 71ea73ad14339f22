package service

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// identityByEmployeeID finds the identity whose employee_id is employeeID, and no other. A
// manager_id is an employee id; GetIdentity would also take it as an id or an email, and so
// could name someone else: a SCIM user created before employee numbers stopped being derived
// from userName keeps their former userName as employee id, and that userName is free for a
// new person, who must not become the manager (and approver) of the first one's reports.
func identityByEmployeeID(ctx context.Context, r store.Reader, employeeID string) (*gatehouse.Identity, error) {
	if employeeID != "" {
		page, err := r.ListIdentities(ctx, gatehouse.IdentityFilter{EmployeeID: employeeID, Limit: 1})
		if err != nil {
			return nil, fmt.Errorf("identity with employee_id %q: %w", employeeID, err)
		}
		if len(page.Items) == 1 {
			return page.Items[0], nil
		}
	}
	return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "no identity with employee_id %q", employeeID)
}

// GetIdentityByEmployeeID returns the identity whose employee id is employeeID (a manager_id),
// by employee id only, with GetIdentity's rules: readers see everyone, others themselves only
// (EFORBIDDEN, also when nobody has it, so that an ordinary identity learns nothing).
func (s *Identities) GetIdentityByEmployeeID(ctx context.Context, p *gatehouse.Principal, employeeID string) (*gatehouse.Identity, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	i, err := identityByEmployeeID(ctx, s.store, employeeID)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && !p.CanReadAll() {
			return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may only see your own access")
		}
		return nil, err
	}
	if err := requireSelfOrReadAll(p, i.ID); err != nil {
		return nil, err
	}
	return i, nil
}
