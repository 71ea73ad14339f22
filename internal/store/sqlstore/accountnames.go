package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Account names: the login name given to each person on a system, kept for good (see
// gatehouse.AccountName).

// ListAccountNames returns the names given on a system, ordered by identity id.
func (r *reader) ListAccountNames(ctx context.Context, systemID string) ([]*gatehouse.AccountName, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT system_id, identity_id, name, detail, assigned_at FROM account_names
		WHERE system_id = $1 ORDER BY identity_id`, systemID)
	if err != nil {
		return nil, fmt.Errorf("list account names of %s: %w", systemID, err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (*gatehouse.AccountName, error) {
		var n gatehouse.AccountName
		err := rows.Scan(&n.SystemID, &n.IdentityID, &n.Name, &n.Detail, timeDest{&n.AssignedAt})
		return &n, err
	})
	if err != nil {
		return nil, fmt.Errorf("list account names of %s: %w", systemID, err)
	}
	return out, nil
}

// AssignAccountName records the name given to a person on a system. Recording the name the
// person already has is a no-op; a name another person of the system holds (compared without
// case), or a second name for the person, is an ECONFLICT error naming the holder: the unique
// index on (system_id, name_key) decides between two runs naming two people at once, and the
// one that loses names again.
func (t *tx) AssignAccountName(ctx context.Context, n *gatehouse.AccountName) error {
	t.wrote = true
	if n.SystemID == "" || n.IdentityID == "" || n.Name == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "account name: system, identity and name are required")
	}
	if n.AssignedAt.IsZero() {
		n.AssignedAt = t.clock()
	}
	n.AssignedAt = utc(n.AssignedAt)
	key := strings.ToLower(n.Name)
	res, err := t.q.ExecContext(ctx, `INSERT INTO account_names (system_id, identity_id, name, name_key, detail, assigned_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		n.SystemID, n.IdentityID, n.Name, key, n.Detail, t.d.bindTime(n.AssignedAt))
	if err != nil {
		return fmt.Errorf("assign account name %s on %s: %w", n.Name, n.SystemID, err)
	}
	if inserted, err := res.RowsAffected(); err == nil && inserted == 1 {
		return nil // neither the person nor the name had a row: given now
	}
	// Nothing inserted on a conflict: read who holds what (on PostgreSQL the insert waited for
	// a concurrent transaction holding the key, so its row is visible to this statement). Two
	// lookups, each by its own key: an OR of the two ranges over every name of the system,
	// which made a first load of 10,000 people quadratic.
	rows, err := t.q.QueryContext(ctx, `SELECT identity_id, name FROM account_names WHERE system_id = $1 AND identity_id = $2
		UNION ALL SELECT identity_id, name FROM account_names WHERE system_id = $1 AND name_key = $3`, n.SystemID, n.IdentityID, key)
	if err != nil {
		return fmt.Errorf("assign account name %s on %s: %w", n.Name, n.SystemID, err)
	}
	defer rows.Close()
	var conflict error
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return fmt.Errorf("assign account name %s on %s: %w", n.Name, n.SystemID, err)
		}
		switch {
		case id != n.IdentityID:
			conflict = gatehouse.Errorf(gatehouse.ECONFLICT, "account name %s on %s is already given to identity %s", name, n.SystemID, id)
		case name != n.Name && conflict == nil:
			conflict = gatehouse.Errorf(gatehouse.ECONFLICT, "identity %s already has the name %s on %s (not %s)", id, name, n.SystemID, n.Name)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("assign account name %s on %s: %w", n.Name, n.SystemID, err)
	}
	return conflict
}

// ReleaseAccountName forgets the name given to a person on a system, if it is still name: the
// account it was given for could not be created.
func (t *tx) ReleaseAccountName(ctx context.Context, systemID, identityID, name string) error {
	t.wrote = true
	if _, err := t.q.ExecContext(ctx, `DELETE FROM account_names WHERE system_id = $1 AND identity_id = $2 AND name = $3`,
		systemID, identityID, name); err != nil {
		return fmt.Errorf("release account name %s on %s: %w", name, systemID, err)
	}
	return nil
}
