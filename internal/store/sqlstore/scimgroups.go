package sqlstore

// Placeholder: the SCIM group store is being written. Replace this file.

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func (r *reader) GetSCIMGroup(ctx context.Context, id string) (*gatehouse.SCIMGroup, error) {
	return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "scim group %s not found", id)
}
func (r *reader) ListSCIMGroups(ctx context.Context, f store.SCIMGroupFilter) (store.Page[*gatehouse.SCIMGroup], error) {
	return store.Page[*gatehouse.SCIMGroup]{}, nil
}
func (r *reader) CountSCIMGroups(ctx context.Context, f store.SCIMGroupFilter) (int, error) {
	return 0, nil
}
func (t *tx) CreateSCIMGroup(ctx context.Context, g *gatehouse.SCIMGroup) error {
	return gatehouse.Errorf(gatehouse.EINTERNAL, "not implemented")
}
func (t *tx) UpdateSCIMGroup(ctx context.Context, g *gatehouse.SCIMGroup) error {
	return gatehouse.Errorf(gatehouse.EINTERNAL, "not implemented")
}
func (t *tx) DeleteSCIMGroup(ctx context.Context, id string) error {
	return gatehouse.Errorf(gatehouse.EINTERNAL, "not implemented")
}
