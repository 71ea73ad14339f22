package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/gatehouse/gatehouse"
)

// writeHealth remembers the last write the database refused for lack of space or of write
// access, until a write succeeds again: /readyz (Ping) reports the replica not ready meanwhile,
// so a load balancer sends people to a replica that can save their changes.
type writeHealth struct {
	fault atomic.Pointer[string] // faultFull or faultReadOnly; nil: the last write succeeded
}

// writeFailed turns a write error into what callers should see. A full or read-only database
// is not the caller's fault and not a bug: it is EUNAVAILABLE (503, "database is full"), with
// the driver's error kept for the log. Any other error is returned as it is.
func (s *sqlStore) writeFailed(err error) error {
	if err == nil {
		return nil
	}
	what := s.d.fault(err)
	if what == "" {
		return err
	}
	s.health.fault.Store(&what)
	return errors.Join(faultError(what), err)
}

// wrote records a committed write: the database takes writes again.
func (s *sqlStore) wrote() {
	if s.health.fault.Load() != nil {
		s.health.fault.Store(nil)
	}
}

func faultError(what string) error {
	return gatehouse.Errorf(gatehouse.EUNAVAILABLE, "database is %s: nothing was changed; try again when it takes writes", what)
}

// probeSize is the size of the row a write probe inserts: larger than a SQLite page (4 KiB),
// so that on a full database the insert needs pages it cannot get.
const probeSize = 8 << 10

// probeWrite checks that the database takes writes, after a write failed: it inserts a row
// larger than a page into write_probe, deletes the older ones and commits. A transaction that
// writes and rolls back would not do: SQLite writes nothing to disk until commit (WAL), so a
// disk that is full would pass; only a committed write that needs new pages finds out.
func (s *sqlStore) probeWrite(ctx context.Context) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.writeFailed(fmt.Errorf("write probe: begin: %w", err))
	}
	defer func() { _ = tx.Rollback() }()
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO write_probe (at, pad) VALUES ($1, $2) RETURNING id`,
		s.d.bindTime(s.clock()), make([]byte, probeSize)).Scan(&id); err != nil {
		return s.writeFailed(fmt.Errorf("write probe: %w", err))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM write_probe WHERE id <> $1`, id); err != nil {
		return s.writeFailed(fmt.Errorf("write probe: %w", err))
	}
	if err := tx.Commit(); err != nil {
		return s.writeFailed(fmt.Errorf("write probe: commit: %w", err))
	}
	s.wrote()
	return nil
}
