package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Reads by a list of keys, for work done a chunk at a time (an HR import plans a chunk of its
// feed against the people it names and their grants, instead of loading the company).

// keysBatch is how many keys one statement carries: well under either engine's limit of bound
// parameters, and few enough distinct statement texts for the prepared-statement cache.
const keysBatch = 500

// byKeys runs sel with "IN (keys)" appended, keysBatch keys at a time, scanning each row.
func byKeys[T any](ctx context.Context, r *reader, what, sel string, keys []string, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	var out []T
	for start := 0; start < len(keys); start += keysBatch {
		batch := keys[start:min(start+keysBatch, len(keys))]
		c := &conds{}
		ph := make([]string, len(batch))
		for i, k := range batch {
			ph[i] = c.arg(k)
		}
		rows, err := r.q.QueryContext(ctx, sel+" IN ("+strings.Join(ph, ", ")+")", c.args...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		for rows.Next() {
			x, err := scan(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			out = append(out, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	return out, nil
}

// IdentitiesByEmployeeID asks for a non-empty employee_id too, so that both engines use the
// unique index on employee_id, which is partial (it leaves out the empty ones): without it,
// each batch scans the table.
func (r *reader) IdentitiesByEmployeeID(ctx context.Context, ids []string) ([]*gatehouse.Identity, error) {
	return byKeys(ctx, r, "identities by employee_id", `SELECT `+identityColumns+` FROM identities WHERE employee_id <> '' AND employee_id`, ids,
		func(row interface{ Scan(...any) error }) (*gatehouse.Identity, error) { return scanIdentity(row) })
}

func (r *reader) ActiveGrantsOf(ctx context.Context, identityIDs []string) ([]*gatehouse.Grant, error) {
	return byKeys(ctx, r, "active grants of identities", `SELECT `+grantColumns+` FROM grants WHERE revoked_at IS NULL AND identity_id`,
		identityIDs, scanGrant)
}
