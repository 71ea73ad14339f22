package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

const tokenColumns = `id, identity_id, description, hash, hint, scopes, created_by, created_at, expires_at,
	last_used_at, revoked_at`

func scanToken(row interface{ Scan(...any) error }) (*gatehouse.Token, error) {
	var t gatehouse.Token
	if err := row.Scan(&t.ID, &t.IdentityID, &t.Description, &t.Hash, &t.Hint, jsonDest{&t.Scopes}, &t.CreatedBy,
		timeDest{&t.CreatedAt}, nullTimeDest{&t.ExpiresAt}, nullTimeDest{&t.LastUsedAt}, nullTimeDest{&t.RevokedAt}); err != nil {
		return nil, err
	}
	t.Scopes = nilIfEmpty(t.Scopes)
	return &t, nil
}

func (r *reader) GetToken(ctx context.Context, id string) (*gatehouse.Token, error) {
	return getByID(ctx, r.q, scanToken, "token", `SELECT `+tokenColumns+` FROM tokens WHERE id = $1`, id)
}

// GetTokenByHash finds a token by the hash of its secret. Errors never repeat the hash: it is as
// good as the secret for finding the token in logs.
func (r *reader) GetTokenByHash(ctx context.Context, hash string) (*gatehouse.Token, error) {
	t, err := scanToken(r.q.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "token not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get token by hash: %w", err)
	}
	return t, nil
}

// ListTokens lists tokens in creation order (ids are time-ordered).
func (r *reader) ListTokens(ctx context.Context, f gatehouse.TokenFilter) ([]*gatehouse.Token, error) {
	c := &conds{}
	if f.IdentityID != "" {
		c.add(`identity_id = ` + c.arg(f.IdentityID))
	}
	if !f.IncludeRevoked {
		c.add(`revoked_at IS NULL`)
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens`+c.String()+` ORDER BY id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (*gatehouse.Token, error) { return scanToken(rows) })
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

func (t *tx) CreateToken(ctx context.Context, tok *gatehouse.Token) error {
	t.wrote = true
	if tok.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		tok.ID = id
	}
	if tok.Hash == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "token: hash is required")
	}
	scopes, err := jsonText(nonNil(tok.Scopes))
	if err != nil {
		return fmt.Errorf("create token: scopes: %w", err)
	}
	now := tok.CreatedAt.UTC().Truncate(time.Microsecond)
	if tok.CreatedAt.IsZero() {
		now = t.clock()
	}
	expires, lastUsed, revoked := utcPtr(tok.ExpiresAt), utcPtr(tok.LastUsedAt), utcPtr(tok.RevokedAt)
	_, err = t.q.ExecContext(ctx, `INSERT INTO tokens (id, identity_id, description, hash, hint, scopes,
		created_by, created_at, expires_at, last_used_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		tok.ID, tok.IdentityID, tok.Description, tok.Hash, tok.Hint, scopes, tok.CreatedBy, t.d.bindTime(now),
		t.d.nullTime(expires), t.d.nullTime(lastUsed), t.d.nullTime(revoked))
	switch {
	case err == nil:
		tok.CreatedAt, tok.ExpiresAt, tok.LastUsedAt, tok.RevokedAt = now, expires, lastUsed, revoked
		return nil
	case t.d.isForeignKey(err):
		return notFound("identity", tok.IdentityID)
	case t.d.isUnique(err, "hash"):
		return gatehouse.Errorf(gatehouse.ECONFLICT, "a token with the same secret already exists")
	case t.d.isUnique(err):
		return gatehouse.Errorf(gatehouse.ECONFLICT, "token %q already exists", tok.ID)
	}
	return fmt.Errorf("create token: %w", err)
}

func (t *tx) RevokeToken(ctx context.Context, id string, at time.Time) error {
	t.wrote = true
	if at.IsZero() {
		at = t.clock()
	}
	res, err := t.q.ExecContext(ctx, `UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`,
		t.d.bindTime(at), id)
	if err != nil {
		return fmt.Errorf("revoke token %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke token %q: %w", id, err)
	} else if n > 0 {
		return nil
	}
	if _, err := t.GetToken(ctx, id); err != nil {
		return err
	}
	return gatehouse.Errorf(gatehouse.ECONFLICT, "token %q is already revoked", id)
}
