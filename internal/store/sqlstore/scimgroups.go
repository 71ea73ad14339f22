package sqlstore

// SCIM groups: groups an IdP pushed over SCIM, kept for review. A group may have 10,000
// members, so members are their own rows, written by difference, and read for a whole page of
// groups in one query.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// memberChunk is how many member rows one statement writes or checks: well below both engines'
// limits on bound parameters (32766 on SQLite, 65535 on PostgreSQL), and a fixed size so that
// the prepared statement of a full chunk is reused.
const memberChunk = 500

// scimGroupColumns are the group row, then lower(display_name): the list order, computed by the
// database, so that a cursor compares exactly as the ORDER BY does (SQLite lowercases ASCII
// only, PostgreSQL every script).
const scimGroupColumns = `id, display_name, external_id, source, version, created_at, updated_at, lower(display_name)`

func scanSCIMGroup(row interface{ Scan(...any) error }) (*gatehouse.SCIMGroup, string, error) {
	var g gatehouse.SCIMGroup
	var key string
	if err := row.Scan(&g.ID, &g.DisplayName, &g.ExternalID, &g.Source, &g.Version,
		timeDest{&g.CreatedAt}, timeDest{&g.UpdatedAt}, &key); err != nil {
		return nil, "", err
	}
	g.Members = []string{}
	return &g, key, nil
}

