package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
)

// Settings

func (r *reader) GetSettings(ctx context.Context) (gatehouse.Settings, error) {
	var s gatehouse.Settings
	err := r.q.QueryRowContext(ctx, `SELECT data FROM settings WHERE id = 1`).Scan(jsonDest{&s})
	if errors.Is(err, sql.ErrNoRows) {
		return gatehouse.DefaultSettings(), nil
	}
	if err != nil {
		return gatehouse.Settings{}, fmt.Errorf("get settings: %w", err)
	}
	s.SecurityApprovers = nonNil(s.SecurityApprovers)
	return s, nil
}

func (t *tx) PutSettings(ctx context.Context, s gatehouse.Settings) error {
	t.wrote = true
	s.SecurityApprovers = nonNil(s.SecurityApprovers)
	data, err := jsonText(s)
	if err != nil {
		return fmt.Errorf("put settings: %w", err)
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO settings (id, data) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data`, data); err != nil {
		return fmt.Errorf("put settings: %w", err)
	}
	return nil
}

// Systems

const systemColumns = `id, name, owner, tier, connector, owner_id, account_name`

func scanSystem(row interface{ Scan(...any) error }) (*gatehouse.System, error) {
	var s gatehouse.System
	var naming string
	if err := row.Scan(&s.ID, &s.Name, &s.Owner, &s.Tier, jsonDest{&s.Connector}, &s.OwnerID, &naming); err != nil {
		return nil, err
	}
	if naming != "" {
		s.AccountName = &gatehouse.AccountNaming{}
		if err := json.Unmarshal([]byte(naming), s.AccountName); err != nil {
			return nil, fmt.Errorf("system %s: account_name: %w", s.ID, err)
		}
	}
	if len(s.Connector.Settings) == 0 {
		s.Connector.Settings = nil
	}
	return &s, nil
}

func (r *reader) GetSystem(ctx context.Context, id string) (*gatehouse.System, error) {
	return getByID(ctx, r.q, scanSystem, "system", `SELECT `+systemColumns+` FROM systems WHERE id = $1`, id)
}

func (r *reader) ListSystems(ctx context.Context) ([]*gatehouse.System, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+systemColumns+` FROM systems ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list systems: %w", err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (*gatehouse.System, error) { return scanSystem(rows) })
	if err != nil {
		return nil, fmt.Errorf("list systems: %w", err)
	}
	return out, nil
}

func (t *tx) PutSystem(ctx context.Context, s *gatehouse.System) error {
	t.wrote = true
	conn, err := jsonText(s.Connector)
	if err != nil {
		return fmt.Errorf("put system %s: connector: %w", s.ID, err)
	}
	naming := ""
	if s.AccountName != nil {
		if naming, err = jsonText(s.AccountName); err != nil {
			return fmt.Errorf("put system %s: account_name: %w", s.ID, err)
		}
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO systems (id, name, owner, tier, connector, owner_id, account_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner = excluded.owner, tier = excluded.tier,
		connector = excluded.connector, owner_id = excluded.owner_id, account_name = excluded.account_name`,
		s.ID, s.Name, s.Owner, string(s.Tier), conn, s.OwnerID, naming); err != nil {
		return fmt.Errorf("put system %s: %w", s.ID, err)
	}
	return nil
}

func (t *tx) DeleteSystem(ctx context.Context, id string) error {
	return t.deleteByID(ctx, "systems", "system", id)
}

// deleteByID deletes one catalog object; table is one of this file's constants, never input.
func (t *tx) deleteByID(ctx context.Context, table, what, id string) error {
	t.wrote = true
	res, err := t.q.ExecContext(ctx, `DELETE FROM `+table+` WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", what, id, err)
	}
	return affected(res, what, id)
}

// Entitlements

const entitlementColumns = `id, system_id, name, description, external_id, kind, risk, owner, requestable,
	max_duration, approval, emergency, owner_id, approver_ids`

func scanEntitlement(row interface{ Scan(...any) error }) (*gatehouse.Entitlement, error) {
	var e gatehouse.Entitlement
	var maxDuration int64
	if err := row.Scan(&e.ID, &e.System, &e.Name, &e.Description, &e.ExternalID, &e.Kind, &e.Risk, &e.Owner,
		&e.Requestable, &maxDuration, jsonDest{&e.Approval}, &e.Emergency, &e.OwnerID, jsonDest{&e.ApproverIDs}); err != nil {
		return nil, err
	}
	if len(e.ApproverIDs) == 0 {
		e.ApproverIDs = nil
	}
	e.MaxDuration = gatehouse.Duration(maxDuration)
	e.Approval = nonNil(e.Approval)
	return &e, nil
}

func (r *reader) GetEntitlement(ctx context.Context, id string) (*gatehouse.Entitlement, error) {
	return getByID(ctx, r.q, scanEntitlement, "entitlement", `SELECT `+entitlementColumns+` FROM entitlements WHERE id = $1`, id)
}

func (r *reader) ListEntitlements(ctx context.Context, f gatehouse.EntitlementFilter) (gatehouse.Page[*gatehouse.Entitlement], error) {
	c := &conds{}
	if f.System != "" {
		c.add(`system_id = ` + c.arg(f.System))
	}
	if f.Risk != "" {
		c.add(`risk = ` + c.arg(string(f.Risk)))
	}
	if f.Query != "" {
		c.add(`search LIKE ` + c.arg(searchPattern(f.Query)) + ` ESCAPE '\'`)
	}
	if f.Requestable != nil {
		c.add(`requestable = ` + c.arg(*f.Requestable))
	}
	return listPage(ctx, r.q, keyset[*gatehouse.Entitlement]{
		what: "entitlements", tag: "entitlements", sel: `SELECT ` + entitlementColumns + ` FROM entitlements`, key: `id`,
		scan: scanEntitlement, keyOf: func(x *gatehouse.Entitlement) string { return x.ID },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

func (r *reader) listAllEntitlements(ctx context.Context) ([]*gatehouse.Entitlement, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+entitlementColumns+` FROM entitlements ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list entitlements: %w", err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (*gatehouse.Entitlement, error) { return scanEntitlement(rows) })
	if err != nil {
		return nil, fmt.Errorf("list entitlements: %w", err)
	}
	return out, nil
}

func (t *tx) PutEntitlement(ctx context.Context, e *gatehouse.Entitlement) error {
	t.wrote = true
	approval, err := jsonText(nonNil(e.Approval))
	if err != nil {
		return fmt.Errorf("put entitlement %s: approval: %w", e.ID, err)
	}
	approverIDs := "{}"
	if len(e.ApproverIDs) > 0 {
		if approverIDs, err = jsonText(e.ApproverIDs); err != nil {
			return fmt.Errorf("put entitlement %s: approver ids: %w", e.ID, err)
		}
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO entitlements (id, system_id, name, description, external_id,
		kind, risk, owner, requestable, max_duration, approval, search, emergency, owner_id, approver_ids)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (id) DO UPDATE SET system_id = excluded.system_id, name = excluded.name,
		description = excluded.description, external_id = excluded.external_id, kind = excluded.kind,
		risk = excluded.risk, owner = excluded.owner, requestable = excluded.requestable,
		max_duration = excluded.max_duration, approval = excluded.approval, search = excluded.search,
		emergency = excluded.emergency, owner_id = excluded.owner_id, approver_ids = excluded.approver_ids`,
		e.ID, e.System, e.Name, e.Description, e.ExternalID, string(e.Kind), string(e.Risk), e.Owner,
		e.Requestable, int64(e.MaxDuration), approval, searchText(e.ID, e.Name, e.Description), e.Emergency, e.OwnerID, approverIDs); err != nil {
		return fmt.Errorf("put entitlement %s: %w", e.ID, err)
	}
	return nil
}

func (t *tx) DeleteEntitlement(ctx context.Context, id string) error {
	return t.deleteByID(ctx, "entitlements", "entitlement", id)
}

// Roles

const roleColumns = `id, name, description, entitlements, birthright`

func scanRole(row interface{ Scan(...any) error }) (*gatehouse.Role, error) {
	var r gatehouse.Role
	if err := row.Scan(&r.ID, &r.Name, &r.Description, jsonDest{&r.Entitlements}, &r.Birthright); err != nil {
		return nil, err
	}
	r.Entitlements = nonNil(r.Entitlements)
	return &r, nil
}

func (r *reader) GetRole(ctx context.Context, id string) (*gatehouse.Role, error) {
	return getByID(ctx, r.q, scanRole, "role", `SELECT `+roleColumns+` FROM roles WHERE id = $1`, id)
}

func (r *reader) ListRoles(ctx context.Context) ([]*gatehouse.Role, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+roleColumns+` FROM roles ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (*gatehouse.Role, error) { return scanRole(rows) })
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return out, nil
}

func (t *tx) PutRole(ctx context.Context, r *gatehouse.Role) error {
	t.wrote = true
	ents, err := jsonText(nonNil(r.Entitlements))
	if err != nil {
		return fmt.Errorf("put role %s: entitlements: %w", r.ID, err)
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO roles (id, name, description, entitlements, birthright)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
		entitlements = excluded.entitlements, birthright = excluded.birthright`,
		r.ID, r.Name, r.Description, ents, r.Birthright); err != nil {
		return fmt.Errorf("put role %s: %w", r.ID, err)
	}
	return nil
}

func (t *tx) DeleteRole(ctx context.Context, id string) error {
	return t.deleteByID(ctx, "roles", "role", id)
}

// SoD rules

const sodColumns = `id, description, left_entitlements, right_entitlements, severity, on_violation`

func scanSoDRule(row interface{ Scan(...any) error }) (*gatehouse.SoDRule, error) {
	var r gatehouse.SoDRule
	if err := row.Scan(&r.ID, &r.Description, jsonDest{&r.Left}, jsonDest{&r.Right}, &r.Severity, &r.OnViolation); err != nil {
		return nil, err
	}
	r.Left, r.Right = nonNil(r.Left), nonNil(r.Right)
	return &r, nil
}

func (r *reader) GetSoDRule(ctx context.Context, id string) (*gatehouse.SoDRule, error) {
	return getByID(ctx, r.q, scanSoDRule, "SoD rule", `SELECT `+sodColumns+` FROM sod_rules WHERE id = $1`, id)
}

func (r *reader) ListSoDRules(ctx context.Context) ([]*gatehouse.SoDRule, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+sodColumns+` FROM sod_rules ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list SoD rules: %w", err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (*gatehouse.SoDRule, error) { return scanSoDRule(rows) })
	if err != nil {
		return nil, fmt.Errorf("list SoD rules: %w", err)
	}
	return out, nil
}

func (t *tx) PutSoDRule(ctx context.Context, r *gatehouse.SoDRule) error {
	t.wrote = true
	left, err := jsonText(nonNil(r.Left))
	if err != nil {
		return fmt.Errorf("put SoD rule %s: left: %w", r.ID, err)
	}
	right, err := jsonText(nonNil(r.Right))
	if err != nil {
		return fmt.Errorf("put SoD rule %s: right: %w", r.ID, err)
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO sod_rules (id, description, left_entitlements,
		right_entitlements, severity, on_violation) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET description = excluded.description,
		left_entitlements = excluded.left_entitlements, right_entitlements = excluded.right_entitlements,
		severity = excluded.severity, on_violation = excluded.on_violation`,
		r.ID, r.Description, left, right, r.Severity, r.OnViolation); err != nil {
		return fmt.Errorf("put SoD rule %s: %w", r.ID, err)
	}
	return nil
}

func (t *tx) DeleteSoDRule(ctx context.Context, id string) error {
	return t.deleteByID(ctx, "sod_rules", "SoD rule", id)
}

// LoadCatalog reads settings and every catalog object from one snapshot, so that a concurrent
// catalog apply is seen entirely or not at all.
func (r *reader) LoadCatalog(ctx context.Context) (*gatehouse.Catalog, error) {
	rd := r
	if r.db != nil {
		sqlTx, err := r.db.BeginTx(ctx, r.d.snapshot)
		if err != nil {
			return nil, fmt.Errorf("load catalog: begin: %w", err)
		}
		defer sqlTx.Rollback() // read-only: nothing to commit
		rd = &reader{q: sqlTx, d: r.d, now: r.now}
	}
	var (
		c   gatehouse.Catalog
		err error
	)
	if c.Settings, err = rd.GetSettings(ctx); err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	if c.Systems, err = rd.ListSystems(ctx); err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	if c.Entitlements, err = rd.listAllEntitlements(ctx); err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	if c.Roles, err = rd.ListRoles(ctx); err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	if c.SoD, err = rd.ListSoDRules(ctx); err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	return &c, nil
}
