package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse"
)

// HRChangeFilter selects an applied import's evidence rows: Class "" for all; Late for the
// leavers terminated after their end date only.
type HRChangeFilter struct {
	Class string
	Late  bool
}

// ListHRImportChanges calls GET /api/v1/hr/imports/{id}/changes: what an applied import did to
// each person, in plan order, a page at a time.
func (c *Client) ListHRImportChanges(ctx context.Context, id string, f HRChangeFilter, o ListOptions) (*Page[*gatehouse.HRImportChange], error) {
	var out Page[*gatehouse.HRImportChange]
	q := url.Values{}
	set(q, "class", f.Class)
	if f.Late {
		q.Set("late", "true")
	}
	o.add(q)
	return &out, c.do(ctx, http.MethodGet, "/api/v1/hr/imports/"+seg(id)+"/changes", q, nil, &out)
}
