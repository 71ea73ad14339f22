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

// AssignAccountName records a name unless the person has one on the system already, or the
// name is somebody else's there: the first name given stays.
func (t *tx) AssignAccountName(ctx context.Context, n *gatehouse.AccountName) error {
	t.wrote = true
	if n.SystemID == "" || n.IdentityID == "" || n.Name == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "account name: system, identity and name are required")
	}
	if n.AssignedAt.IsZero() {
		n.AssignedAt = t.clock()
	}
	n.AssignedAt = utc(n.AssignedAt)
	_, err := t.q.ExecContext(ctx, `INSERT INTO account_names (system_id, identity_id, name, name_key, detail, assigned_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		n.SystemID, n.IdentityID, n.Name, strings.ToLower(n.Name), n.Detail, t.d.bindTime(n.AssignedAt))
	if err != nil {
		return fmt.Errorf("assign account name %s on %s: %w", n.Name, n.SystemID, err)
	}
	return nil
}
