package jobs_test

import (
	"context"
	"fmt"
	"sort"
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
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const leaseCatalog = `
systems:
  - {id: a, name: A, owner: owner@example.com, tier: high, connector: {type: manual}}
  - {id: b, name: B, owner: owner@example.com, tier: high, connector: {type: manual}}
entitlements:
  - {id: a/users, system: a, name: Users, kind: group, risk: standard, external_id: users}
  - {id: b/users, system: b, name: Users, kind: group, risk: standard, external_id: users}
roles:
  - {id: eng, name: Eng, entitlements: [a/users, b/users], birthright: 'identity.department == "Eng"'}
`

// span is when one reconcile had its system's connector open, and in which host.
type span struct {
	host       int
	start, end time.Time
}

// dirs are in-memory target systems, one per system id, that record when each reconcile had
// them open (from Open to Close). hang, when set, makes an inventory of a system wait for its
// channel or the reconcile's end.
type dirs struct {
	mu    sync.Mutex
	state map[string]*memDir
	spans map[string][]span
	slow  time.Duration
	hang  map[string]chan struct{}
	hung  chan string // told the system of each inventory that hangs
}

func (d *dirs) open(host int) func(context.Context, *gatehouse.System) (connector.Connector, error) {
	return func(_ context.Context, s *gatehouse.System) (connector.Connector, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		m := d.state[s.ID]
		if m == nil {
			m = &memDir{accounts: map[string]*connector.Account{}, groups: map[string]map[string]bool{}}
			d.state[s.ID] = m
		}
		return &memConn{memDir: m, d: d, system: s.ID, host: host, start: time.Now()}, nil
	}
}

type memDir struct {
	mu       sync.Mutex
	accounts map[string]*connector.Account
	groups   map[string]map[string]bool
}

type memConn struct {
	*memDir
	d      *dirs
	system string
	host   int
	start  time.Time
}

func (c *memConn) Capabilities() connector.Capabilities {
	return connector.Capabilities{CreateAccount: true, Disable: true, Groups: true, CreatesGroups: true}
}

func (c *memConn) Inventory(ctx context.Context, groups []string) (*connector.Inventory, error) {
	c.d.mu.Lock()
	hang := c.d.hang[c.system]
	c.d.mu.Unlock()
	if hang != nil {
		if c.d.hung != nil {
			c.d.hung <- c.system
		}
		select {
		case <-hang:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	time.Sleep(c.d.slow) // long enough for a second reconcile to start beside it, if it could
	c.mu.Lock()
	defer c.mu.Unlock()
	inv := &connector.Inventory{Groups: map[string]*connector.Group{}}
	for _, a := range c.accounts {
		inv.Accounts = append(inv.Accounts, *a)
	}
	for _, g := range groups {
		if ms, ok := c.groups[g]; ok {
			grp := &connector.Group{ID: g}
			for id := range ms {
				grp.Members = append(grp.Members, connector.AccountRef{ID: id})
			}
			inv.Groups[g] = grp
		}
	}
	return inv, nil
}

func (c *memConn) CreateAccount(_ context.Context, spec connector.AccountSpec) (connector.AccountRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	user, _, _ := strings.Cut(spec.Email, "@")
	ref := connector.AccountRef{ID: user}
	c.accounts[user] = &connector.Account{Ref: ref, Username: user, Email: spec.Email, EmployeeID: spec.EmployeeID, Enabled: true}
	return ref, nil
}

func (c *memConn) SetEnabled(_ context.Context, ref connector.AccountRef, enabled bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.accounts[ref.ID]; a != nil {
		a.Enabled = enabled
	}
	return nil
}

func (c *memConn) AddMember(_ context.Context, group string, ref connector.AccountRef) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups[group] == nil {
		c.groups[group] = map[string]bool{}
	}
	c.groups[group][ref.ID] = true
	return nil
}

func (c *memConn) RemoveMember(_ context.Context, group string, ref connector.AccountRef) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.groups[group], ref.ID)
	return nil
}

func (c *memConn) Close() error {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	c.d.spans[c.system] = append(c.d.spans[c.system], span{host: c.host, start: c.start, end: time.Now()})
	return nil
}

// leaseFixture makes a PostgreSQL schema with the catalog above and three Eng people, and
// opens n stores on it, as n replicas would.
func leaseFixture(t *testing.T, n int) []store.Store {
	t.Helper()
	dsn := storetest.NewPostgresSchema(t)
	ctx := t.Context()
	var sts []store.Store
	for range n {
		st, err := sqlstore.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		sts = append(sts, st)
	}
	seedLeaseFixture(t, sts[0])
	return sts
}

