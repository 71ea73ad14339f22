package jobs_test

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestSQLiteLongTransactionKeepsReconcile: on SQLite the store has one write connection and one
// process. A write transaction longer than the lease TTL (a large HR import) delays the
// renewals of a running reconcile's lease, but nobody else can take the lease: the reconcile
// must go on, not be cancelled as "taken over" and run again.
func TestSQLiteLongTransactionKeepsReconcile(t *testing.T) {
	t.Skip("fails on main (4d3635f): /work/coord/REVIEW.md finding 9, not fixed on i11-r; remove this skip with the fix")
	st := storetest.OpenSQLite(t)
	seedLeaseFixture(t, st)
	ctx := t.Context()
	hang := make(chan struct{})
	d := &dirs{state: map[string]*memDir{}, spans: map[string][]span{}, hang: map[string]chan struct{}{"a": hang},
		hung: make(chan string, 8)}
	ttl := time.Second
	h := startHost(t, st, &provision.Reconciler{Store: st, Open: d.open(0)}, ttl)
	t.Cleanup(func() { _ = h.Stop(ctx) })
	ids, err := h.Enqueue(ctx, []string{"a"}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.hung:
	case <-time.After(20 * time.Second):
		t.Fatal("the reconcile never read the system")
	}
	// A long write transaction: the lease cannot be renewed meanwhile.
	if err := st.Update(ctx, func(store.Tx) error { time.Sleep(2 * ttl); return nil }); err != nil {
		t.Fatal(err)
	}
	close(hang)
	waitJobs(t, h, ids, 30*time.Second)
	runs, err := st.ListReconciles(ctx, gatehouse.ReconcileFilter{JobIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs.Items) != 1 {
		for _, r := range runs.Items {
			t.Logf("run attempt %d: %s %s", r.Attempt, r.Status, r.Error)
		}
		t.Errorf("%d runs of the job, want 1: a long transaction cancelled the running reconcile", len(runs.Items))
	}
}
