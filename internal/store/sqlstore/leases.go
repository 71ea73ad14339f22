package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// AcquireLease takes or renews a lease in one statement, outside any audited transaction (as
// TouchToken): the upsert only replaces the row when the caller already holds it or it has run
// out, so two replicas racing for it cannot both win — on PostgreSQL the loser's upsert waits
// for the winner's row lock and then finds the lease taken.
func (s *sqlStore) AcquireLease(ctx context.Context, l store.Lease, now time.Time) (store.Lease, bool, error) {
	_, err := s.write.ExecContext(ctx, `INSERT INTO leases (name, holder, note, acquired_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, note = excluded.note,
			acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END,
			expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= $6`,
		l.Name, l.Holder, l.Note, s.d.bindTime(now), s.d.bindTime(l.ExpiresAt), s.d.bindTime(now))
	if err != nil {
		return store.Lease{}, false, s.writeFailed(fmt.Errorf("acquire lease %s: %w", l.Name, err))
	}
	var cur store.Lease
	err = s.write.QueryRowContext(ctx, `SELECT name, holder, note, acquired_at, expires_at FROM leases WHERE name = $1`, l.Name).
		Scan(&cur.Name, &cur.Holder, &cur.Note, timeDest{&cur.AcquiredAt}, timeDest{&cur.ExpiresAt})
	if err != nil {
		return store.Lease{}, false, fmt.Errorf("read lease %s: %w", l.Name, err)
	}
	return cur, cur.Holder == l.Holder, nil
}

// ReleaseLease drops holder's lease; another holder's is left alone.
func (s *sqlStore) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return s.writeFailed(fmt.Errorf("release lease %s: %w", name, err))
	}
	return nil
}

// ListLeases returns the leases named prefix…, by name. The prefix is matched with a range
// rather than LIKE, so that its characters need no escaping.
func (s *sqlStore) ListLeases(ctx context.Context, prefix string) ([]store.Lease, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT name, holder, note, acquired_at, expires_at FROM leases
		WHERE name >= $1 ORDER BY name`, prefix)
	if err != nil {
		return nil, fmt.Errorf("list leases %s: %w", prefix, err)
	}
	defer rows.Close()
	var out []store.Lease
	for rows.Next() {
		var l store.Lease
		if err := rows.Scan(&l.Name, &l.Holder, &l.Note, timeDest{&l.AcquiredAt}, timeDest{&l.ExpiresAt}); err != nil {
			return nil, fmt.Errorf("list leases %s: %w", prefix, err)
		}
		if !strings.HasPrefix(l.Name, prefix) {
			break // past the prefix's range
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list leases %s: %w", prefix, err)
	}
	return out, nil
}
