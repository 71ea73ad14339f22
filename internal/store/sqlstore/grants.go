package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Grants

const grantColumns = `id, identity_id, entitlement_id, source, reference, granted_by, granted_at, expires_at,
	revoked_at, revoked_by, revoke_reason`

func scanGrant(row interface{ Scan(...any) error }) (*gatehouse.Grant, error) {
	var g gatehouse.Grant
	if err := row.Scan(&g.ID, &g.IdentityID, &g.EntitlementID, &g.Source, &g.Reference, &g.GrantedBy,
		timeDest{&g.GrantedAt}, nullTimeDest{&g.ExpiresAt}, nullTimeDest{&g.RevokedAt}, &g.RevokedBy,
		&g.RevokeReason); err != nil {
		return nil, err
	}
	return &g, nil
}

func (r *reader) GetGrant(ctx context.Context, id string) (*gatehouse.Grant, error) {
	return getByID(ctx, r.q, scanGrant, "grant", `SELECT `+grantColumns+` FROM grants WHERE id = $1`, id)
}

// prefixRange adds "col starts with prefix" as a range over byte order, which an index serves
// on both engines (LIKE 'x%' does not on SQLite, nor on PostgreSQL with a non-C collation).
// The prefix must end in an ASCII byte below 0x7f; callers pass prefixes ending in "/" or ".".
func prefixRange(c *conds, col, prefix string) {
	upper := prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)
	c.add(col + ` >= ` + c.arg(prefix) + ` AND ` + col + ` < ` + c.arg(upper))
}

