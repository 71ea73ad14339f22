package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The bulk writes of identities and grants (see bulk.go): one statement over arrays per chunk
// on PostgreSQL, the one-row methods on SQLite.

// identityTextColumns are the text columns identityArgs gives, in its order, after id.
const identityTextColumns = `employee_id, email, first_name, last_name, department, title, manager_id, location,
	employment_type, status, start_date, end_date, kind, attributes, roles, source, search`

// identityArrays are the columns of is[lo:hi] (id first, then identityArgs' order) as text
// arrays, setting a missing ID.
func identityArrays(is []*gatehouse.Identity, lo, hi int, newIDs bool, what string) ([]any, error) {
	cols := make([][]string, 18)
	for k := range cols {
		cols[k] = make([]string, 0, hi-lo)
	}
	for i := lo; i < hi; i++ {
		id := is[i]
		if newIDs && id.ID == "" {
			v, err := newID()
			if err != nil {
				return nil, err
			}
			id.ID = v
		}
		args, err := identityArgs(id)
		if err != nil {
			return nil, &store.RowError{Index: i, Err: fmt.Errorf("%s identity %s: %w", what, id.Email, err)}
		}
		cols[0] = append(cols[0], id.ID)
		for k, a := range args {
			cols[k+1] = append(cols[k+1], a.(string))
		}
	}
	out := make([]any, len(cols))
	for k, c := range cols {
		out[k] = c
	}
	return out, nil
}

// identityKey is how row i's value of the unique constraint err names is spelled in its detail.
func (t *tx) identityKey(err error, is []*gatehouse.Identity) func(i int) string {
	switch {
	case t.d.isUnique(err, "email"):
		return func(i int) string { return strings.ToLower(is[i].Email) }
	case t.d.isUnique(err, "employee_id"):
		return func(i int) string { return is[i].EmployeeID }
	}
	return func(i int) string { return is[i].ID }
}

var createIdentitiesSQL = `INSERT INTO identities (id, ` + identityTextColumns + `, created_at, updated_at)
	SELECT u.*, $19::timestamptz, $19::timestamptz FROM unnest(` + textArrayParams(1, 18) + `) AS u`

func (t *tx) CreateIdentities(ctx context.Context, is []*gatehouse.Identity) error {
	t.wrote = true
	if !t.postgresBulk() {
		return eachRow(len(is), func(i int) error { return t.CreateIdentity(ctx, is[i]) })
	}
	now := t.clock()
	err := inChunks(len(is), func(lo, hi int) error {
		args, err := identityArrays(is, lo, hi, true, "create")
		if err != nil {
			return err
		}
		if _, err := t.q.ExecContext(ctx, createIdentitiesSQL, append(args, t.d.bindTime(now))...); err != nil {
			return batchError(err, lo, hi, t.identityKey(err, is),
				func(i int, err error) error { return t.identityConflict(err, is[i]) }, "create identities")
		}
		for _, id := range is[lo:hi] {
			id.CreatedAt, id.UpdatedAt = now, now
		}
		return nil
	})
	t.touched("identities", len(is))
	return err
}

var updateIdentitiesSQL = func() string {
	cols := strings.Fields(strings.ReplaceAll(identityTextColumns, ",", " "))
	set := make([]string, len(cols))
	for k, c := range cols {
		set[k] = c + " = u." + c
	}
	return `UPDATE identities AS i SET ` + strings.Join(set, ", ") + `, updated_at = $19::timestamptz
	FROM unnest(` + textArrayParams(1, 18) + `) AS u (id, ` + identityTextColumns + `)
	WHERE i.id = u.id RETURNING i.id`
}()

func (t *tx) UpdateIdentities(ctx context.Context, is []*gatehouse.Identity) error {
	t.wrote = true
	one := func(i int) error { return t.UpdateIdentity(ctx, is[i]) }
	if !t.postgresBulk() {
		return eachRow(len(is), one)
	}
	now := t.clock()
	err := inChunks(len(is), func(lo, hi int) error {
		if hasDuplicate(lo, hi, func(i int) string { return is[i].ID }) {
			// One UPDATE changes a row once: a person named twice is written twice, as asked.
			return offset(lo, eachRow(hi-lo, func(i int) error { return one(lo + i) }))
		}
		args, err := identityArrays(is, lo, hi, false, "update")
		if err != nil {
			return err
		}
		rows, err := t.q.QueryContext(ctx, updateIdentitiesSQL, append(args, t.d.bindTime(now))...)
		if err != nil {
			return batchError(err, lo, hi, t.identityKey(err, is),
				func(i int, err error) error { return t.identityConflict(err, is[i]) }, "update identities")
		}
		done, err := collectIDs(rows)
		if err != nil {
			return fmt.Errorf("update identities: %w", err)
		}
		for i := lo; i < hi; i++ {
			if !done[is[i].ID] {
				return &store.RowError{Index: i, Err: notFound("identity", is[i].ID)}
			}
			is[i].UpdatedAt = now
		}
		return nil
	})
	t.touched("identities", len(is))
	return err
}

var createGrantsSQL = `INSERT INTO grants (id, identity_id, entitlement_id, source, reference, granted_by, granted_at,
	expires_at, revoked_at, revoked_by, revoke_reason)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
	$8::timestamptz[], $9::timestamptz[], $10::text[], $11::text[])`

