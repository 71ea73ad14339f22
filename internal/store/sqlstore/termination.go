package sqlstore

// What a termination ends in Gatehouse itself: the leavers' tokens and the delegations from
// and to them, for many identities at once (an HR import may terminate thousands).

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// RevokeTokensOf revokes the live tokens of identityIDs with one statement per chunk of ids.
// Expired tokens are left as they are: they never work again anyway.
func (t *tx) RevokeTokensOf(ctx context.Context, identityIDs []string, at time.Time) ([]*gatehouse.Token, error) {
	t.wrote = true
	if at.IsZero() {
		at = t.clock()
	}
	at = utc(at)
	out := []*gatehouse.Token{}
	for chunk := range slices.Chunk(identityIDs, memberChunk) {
		c := &conds{}
		when := c.arg(t.d.bindTime(at))
		ph := make([]string, len(chunk))
		for i, id := range chunk {
			ph[i] = c.arg(id)
		}
		q := `UPDATE tokens SET revoked_at = ` + when + ` WHERE revoked_at IS NULL
			AND (expires_at IS NULL OR expires_at > ` + when + `)
			AND identity_id IN (` + strings.Join(ph, ", ") + `) RETURNING ` + tokenColumns
		rows, err := t.q.QueryContext(ctx, q, c.args...)
		if err != nil {
			return nil, fmt.Errorf("revoke tokens of leavers: %w", err)
		}
		toks, err := collect(rows, func(rows *sql.Rows) (*gatehouse.Token, error) { return scanToken(rows) })
		if err != nil {
			return nil, fmt.Errorf("revoke tokens of leavers: %w", err)
		}
		out = append(out, toks...)
	}
	// RETURNING gives no order; callers audit in a stable one (ids are time-ordered).
	slices.SortFunc(out, func(a, b *gatehouse.Token) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// EndDelegations ends the delegations from or to identityIDs that have not ended by at: a read
// and an update per chunk of ids. One that has not started yet becomes the empty interval
// [at, at), so that it never comes into force.
func (t *tx) EndDelegations(ctx context.Context, identityIDs []string, at time.Time) ([]*gatehouse.Delegation, error) {
	t.wrote = true
	if at.IsZero() {
		at = t.clock()
	}
	at = utc(at)
	out := []*gatehouse.Delegation{}
	for chunk := range slices.Chunk(identityIDs, memberChunk) {
		c := &conds{}
		when := c.arg(t.d.bindTime(at))
		ph := make([]string, len(chunk))
		for i, id := range chunk {
			ph[i] = c.arg(id)
		}
		in := strings.Join(ph, ", ")
		where := ` WHERE ends_at > ` + when + ` AND (from_id IN (` + in + `) OR to_id IN (` + in + `))`
		q := `SELECT ` + delegationColumns + ` FROM delegations` + where + ` ORDER BY id`
		rows, err := t.q.QueryContext(ctx, q, c.args...)
		if err != nil {
			return nil, fmt.Errorf("end delegations of leavers: %w", err)
		}
		ds, err := collect(rows, func(rows *sql.Rows) (*gatehouse.Delegation, error) { return scanDelegation(rows) })
		if err != nil {
			return nil, fmt.Errorf("end delegations of leavers: %w", err)
		}
		if len(ds) == 0 {
			continue
		}
		upd := `UPDATE delegations SET starts_at = CASE WHEN starts_at > ` + when + ` THEN ` + when + ` ELSE starts_at END,
			ends_at = ` + when + where
		if _, err := t.q.ExecContext(ctx, upd, c.args...); err != nil {
			return nil, fmt.Errorf("end delegations of leavers: %w", err)
		}
		// A delegation between leavers of two chunks is ended (and returned) by the first.
		out = append(out, ds...)
	}
	return out, nil
}
