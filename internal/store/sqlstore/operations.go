package sqlstore

// Provisioning evidence: reconcile runs and their operations (internal/provision).

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// DB returns the database the store writes to, and Engine its engine, for components that
// keep their own tables in the same database (the River job queue): on SQLite this is the one
// write connection, so the queue and the store never fight over the write lock. It is not part
// of store.Store on purpose; callers find it by type assertion.
func (s *sqlStore) DB() *sql.DB { return s.write }

const reconcileColumns = `id, system_id, cause, job_id, attempt, started_at, finished_at, status, planned, applied,
	failed, inventory_accounts, inventory_groups, error, findings`

func scanReconcile(row interface{ Scan(...any) error }) (*gatehouse.Reconcile, error) {
	var r gatehouse.Reconcile
	if err := row.Scan(&r.ID, &r.SystemID, &r.Cause, &r.JobID, &r.Attempt, timeDest{&r.StartedAt},
		nullTimeDest{&r.FinishedAt}, &r.Status, &r.Planned, &r.Applied, &r.Failed, &r.Accounts, &r.Groups, &r.Error, jsonDest{&r.Findings}); err != nil {
		return nil, err
	}
	if r.Findings == nil {
		r.Findings = []gatehouse.DriftFinding{}
	}
	return &r, nil
}

func (r *reader) GetReconcile(ctx context.Context, id string) (*gatehouse.Reconcile, error) {
	return getByID(ctx, r.q, scanReconcile, "reconcile", `SELECT `+reconcileColumns+` FROM reconciles WHERE id = $1`, id)
}

