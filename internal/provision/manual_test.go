package provision_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const manualCatalog = `
systems:
  - id: badge
    name: Badge system
    owner: owner@example.com
    tier: critical
    connector: {type: manual, assignee: facilities@example.com, instructions: Use the badge console.}
  - id: canteen
    name: Canteen
    owner: owner@example.com
    tier: standard
    connector: {type: manual}
entitlements:
  - {id: badge/front-door, system: badge, name: Front door, kind: group, risk: standard, external_id: Front Door}
  - {id: canteen/lunch, system: canteen, name: Lunch, kind: license, risk: standard, external_id: lunch}
roles:
  - {id: staff, name: Staff, entitlements: [badge/front-door, canteen/lunch], birthright: 'identity.department == "Eng"'}
`

// TestManualSystem runs a manual system through the engine: operations become tasks due by
// the system's tier, a done task is applied and not asked for again, and a task the desired
// state no longer needs is cancelled.
func TestManualSystem(t *testing.T) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(engine.name, func(t *testing.T) {
			t.Parallel()
			testManualSystem(t, engine.open(t))
		})
	}
}

func testManualSystem(t *testing.T, st store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }
	svc := service.New(st, service.Options{})
	p := service.SystemPrincipal("test")
	if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{Email: "owner@example.com", Kind: gatehouse.KindService}, "test"); err != nil {
		t.Fatal(err)
	}
	ids := map[string]*gatehouse.Identity{}
	for i := 1; i <= 2; i++ {
		id := &gatehouse.Identity{EmployeeID: fmt.Sprint("E", i), Email: fmt.Sprintf("u%d@example.com", i), Department: "Eng"}
		made, err := svc.CreateIdentity(ctx, p, id, "test")
		if err != nil {
			t.Fatal(err)
		}
		ids[id.Email] = made
	}
	if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(manualCatalog)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	tasks := provision.Tasks{Store: st, Clock: clock}
	rec := &provision.Reconciler{Store: st, Now: clock,
		Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
			return connectors.OpenSystem(ctx, sys, tasks, nil)
		}}
	reconcile := func() *gatehouse.Reconcile {
		t.Helper()
		run, err := rec.Reconcile(ctx, "badge", provision.RunOptions{Cause: "test"})
		if err != nil || run.Status != gatehouse.ReconcileConverged {
			t.Fatalf("reconcile = %+v, %v; want converged (waiting for people is not failing)", run, err)
		}
		return run
	}
	list := func(status gatehouse.TaskStatus) []*gatehouse.ManualTask {
		t.Helper()
		p, err := st.ListTasks(ctx, gatehouse.TaskFilter{SystemID: "badge", Status: status})
		if err != nil {
			t.Fatal(err)
		}
		return p.Items
	}
	ops := func() []*gatehouse.Operation {
		t.Helper()
		p, err := st.ListOperations(ctx, gatehouse.OperationFilter{SystemID: "badge"})
		if err != nil {
			t.Fatal(err)
		}
		return p.Items
	}

	// Two joiners: an account and a membership each, as tasks due in 4h (critical tier).
	reconcile()
	open := list(gatehouse.TaskOpen)
	if len(open) != 4 {
		t.Fatalf("open tasks = %d, want 4: %+v", len(open), open)
	}
	byKey := map[string]*gatehouse.ManualTask{}
	for _, tk := range open {
		if !tk.DueAt.Equal(now.Add(4*time.Hour)) || tk.Assignee != "facilities@example.com" || tk.IdentityID == "" ||
			!strings.HasPrefix(tk.Cause, "grant:") {
			t.Fatalf("task = %+v; want due in 4h, the system's assignee, the identity, the grant that caused it", tk)
		}
		if tk.Kind == "add_member" && (tk.Group != "Front Door" || tk.EntitlementID != "badge/front-door") {
			t.Fatalf("membership task = %+v", tk)
		}
		byKey[tk.Account+" "+tk.Kind] = tk
	}
	for _, o := range ops() {
		if o.Status != gatehouse.OpPending || o.Task == "" {
			t.Fatalf("operation = %+v; want pending, waiting for a task", o)
		}
	}

	// Reconciling again asks nobody twice and records no copies.
	reconcile()
	if n, m := len(list(gatehouse.TaskOpen)), len(ops()); n != 4 || m != 4 {
		t.Fatalf("after a second reconcile: %d open tasks, %d operations; want 4 and 4", n, m)
	}

	// An operator does u1's tasks.
	for _, k := range []string{"u1@example.com create_account", "u1@example.com add_member"} {
		tk := byKey[k]
		at := now.Add(time.Hour)
		tk.Status, tk.CompletedBy, tk.CompletedAt, tk.Note = gatehouse.TaskDone, "ops@example.com", &at, "done in the console"
		if err := st.Update(ctx, func(tx store.Tx) error {
			if err := tx.FinishTask(ctx, tk); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "task.complete", ObjectType: "task", ObjectID: tk.Ref()})
		}); err != nil {
			t.Fatal(err)
		}
	}
	run := reconcile()
	if len(list(gatehouse.TaskOpen)) != 2 || len(list(gatehouse.TaskDone)) != 2 || len(ops()) != 4 {
		t.Fatalf("after completing u1's tasks: open %d, done %d, operations %d", len(list(gatehouse.TaskOpen)),
			len(list(gatehouse.TaskDone)), len(ops()))
	}
	if run.Planned != 2 {
		t.Fatalf("planned %d, want only u2's 2 waiting operations", run.Planned)
	}
	applied := 0
	for _, o := range ops() {
		if o.IdentityID == ids["u1@example.com"].ID {
			if o.Status != gatehouse.OpApplied || o.FinishedAt == nil {
				t.Fatalf("u1's operation = %+v, want applied", o)
			}
			applied++
		}
	}
	if applied != 2 {
		t.Fatalf("applied operations of u1 = %d, want 2", applied)
	}
	accts, err := st.ListAccounts(ctx, gatehouse.AccountFilter{SystemID: "badge"})
	if err != nil || len(accts.Items) != 1 || accts.Items[0].IdentityID != ids["u1@example.com"].ID ||
		len(accts.Items[0].Memberships) != 1 {
		t.Fatalf("accounts = %+v, %v; want u1's, linked, in Front Door", accts.Items, err)
	}

	// u2's access is revoked before anybody did it: the next reconcile cancels the tasks.
	grants, err := st.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: ids["u2@example.com"].ID, System: "badge"})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grants.Items {
		if _, err := svc.RevokeGrant(ctx, p, g.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	reconcile()
	if open := list(gatehouse.TaskOpen); len(open) != 0 {
		t.Fatalf("open tasks after the revocation = %+v, want none", open)
	}
	cancelled := list(gatehouse.TaskCancelled)
	if len(cancelled) != 2 || cancelled[0].IdentityID != ids["u2@example.com"].ID {
		t.Fatalf("cancelled = %+v, want u2's two tasks", cancelled)
	}
	for _, o := range ops() {
		if o.IdentityID == ids["u2@example.com"].ID && o.Status != gatehouse.OpFailed {
			t.Fatalf("u2's operation = %+v, want closed as failed (its task was cancelled)", o)
		}
	}
	// The other manual system got its own tasks, due in 72h (standard tier).
	if _, err := rec.Reconcile(ctx, "canteen", provision.RunOptions{Cause: "test"}); err != nil {
		t.Fatal(err)
	}
	c, err := st.ListTasks(ctx, gatehouse.TaskFilter{SystemID: "canteen"})
	if err != nil || len(c.Items) != 4 || !c.Items[0].DueAt.Equal(now.Add(72*time.Hour)) {
		t.Fatalf("canteen tasks = %+v, %v", c.Items, err)
	}
}
