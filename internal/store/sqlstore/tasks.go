package sqlstore

// Manual fulfillment tasks (connector/manual): operations in systems without an API, done by
// people.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse"
)

const taskColumns = `id, number, system_id, kind, identity_id, account, username, employee_id, grp, entitlement_id, cause,
	instructions, assignee, created_at, due_at, status, completed_by, completed_at, note, evidence_sha256`

func scanTask(row interface{ Scan(...any) error }) (*gatehouse.ManualTask, error) {
	var t gatehouse.ManualTask
	if err := row.Scan(&t.ID, &t.Number, &t.SystemID, &t.Kind, &t.IdentityID, &t.Account, &t.Username, &t.EmployeeID, &t.Group,
		&t.EntitlementID, &t.Cause, &t.Instructions, &t.Assignee, timeDest{&t.CreatedAt}, timeDest{&t.DueAt},
		&t.Status, &t.CompletedBy, nullTimeDest{&t.CompletedAt}, &t.Note, &t.EvidenceSHA256); err != nil {
		return nil, err
	}
	return &t, nil
}

func (r *reader) GetTask(ctx context.Context, idOrRef string) (*gatehouse.ManualTask, error) {
	q, arg := `SELECT `+taskColumns+` FROM manual_tasks WHERE id = $1`, any(idOrRef)
	if n, ok := gatehouse.ParseTaskRef(idOrRef); ok {
		q, arg = `SELECT `+taskColumns+` FROM manual_tasks WHERE number = $1`, n
	}
	t, err := scanTask(r.q.QueryRowContext(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("task", idOrRef)
	}
	if err != nil {
		return nil, fmt.Errorf("get task %q: %w", idOrRef, err)
	}
	return t, nil
}

// ListTasks lists tasks oldest first: a queue is worked from its oldest end.
func (r *reader) ListTasks(ctx context.Context, f gatehouse.TaskFilter) (gatehouse.Page[*gatehouse.ManualTask], error) {
	c := &conds{}
	if f.SystemID != "" {
		c.add(`system_id = ` + c.arg(f.SystemID))
	}
	if f.Status != "" {
		c.add(`status = ` + c.arg(string(f.Status)))
	}
	if f.Assignee != "" {
		c.add(`lower(assignee) = lower(` + c.arg(f.Assignee) + `)`)
	}
	if !f.DueBefore.IsZero() {
		c.add(`due_at < ` + c.arg(r.d.bindTime(utc(f.DueBefore))))
	}
	return listPage(ctx, r.q, keyset[*gatehouse.ManualTask]{
		what: "tasks", tag: "tasks", sel: `SELECT ` + taskColumns + ` FROM manual_tasks`, key: `number`, number: true, badNumber: "cursor: not a tasks cursor",
		scan: scanTask, keyOf: func(x *gatehouse.ManualTask) string { return strconv.FormatInt(x.Number, 10) },
	}, c, pageQuery{cursor: f.Cursor, limit: f.Limit})
}

func validTaskKind(k string) error {
	switch k {
	case "create_account", "enable", "disable", "add_member", "remove_member":
		return nil
	}
	return gatehouse.Errorf(gatehouse.EINVALID, "kind: %q is not one of create_account, enable, disable, add_member, remove_member", k)
}

func (t *tx) CreateTask(ctx context.Context, task *gatehouse.ManualTask, doneSince time.Time) (bool, error) {
	if err := validTaskKind(task.Kind); err != nil {
		return false, err
	}
	if task.SystemID == "" || task.Account == "" {
		return false, gatehouse.Errorf(gatehouse.EINVALID, "task: system and account are required")
	}
	existing, err := scanTask(t.q.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM manual_tasks
		WHERE system_id = $1 AND kind = $2 AND account = $3 AND grp = $4 AND status = 'open'`,
		task.SystemID, task.Kind, task.Account, task.Group))
	switch {
	case err == nil:
		*task = *existing
		return false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("create task: %w", err)
	}
	if !doneSince.IsZero() {
		// A person finished the same work between the caller's read of the system and now
		// (a reconcile reads once, then runs its operations): asking again would be a
		// duplicate that the next reconcile could only cancel.
		done, err := scanTask(t.q.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM manual_tasks
			WHERE system_id = $1 AND kind = $2 AND account = $3 AND grp = $4 AND status = 'done' AND completed_at >= $5
			ORDER BY number DESC LIMIT 1`, task.SystemID, task.Kind, task.Account, task.Group, t.d.bindTime(utc(doneSince))))
		switch {
		case err == nil:
			*task = *done
			return false, nil
		case !errors.Is(err, sql.ErrNoRows):
			return false, fmt.Errorf("create task: %w", err)
		}
	}
	// Who and what it is about, for the people reading the queue: the account is the
	// person's email, the group an entitlement's external id. Neither has to resolve (an
	// orphan account's task names nobody).
	if task.IdentityID == "" {
		if err := t.q.QueryRowContext(ctx, `SELECT id FROM identities WHERE lower(email) = lower($1)`,
			task.Account).Scan(&task.IdentityID); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("create task: identity: %w", err)
		}
	}
	if task.EntitlementID == "" && task.Group != "" {
		if err := t.q.QueryRowContext(ctx, `SELECT id FROM entitlements WHERE system_id = $1 AND external_id = $2
			ORDER BY id LIMIT 1`, task.SystemID, task.Group).Scan(&task.EntitlementID); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("create task: entitlement: %w", err)
		}
	}
	t.wrote = true // finding the open task above changed nothing, and needs no audit event
	id, err := newID()
	if err != nil {
		return false, err
	}
	// Numbers are sequential for people ("TASK-000123"); two writers racing for the same
	// number make one of them fail on the unique index, and its reconcile is retried.
	if err := t.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM manual_tasks`).Scan(&task.Number); err != nil {
		return false, fmt.Errorf("create task: number: %w", err)
	}
	task.ID, task.Status = id, gatehouse.TaskOpen
	if task.CreatedAt.IsZero() {
		task.CreatedAt = t.clock()
	}
	task.CreatedAt, task.DueAt = utc(task.CreatedAt), utc(task.DueAt)
	task.CompletedBy, task.CompletedAt, task.Note, task.EvidenceSHA256 = "", nil, "", ""
	_, err = t.q.ExecContext(ctx, `INSERT INTO manual_tasks (`+taskColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		task.ID, task.Number, task.SystemID, task.Kind, task.IdentityID, task.Account, task.Username, task.EmployeeID, task.Group,
		task.EntitlementID, task.Cause, task.Instructions, task.Assignee, t.d.bindTime(task.CreatedAt),
		t.d.bindTime(task.DueAt), string(task.Status), "", nil, "", "")
	if err != nil {
		if t.d.isUnique(err) {
			return false, gatehouse.Errorf(gatehouse.ECONFLICT, "task for %s %s in %s: created concurrently; try again", task.Kind, task.Account, task.SystemID)
		}
		return false, fmt.Errorf("create task: %w", err)
	}
	return true, nil
}

func (t *tx) FinishTask(ctx context.Context, task *gatehouse.ManualTask) error {
	t.wrote = true
	if task.Status != gatehouse.TaskDone && task.Status != gatehouse.TaskCancelled {
		return gatehouse.Errorf(gatehouse.EINVALID, "status: a task is finished as done or cancelled, not %q", task.Status)
	}
	if task.CompletedAt == nil {
		at := t.clock()
		task.CompletedAt = &at
	}
	task.CompletedAt = utcPtr(task.CompletedAt)
	res, err := t.q.ExecContext(ctx, `UPDATE manual_tasks SET status = $1, completed_by = $2, completed_at = $3,
		note = $4, evidence_sha256 = $5 WHERE id = $6 AND status = 'open'`,
		string(task.Status), task.CompletedBy, t.d.nullTime(task.CompletedAt), task.Note, task.EvidenceSHA256, task.ID)
	if err != nil {
		return fmt.Errorf("finish task %q: %w", task.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("finish task %q: %w", task.ID, err)
	} else if n == 0 {
		cur, err := t.GetTask(ctx, task.ID)
		if err != nil {
			return err
		}
		return gatehouse.Errorf(gatehouse.ECONFLICT, "task %s is %s, not open", cur.Ref(), cur.Status)
	}
	// The operations that waited for the task are settled with it: done is applied (the
	// person made the change, at the time they said so), cancelled is failed.
	status, msg := gatehouse.OpApplied, ""
	if task.Status == gatehouse.TaskCancelled {
		status, msg = gatehouse.OpFailed, "task "+task.Ref()+" cancelled: "+task.Note
	}
	if _, err := t.q.ExecContext(ctx, `UPDATE operations SET status = $1, finished_at = $2, error = $3
		WHERE task = $4 AND status IN ('pending', 'running')`,
		string(status), t.d.nullTime(task.CompletedAt), msg, task.Ref()); err != nil {
		return fmt.Errorf("finish task %q: operations: %w", task.ID, err)
	}
	return nil
}