// seedLeaseFixture writes the catalog above and three Eng people.
func seedLeaseFixture(t *testing.T, st store.Store) {
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
	if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(leaseCatalog)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
}

func startHost(t *testing.T, st store.Store, rec *provision.Reconciler, ttl time.Duration) *jobs.Host {
	t.Helper()
	h, err := jobs.New(t.Context(), st, rec, jobs.Options{PollInterval: 20 * time.Millisecond, Workers: 4, LeaseTTL: ttl,
		RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return h
}

// waitJobs waits until every job is done and completed.
func waitJobs(t *testing.T, h *jobs.Host, ids []int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		states, err := h.Jobs(t.Context(), ids)
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, s := range states {
			if s.Done {
				if s.State != "completed" {
					t.Fatalf("job %d ended %s: %s", s.ID, s.State, s.Error)
				}
				done++
			}
		}
		if done == len(ids) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d reconcile jobs done after %s: %+v", done, len(ids), within, states)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReconcileLeaseAcrossHosts: two hosts on one PostgreSQL database, as two replicas are,
// each with four workers, given many reconciles of the same two systems through both: no two
// reconciles of one system ever have it open at once, in one host or across them, and every
// change is reconciled (a job that finds the system busy waits and runs after). A lease left by a
// holder that died holds the system up until it runs out, not for ever.
func TestReconcileLeaseAcrossHosts(t *testing.T) {
	sts := leaseFixture(t, 2)
	ctx := t.Context()
	d := &dirs{state: map[string]*memDir{}, spans: map[string][]span{}, slow: 30 * time.Millisecond}
	var hosts []*jobs.Host
	for i, st := range sts {
		h := startHost(t, st, &provision.Reconciler{Store: st, Open: d.open(i)}, 2*time.Second)
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = h.Stop(sctx)
		})
		hosts = append(hosts, h)
	}

	// A dead holder's lease of b, running out in a second and a half.
	dead := time.Now().Add(1500 * time.Millisecond)
	if _, ok, err := sts[0].AcquireLease(ctx, store.Lease{Name: "reconcile:b", Holder: "job:999999:dead", ExpiresAt: dead}, time.Now()); err != nil || !ok {
		t.Fatalf("dead lease: %v, %v", ok, err)
	}

	var ids []int64
	for i := range 12 {
		got, err := hosts[i%2].Enqueue(ctx, []string{"a", "b"}, "test", false)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got...)
		// Apart, so that some find their system's reconcile running and queue another
		// (pending ones merge: EnqueueFor).
		time.Sleep(50 * time.Millisecond)
	}
	waitJobs(t, hosts[0], ids, 60*time.Second)

	d.mu.Lock()
	defer d.mu.Unlock()
	ran := map[int]int{}
	for sys, spans := range d.spans {
		sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
		for i := 1; i < len(spans); i++ {
			if spans[i].start.Before(spans[i-1].end) {
				t.Errorf("reconciles of %s overlap: host %d %s–%s and host %d %s–%s", sys,
					spans[i-1].host, spans[i-1].start.Format("15:04:05.000"), spans[i-1].end.Format("15:04:05.000"),
					spans[i].host, spans[i].start.Format("15:04:05.000"), spans[i].end.Format("15:04:05.000"))
			}
		}
		for _, s := range spans {
			ran[s.host]++
		}
		// b waits for the dead lease, while its reconciles merge into one: one run at least.
		if len(spans) < 2 && sys == "a" || len(spans) < 1 {
			t.Errorf("%d reconciles of %s, want several of a and one of b at least", len(spans), sys)
		}
	}
	if first := d.spans["b"][0].start; first.Before(dead) {
		t.Errorf("b was reconciled at %s, before the dead holder's lease ran out at %s", first.Format("15:04:05.000"), dead.Format("15:04:05.000"))
	}
	t.Logf("reconciles by host: %v", ran)
}

