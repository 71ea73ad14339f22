package provision_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// fakeDir is an in-memory target system. fail, when set, decides an error per operation.
type fakeDir struct {
	mu       sync.Mutex
	accounts map[string]*connector.Account // by ref id
	groups   map[string]map[string]bool    // group → account ids
	next     int
	fail     func(op string, username string) error
	down     error // every call fails with it
	single   int   // AddMember and RemoveMember calls
}

func newFakeDir() *fakeDir {
	return &fakeDir{accounts: map[string]*connector.Account{}, groups: map[string]map[string]bool{}}
}

func (d *fakeDir) Capabilities() connector.Capabilities {
	return connector.Capabilities{CreateAccount: true, Disable: true, Groups: true, CreatesGroups: true}
}

func (d *fakeDir) check(op, user string) error {
	if d.down != nil {
		return d.down
	}
	if d.fail != nil {
		return d.fail(op, user)
	}
	return nil
}

func (d *fakeDir) Inventory(_ context.Context, groups []string) (*connector.Inventory, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("inventory", ""); err != nil {
		return nil, err
	}
	inv := &connector.Inventory{Groups: map[string]*connector.Group{}}
	for _, a := range d.accounts {
		inv.Accounts = append(inv.Accounts, *a)
	}
	for _, g := range groups {
		ms, ok := d.groups[g]
		if !ok {
			continue
		}
		grp := &connector.Group{ID: g}
		for id := range ms {
			grp.Members = append(grp.Members, connector.AccountRef{ID: id})
		}
		inv.Groups[g] = grp
	}
	return inv, nil
}

func (d *fakeDir) CreateAccount(_ context.Context, spec connector.AccountSpec) (connector.AccountRef, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	user, _, _ := strings.Cut(spec.Email, "@")
	if err := d.check("create", user); err != nil {
		return connector.AccountRef{}, err
	}
	d.next++
	ref := connector.AccountRef{ID: fmt.Sprintf("u%d", d.next)}
	d.accounts[ref.ID] = &connector.Account{Ref: ref, Username: user, Email: spec.Email, EmployeeID: spec.EmployeeID, Enabled: true}
	return ref, nil
}

func (d *fakeDir) SetEnabled(_ context.Context, ref connector.AccountRef, enabled bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.accounts[ref.ID]
	if a == nil {
		return connector.Permanent(connector.ErrNotFound)
	}
	if err := d.check("enable", a.Username); err != nil {
		return err
	}
	a.Enabled = enabled
	return nil
}

func (d *fakeDir) AddMember(_ context.Context, group string, ref connector.AccountRef) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.single++
	a := d.accounts[ref.ID]
	if a == nil {
		return connector.Permanent(connector.ErrNotFound)
	}
	if err := d.check("add", a.Username); err != nil {
		return err
	}
	if d.groups[group] == nil {
		d.groups[group] = map[string]bool{}
	}
	d.groups[group][ref.ID] = true
	return nil
}

func (d *fakeDir) RemoveMember(_ context.Context, group string, ref connector.AccountRef) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.single++
	if err := d.check("remove", ""); err != nil {
		return err
	}
	delete(d.groups[group], ref.ID)
	return nil
}

func (d *fakeDir) Close() error { return nil }

// members lists a group's usernames, sorted.
func (d *fakeDir) members(group string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for id := range d.groups[group] {
		out = append(out, d.accounts[id].Username)
	}
	slices.Sort(out)
	return out
}

const fakeCatalog = `
systems:
  - {id: app, name: App, owner: owner@example.com, tier: high, connector: {type: manual}}
entitlements:
  - {id: app/users, system: app, name: Users, kind: group, risk: standard, external_id: users}
  - {id: app/eng, system: app, name: Eng, kind: group, risk: standard, external_id: eng}
roles:
  - {id: eng, name: Eng, entitlements: [app/users, app/eng], birthright: 'identity.department == "Eng"'}
`

