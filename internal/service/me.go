package service

import (
	"context"

	"github.com/gatehouse/gatehouse"
)

// Me is who the caller is: its principal, and its identity (nil for the bootstrap admin, which
// has none).
type Me struct {
	Principal gatehouse.Principal `json:"principal"`
	Identity  *gatehouse.Identity `json:"identity"`
}

// Me answers who p is. Everyone signed in may ask about themselves.
func (s *Service) Me(ctx context.Context, p *gatehouse.Principal) (*Me, error) {
	out := &Me{Principal: *p}
	if p.IdentityID != "" {
		id, err := s.GetIdentity(ctx, p, p.IdentityID)
		if err != nil {
			return nil, err
		}
		out.Identity = id
	}
	return out, nil
}
