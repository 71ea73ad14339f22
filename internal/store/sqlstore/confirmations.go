package sqlstore

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse"
)

const confirmationColumns = `id, identity_id, grant_id, entitlement_id, manager_id, hr_import_id, created_at,
	status, decided_by, decided_at, comment`

func scanConfirmation(row interface{ Scan(...any) error }) (*gatehouse.Confirmation, error) {
	var c gatehouse.Confirmation
	if err := row.Scan(&c.ID, &c.IdentityID, &c.GrantID, &c.EntitlementID, &c.ManagerID, &c.HRImportID,
		timeDest{&c.CreatedAt}, &c.Status, &c.DecidedBy, nullTimeDest{&c.DecidedAt}, &c.Comment); err != nil {
		return nil, err
	}
	return &c, nil
}

func (r *reader) GetConfirmation(ctx context.Context, id string) (*gatehouse.Confirmation, error) {
	return getByID(ctx, r.q, scanConfirmation, "confirmation", `SELECT `+confirmationColumns+` FROM confirmations WHERE id = $1`, id)
}

// ListConfirmations lists confirmations newest first (ids are time-ordered).
func (r *reader) ListConfirmations(ctx context.Context, f gatehouse.ConfirmationFilter) (gatehouse.Page[*gatehouse.Confirmation], error) {
	c := &conds{}
	if f.ManagerID != "" {
		c.add(`manager_id = ` + c.arg(f.ManagerID))
	}
	if f.IdentityID != "" {
		c.add(`identity_id = ` + c.arg(f.IdentityID))
	}
	if f.GrantID != "" {
		c.add(`grant_id = ` + c.arg(f.GrantID))
	}
	if f.Status != "" {
		c.add(`status = ` + c.arg(string(f.Status)))
	}
	return listPage(ctx, r.q, keyset[*gatehouse.Confirmation]{
		what: "confirmations", tag: "confirmations", sel: `SELECT ` + confirmationColumns + ` FROM confirmations`, key: `id`, desc: true,
		scan: scanConfirmation, keyOf: func(x *gatehouse.Confirmation) string { return x.ID },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

func (t *tx) CreateConfirmations(ctx context.Context, cs []*gatehouse.Confirmation) error {
	t.wrote = true
	for _, c := range cs {
		if c.Status == "" {
			c.Status = gatehouse.ConfirmationOpen
		}
		if !c.Status.Valid() {
			return gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not one of open, confirmed, revoked", c.Status)
		}
		if c.ID == "" {
			id, err := newID()
			if err != nil {
				return err
			}
			c.ID = id
		}
		created := utc(c.CreatedAt)
		if c.CreatedAt.IsZero() {
			created = t.clock()
		}
		decided := utcPtr(c.DecidedAt)
		_, err := t.q.ExecContext(ctx, `INSERT INTO confirmations (id, identity_id, grant_id, entitlement_id, manager_id,
			hr_import_id, created_at, status, decided_by, decided_at, comment)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			c.ID, c.IdentityID, c.GrantID, c.EntitlementID, c.ManagerID, c.HRImportID, t.d.bindTime(created),
			string(c.Status), c.DecidedBy, t.d.nullTime(decided), c.Comment)
		if err != nil {
			if t.d.isUnique(err) {
				return gatehouse.Errorf(gatehouse.ECONFLICT, "confirmation %q already exists", c.ID)
			}
			return fmt.Errorf("create confirmation: %w", err)
		}
		c.CreatedAt, c.DecidedAt = created, decided
	}
	return nil
}

func (t *tx) DecideConfirmation(ctx context.Context, c *gatehouse.Confirmation) error {
	t.wrote = true
	if !c.Status.Valid() {
		return gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not one of open, confirmed, revoked", c.Status)
	}
	decided := utcPtr(c.DecidedAt)
	res, err := t.q.ExecContext(ctx, `UPDATE confirmations SET status = $1, decided_by = $2, decided_at = $3, comment = $4
		WHERE id = $5`, string(c.Status), c.DecidedBy, t.d.nullTime(decided), c.Comment, c.ID)
	if err != nil {
		return fmt.Errorf("decide confirmation %q: %w", c.ID, err)
	}
	if err := affected(res, "confirmation", c.ID); err != nil {
		return err
	}
	c.DecidedAt = decided
	return nil
}