func fakeFixture(t *testing.T, st store.Store) (*service.Service, *provision.Reconciler, *fakeDir) {
	t.Helper()
	ctx := t.Context()
	svc := service.New(st, service.Options{})
	p := service.SystemPrincipal("test")
	if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{Email: "owner@example.com", Kind: gatehouse.KindService}, "test"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		id := &gatehouse.Identity{EmployeeID: fmt.Sprint("E", i), Email: fmt.Sprintf("u%d@example.com", i), Department: "Eng"}
		if _, err := svc.CreateIdentity(ctx, p, id, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(fakeCatalog)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	dir := newFakeDir()
	rec := &provision.Reconciler{Store: st, BatchSize: 2,
		Open: func(context.Context, *gatehouse.System) (connector.Connector, error) { return dir, nil }}
	return svc, rec, dir
}

func TestReconcileEvidence(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := t.Context()
	_, rec, dir := fakeFixture(t, st)

	// u2's account cannot be created (permanently): its memberships are not attempted, and
	// everybody else is still provisioned.
	dir.fail = func(op, user string) error {
		if op == "create" && user == "u2" {
			return connector.Permanentf("schema violation")
		}
		return nil
	}
	run, err := rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"})
	if err == nil || !connector.IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent error", err)
	}
	if run.Status != gatehouse.ReconcileFailed || run.Planned != 9 || run.Applied != 6 || run.Failed != 3 {
		t.Fatalf("run = %+v", run)
	}
	if got := dir.members("eng"); !slices.Equal(got, []string{"u1", "u3"}) {
		t.Fatalf("eng = %v", got)
	}
	failed, err := st.ListOperations(ctx, gatehouse.OperationFilter{ReconcileID: run.ID, Status: gatehouse.OpFailed})
	if err != nil || len(failed.Items) != 3 {
		t.Fatalf("failed = %+v, %v", failed.Items, err)
	}
	for _, o := range failed.Items {
		if o.Username != "u2" || o.StartedAt == nil || o.FinishedAt == nil || o.Error == "" {
			t.Fatalf("failed op = %+v", o)
		}
	}
	// Accounts are linked to identities.
	accts, err := st.ListAccounts(ctx, gatehouse.AccountFilter{SystemID: "app"})
	if err != nil || len(accts.Items) != 2 || accts.Items[0].IdentityID == "" || len(accts.Items[0].Memberships) != 2 {
		t.Fatalf("accounts = %+v, %v", accts.Items, err)
	}

	// Fixed: the next run plans only what is missing, and converges.
	dir.fail = nil
	run, err = rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"})
	if err != nil || run.Status != gatehouse.ReconcileConverged || run.Planned != 3 || run.Applied != 3 {
		t.Fatalf("second run = %+v, %v", run, err)
	}
	// Converged: nothing more to do.
	run, err = rec.Reconcile(ctx, "app", provision.RunOptions{})
	if err != nil || run.Planned != 0 {
		t.Fatalf("third run = %+v, %v", run, err)
	}
	// The run records its inventory's size (the system page's "last inventory").
	if stored, err := st.GetReconcile(ctx, run.ID); err != nil || stored.Accounts != 3 || stored.Groups != 2 {
		t.Fatalf("stored run = %+v, %v: want the inventory's 3 accounts (u1, u2, u3) and 2 groups", stored, err)
	}

	// An outage stops the run at the first retryable error: the rest is not attempted, and
	// the error is retryable.
	grants, err := st.ListGrants(ctx, gatehouse.GrantFilter{System: "app", Status: "active"})
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(st, service.Options{})
	for _, g := range grants.Items {
		if g.EntitlementID == "app/eng" {
			if _, err := svc.RevokeGrant(ctx, service.SystemPrincipal("test"), g.ID, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir.fail = func(op, _ string) error {
		if op == "remove" {
			return errors.New("connection reset")
		}
		return nil
	}
	run, err = rec.Reconcile(ctx, "app", provision.RunOptions{})
	if err == nil || connector.IsPermanent(err) || run.Failed != 3 || run.Applied != 0 {
		t.Fatalf("outage run = %+v, %v", run, err)
	}
	ops, _ := st.ListOperations(ctx, gatehouse.OperationFilter{ReconcileID: run.ID})
	notRun := 0
	for _, o := range ops.Items {
		if strings.HasPrefix(o.Error, "not run") {
			notRun++
		}
	}
	if notRun != 2 {
		t.Fatalf("%d operations not run after the first failure, want 2: %+v", notRun, ops.Items)
	}
	dir.fail = nil
	if run, err = rec.Reconcile(ctx, "app", provision.RunOptions{}); err != nil || run.Applied != 3 {
		t.Fatalf("after the outage = %+v, %v", run, err)
	}
	if got := dir.members("eng"); len(got) != 0 {
		t.Fatalf("eng after revocation = %v", got)
	}

	// Every step left audit evidence.
	evs, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "provision.", Limit: 100})
	if err != nil || len(evs.Items) == 0 {
		t.Fatalf("provision.apply events = %d, %v", len(evs.Items), err)
	}
}

// TestQueue runs reconciles through River on both engines: a job per system, completed.
func TestQueue(t *testing.T) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			st := eng.open(t)
			ctx := t.Context()
			_, rec, dir := fakeFixture(t, st)
			q, err := jobs.New(ctx, st, rec, jobs.Options{PollInterval: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = q.Stop(context.Background()) })
			// Changes through the service enqueue in their transaction: a new identity
			// reconciles every system, which provisions the catalog's birthright grants.
			svc := service.New(st, service.Options{Jobs: q})
			if _, err := svc.CreateIdentity(ctx, service.SystemPrincipal("test"),
				&gatehouse.Identity{EmployeeID: "E9", Email: "u9@example.com", Department: "Eng"}, "test"); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for !slices.Equal(dir.members("eng"), []string{"u1", "u2", "u3"}) {
				if time.Now().After(deadline) {
					t.Fatalf("eng = %v", dir.members("eng"))
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestServiceReconcile: the service's reconcile answers the jobs; when an operation fails
// permanently the job ends, and the status is done, not converged, listing the failure.
func TestServiceReconcile(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := t.Context()
	_, rec, dir := fakeFixture(t, st)
	dir.fail = func(op, user string) error {
		if op == "add" && user == "u3" {
			return connector.Permanentf("no such group")
		}
		return nil
	}
	q, err := jobs.New(ctx, st, rec, jobs.Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	svc := service.New(st, service.Options{Provisioner: q})
	p := service.SystemPrincipal("test")
	status, err := svc.Reconcile(ctx, p, "app")
	if err != nil || len(status.Jobs) != 1 {
		t.Fatalf("reconcile = %+v, %v", status, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !status.Done {
		if time.Now().After(deadline) {
			t.Fatalf("not done: %+v", status.Jobs)
		}
		time.Sleep(20 * time.Millisecond)
		if status, err = svc.ReconcileJobs(ctx, p, []int64{status.Jobs[0].ID}); err != nil {
			t.Fatal(err)
		}
	}
	if status.Converged || status.Jobs[0].State != "cancelled" || len(status.Failed) != 2 || status.Failed[0].Username != "u3" {
		t.Fatalf("status = %+v, failed %+v", status.Jobs, status.Failed)
	}
	if _, err := svc.Reconcile(ctx, p, "nope"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Fatalf("unknown system: %v", err)
	}
	if _, err := svc.Reconcile(ctx, &gatehouse.Principal{Roles: []gatehouse.AccessRole{gatehouse.RoleAuditor}}, ""); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("auditor may not reconcile: %v", err)
	}
	drift, err := svc.Drift(ctx, p, "")
	if err != nil || len(drift) != 1 || drift[0].Status != gatehouse.ReconcileFailed {
		t.Fatalf("drift = %+v, %v", drift, err)
	}
	// Fixed: the next reconcile converges.
	dir.fail = nil
	status, err = svc.Reconcile(ctx, p, "")
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(status.Jobs))
	for i, j := range status.Jobs {
		ids[i] = j.ID
	}
	deadline = time.Now().Add(20 * time.Second)
	for !status.Done {
		if time.Now().After(deadline) {
			t.Fatalf("not done: %+v", status.Jobs)
		}
		time.Sleep(20 * time.Millisecond)
		if status, err = svc.ReconcileJobs(ctx, p, ids); err != nil {
			t.Fatal(err)
		}
	}
	if !status.Converged || len(status.Failed) != 0 {
		t.Fatalf("after the fix: %+v", status)
	}
}

// batchDir is fakeDir with connector.MemberBatcher. refuse, when set, decides the error of a
// whole batch.
type batchDir struct {
	*fakeDir
	batches []string // "group +3 -2", in call order
	refuse  func(group string) error
}

func (d *batchDir) ChangeMembers(ctx context.Context, group string, add, remove []connector.AccountRef) error {
	d.mu.Lock()
	d.batches = append(d.batches, fmt.Sprintf("%s +%d -%d", group, len(add), len(remove)))
	d.mu.Unlock()
	if d.refuse != nil {
		if err := d.refuse(group); err != nil {
			return err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range add {
		if d.accounts[r.ID] == nil {
			return connector.Permanent(connector.ErrNotFound)
		}
		if d.groups[group] == nil {
			d.groups[group] = map[string]bool{}
		}
		d.groups[group][r.ID] = true
	}
	for _, r := range remove {
		delete(d.groups[group], r.ID)
	}
	return nil
}

// TestReconcileBatchesMemberships: a connector that takes many memberships of a group at once
// gets each group's adds (and removes) in one call; accounts created in the same run join their
// batch; a create that failed keeps its memberships out; a batch refused as a whole is applied
// one by one; a retryable batch error stops the run like any other.
func TestReconcileBatchesMemberships(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := t.Context()
	svc, rec, fd := fakeFixture(t, st)
	dir := &batchDir{fakeDir: fd}
	rec.Open = func(context.Context, *gatehouse.System) (connector.Connector, error) { return dir, nil }
	fd.fail = func(op, user string) error {
		if op == "create" && user == "u2" {
			return connector.Permanentf("schema violation")
		}
		return nil
	}
	run, err := rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"})
	if !connector.IsPermanent(err) || run.Applied != 6 || run.Failed != 3 {
		t.Fatalf("run = %+v, %v: want u1 and u3 provisioned, u2's 3 operations failed", run, err)
	}
	slices.Sort(dir.batches)
	if !slices.Equal(dir.batches, []string{"eng +2 -0", "users +2 -0"}) || fd.single != 0 {
		t.Fatalf("batches %v, %d single calls: want one batch of 2 per group and no single call", dir.batches, fd.single)
	}
	if got := fd.members("eng"); !slices.Equal(got, []string{"u1", "u3"}) {
		t.Fatalf("eng = %v", got)
	}
	ops, err := st.ListOperations(ctx, gatehouse.OperationFilter{ReconcileID: run.ID, Status: gatehouse.OpApplied})
	if err != nil || len(ops.Items) != 6 {
		t.Fatalf("applied = %+v, %v", ops.Items, err)
	}

	// u2 can be created now; the server refuses its batch as a whole (one of two adds a
	// batch would carry is bad, say): each change is applied alone.
	fd.fail = nil
	dir.batches = nil
	dir.refuse = func(string) error { return connector.Permanentf("400 invalidValue") }
	run, err = rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"})
	if err != nil || run.Applied != 3 || fd.single != 2 {
		t.Fatalf("run = %+v, %v, %d single calls: want u2 created and added alone to both groups", run, err, fd.single)
	}
	if got := fd.members("users"); !slices.Equal(got, []string{"u1", "u2", "u3"}) {
		t.Fatalf("users = %v", got)
	}

	// Two people losing both grants: their removals go as one batch per group; an outage on the batch stops the run
	// with a retryable error, and the next run finishes the job.
	for _, e := range []string{"E1", "E3"} {
		id, err := st.GetIdentity(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		gs, err := st.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: id.ID, Status: "active"})
		if err != nil || len(gs.Items) != 2 {
			t.Fatalf("%s grants = %+v, %v", e, gs.Items, err)
		}
		for _, g := range gs.Items {
			if _, err := svc.RevokeGrant(ctx, service.SystemPrincipal("test"), g.ID, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir.batches, fd.single = nil, 0
	dir.refuse = func(string) error { return errors.New("connection reset") }
	run, err = rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"})
	if !connector.IsRetryable(err) || run.Applied != 0 || len(dir.batches) != 1 || fd.single != 0 {
		t.Fatalf("run = %+v, %v, batches %v: want the run stopped at its first batch", run, err, dir.batches)
	}
	dir.refuse, dir.batches = nil, nil
	run, err = rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"})
	slices.Sort(dir.batches)
	if err != nil || run.Applied != 4 || !slices.Equal(dir.batches, []string{"eng +0 -2", "users +0 -2"}) {
		t.Fatalf("run = %+v, %v, batches %v", run, err, dir.batches)
	}
	if got := fd.members("eng"); !slices.Equal(got, []string{"u2"}) {
		t.Fatalf("eng = %v", got)
	}

	// A swap in one group (u1 in, u2 out) is one request carrying both.
	p := service.SystemPrincipal("test")
	if _, err := svc.CreateGrant(ctx, p, service.NewGrant{Identity: "E1", Entitlement: "app/eng", Reference: "TICKET-1", Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	u2, err := st.GetIdentity(ctx, "E2")
	if err != nil {
		t.Fatal(err)
	}
	gs, err := st.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: u2.ID, EntitlementID: "app/eng", Status: "active"})
	if err != nil || len(gs.Items) != 1 {
		t.Fatalf("u2's eng grant = %+v, %v", gs.Items, err)
	}
	if _, err := svc.RevokeGrant(ctx, p, gs.Items[0].ID, "test"); err != nil {
		t.Fatal(err)
	}
	dir.batches, fd.single = nil, 0
	run, err = rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"})
	if err != nil || run.Applied != 2 || !slices.Equal(dir.batches, []string{"eng +1 -1"}) || fd.single != 0 {
		t.Fatalf("run = %+v, %v, batches %v, %d single calls", run, err, dir.batches, fd.single)
	}
	if got := fd.members("eng"); !slices.Equal(got, []string{"u1"}) {
		t.Fatalf("eng = %v", got)
	}
}
