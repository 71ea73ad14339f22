package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ErrUnaudited is returned by Update, which rolls back, when fn changed state without appending
// an audit event: every change of state must leave evidence in the same transaction.
var ErrUnaudited = errors.New("store: transaction changed state without an audit event")

// reader implements store.Reader over a querier: the read pool for a Store, the *sql.Tx for a Tx.
type reader struct {
	q   querier
	d   *dialect
	now func() time.Time
	// db is the pool, for reads that need a snapshot of several queries (LoadCatalog); nil
	// inside a transaction, which is already one.
	db *sql.DB
}

// sqlStore is the store.Store of both engines.
type sqlStore struct {
	reader
	read  *sql.DB
	write *sql.DB // the same pool as read on PostgreSQL; one connection on SQLite
	stmts *stmtCache
	// health is whether writes succeed (faults.go), for Ping.
	health writeHealth
	// analyze runs ANALYZE after bulk writes (analyze.go); nil on SQLite.
	analyze *analyzer
}

var (
	_ store.Store = (*sqlStore)(nil)
	_ store.Tx    = (*tx)(nil)
)

func newStore(d *dialect, read, write *sql.DB, o options) *sqlStore {
	stmts := newStmtCache(read)
	s := &sqlStore{
		reader: reader{q: stmts, d: d, now: o.now, db: read},
		read:   read,
		write:  write,
		stmts:  stmts,
	}
	if d.name == "postgres" {
		s.analyze = newAnalyzer()
	}
	return s
}

// clock returns the injected time, normalized as stored.
func (r *reader) clock() time.Time { return utc(r.now()) }

func (s *sqlStore) Engine() string { return s.d.name }

// Ping checks that the database answers and, after a write failed because the database was
// full or read-only, that it takes writes again (a committed write probe; see probeWrite).
func (s *sqlStore) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.name, err)
	}
	if s.health.fault.Load() != nil {
		return s.probeWrite(ctx)
	}
	return nil
}

func (s *sqlStore) Close() error {
	if s.analyze != nil {
		s.analyze.close()
	}
	err := errors.Join(s.stmts.close(), s.read.Close())
	if s.write != s.read {
		err = errors.Join(err, s.write.Close())
	}
	return err
}

// Update runs fn in one write transaction; see store.Store. fn's error is returned as it is, so
// callers can errors.As it to *gatehouse.Error. A panic in fn rolls back and propagates.
func (s *sqlStore) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.writeFailed(fmt.Errorf("store: begin: %w", err))
	}
	done := false
	defer func() {
		if !done {
			_ = sqlTx.Rollback() // also on panic; the error of a rollback adds nothing
		}
	}()
	t := &tx{reader: reader{q: &stmtTx{Tx: sqlTx}, d: s.d, now: s.now}, sql: sqlTx}
	if err := fn(t); err != nil {
		return s.writeFailed(err)
	}
	if t.wrote && !t.audited {
		return ErrUnaudited
	}
	if err := t.flushHead(ctx); err != nil {
		return s.writeFailed(err)
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return s.writeFailed(fmt.Errorf("store: commit: %w", err))
	}
	t.fp.afterCommit()
	if t.wrote {
		s.wrote()
	}
	s.analyzeAfter(t)
	return nil
}

// TouchToken records a token's last use, outside any audited transaction: it changes no
// decision, and auditing every API call would drown the evidence.
func (s *sqlStore) TouchToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE tokens SET last_used_at = $1 WHERE id = $2`, s.d.bindTime(at), id)
	if err != nil {
		return s.writeFailed(fmt.Errorf("touch token: %w", err))
	}
	return affected(res, "token", id)
}

// tx is a write transaction. It is not safe for concurrent use (neither is *sql.Tx).
type tx struct {
	reader
	sql     *sql.Tx
	fp      failpoint // the crash tests' (failpoint.go); nothing in a normal build
	wrote   bool      // a write method was called
	audited bool      // AppendAudit succeeded at least once

	// The chain head, read (and on PostgreSQL locked) at the first AppendAudit, advanced by each
	// append, and written back once before commit.
	headLoaded bool
	headDirty  bool
	headSeq    int64
	headHash   string

	changed map[string]int // rows written per table, for the ANALYZE after commit (analyze.go)
}

// SQL returns the transaction, for the job queue's inserts (see store.Tx).
func (t *tx) SQL() *sql.Tx { return t.sql }

// newID returns a fresh time-ordered id (UUID v7), so that id order is creation order and keyset
// pages by id stay cheap.
func newID() (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return u.String(), nil
}

// loadHead reads and locks the chain head once per transaction.
func (t *tx) loadHead(ctx context.Context) error {
	if t.headLoaded {
		return nil
	}
	err := t.q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+t.d.forUpdate).Scan(&t.headSeq, &t.headHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		t.headSeq, t.headHash = 0, audit.GenesisHash
	case err != nil:
		return fmt.Errorf("read audit head: %w", err)
	}
	t.headLoaded = true
	return nil
}

func (t *tx) flushHead(ctx context.Context) error {
	if !t.headDirty {
		return nil
	}
	res, err := t.q.ExecContext(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, t.headSeq, t.headHash)
	if err != nil {
		return fmt.Errorf("update audit head: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)`, t.headSeq, t.headHash); err != nil {
			return fmt.Errorf("insert audit head: %w", err)
		}
	}
	t.headDirty = false
	return nil
}
