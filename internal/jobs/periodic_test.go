package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestPeriodicOncePerInterval: two hosts on one PostgreSQL database, as two replicas are, run
// each periodic task once: the start runs of both are one run, and only the elected leader
// enqueues the periodic ones, so request sync (every second here) runs about once a second,
// not twice.
func TestPeriodicOncePerInterval(t *testing.T) {
	dsn := storetest.NewPostgresSchema(t)
	ctx := t.Context()
	var hosts []*jobs.Host
	for range 2 {
		st, err := sqlstore.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		h, err := jobs.New(ctx, st, nil, jobs.Options{PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		svc := service.New(st, service.Options{})
		if err := h.Schedule(ctx, svc, jobs.Schedule{Expiry: time.Hour, HRDates: time.Hour, RequestSync: time.Second,
			Exceptions: time.Hour, Notices: time.Hour}); err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h)
	}
	start := time.Now()
	for _, h := range hosts {
		if err := h.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = h.Stop(sctx)
		})
	}
	count := func(kind string) int {
		t.Helper()
		res, err := hosts[0].Client().JobList(ctx, river.NewJobListParams().Kinds(kind).First(1000))
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Jobs)
	}
	deadline := time.Now().Add(30 * time.Second)
	for count(jobs.RequestSyncArgs{}.Kind()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d request sync jobs after 30s, want 3", count(jobs.RequestSyncArgs{}.Kind()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	t.Logf("3 request sync jobs after %s", elapsed)
	if n, most := count(jobs.RequestSyncArgs{}.Kind()), int(elapsed/time.Second)+1; n > most {
		t.Errorf("%d request sync jobs in %s, want at most %d: more than one host enqueues them", n, elapsed, most)
	}
	for _, kind := range []string{jobs.HRDatesArgs{}.Kind(), jobs.ExceptionExpiryArgs{}.Kind(), jobs.NoticesArgs{}.Kind()} {
		if n := count(kind); n != 1 {
			t.Errorf("%d %s jobs, want 1: the start runs of two hosts are one", n, kind)
		}
	}
}

// TestStartRunsAfterRestart: a process that starts again within the window of its
// predecessor's runs (a crash and a restart) runs the expiry catch-up and the other start runs
// again: what expired while it was down is revoked as it starts, not once River has elected a
// new leader (up to its leader TTL after a crash).
func TestStartRunsAfterRestart(t *testing.T) {
	dsn := storetest.NewPostgresSchema(t)
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	kinds := []string{jobs.ExpireArgs{}.Kind(), jobs.HRDatesArgs{}.Kind(), jobs.ExceptionExpiryArgs{}.Kind(),
		jobs.NoticesArgs{}.Kind()}
	for run := 1; run <= 2; run++ {
		h, err := jobs.New(ctx, st, nil, jobs.Options{PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Schedule(ctx, service.New(st, service.Options{}), jobs.Schedule{Expiry: time.Hour,
			HRDates: time.Hour, RequestSync: time.Hour, Exceptions: time.Hour, Notices: time.Hour}); err != nil {
			t.Fatal(err)
		}
		if err := h.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for _, kind := range kinds {
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				res, err := h.Client().JobList(ctx, river.NewJobListParams().Kinds(kind).
					States(rivertype.JobStateCompleted).First(100))
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Jobs) == run {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("start %d: %d completed %s jobs after 20s, want %d", run, len(res.Jobs), kind, run)
				}
			}
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = h.Stop(sctx)
		cancel()
	}
}
