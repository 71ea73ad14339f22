package client

import (
	"context"

	"github.com/gatehouse/gatehouse"
)

// ListHRImportChanges calls GET /api/v1/hr/imports/{id}/changes: what an applied import did to
// each person, in the order applied, a page at a time.
func (c *Client) ListHRImportChanges(ctx context.Context, f gatehouse.HRImportChangeFilter) (*gatehouse.Page[*gatehouse.HRImportChange], error) {
	return list[gatehouse.Page[*gatehouse.HRImportChange]](ctx, c, "/api/v1/hr/imports/"+seg(f.ImportID)+"/changes", f)
}