func (r *reader) ListGrants(ctx context.Context, f gatehouse.GrantFilter) (gatehouse.Page[*gatehouse.Grant], error) {
	c := &conds{}
	if f.IdentityID != "" {
		c.add(`identity_id = ` + c.arg(f.IdentityID))
	}
	if f.EntitlementID != "" {
		c.add(`entitlement_id = ` + c.arg(f.EntitlementID))
	}
	if f.System != "" {
		prefixRange(c, "entitlement_id", f.System+"/")
	}
	if f.Source != "" {
		c.add(`source = ` + c.arg(string(f.Source)))
	}
	switch f.Status {
	case "":
	case "active":
		// Expiry is the callers' business: they hold the clock that decides it.
		c.add(r.d.activeGrant)
	case "revoked":
		c.add(`revoked_at IS NOT NULL`)
	default:
		return gatehouse.Page[*gatehouse.Grant]{}, gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not one of active, revoked", f.Status)
	}
	if !f.ExpiresAfter.IsZero() || !f.ExpiresBefore.IsZero() {
		// Spelled so that grants_expiry_idx (active grants with an expiry) serves it.
		c.add(`expires_at IS NOT NULL`)
		if !f.ExpiresAfter.IsZero() {
			c.add(`expires_at > ` + c.arg(r.d.bindTime(utc(f.ExpiresAfter))))
		}
		if !f.ExpiresBefore.IsZero() {
			c.add(`expires_at <= ` + c.arg(r.d.bindTime(utc(f.ExpiresBefore))))
		}
	}
	return listPage(ctx, r.q, keyset[*gatehouse.Grant]{
		what: "grants", tag: "grants", sel: `SELECT ` + grantColumns + ` FROM grants`, key: `id`,
		scan: scanGrant, keyOf: func(x *gatehouse.Grant) string { return x.ID },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

// countBatch bounds the ids bound in one query, well under both engines' parameter limits.
const countBatch = 500

func (r *reader) CountActiveGrants(ctx context.Context, entitlementIDs []string) (map[string]int, error) {
	out := make(map[string]int, len(entitlementIDs))
	for _, id := range entitlementIDs {
		out[id] = 0
	}
	for start := 0; start < len(entitlementIDs); start += countBatch {
		batch := entitlementIDs[start:min(start+countBatch, len(entitlementIDs))]
		c := &conds{}
		ph := make([]string, len(batch))
		for i, id := range batch {
			ph[i] = c.arg(id)
		}
		rows, err := r.q.QueryContext(ctx, `SELECT entitlement_id, count(*) FROM grants
			WHERE revoked_at IS NULL AND entitlement_id IN (`+strings.Join(ph, ", ")+`)
			GROUP BY entitlement_id`, c.args...)
		if err != nil {
			return nil, fmt.Errorf("count active grants: %w", err)
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("count active grants: %w", err)
			}
			out[id] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("count active grants: %w", err)
		}
	}
	return out, nil
}

func (t *tx) CreateGrant(ctx context.Context, g *gatehouse.Grant) error {
	t.wrote = true
	if g.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		g.ID = id
	}
	if g.GrantedAt.IsZero() {
		g.GrantedAt = t.clock()
	}
	g.GrantedAt, g.ExpiresAt, g.RevokedAt = utc(g.GrantedAt), utcPtr(g.ExpiresAt), utcPtr(g.RevokedAt)
	_, err := t.q.ExecContext(ctx, `INSERT INTO grants (id, identity_id, entitlement_id, source, reference,
		granted_by, granted_at, expires_at, revoked_at, revoked_by, revoke_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		g.ID, g.IdentityID, g.EntitlementID, string(g.Source), g.Reference, g.GrantedBy,
		t.d.bindTime(g.GrantedAt), t.d.nullTime(g.ExpiresAt), t.d.nullTime(g.RevokedAt), g.RevokedBy, g.RevokeReason)
	switch {
	case err == nil:
		t.touched("grants", 1)
		return nil
	case t.d.isForeignKey(err):
		return notFound("identity", g.IdentityID)
	case t.d.isUnique(err):
		return gatehouse.Errorf(gatehouse.ECONFLICT, "grant %q already exists", g.ID)
	}
	return fmt.Errorf("create grant of %s to %s: %w", g.EntitlementID, g.IdentityID, err)
}

func (t *tx) RevokeGrant(ctx context.Context, id string, at time.Time, by, reason string) error {
	t.wrote = true
	if at.IsZero() {
		at = t.clock()
	}
	res, err := t.q.ExecContext(ctx, `UPDATE grants SET revoked_at = $1, revoked_by = $2, revoke_reason = $3
		WHERE id = $4 AND revoked_at IS NULL`, t.d.bindTime(at), by, reason, id)
	if err != nil {
		return fmt.Errorf("revoke grant %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke grant %q: %w", id, err)
	} else if n > 0 {
		t.touched("grants", 1)
		return nil
	}
	// Nothing changed: say whether the grant is missing or already revoked.
	if _, err := t.GetGrant(ctx, id); err != nil {
		return err
	}
	return gatehouse.Errorf(gatehouse.ECONFLICT, "grant %q is already revoked", id)
}

// Accounts

const accountColumns = `id, system_id, external_id, username, identity_id, enabled, memberships, observed_at`

func scanAccount(row interface{ Scan(...any) error }) (*gatehouse.Account, error) {
	var a gatehouse.Account
	if err := row.Scan(&a.ID, &a.SystemID, &a.ExternalID, &a.Username, nullStringDest{&a.IdentityID}, &a.Enabled,
		jsonDest{&a.Memberships}, timeDest{&a.ObservedAt}); err != nil {
		return nil, err
	}
	a.Memberships = nonNil(a.Memberships)
	return &a, nil
}

func (r *reader) ListAccounts(ctx context.Context, f gatehouse.AccountFilter) (gatehouse.Page[*gatehouse.Account], error) {
	c := &conds{}
	if f.SystemID != "" {
		c.add(`system_id = ` + c.arg(f.SystemID))
	}
	if f.IdentityID != "" {
		c.add(`identity_id = ` + c.arg(f.IdentityID))
	}
	if f.Orphaned {
		c.add(`identity_id IS NULL`)
	}
	return listPage(ctx, r.q, keyset[*gatehouse.Account]{
		what: "accounts", tag: "accounts", sel: `SELECT ` + accountColumns + ` FROM accounts`, key: `id`,
		scan: scanAccount, keyOf: func(x *gatehouse.Account) string { return x.ID },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

// UpsertAccount inserts or updates the account with a.SystemID and a.ExternalID, and sets a.ID to
// the stored id (the existing one on update).
func (t *tx) UpsertAccount(ctx context.Context, a *gatehouse.Account) error {
	t.wrote = true
	if a.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		a.ID = id
	}
	if a.ObservedAt.IsZero() {
		a.ObservedAt = t.clock()
	}
	a.ObservedAt = utc(a.ObservedAt)
	memberships, err := jsonText(nonNil(a.Memberships))
	if err != nil {
		return fmt.Errorf("upsert account %s/%s: memberships: %w", a.SystemID, a.ExternalID, err)
	}
	var id string
	err = t.q.QueryRowContext(ctx, `INSERT INTO accounts (id, system_id, external_id, username, identity_id,
		enabled, memberships, observed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (system_id, external_id) DO UPDATE SET username = excluded.username,
		identity_id = excluded.identity_id, enabled = excluded.enabled, memberships = excluded.memberships,
		observed_at = excluded.observed_at
		RETURNING id`,
		a.ID, a.SystemID, a.ExternalID, a.Username, nullIfEmpty(a.IdentityID), a.Enabled, memberships,
		t.d.bindTime(a.ObservedAt)).Scan(&id)
	switch {
	case err == nil:
		a.ID = id
		return nil
	case t.d.isForeignKey(err):
		return notFound("identity", a.IdentityID)
	case t.d.isUnique(err):
		return gatehouse.Errorf(gatehouse.ECONFLICT, "account %q already exists", a.ID)
	}
	return fmt.Errorf("upsert account %s/%s: %w", a.SystemID, a.ExternalID, err)
}
