package service

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/store"
)

// SoDIndexForTest exposes the cached compiled SoD rules to the external tests and benchmarks.
func (s *Service) SoDIndexForTest(ctx context.Context, r store.Reader) (*policy.SoDIndex, error) {
	return s.sodIndex(ctx, r)
}
