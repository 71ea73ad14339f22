package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/provision"
)

// TestLiveHolderKeepsLeaseWhenBeaconDrops: a live host whose beacon session ends under it (a
// database restart, a network cut of that one connection) is dark until keepBeacon lights it
// again, up to a quarter TTL later, while it still renews its leases. A recovery by another
// host in that window must not take its running reconcile for interrupted and start a second
// reconcile of the system beside it.
func TestLiveHolderKeepsLeaseWhenBeaconDrops(t *testing.T) {
	sts := leaseFixture(t, 2)
	ctx := t.Context()
	hang := make(chan struct{})
	d := &dirs{state: map[string]*memDir{}, spans: map[string][]span{}, hang: map[string]chan struct{}{"a": hang},
		hung: make(chan string, 8)}
	ttl := 8 * time.Second
	a := startHost(t, sts[0], &provision.Reconciler{Store: sts[0], Open: d.open(0)}, ttl)
	if _, err := a.Enqueue(ctx, []string{"a"}, "test", false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.hung:
	case <-time.After(20 * time.Second):
		t.Fatal("the reconcile never read the system")
	}
	b := startHost(t, sts[1], &provision.Reconciler{Store: sts[1], Open: d.open(1)}, ttl)
	t.Cleanup(func() {
		close(hang)
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.Stop(sctx)
		_ = a.Stop(sctx)
	})
	var pid int
	err := sts[0].(jobs.DB).DB().QueryRowContext(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid = 18248 AND objid::text::bigint = ($1::bigint & 4294967295) AND objsubid = 2`, jobs.Instance(a)).Scan(&pid)
	if errors.Is(err, sql.ErrNoRows) || err != nil {
		t.Fatalf("host a's beacon: %v", err)
	}
	if _, err := sts[0].(jobs.DB).DB().ExecContext(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the session is gone; a has not lit its beacon again yet
	if _, err := b.RecoverInterrupted(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.hung:
		t.Error("a second reconcile of the system started while the live host's was still running")
	case <-time.After(2 * time.Second):
	}
	runs, err := sts[1].ListReconciles(ctx, gatehouse.ReconcileFilter{SystemID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs.Items {
		if r.Status == gatehouse.ReconcileInterrupted {
			t.Errorf("the live host's run %s was marked interrupted", r.ID)
		}
	}
}