// TestReconcileLeaseOfDeadProcess: a process loses its database in the middle of a reconcile,
// as a killed one does, without restarting. Its lease runs out, and the other host's
// recover_reconciles job (every lease TTL) marks the run interrupted and runs its job again,
// which converges: the system is not left to River's rescuer (an hour later).
func TestReconcileLeaseOfDeadProcess(t *testing.T) {
	sts := leaseFixture(t, 2)
	ctx := t.Context()
	hang := make(chan struct{})
	d := &dirs{state: map[string]*memDir{}, spans: map[string][]span{}, hang: map[string]chan struct{}{"a": hang},
		hung: make(chan string, 1)}
	ttl := 2 * time.Second
	doomed := startHost(t, sts[0], &provision.Reconciler{Store: sts[0], Open: d.open(0)}, ttl)
	ids, err := doomed.Enqueue(ctx, []string{"a"}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.hung:
	case <-time.After(20 * time.Second):
		t.Fatal("the first reconcile never read the system")
	}
	// The survivor starts while the lease is live: it leaves the run alone at start.
	d.mu.Lock()
	delete(d.hang, "a")
	d.mu.Unlock()
	survivor := startHost(t, sts[1], &provision.Reconciler{Store: sts[1], Open: d.open(1)}, ttl)
	t.Cleanup(func() { _ = survivor.Stop(context.Background()) })
	if runs, err := sts[1].ListReconciles(ctx, gatehouse.ReconcileFilter{Status: gatehouse.ReconcileRunning}); err != nil || len(runs.Items) != 1 {
		t.Fatalf("running runs after the survivor's start = %+v, %v; want the live one left alone", runs.Items, err)
	}
	// The doomed process loses its database: nothing renews the lease, nothing records the
	// run's end.
	_ = sts[0].Close()
	died := time.Now()
	t.Cleanup(func() {
		close(hang)
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = doomed.Stop(sctx)
	})

	waitJobs(t, survivor, ids, 30*time.Second)
	t.Logf("the dead process's job finished %s after it died", time.Since(died).Round(time.Millisecond))
	runs, err := sts[1].ListReconciles(ctx, gatehouse.ReconcileFilter{JobIDs: ids})
	if err != nil || len(runs.Items) != 2 || runs.Items[0].Status != gatehouse.ReconcileConverged ||
		runs.Items[1].Status != gatehouse.ReconcileInterrupted {
		t.Fatalf("runs of the job = %+v, %v", runs.Items, err)
	}
	events, err := sts[1].ListAuditEvents(ctx, gatehouse.AuditFilter{Action: string(gatehouse.AuditReconcileInterrupted)})
	if err != nil || len(events.Items) != 1 {
		t.Fatalf("interruption events = %+v, %v", events.Items, err)
	}
}

// TestReconcileLeaseRestartAtOnce: a process killed in the middle of a reconcile and started
// again at once does not wait for its old lease to run out, nor for the leader's periodic
// recovery (both a TTL, 10s here): the old process's beacon is out (on SQLite, any other
// instance is a previous process), so once the lease missed a renewal (within 3/8 TTL) the
// restarted process ends the lease, marks the run interrupted and runs the job again. On both
// engines.
func TestReconcileLeaseRestartAtOnce(t *testing.T) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", func(tb testing.TB) store.Store {
		st, err := sqlstore.Open(tb.Context(), storetest.NewPostgresSchema(tb))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = st.Close() })
		return st
	}}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			st := eng.open(t)
			seedLeaseFixture(t, st)
			ctx := t.Context()
			hang := make(chan struct{})
			d := &dirs{state: map[string]*memDir{}, spans: map[string][]span{}, hang: map[string]chan struct{}{"a": hang},
				hung: make(chan string, 1)}
			ttl := 10 * time.Second
			killed := startHost(t, st, &provision.Reconciler{Store: st, Open: d.open(0)}, ttl)
			ids, err := killed.Enqueue(ctx, []string{"a"}, "test", false)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-d.hung:
			case <-time.After(20 * time.Second):
				t.Fatal("the first reconcile never read the system")
			}
			jobs.Vanish(killed) // kill -9: the lease stays, nothing renews it, the beacon is out
			sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			_ = killed.Stop(sctx)
			cancel()
			t.Cleanup(func() { close(hang) })
			d.mu.Lock()
			delete(d.hang, "a")
			d.mu.Unlock()

			restarted := time.Now()
			again := startHost(t, st, &provision.Reconciler{Store: st, Open: d.open(1)}, ttl)
			t.Cleanup(func() { _ = again.Stop(context.Background()) })
			waitJobs(t, again, ids, 20*time.Second)
			took := time.Since(restarted)
			t.Logf("the interrupted job finished %s after the restart", took.Round(time.Millisecond))
			if took > 7*time.Second {
				t.Errorf("the interrupted job finished %s after the restart, want about 3/8 of the lease's %s", took, ttl)
			}
			runs, err := st.ListReconciles(ctx, gatehouse.ReconcileFilter{JobIDs: ids})
			if err != nil || len(runs.Items) != 2 || runs.Items[0].Status != gatehouse.ReconcileConverged ||
				runs.Items[1].Status != gatehouse.ReconcileInterrupted {
				t.Fatalf("runs of the job = %+v, %v", runs.Items, err)
			}
		})
	}
}
