package sqlstore

// Web UI sessions (service/sessions.go): created at sign-in, touched for the idle timeout,
// ended at sign-out, token revocation or termination.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

const sessionColumns = `id, hash, COALESCE(identity_id, ''), COALESCE(token_id, ''), bootstrap_key, address,
	created_at, last_seen_at, expires_at, ended_at, end_reason`

func scanSession(row interface{ Scan(...any) error }) (*gatehouse.Session, error) {
	var s gatehouse.Session
	if err := row.Scan(&s.ID, &s.Hash, &s.IdentityID, &s.TokenID, &s.BootstrapKey, &s.Address,
		timeDest{&s.CreatedAt}, timeDest{&s.LastSeenAt}, timeDest{&s.ExpiresAt}, nullTimeDest{&s.EndedAt},
		&s.EndReason); err != nil {
		return nil, err
	}
	return &s, nil
}

// nullIfEmptyString stores "" as NULL, for optional references.
func nullIfEmptyString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (r *reader) GetSession(ctx context.Context, id string) (*gatehouse.Session, error) {
	return getByID(ctx, r.q, scanSession, "session", `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id)
}

// GetSessionByHash finds a session by the hash of its secret. Errors never repeat the hash.
func (r *reader) GetSessionByHash(ctx context.Context, hash string) (*gatehouse.Session, error) {
	s, err := scanSession(r.q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "session not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get session by hash: %w", err)
	}
	return s, nil
}

// TouchSession records a session's last activity, outside any audited transaction (as
// TouchToken). An ended session stays as it ended.
func (s *sqlStore) TouchSession(ctx context.Context, id string, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL`,
		s.d.bindTime(at), id)
	if err != nil {
		return s.writeFailed(fmt.Errorf("touch session: %w", err))
	}
	return affected(res, "session", id)
}

func (t *tx) CreateSession(ctx context.Context, s *gatehouse.Session) error {
	t.wrote = true
	if s.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		s.ID = id
	}
	if s.Hash == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "session: hash is required")
	}
	if s.IdentityID == "" && s.BootstrapKey == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "session: an identity or a bootstrap key is required")
	}
	created := utc(s.CreatedAt)
	if s.CreatedAt.IsZero() {
		created = t.clock()
	}
	seen := utc(s.LastSeenAt)
	if s.LastSeenAt.IsZero() {
		seen = created
	}
	expires, ended := utc(s.ExpiresAt), utcPtr(s.EndedAt)
	_, err := t.q.ExecContext(ctx, `INSERT INTO sessions (id, hash, identity_id, token_id, bootstrap_key, address,
		created_at, last_seen_at, expires_at, ended_at, end_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		s.ID, s.Hash, nullIfEmptyString(s.IdentityID), nullIfEmptyString(s.TokenID), s.BootstrapKey, s.Address,
		t.d.bindTime(created), t.d.bindTime(seen), t.d.bindTime(expires), t.d.nullTime(ended), s.EndReason)
	switch {
	case err == nil:
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.EndedAt = created, seen, expires, ended
		return nil
	case t.d.isForeignKey(err):
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "session: identity %q or token %q not found", s.IdentityID, s.TokenID)
	case t.d.isUnique(err, "hash"):
		return gatehouse.Errorf(gatehouse.ECONFLICT, "a session with the same secret already exists")
	case t.d.isUnique(err):
		return gatehouse.Errorf(gatehouse.ECONFLICT, "session %q already exists", s.ID)
	}
	return fmt.Errorf("create session: %w", err)
}

func (t *tx) EndSession(ctx context.Context, id string, at time.Time, reason string) error {
	t.wrote = true
	if at.IsZero() {
		at = t.clock()
	}
	res, err := t.q.ExecContext(ctx, `UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL`,
		t.d.bindTime(utc(at)), reason, id)
	if err != nil {
		return fmt.Errorf("end session %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("end session %q: %w", id, err)
	} else if n > 0 {
		return nil
	}
	if _, err := t.GetSession(ctx, id); err != nil {
		return err
	}
	return gatehouse.Errorf(gatehouse.ECONFLICT, "session %q has already ended", id)
}

// EndSessionsOf ends the live sessions of identityIDs, one statement per chunk of ids.
func (t *tx) EndSessionsOf(ctx context.Context, identityIDs []string, at time.Time, reason string) ([]*gatehouse.Session, error) {
	t.wrote = true
	out := []*gatehouse.Session{}
	for chunk := range slices.Chunk(identityIDs, memberChunk) {
		c := &conds{}
		ph := make([]string, len(chunk))
		for i, id := range chunk {
			ph[i] = c.arg(id)
		}
		got, err := t.endSessions(ctx, c, `identity_id IN (`+strings.Join(ph, ", ")+`)`, at, reason)
		if err != nil {
			return nil, fmt.Errorf("end sessions of leavers: %w", err)
		}
		out = append(out, got...)
	}
	slices.SortFunc(out, func(a, b *gatehouse.Session) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// EndSessionsOfToken ends the live sessions a token opened.
func (t *tx) EndSessionsOfToken(ctx context.Context, tokenID string, at time.Time, reason string) ([]*gatehouse.Session, error) {
	t.wrote = true
	c := &conds{}
	out, err := t.endSessions(ctx, c, `token_id = `+c.arg(tokenID), at, reason)
	if err != nil {
		return nil, fmt.Errorf("end sessions of token %q: %w", tokenID, err)
	}
	slices.SortFunc(out, func(a, b *gatehouse.Session) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// endSessions ends the live, unexpired sessions matching where (whose arguments are in c).
func (t *tx) endSessions(ctx context.Context, c *conds, where string, at time.Time, reason string) ([]*gatehouse.Session, error) {
	if at.IsZero() {
		at = t.clock()
	}
	when := c.arg(t.d.bindTime(utc(at)))
	q := `UPDATE sessions SET ended_at = ` + when + `, end_reason = ` + c.arg(reason) + `
		WHERE ended_at IS NULL AND expires_at > ` + when + ` AND ` + where + ` RETURNING ` + sessionColumns
	rows, err := t.q.QueryContext(ctx, q, c.args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(rows *sql.Rows) (*gatehouse.Session, error) { return scanSession(rows) })
}
