package jobs_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/provision"
)

// TestBeaconLitAgain: a host on PostgreSQL holds its beacon (an advisory lock of its instance)
// while it runs, lights it again on a new session when its session is ended under it, and lets
// it go when it stops, so other processes can tell it is gone.
func TestBeaconLitAgain(t *testing.T) {
	sts := leaseFixture(t, 1)
	st := sts[0]
	d := &dirs{state: map[string]*memDir{}, spans: map[string][]span{}}
	h := startHost(t, st, &provision.Reconciler{Store: st, Open: d.open(0)}, time.Second)
	db := st.(jobs.DB).DB()
	holder := func() int {
		t.Helper()
		var pid int
		err := db.QueryRowContext(t.Context(), `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND classid = 18248 AND objid::text::bigint = ($1::bigint & 4294967295) AND objsubid = 2`, jobs.Instance(h)).Scan(&pid)
		if errors.Is(err, sql.ErrNoRows) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	first := holder()
	if first == 0 {
		t.Fatal("no beacon lock while the host runs")
	}
	if _, err := db.ExecContext(t.Context(), `SELECT pg_terminate_backend($1)`, first); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pid := holder(); pid == 0 || pid == first; pid = holder() {
		if time.Now().After(deadline) {
			t.Fatal("the beacon was not lit again within 10s of its session's end")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := h.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if pid := holder(); pid != 0 {
		t.Fatalf("the beacon is still held (by backend %d) after the host stopped", pid)
	}
}