func (r *reader) GetSCIMGroup(ctx context.Context, id string) (*gatehouse.SCIMGroup, error) {
	g, _, err := scanSCIMGroup(r.q.QueryRowContext(ctx, `SELECT `+scimGroupColumns+` FROM scim_groups WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("scim group", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get scim group %q: %w", id, err)
	}
	if err := r.loadSCIMMembers(ctx, []*gatehouse.SCIMGroup{g}); err != nil {
		return nil, err
	}
	return g, nil
}

// scimGroupConds is the WHERE clause of f, shared by list and count.
func scimGroupConds(f gatehouse.SCIMGroupFilter) *conds {
	c := &conds{}
	if f.DisplayName != "" {
		c.add(`lower(display_name) = lower(` + c.arg(f.DisplayName) + `)`)
	}
	if f.ExternalID != "" {
		c.add(`external_id = ` + c.arg(f.ExternalID))
	}
	if f.MemberID != "" {
		c.add(`id IN (SELECT group_id FROM scim_group_members WHERE identity_id = ` + c.arg(f.MemberID) + `)`)
	}
	if f.Source != "" {
		c.add(`source = ` + c.arg(f.Source))
	}
	return c
}

// ListSCIMGroups lists groups by lowercased display name (unique, so the order is total), with
// their members: two queries per page, whatever its size.
func (r *reader) ListSCIMGroups(ctx context.Context, f gatehouse.SCIMGroupFilter) (gatehouse.Page[*gatehouse.SCIMGroup], error) {
	var none gatehouse.Page[*gatehouse.SCIMGroup]
	c := scimGroupConds(f)
	// The cursor carries the lowercased name as the database computed it (SQLite lowercases
	// ASCII only), so items travel with their keys.
	type keyed struct {
		g   *gatehouse.SCIMGroup
		key string
	}
	p, err := listPage(ctx, r.q, keyset[keyed]{
		what: "scim groups", tag: "scim-groups", sel: `SELECT ` + scimGroupColumns + ` FROM scim_groups`, key: `lower(display_name)`,
		scan: func(row rowScanner) (keyed, error) {
			g, key, err := scanSCIMGroup(row)
			return keyed{g, key}, err
		},
		keyOf: func(k keyed) string { return k.key },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
	if err != nil {
		return none, err
	}
	out := gatehouse.Page[*gatehouse.SCIMGroup]{Items: make([]*gatehouse.SCIMGroup, len(p.Items)), NextCursor: p.NextCursor}
	for i, k := range p.Items {
		out.Items[i] = k.g
	}
	if err := r.loadSCIMMembers(ctx, out.Items); err != nil {
		return none, err
	}
	return out, nil
}

// scimDeleted is how a person a SCIM client deleted appears in the identities' attributes
// column (service.AttrSCIMDeleted "true"), as a LIKE pattern.
var scimDeleted = likeContains(attrPair(gatehouse.AttributeValue{Key: "scim.deleted", Value: "true"}))

// loadSCIMMembers fills the members of gs (sorted by identity id) in one query. A person a SCIM
// client deleted is no member: SCIM hides them (their $ref would answer 404), and their
// memberships end with the deletion; rows left from before that rule are skipped here.
func (r *reader) loadSCIMMembers(ctx context.Context, gs []*gatehouse.SCIMGroup) error {
	if len(gs) == 0 {
		return nil
	}
	byID := make(map[string]*gatehouse.SCIMGroup, len(gs))
	c := &conds{}
	ph := make([]string, len(gs))
	for i, g := range gs {
		byID[g.ID] = g
		ph[i] = c.arg(g.ID)
	}
	q := `SELECT m.group_id, m.identity_id FROM scim_group_members m JOIN identities i ON i.id = m.identity_id
		WHERE m.group_id IN (` + strings.Join(ph, ", ") + `) AND i.attributes NOT LIKE ` + c.arg(scimDeleted) +
		` ESCAPE '\' ORDER BY m.group_id, m.identity_id`
	rows, err := r.q.QueryContext(ctx, q, c.args...)
	if err != nil {
		return fmt.Errorf("load scim group members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var gid, iid string
		if err := rows.Scan(&gid, &iid); err != nil {
			return fmt.Errorf("load scim group members: %w", err)
		}
		if g := byID[gid]; g != nil {
			g.Members = append(g.Members, iid)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load scim group members: %w", err)
	}
	return nil
}

func (r *reader) CountSCIMGroups(ctx context.Context, f gatehouse.SCIMGroupFilter) (int, error) {
	c := scimGroupConds(f)
	var n int
	if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM scim_groups`+c.String(), c.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count scim groups: %w", err)
	}
	return n, nil
}

// sortedMembers returns ids sorted and without duplicates, in a new slice.
func sortedMembers(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(nonNil(out))
}

func validSCIMGroup(g *gatehouse.SCIMGroup) error {
	if strings.TrimSpace(g.DisplayName) == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "display_name: required")
	}
	return nil
}

func (t *tx) CreateSCIMGroup(ctx context.Context, g *gatehouse.SCIMGroup) error {
	t.wrote = true
	if err := validSCIMGroup(g); err != nil {
		return err
	}
	members := sortedMembers(g.Members)
	if err := t.checkIdentityIDs(ctx, members); err != nil {
		return err
	}
	id, err := newID()
	if err != nil {
		return err
	}
	now := t.clock()
	_, err = t.q.ExecContext(ctx, `INSERT INTO scim_groups (id, display_name, external_id, source, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 1, $5, $6)`, id, g.DisplayName, g.ExternalID, g.Source, t.d.bindTime(now), t.d.bindTime(now))
	if err != nil {
		if t.d.isUnique(err, "display_name") {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "display_name: a group named %q already exists", g.DisplayName)
		}
		return fmt.Errorf("create scim group: %w", err)
	}
	if err := t.insertSCIMMembers(ctx, id, members); err != nil {
		return err
	}
	g.ID, g.Version, g.CreatedAt, g.UpdatedAt, g.Members = id, 1, now, now, members
	return nil
}

func (t *tx) UpdateSCIMGroup(ctx context.Context, g *gatehouse.SCIMGroup) error {
	t.wrote = true
	if err := validSCIMGroup(g); err != nil {
		return err
	}
	members := sortedMembers(g.Members)
	now := t.clock()
	// The version check and the bump are one statement: on PostgreSQL a concurrent update of
	// the same group waits for the row lock and then finds the version moved.
	var (
		createdAt time.Time
		source    string
		version   int64
	)
	err := t.q.QueryRowContext(ctx, `UPDATE scim_groups SET display_name = $1, external_id = $2, version = version + 1, updated_at = $3
		WHERE id = $4 AND version = $5 RETURNING version, source, created_at`,
		g.DisplayName, g.ExternalID, t.d.bindTime(now), g.ID, g.Version).Scan(&version, &source, timeDest{&createdAt})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		var current int64
		err := t.q.QueryRowContext(ctx, `SELECT version FROM scim_groups WHERE id = $1`, g.ID).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("scim group", g.ID)
		}
		if err != nil {
			return fmt.Errorf("update scim group %q: %w", g.ID, err)
		}
		return gatehouse.Errorf(gatehouse.ECONFLICT, "scim group %q is at version %d, not %d: it changed since it was read", g.ID, current, g.Version)
	case err != nil:
		if t.d.isUnique(err, "display_name") {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "display_name: a group named %q already exists", g.DisplayName)
		}
		return fmt.Errorf("update scim group %q: %w", g.ID, err)
	}
	old, err := t.memberIDs(ctx, g.ID)
	if err != nil {
		return err
	}
	added, removed := diffSorted(old, members)
	if err := t.checkIdentityIDs(ctx, added); err != nil {
		return err
	}
	if err := t.deleteSCIMMembers(ctx, g.ID, removed); err != nil {
		return err
	}
	if err := t.insertSCIMMembers(ctx, g.ID, added); err != nil {
		return err
	}
	g.Version, g.Source, g.CreatedAt, g.UpdatedAt, g.Members = version, source, createdAt, now, members
	return nil
}

func (t *tx) DeleteSCIMGroup(ctx context.Context, id string) error {
	t.wrote = true
	// Members go by ON DELETE CASCADE, through the primary key's group_id prefix.
	res, err := t.q.ExecContext(ctx, `DELETE FROM scim_groups WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete scim group %q: %w", id, err)
	}
	return affected(res, "scim group", id)
}

// memberIDs returns a group's member ids, sorted.
func (t *tx) memberIDs(ctx context.Context, groupID string) ([]string, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT identity_id FROM scim_group_members WHERE group_id = $1 ORDER BY identity_id`, groupID)
	if err != nil {
		return nil, fmt.Errorf("scim group %q members: %w", groupID, err)
	}
	ids, err := collect(rows, func(rows *sql.Rows) (string, error) {
		var id string
		return id, rows.Scan(&id)
	})
	if err != nil {
		return nil, fmt.Errorf("scim group %q members: %w", groupID, err)
	}
	// The database orders bytewise (binary on SQLite, "C" on PostgreSQL), as slices.Sort does.
	return ids, nil
}

// diffSorted returns what is in want but not in have, and what is in have but not in want; both
// inputs sorted and without duplicates.
func diffSorted(have, want []string) (added, removed []string) {
	i, j := 0, 0
	for i < len(have) || j < len(want) {
		switch {
		case j == len(want) || (i < len(have) && have[i] < want[j]):
			removed = append(removed, have[i])
			i++
		case i == len(have) || want[j] < have[i]:
			added = append(added, want[j])
			j++
		default:
			i++
			j++
		}
	}
	return added, removed
}

// checkIdentityIDs fails with EINVALID naming the first id (in sorted order) that is no
// identity's id, or is a person a SCIM client deleted (who could not be listed as a member).
// The foreign key would refuse an unknown id too, but could not say which one.
func (t *tx) checkIdentityIDs(ctx context.Context, ids []string) error {
	for chunk := range slices.Chunk(ids, memberChunk) {
		c := &conds{}
		ph := make([]string, len(chunk))
		for i, id := range chunk {
			ph[i] = c.arg(id)
		}
		q := `SELECT id, attributes LIKE ` + c.arg(scimDeleted) + ` ESCAPE '\' FROM identities WHERE id IN (` + strings.Join(ph, ", ") + `)`
		rows, err := t.q.QueryContext(ctx, q, c.args...)
		if err != nil {
			return fmt.Errorf("check members: %w", err)
		}
		type found struct {
			id      string
			deleted bool
		}
		all, err := collect(rows, func(rows *sql.Rows) (found, error) {
			var f found
			return f, rows.Scan(&f.id, &f.deleted)
		})
		if err != nil {
			return fmt.Errorf("check members: %w", err)
		}
		known := make(map[string]bool, len(all))
		for _, f := range all {
			known[f.id] = !f.deleted
		}
		for _, id := range chunk {
			live, ok := known[id]
			if !ok {
				return gatehouse.Errorf(gatehouse.EINVALID, "members: %q is not an identity id", id)
			}
			if !live {
				return gatehouse.Errorf(gatehouse.EINVALID, "members: %q is a user that was deleted", id)
			}
		}
	}
	return nil
}

// insertSCIMMembers adds member rows, a chunk per statement. $1 is the group in every row.
func (t *tx) insertSCIMMembers(ctx context.Context, groupID string, ids []string) error {
	for chunk := range slices.Chunk(ids, memberChunk) {
		var b strings.Builder
		b.WriteString(`INSERT INTO scim_group_members (group_id, identity_id) VALUES `)
		args := make([]any, 0, len(chunk)+1)
		args = append(args, groupID)
		for i, id := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("($1, $" + strconv.Itoa(i+2) + ")")
			args = append(args, id)
		}
		if _, err := t.q.ExecContext(ctx, b.String(), args...); err != nil {
			if t.d.isForeignKey(err) {
				return gatehouse.Errorf(gatehouse.EINVALID, "members: not all are identity ids")
			}
			return fmt.Errorf("add scim group %q members: %w", groupID, err)
		}
	}
	return nil
}

// deleteSCIMMembers removes member rows, a chunk per statement.
func (t *tx) deleteSCIMMembers(ctx context.Context, groupID string, ids []string) error {
	for chunk := range slices.Chunk(ids, memberChunk) {
		ph := make([]string, len(chunk))
		args := make([]any, 0, len(chunk)+1)
		args = append(args, groupID)
		for i, id := range chunk {
			ph[i] = "$" + strconv.Itoa(i+2)
			args = append(args, id)
		}
		q := `DELETE FROM scim_group_members WHERE group_id = $1 AND identity_id IN (` + strings.Join(ph, ", ") + `)`
		if _, err := t.q.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("remove scim group %q members: %w", groupID, err)
		}
	}
	return nil
}
