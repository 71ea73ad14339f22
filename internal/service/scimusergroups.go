package service

import (
	"context"

	"github.com/gatehouse/gatehouse"
)

// SCIMUserGroups returns the SCIM groups of each of ids (identity ids), for the groups
// attribute of SCIM Users: to a SCIM client or a reader, as the groups themselves are.
func (s *InboundSCIM) SCIMUserGroups(ctx context.Context, p *gatehouse.Principal, ids []string) (map[string][]gatehouse.SCIMMembership, error) {
	if err := requireSCIMOrReadAll(p); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return map[string][]gatehouse.SCIMMembership{}, nil
	}
	return s.store.ListSCIMMemberships(ctx, ids)
}
