package sqlstore

// The exceptions register.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

func scanException(row interface{ Scan(...any) error }) (*gatehouse.Exception, error) {
	var doc string
	var version int64
	if err := row.Scan(&doc, &version); err != nil {
		return nil, err
	}
	var e gatehouse.Exception
	if err := json.Unmarshal([]byte(doc), &e); err != nil {
		return nil, fmt.Errorf("exception document: %w", err)
	}
	e.Version = version
	return &e, nil
}

func (r *reader) GetException(ctx context.Context, idOrRef string) (*gatehouse.Exception, error) {
	q, arg := `SELECT doc, version FROM exceptions WHERE id = $1`, any(idOrRef)
	if n, ok := gatehouse.ParseExceptionRef(idOrRef); ok {
		q, arg = `SELECT doc, version FROM exceptions WHERE number = $1`, n
	}
	e, err := scanException(r.q.QueryRowContext(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("exception", idOrRef)
	}
	if err != nil {
		return nil, fmt.Errorf("get exception %q: %w", idOrRef, err)
	}
	return e, nil
}

// ListExceptions lists exceptions newest first, by number.
func (r *reader) ListExceptions(ctx context.Context, f gatehouse.ExceptionFilter) (gatehouse.Page[*gatehouse.Exception], error) {
	c := &conds{}
	if f.IdentityID != "" {
		c.add(`identity_id = ` + c.arg(f.IdentityID))
	}
	if f.RuleID != "" {
		c.add(`rule_id = ` + c.arg(f.RuleID))
	}
	if len(f.Statuses) > 0 {
		ph := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			ph[i] = c.arg(string(s))
		}
		c.add(`status IN (` + strings.Join(ph, ", ") + `)`)
	}
	if !f.ExpiresBefore.IsZero() {
		c.add(`expires_at <= ` + c.arg(r.d.bindTime(utc(f.ExpiresBefore))))
	}
	return listPage(ctx, r.q, keyset[*gatehouse.Exception]{
		what: "exceptions", tag: "exceptions", sel: `SELECT doc, version FROM exceptions`, key: `number`, desc: true,
		number: true, badNumber: "cursor: not an exceptions cursor",
		scan: scanException, keyOf: func(x *gatehouse.Exception) string { return strconv.FormatInt(x.Number, 10) },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

// exceptionDoc checks e, normalizes its times as the store keeps them and encodes it.
func exceptionDoc(e *gatehouse.Exception) (string, error) {
	if !e.Status.Valid() {
		return "", gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not an exception status", e.Status)
	}
	e.CreatedAt, e.UpdatedAt, e.ExpiresAt, e.ReviewAt = utc(e.CreatedAt), utc(e.UpdatedAt), utc(e.ExpiresAt), utc(e.ReviewAt)
	e.ApprovedAt = utcPtr(e.ApprovedAt)
	e.EntitlementIDs, e.GrantIDs = nonNil(e.EntitlementIDs), nonNil(e.GrantIDs)
	return jsonText(e)
}

func (t *tx) CreateException(ctx context.Context, e *gatehouse.Exception) error {
	t.wrote = true
	if !e.Status.Valid() {
		return gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not an exception status", e.Status)
	}
	id, err := newID()
	if err != nil {
		return err
	}
	n, err := nextNumber(ctx, t.q, "exception_numbers")
	if err != nil {
		return fmt.Errorf("create exception: %w", err)
	}
	now := t.clock()
	e.ID, e.Number, e.Ref, e.Version = id, n, gatehouse.ExceptionRef(n), 1
	if e.CreatedAt.IsZero() {
		e.CreatedAt = now
	}
	if e.UpdatedAt.IsZero() {
		e.UpdatedAt = e.CreatedAt
	}
	doc, err := exceptionDoc(e)
	if err != nil {
		return fmt.Errorf("create exception: %w", err)
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO exceptions (id, number, identity_id, kind, rule_id, status, expires_at,
		review_at, version, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, e.Number, e.IdentityID, string(e.Kind), e.RuleID, string(e.Status), t.d.bindTime(e.ExpiresAt),
		t.d.bindTime(e.ReviewAt), e.Version, doc); err != nil {
		if t.d.isForeignKey(err) {
			return gatehouse.Errorf(gatehouse.EINVALID, "exception: %q is not an identity", e.IdentityID)
		}
		return fmt.Errorf("create exception: %w", err)
	}
	return nil
}

func (t *tx) UpdateException(ctx context.Context, e *gatehouse.Exception) error {
	t.wrote = true
	prev := e.Version
	e.Version, e.UpdatedAt = prev+1, t.clock()
	doc, err := exceptionDoc(e)
	if err != nil {
		e.Version = prev
		return fmt.Errorf("update exception: %w", err)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE exceptions SET status = $1, expires_at = $2, review_at = $3, version = $4, doc = $5
		WHERE id = $6 AND version = $7`,
		string(e.Status), t.d.bindTime(e.ExpiresAt), t.d.bindTime(e.ReviewAt), e.Version, doc, e.ID, prev)
	if err != nil {
		e.Version = prev
		return fmt.Errorf("update exception %s: %w", e.Ref, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		e.Version = prev
		return fmt.Errorf("update exception %s: %w", e.Ref, err)
	}
	if n == 0 {
		e.Version = prev
		if _, err := t.GetException(ctx, e.ID); err != nil {
			return err
		}
		return gatehouse.Errorf(gatehouse.ECONFLICT, "exception %s was changed by someone else meanwhile; reload it and try again", e.Ref)
	}
	return nil
}
