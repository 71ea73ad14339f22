package sqlstore

// Emergency (break-glass) grants' post-event reviews.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse"
)

func scanEmergencyReview(row interface{ Scan(...any) error }) (*gatehouse.EmergencyReview, error) {
	var doc string
	if err := row.Scan(&doc); err != nil {
		return nil, err
	}
	var r gatehouse.EmergencyReview
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return nil, fmt.Errorf("emergency review document: %w", err)
	}
	return &r, nil
}

func (r *reader) GetEmergencyReview(ctx context.Context, idOrRef string) (*gatehouse.EmergencyReview, error) {
	q, arg := `SELECT doc FROM emergency_reviews WHERE id = $1`, any(idOrRef)
	if n, ok := gatehouse.ParseEmergencyRef(idOrRef); ok {
		q, arg = `SELECT doc FROM emergency_reviews WHERE number = $1`, n
	}
	rev, err := scanEmergencyReview(r.q.QueryRowContext(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("emergency review", idOrRef)
	}
	if err != nil {
		return nil, fmt.Errorf("get emergency review %q: %w", idOrRef, err)
	}
	return rev, nil
}

// ListEmergencyReviews lists reviews newest first, by number.
func (r *reader) ListEmergencyReviews(ctx context.Context, f gatehouse.EmergencyReviewFilter) (gatehouse.Page[*gatehouse.EmergencyReview], error) {
	c := &conds{}
	if f.OpenOnly {
		c.add(`completed_at IS NULL`)
	}
	return listPage(ctx, r.q, keyset[*gatehouse.EmergencyReview]{
		what: "emergency reviews", tag: "emergency", sel: `SELECT doc FROM emergency_reviews`, key: `number`, desc: true,
		number: true, badNumber: "cursor: not an emergency reviews cursor",
		scan: scanEmergencyReview, keyOf: func(x *gatehouse.EmergencyReview) string { return strconv.FormatInt(x.Number, 10) },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

func (r *reader) CountEmergencyReviews(ctx context.Context, now time.Time) (open, overdue int, err error) {
	// emergency_reviews_open_idx (migration 0012) holds only open reviews.
	if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN due_at <= $1 THEN 1 ELSE 0 END), 0)
		FROM emergency_reviews WHERE completed_at IS NULL`, r.d.bindTime(utc(now))).Scan(&open, &overdue); err != nil {
		return 0, 0, fmt.Errorf("count emergency reviews: %w", err)
	}
	return open, overdue, nil
}

// emergencyDoc normalizes the times of r as the store keeps them and encodes it.
func emergencyDoc(r *gatehouse.EmergencyReview) (string, error) {
	r.GrantedAt, r.ExpiresAt, r.DueAt, r.CompletedAt = utc(r.GrantedAt), utc(r.ExpiresAt), utc(r.DueAt), utcPtr(r.CompletedAt)
	r.Assignees = nonNil(r.Assignees)
	return jsonText(r)
}

func (t *tx) NextEmergencyNumber(ctx context.Context) (int64, error) {
	t.wrote = true
	n, err := nextNumber(ctx, t.q, "emergency_numbers")
	if err != nil {
		return 0, fmt.Errorf("emergency %w", err)
	}
	return n, nil
}

func (t *tx) CreateEmergencyReview(ctx context.Context, r *gatehouse.EmergencyReview) error {
	t.wrote = true
	if r.Number <= 0 || r.GrantID == "" || r.BeneficiaryID == "" || r.DueAt.IsZero() {
		return gatehouse.Errorf(gatehouse.EINVALID, "emergency review: number, grant, beneficiary and due time are required")
	}
	id, err := newID()
	if err != nil {
		return err
	}
	r.ID, r.Ref = id, gatehouse.EmergencyRef(r.Number)
	if r.GrantedAt.IsZero() {
		r.GrantedAt = t.clock()
	}
	doc, err := emergencyDoc(r)
	if err != nil {
		return fmt.Errorf("create emergency review: %w", err)
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO emergency_reviews (id, number, grant_id, beneficiary_id, granted_by,
		granted_at, due_at, completed_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		r.ID, r.Number, r.GrantID, r.BeneficiaryID, r.GrantedBy, t.d.bindTime(r.GrantedAt), t.d.bindTime(r.DueAt),
		t.d.nullTime(r.CompletedAt), doc); err != nil {
		if t.d.isForeignKey(err) {
			return gatehouse.Errorf(gatehouse.EINVALID, "emergency review: grant or beneficiary does not exist")
		}
		if t.d.isUnique(err, "number", "emergency_reviews") {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "emergency review %s already exists", r.Ref)
		}
		return fmt.Errorf("create emergency review: %w", err)
	}
	return nil
}

func (t *tx) UpdateEmergencyReview(ctx context.Context, r *gatehouse.EmergencyReview) error {
	t.wrote = true
	doc, err := emergencyDoc(r)
	if err != nil {
		return fmt.Errorf("update emergency review: %w", err)
	}
	// Only an open review is written: two reviewers racing cannot both complete it.
	res, err := t.q.ExecContext(ctx, `UPDATE emergency_reviews SET completed_at = $1, due_at = $2, doc = $3
		WHERE id = $4 AND completed_at IS NULL`, t.d.nullTime(r.CompletedAt), t.d.bindTime(r.DueAt), doc, r.ID)
	if err != nil {
		return fmt.Errorf("update emergency review %s: %w", r.Ref, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update emergency review %s: %w", r.Ref, err)
	} else if n == 0 {
		if _, err := t.GetEmergencyReview(ctx, r.ID); err != nil {
			return err
		}
		return gatehouse.Errorf(gatehouse.ECONFLICT, "emergency review %s is already completed", r.Ref)
	}
	return nil
}
