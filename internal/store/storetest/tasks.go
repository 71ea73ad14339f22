package storetest

// Manual fulfillment tasks (connector/manual).

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func testTasks(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	ann := person(1)
	createIdentities(t, s, ann)
	created := time.Date(2031, 2, 3, 4, 5, 6, 789_123_456, time.UTC)
	task := func(kind, account, group string) *gatehouse.ManualTask {
		return &gatehouse.ManualTask{SystemID: "payroll", Kind: kind, Account: account, Username: "user00001",
			Group: group, Cause: "grant:g1", Assignee: "ops@example.com", CreatedAt: created, DueAt: created.Add(4 * time.Hour)}
	}
	create := func(tk *gatehouse.ManualTask) bool {
		t.Helper()
		var made bool
		audited(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			made, err = tx.CreateTask(ctx, tk, time.Time{})
			return err
		})
		return made
	}

	acct := task("create_account", ann.Email, "")
	if !create(acct) {
		t.Fatal("first CreateTask: created = false")
	}
	wantUUIDv7(t, "task", acct.ID)
	if acct.Number < 1 || acct.Status != gatehouse.TaskOpen || acct.IdentityID != ann.ID {
		t.Fatalf("created task = %+v; want a number, open, identity %s resolved from the email", acct, ann.ID)
	}
	wantStored(t, "CreatedAt", acct.CreatedAt)
	// The same operation again is the same task: a reconcile must not ask a person twice.
	again := task("create_account", ann.Email, "")
	if create(again) || again.ID != acct.ID || again.Number != acct.Number {
		t.Fatalf("second CreateTask = %+v; want the existing task %s", again, acct.Ref())
	}
	member := task("add_member", ann.Email, "Payroll Admins")
	create(member)
	if member.Number != acct.Number+1 {
		t.Fatalf("numbers %d then %d: want sequential", acct.Number, member.Number)
	}
	other := &gatehouse.ManualTask{SystemID: "badge", Kind: "disable", Account: "nobody@example.com",
		CreatedAt: created, DueAt: created.Add(72 * time.Hour)}
	create(other)
	if other.IdentityID != "" {
		t.Fatalf("an account matching nobody resolved to %q", other.IdentityID)
	}
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.CreateTask(ctx, &gatehouse.ManualTask{SystemID: "x", Kind: "delete", Account: "a@b.c"}, time.Time{})
		return err
	}), gatehouse.EINVALID)

	got := mustGet[*gatehouse.ManualTask](t)(s.GetTask(ctx, acct.ID))
	equal(t, "GetTask by id", got, acct)
	got = mustGet[*gatehouse.ManualTask](t)(s.GetTask(ctx, acct.Ref()))
	equal(t, "GetTask by reference", got, acct)
	_, err := s.GetTask(ctx, "TASK-999999")
	wantCode(t, err, gatehouse.ENOTFOUND)

	// Filters and paging, oldest first.
	list := func(f gatehouse.TaskFilter) []string {
		t.Helper()
		items := pageAll(t, func(c string) (gatehouse.Page[*gatehouse.ManualTask], error) {
			f.Cursor, f.Limit = c, 1
			return s.ListTasks(ctx, f)
		}, func(tk *gatehouse.ManualTask) string { return tk.ID }, 1)
		out := make([]string, len(items))
		for i, tk := range items {
			out[i] = tk.Ref()
		}
		return out
	}
	equal(t, "all", list(gatehouse.TaskFilter{}), []string{acct.Ref(), member.Ref(), other.Ref()})
	equal(t, "system", list(gatehouse.TaskFilter{SystemID: "payroll"}), []string{acct.Ref(), member.Ref()})
	equal(t, "assignee", list(gatehouse.TaskFilter{Assignee: "OPS@example.com"}), []string{acct.Ref(), member.Ref()})
	equal(t, "due before", list(gatehouse.TaskFilter{DueBefore: created.Add(5 * time.Hour)}), []string{acct.Ref(), member.Ref()})

	// An operation waiting for the task is applied when the task is done.
	run := &gatehouse.Reconcile{SystemID: "payroll", Status: gatehouse.ReconcileRunning}
	op := &gatehouse.Operation{SystemID: "payroll", Kind: "create_account", IdentityID: ann.ID, RequestedAt: created,
		Status: gatehouse.OpPending, Task: acct.Ref()}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateReconcile(ctx, run); err != nil {
			return err
		}
		op.ReconcileID = run.ID
		return tx.CreateOperations(ctx, []*gatehouse.Operation{op})
	})
	// A reconcile's start does not abandon it: a person is working on it.
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.AbandonOperations(ctx, "payroll", created, "interrupted")
		return err
	})
	ops := mustGet[gatehouse.Page[*gatehouse.Operation]](t)(s.ListOperations(ctx, gatehouse.OperationFilter{SystemID: "payroll"}))
	if len(ops.Items) != 1 || ops.Items[0].Status != gatehouse.OpPending || ops.Items[0].Task != acct.Ref() {
		t.Fatalf("waiting operation after AbandonOperations = %+v", ops.Items)
	}
	done := created.Add(time.Hour)
	acct.Status, acct.CompletedBy, acct.CompletedAt, acct.Note = gatehouse.TaskDone, "ops@example.com", &done, "created in the payroll UI"
	acct.EvidenceSHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.FinishTask(ctx, acct) })
	equal(t, "finished task", mustGet[*gatehouse.ManualTask](t)(s.GetTask(ctx, acct.ID)), acct)
	ops = mustGet[gatehouse.Page[*gatehouse.Operation]](t)(s.ListOperations(ctx, gatehouse.OperationFilter{SystemID: "payroll"}))
	if o := ops.Items[0]; o.Status != gatehouse.OpApplied || o.FinishedAt == nil || !o.FinishedAt.Equal(done.Truncate(time.Microsecond)) {
		t.Fatalf("operation after its task was done = %+v; want applied at %v", o, done)
	}
	// Finishing twice is a conflict; so is an unknown status.
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.FinishTask(ctx, acct) }), gatehouse.ECONFLICT)
	member.Status = gatehouse.TaskOpen
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.FinishTask(ctx, member) }), gatehouse.EINVALID)
	member.Status, member.CompletedBy, member.Note = gatehouse.TaskCancelled, "system:provision", "no longer needed"
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.FinishTask(ctx, member) })
	equal(t, "open", list(gatehouse.TaskFilter{Status: gatehouse.TaskOpen}), []string{other.Ref()})
	// Done after the caller read the system (doneSince): the work is done, nothing is created.
	var late *gatehouse.ManualTask
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		late = task("create_account", ann.Email, "")
		made, err := tx.CreateTask(ctx, late, done.Add(-time.Minute))
		if made {
			t.Errorf("CreateTask with the same work done since: created a new task %s", late.Ref())
		}
		return err
	})
	if late.ID != acct.ID || late.Status != gatehouse.TaskDone {
		t.Fatalf("CreateTask with doneSince before the completion = %+v; want the done task %s", late, acct.Ref())
	}
	// A done task frees its key: the same operation later is a new task.
	next := task("create_account", ann.Email, "")
	if !create(next) || next.Number != other.Number+1 {
		t.Fatalf("CreateTask after the first was done = %+v; want a new task", next)
	}
}