// ListReconciles lists runs newest first (ids are time-ordered).
func (r *reader) ListReconciles(ctx context.Context, f gatehouse.ReconcileFilter) (gatehouse.Page[*gatehouse.Reconcile], error) {
	c := &conds{}
	if f.SystemID != "" {
		c.add(`system_id = ` + c.arg(f.SystemID))
	}
	if len(f.JobIDs) > 0 {
		ph := make([]string, len(f.JobIDs))
		for i, id := range f.JobIDs {
			ph[i] = c.arg(id)
		}
		c.add(`job_id IN (` + strings.Join(ph, ", ") + `)`)
	}
	if f.Latest {
		// An interrupted run read nothing to the end: its (absent) findings are not the drift.
		c.add(`id IN (SELECT MAX(id) FROM reconciles WHERE status NOT IN ('running', 'interrupted') GROUP BY system_id)`)
	}
	if f.Status != "" {
		c.add(`status = ` + c.arg(string(f.Status)))
	}
	return listPage(ctx, r.q, keyset[*gatehouse.Reconcile]{
		what: "reconciles", tag: "reconciles", sel: `SELECT ` + reconcileColumns + ` FROM reconciles`, key: `id`, desc: true,
		scan: scanReconcile, keyOf: func(x *gatehouse.Reconcile) string { return x.ID },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

const operationColumns = `id, reconcile_id, system_id, kind, identity_id, account_ref, username, grp, cause,
	requested_at, created_at, started_at, finished_at, status, attempts, error, task, detail`

func scanOperation(row interface{ Scan(...any) error }) (*gatehouse.Operation, error) {
	var o gatehouse.Operation
	if err := row.Scan(&o.ID, &o.ReconcileID, &o.SystemID, &o.Kind, &o.IdentityID, &o.AccountRef, &o.Username,
		&o.Group, &o.Cause, timeDest{&o.RequestedAt}, timeDest{&o.CreatedAt}, nullTimeDest{&o.StartedAt},
		nullTimeDest{&o.FinishedAt}, &o.Status, &o.Attempts, &o.Error, &o.Task, &o.Detail); err != nil {
		return nil, err
	}
	return &o, nil
}

// ListOperations lists operations newest first.
func (r *reader) ListOperations(ctx context.Context, f gatehouse.OperationFilter) (gatehouse.Page[*gatehouse.Operation], error) {
	c := &conds{}
	if f.SystemID != "" {
		c.add(`system_id = ` + c.arg(f.SystemID))
	}
	if f.ReconcileID != "" {
		c.add(`reconcile_id = ` + c.arg(f.ReconcileID))
	}
	if f.IdentityID != "" {
		c.add(`identity_id = ` + c.arg(f.IdentityID))
	}
	if f.Status != "" {
		c.add(`status = ` + c.arg(string(f.Status)))
	}
	return listPage(ctx, r.q, keyset[*gatehouse.Operation]{
		what: "operations", tag: "operations", sel: `SELECT ` + operationColumns + ` FROM operations`, key: `id`, desc: true,
		scan: scanOperation, keyOf: func(x *gatehouse.Operation) string { return x.ID },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

func validReconcileStatus(s gatehouse.ReconcileStatus) error {
	switch s {
	case gatehouse.ReconcileRunning, gatehouse.ReconcileConverged, gatehouse.ReconcileFailed, gatehouse.ReconcileInterrupted:
		return nil
	}
	return gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not one of running, converged, failed, interrupted", s)
}

func (t *tx) CreateReconcile(ctx context.Context, r *gatehouse.Reconcile) error {
	t.wrote = true
	if err := validReconcileStatus(r.Status); err != nil {
		return err
	}
	if r.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		r.ID = id
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = t.clock()
	}
	r.StartedAt, r.FinishedAt = utc(r.StartedAt), utcPtr(r.FinishedAt)
	findings, err := jsonText(nonNil(r.Findings))
	if err != nil {
		return fmt.Errorf("create reconcile: findings: %w", err)
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO reconciles (id, system_id, cause, job_id, attempt, started_at,
		finished_at, status, planned, applied, failed, error, findings)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		r.ID, r.SystemID, r.Cause, r.JobID, r.Attempt, t.d.bindTime(r.StartedAt), t.d.nullTime(r.FinishedAt),
		string(r.Status), r.Planned, r.Applied, r.Failed, r.Error, findings)
	if err != nil {
		if t.d.isUnique(err) {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "reconcile %q already exists", r.ID)
		}
		return fmt.Errorf("create reconcile: %w", err)
	}
	return nil
}

func (t *tx) UpdateReconcile(ctx context.Context, r *gatehouse.Reconcile) error {
	t.wrote = true
	if err := validReconcileStatus(r.Status); err != nil {
		return err
	}
	r.FinishedAt = utcPtr(r.FinishedAt)
	findings, err := jsonText(nonNil(r.Findings))
	if err != nil {
		return fmt.Errorf("update reconcile: findings: %w", err)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE reconciles SET finished_at = $1, status = $2, planned = $3, applied = $4,
		failed = $5, error = $6, findings = $7, inventory_accounts = $8, inventory_groups = $9 WHERE id = $10`,
		t.d.nullTime(r.FinishedAt), string(r.Status), r.Planned, r.Applied, r.Failed, r.Error, findings, r.Accounts, r.Groups, r.ID)
	if err != nil {
		return fmt.Errorf("update reconcile %q: %w", r.ID, err)
	}
	return affected(res, "reconcile", r.ID)
}

func validOperation(o *gatehouse.Operation) error {
	switch o.Kind {
	case "create_account", "enable", "disable", "add_member", "remove_member":
	default:
		return gatehouse.Errorf(gatehouse.EINVALID, "kind: %q is not one of create_account, enable, disable, add_member, remove_member", o.Kind)
	}
	if !o.Status.Valid() {
		return gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not one of pending, running, applied, failed", o.Status)
	}
	return nil
}

func (t *tx) CreateOperations(ctx context.Context, ops []*gatehouse.Operation) error {
	t.wrote = true
	now := t.clock()
	for _, o := range ops {
		if err := validOperation(o); err != nil {
			return err
		}
		if o.ID == "" {
			id, err := newID()
			if err != nil {
				return err
			}
			o.ID = id
		}
		if o.CreatedAt.IsZero() {
			o.CreatedAt = now
		}
		o.CreatedAt, o.RequestedAt = utc(o.CreatedAt), utc(o.RequestedAt)
		o.StartedAt, o.FinishedAt = utcPtr(o.StartedAt), utcPtr(o.FinishedAt)
		_, err := t.q.ExecContext(ctx, `INSERT INTO operations (id, reconcile_id, system_id, kind, identity_id,
			account_ref, username, grp, cause, requested_at, created_at, started_at, finished_at, status, attempts, error, task, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			o.ID, o.ReconcileID, o.SystemID, o.Kind, o.IdentityID, o.AccountRef, o.Username, o.Group, o.Cause,
			t.d.bindTime(o.RequestedAt), t.d.bindTime(o.CreatedAt), t.d.nullTime(o.StartedAt), t.d.nullTime(o.FinishedAt),
			string(o.Status), o.Attempts, o.Error, o.Task, o.Detail)
		switch {
		case err == nil:
		case t.d.isForeignKey(err):
			return notFound("reconcile", o.ReconcileID)
		case t.d.isUnique(err):
			return gatehouse.Errorf(gatehouse.ECONFLICT, "operation %q already exists", o.ID)
		default:
			return fmt.Errorf("create operation: %w", err)
		}
	}
	return nil
}

func (t *tx) UpdateOperation(ctx context.Context, o *gatehouse.Operation) error {
	t.wrote = true
	if err := validOperation(o); err != nil {
		return err
	}
	o.StartedAt, o.FinishedAt = utcPtr(o.StartedAt), utcPtr(o.FinishedAt)
	res, err := t.q.ExecContext(ctx, `UPDATE operations SET status = $1, started_at = $2, finished_at = $3,
		attempts = $4, error = $5, account_ref = $6, task = $7 WHERE id = $8`,
		string(o.Status), t.d.nullTime(o.StartedAt), t.d.nullTime(o.FinishedAt), o.Attempts, o.Error, o.AccountRef, o.Task, o.ID)
	if err != nil {
		return fmt.Errorf("update operation %q: %w", o.ID, err)
	}
	if err := affected(res, "operation", o.ID); err != nil {
		return err
	}
	if n, ok := gatehouse.ParseTaskRef(o.Task); ok && o.Cause != "" {
		// The manual connector made the task without knowing why (connectors see operations,
		// not grants); the operation waiting for it does.
		if _, err := t.q.ExecContext(ctx, `UPDATE manual_tasks SET cause = $1 WHERE number = $2 AND cause = ''`, o.Cause, n); err != nil {
			return fmt.Errorf("update operation %q: task cause: %w", o.ID, err)
		}
	}
	return nil
}

func (t *tx) AbandonOperations(ctx context.Context, systemID string, at time.Time, reason string) (int, error) {
	t.wrote = true
	res, err := t.q.ExecContext(ctx, `UPDATE operations SET status = 'failed', finished_at = $1, error = $2
		WHERE system_id = $3 AND status IN ('pending', 'running') AND task = ''`, t.d.bindTime(at), reason, systemID)
	if err != nil {
		return 0, fmt.Errorf("abandon operations of %q: %w", systemID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("abandon operations of %q: %w", systemID, err)
	}
	return int(n), nil
}
