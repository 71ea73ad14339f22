package storetest

// Provisioning evidence: reconcile runs and operations (internal/provision).

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func testOperations(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	requested := time.Date(2031, 2, 3, 4, 5, 6, 789_123_456, time.UTC)
	run := &gatehouse.Reconcile{SystemID: "corp-ldap", Cause: "hr-import:abc", JobID: 42, Attempt: 1,
		Status: gatehouse.ReconcileRunning}
	other := &gatehouse.Reconcile{SystemID: "wiki", Cause: "schedule", Status: gatehouse.ReconcileRunning}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.CreateReconcile(ctx, run), tx.CreateReconcile(ctx, other))
	})
	wantUUIDv7(t, "reconcile", run.ID)
	wantStored(t, "StartedAt", run.StartedAt)
	if len(run.Findings) != 0 {
		t.Fatalf("findings = %v", run.Findings)
	}
	got := mustGet[*gatehouse.Reconcile](t)(s.GetReconcile(ctx, run.ID))
	run.Findings = []gatehouse.DriftFinding{}
	equal(t, "GetReconcile", got, run)
	_, err := s.GetReconcile(ctx, "nope")
	wantError(t, err, gatehouse.ENOTFOUND, `reconcile "nope" not found`)

	ops := []*gatehouse.Operation{
		{ReconcileID: run.ID, SystemID: "corp-ldap", Kind: "disable", IdentityID: "id1", AccountRef: "uuid1",
			Username: "ann", Cause: "hr-import:abc", RequestedAt: requested, Status: gatehouse.OpPending, Attempts: 1},
		{ReconcileID: run.ID, SystemID: "corp-ldap", Kind: "add_member", IdentityID: "id2", Username: "bob",
			Group: "cn=eng,ou=groups,dc=example,dc=com", Cause: "grant:g2", RequestedAt: requested, Status: gatehouse.OpPending, Attempts: 1},
		{ReconcileID: other.ID, SystemID: "wiki", Kind: "create_account", IdentityID: "id2", Cause: "grant:g3",
			RequestedAt: requested, Status: gatehouse.OpPending},
	}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateOperations(ctx, ops) })
	for _, o := range ops {
		wantUUIDv7(t, "operation", o.ID)
		wantStored(t, "CreatedAt", o.CreatedAt)
	}
	if !ops[0].RequestedAt.Equal(requested.Truncate(time.Microsecond)) {
		t.Fatalf("RequestedAt = %v", ops[0].RequestedAt)
	}
	bad := &gatehouse.Operation{ReconcileID: run.ID, SystemID: "x", Kind: "delete", Status: gatehouse.OpPending}
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateOperations(ctx, []*gatehouse.Operation{bad})
	}), gatehouse.EINVALID)
	orphan := &gatehouse.Operation{ReconcileID: "nope", SystemID: "x", Kind: "enable", Status: gatehouse.OpPending}
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateOperations(ctx, []*gatehouse.Operation{orphan})
	}), gatehouse.ENOTFOUND)

	// Results: started and finished, applied or failed with an error.
	started, finished := requested.Add(time.Second), requested.Add(2*time.Second)
	ops[0].Status, ops[0].StartedAt, ops[0].FinishedAt = gatehouse.OpApplied, &started, &finished
	ops[1].Status, ops[1].StartedAt, ops[1].FinishedAt, ops[1].Error = gatehouse.OpFailed, &started, &finished, "connection refused"
	ops[1].AccountRef = "uuid2"
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.UpdateOperation(ctx, ops[0]), tx.UpdateOperation(ctx, ops[1]))
	})
	missing := &gatehouse.Operation{ID: "nope", Kind: "enable", Status: gatehouse.OpApplied}
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateOperation(ctx, missing) }), gatehouse.ENOTFOUND)

	all, err := s.ListOperations(ctx, gatehouse.OperationFilter{})
	must(t, err)
	if len(all.Items) != 3 || all.Items[0].ID != ops[2].ID || all.Items[2].ID != ops[0].ID {
		t.Fatalf("operations newest first = %+v", all.Items)
	}
	equal(t, "listed operation", all.Items[2], ops[0])
	equal(t, "failed operation", all.Items[1], ops[1])
	for _, tc := range []struct {
		f    gatehouse.OperationFilter
		want []string
	}{
		{gatehouse.OperationFilter{SystemID: "corp-ldap"}, []string{ops[1].ID, ops[0].ID}},
		{gatehouse.OperationFilter{Status: gatehouse.OpFailed}, []string{ops[1].ID}},
		{gatehouse.OperationFilter{ReconcileID: other.ID}, []string{ops[2].ID}},
		{gatehouse.OperationFilter{IdentityID: "id2"}, []string{ops[2].ID, ops[1].ID}},
	} {
		p, err := s.ListOperations(ctx, tc.f)
		must(t, err)
		var ids []string
		for _, o := range p.Items {
			ids = append(ids, o.ID)
		}
		equal(t, "ListOperations", ids, tc.want)
	}
	p1, err := s.ListOperations(ctx, gatehouse.OperationFilter{Limit: 2})
	must(t, err)
	p2, err := s.ListOperations(ctx, gatehouse.OperationFilter{Limit: 2, Cursor: p1.NextCursor})
	must(t, err)
	if len(p1.Items) != 2 || p1.NextCursor == "" || len(p2.Items) != 1 || p2.Items[0].ID != ops[0].ID || p2.NextCursor != "" {
		t.Fatalf("pages = %+v / %+v", p1, p2)
	}

	// An interrupted run leaves pending operations; the next run abandons them.
	var n int
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		n, err = tx.AbandonOperations(ctx, "wiki", finished, "interrupted")
		return err
	})
	if n != 1 {
		t.Fatalf("abandoned %d, want 1", n)
	}
	o := mustGet[*gatehouse.Operation](t)(firstOp(ctx, s, other.ID))
	if o.Status != gatehouse.OpFailed || o.Error != "interrupted" || o.FinishedAt == nil {
		t.Fatalf("abandoned = %+v", o)
	}

	// Finishing a run stores its counts and findings; Latest shows the newest finished run per
	// system, which is the current drift.
	done := finished
	run.Status, run.FinishedAt, run.Planned, run.Applied, run.Failed, run.Error = gatehouse.ReconcileFailed, &done, 2, 1, 1, "1 operation failed"
	run.Accounts, run.Groups = 20000, 1000
	run.Findings = []gatehouse.DriftFinding{{Kind: "unknown_membership", SystemID: "corp-ldap", Username: "bob",
		Group: "cn=fin", Action: "enforce", Detail: "no grant"}}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateReconcile(ctx, run) })
	equal(t, "finished reconcile", mustGet[*gatehouse.Reconcile](t)(s.GetReconcile(ctx, run.ID)), run)
	later := &gatehouse.Reconcile{SystemID: "corp-ldap", Cause: "schedule", JobID: 43, Status: gatehouse.ReconcileRunning}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateReconcile(ctx, later) })
	latest, err := s.ListReconciles(ctx, gatehouse.ReconcileFilter{Latest: true})
	must(t, err)
	if len(latest.Items) != 1 || latest.Items[0].ID != run.ID {
		t.Fatalf("latest = %+v (a running run is not the current drift)", latest.Items)
	}
	byJob, err := s.ListReconciles(ctx, gatehouse.ReconcileFilter{JobIDs: []int64{42, 43}})
	must(t, err)
	if len(byJob.Items) != 2 || byJob.Items[0].ID != later.ID {
		t.Fatalf("by job = %+v", byJob.Items)
	}
	bySys, err := s.ListReconciles(ctx, gatehouse.ReconcileFilter{SystemID: "wiki"})
	must(t, err)
	if len(bySys.Items) != 1 || bySys.Items[0].ID != other.ID {
		t.Fatalf("by system = %+v", bySys.Items)
	}
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.UpdateReconcile(ctx, &gatehouse.Reconcile{ID: "nope", Status: gatehouse.ReconcileConverged})
	}), gatehouse.ENOTFOUND)

	// The runs still running (a killed process leaves them so), and a run marked interrupted.
	running, err := s.ListReconciles(ctx, gatehouse.ReconcileFilter{Status: gatehouse.ReconcileRunning})
	must(t, err)
	if len(running.Items) != 2 || running.Items[0].ID != later.ID || running.Items[1].ID != other.ID {
		t.Fatalf("running = %+v", running.Items)
	}
	stopped := finished
	later.Status, later.FinishedAt, later.Error = gatehouse.ReconcileInterrupted, &stopped, "interrupted"
	later.Findings = []gatehouse.DriftFinding{}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateReconcile(ctx, later) })
	equal(t, "interrupted reconcile", mustGet[*gatehouse.Reconcile](t)(s.GetReconcile(ctx, later.ID)), later)
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.UpdateReconcile(ctx, &gatehouse.Reconcile{ID: later.ID, Status: "paused"})
	}), gatehouse.EINVALID)
}

func firstOp(ctx context.Context, s store.Reader, reconcileID string) (*gatehouse.Operation, error) {
	p, err := s.ListOperations(ctx, gatehouse.OperationFilter{ReconcileID: reconcileID})
	if err != nil || len(p.Items) == 0 {
		return nil, err
	}
	return p.Items[0], nil
}
