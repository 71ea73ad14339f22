package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// membershipChunk bounds the identity ids of one statement: a SCIM page holds at most 1,000
// users, so a page is one query on both engines (well below their bound-parameter limits).
const membershipChunk = 1000

// ListSCIMMemberships reads the groups of a page of identities, through the members' identity
// index.
func (r *reader) ListSCIMMemberships(ctx context.Context, identityIDs []string) (map[string][]gatehouse.SCIMMembership, error) {
	out := make(map[string][]gatehouse.SCIMMembership)
	for start := 0; start < len(identityIDs); start += membershipChunk {
		chunk := identityIDs[start:min(start+membershipChunk, len(identityIDs))]
		c := &conds{}
		ph := make([]string, len(chunk))
		for i, id := range chunk {
			ph[i] = c.arg(id)
		}
		q := `SELECT m.identity_id, g.id, g.display_name FROM scim_group_members m JOIN scim_groups g ON g.id = m.group_id
			WHERE m.identity_id IN (` + strings.Join(ph, ", ") + `) ORDER BY m.identity_id, lower(g.display_name), g.id`
		rows, err := r.q.QueryContext(ctx, q, c.args...)
		if err != nil {
			return nil, fmt.Errorf("list scim memberships: %w", err)
		}
		for rows.Next() {
			var iid string
			var m gatehouse.SCIMMembership
			if err := rows.Scan(&iid, &m.GroupID, &m.DisplayName); err != nil {
				rows.Close()
				return nil, fmt.Errorf("list scim memberships: %w", err)
			}
			out[iid] = append(out[iid], m)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("list scim memberships: %w", err)
		}
	}
	return out, nil
}