func (t *tx) CreateGrants(ctx context.Context, gs []*gatehouse.Grant) error {
	t.wrote = true
	if !t.postgresBulk() {
		return eachRow(len(gs), func(i int) error { return t.CreateGrant(ctx, gs[i]) })
	}
	now := t.clock()
	err := inChunks(len(gs), func(lo, hi int) error {
		n := hi - lo
		ids, who, ents, srcs, refs, bys, rbys, reasons := make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		granted, expires, revoked := make([]time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		for k, g := range gs[lo:hi] {
			if g.ID == "" {
				id, err := newID()
				if err != nil {
					return err
				}
				g.ID = id
			}
			if g.GrantedAt.IsZero() {
				g.GrantedAt = now
			}
			g.GrantedAt, g.ExpiresAt, g.RevokedAt = utc(g.GrantedAt), utcPtr(g.ExpiresAt), utcPtr(g.RevokedAt)
			ids[k], who[k], ents[k], srcs[k], refs[k], bys[k] = g.ID, g.IdentityID, g.EntitlementID, string(g.Source), g.Reference, g.GrantedBy
			granted[k], expires[k], revoked[k] = g.GrantedAt, pgNullTime(g.ExpiresAt), pgNullTime(g.RevokedAt)
			rbys[k], reasons[k] = g.RevokedBy, g.RevokeReason
		}
		_, err := t.q.ExecContext(ctx, createGrantsSQL, ids, who, ents, srcs, refs, bys, pgTimes(granted), expires, revoked, rbys, reasons)
		if err == nil {
			return nil
		}
		keyOf := func(i int) string { return gs[i].ID }
		if t.d.isForeignKey(err) {
			keyOf = func(i int) string { return gs[i].IdentityID }
		}
		return batchError(err, lo, hi, keyOf, func(i int, err error) error {
			switch {
			case t.d.isForeignKey(err):
				return notFound("identity", gs[i].IdentityID)
			case t.d.isUnique(err):
				return gatehouse.Errorf(gatehouse.ECONFLICT, "grant %q already exists", gs[i].ID)
			}
			return nil
		}, "create grants")
	})
	t.touched("grants", len(gs))
	return err
}

const revokeGrantsSQL = `UPDATE grants AS g SET revoked_at = $1, revoked_by = $2, revoke_reason = u.reason
	FROM unnest($3::text[], $4::text[]) AS u (id, reason)
	WHERE g.id = u.id AND g.revoked_at IS NULL RETURNING g.id`

func (t *tx) RevokeGrants(ctx context.Context, rs []store.Revocation, at time.Time, by string) error {
	t.wrote = true
	if at.IsZero() {
		at = t.clock()
	}
	if !t.postgresBulk() {
		return eachRow(len(rs), func(i int) error { return t.RevokeGrant(ctx, rs[i].GrantID, at, by, rs[i].Reason) })
	}
	err := inChunks(len(rs), func(lo, hi int) error {
		ids, reasons := make([]string, 0, hi-lo), make([]string, 0, hi-lo)
		for _, r := range rs[lo:hi] {
			ids, reasons = append(ids, r.GrantID), append(reasons, r.Reason)
		}
		rows, err := t.q.QueryContext(ctx, revokeGrantsSQL, t.d.bindTime(at), by, ids, reasons)
		if err != nil {
			return fmt.Errorf("revoke grants: %w", err)
		}
		done, err := collectIDs(rows)
		if err != nil {
			return fmt.Errorf("revoke grants: %w", err)
		}
		for i := lo; i < hi; i++ {
			id := rs[i].GrantID
			if done[id] {
				delete(done, id) // a grant named again is already revoked by then, as one at a time
				continue
			}
			// Not revoked by this statement: say whether it is missing or was revoked before.
			if _, err := t.GetGrant(ctx, id); err != nil {
				return &store.RowError{Index: i, Err: err}
			}
			return &store.RowError{Index: i, Err: gatehouse.Errorf(gatehouse.ECONFLICT, "grant %q is already revoked", id)}
		}
		return nil
	})
	t.touched("grants", len(rs))
	return err
}

// textArrayParams is "$from::text[], …, $to::text[]".
func textArrayParams(from, to int) string {
	ps := make([]string, 0, to-from+1)
	for k := from; k <= to; k++ {
		ps = append(ps, fmt.Sprintf("$%d::text[]", k))
	}
	return strings.Join(ps, ", ")
}

// collectIDs drains rows of one id column into a set.
func collectIDs(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}) (map[string]bool, error) {
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// hasDuplicate reports whether two rows of [lo, hi) have the same key.
func hasDuplicate(lo, hi int, key func(i int) string) bool {
	seen := make(map[string]struct{}, hi-lo)
	for i := lo; i < hi; i++ {
		if _, ok := seen[key(i)]; ok {
			return true
		}
		seen[key(i)] = struct{}{}
	}
	return false
}

// offset moves the index of a *store.RowError of a sub-batch starting at lo to the whole batch.
func offset(lo int, err error) error {
	if re, ok := err.(*store.RowError); ok {
		re.Index += lo
	}
	return err
}
