package provision_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestCleanStopDoesNotReconcileAgain: a reconcile that finished before a clean stop (the
// context of serve ends, then serve stops the host) is not run again at the next start, neither
// by its own job nor by a new one, nor by the schedule's run at start, which reconciles only
// the systems it is due for: a full run of a big directory at every start is what a benchmark
// found. Once an interval has passed, the start run does reconcile.
func TestCleanStopDoesNotReconcileAgain(t *testing.T) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			st := eng.open(t)
			ctx := t.Context()
			_, rec, _ := fakeFixture(t, st)

			// The first process, stopped as serve stops: its context ends (SIGTERM), then the
			// deferred Stop.
			runCtx, stop := context.WithCancel(ctx)
			h1, err := jobs.New(ctx, st, rec, jobs.Options{PollInterval: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := h1.Start(runCtx); err != nil {
				t.Fatal(err)
			}
			ids, err := h1.Enqueue(ctx, []string{"app"}, "hr_import", false)
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				runs, err := st.ListReconciles(ctx, gatehouse.ReconcileFilter{JobIDs: ids})
				if err != nil {
					t.Fatal(err)
				}
				if len(runs.Items) == 1 && runs.Items[0].Status != gatehouse.ReconcileRunning {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the reconcile never finished: %+v", runs.Items)
				}
				time.Sleep(10 * time.Millisecond)
			}
			stop()
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := h1.Stop(sctx); err != nil {
				t.Errorf("stop: %v", err)
			}
			cancel()

			// The next start, with a schedule: nothing to reconcile again.
			h2, err := jobs.New(ctx, st, rec, jobs.Options{PollInterval: 20 * time.Millisecond, Interval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if err := h2.Start(ctx); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * time.Second) // the start run of the schedule waits for leadership
			all, err := st.ListReconciles(ctx, gatehouse.ReconcileFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all.Items) != 1 {
				t.Errorf("%d reconcile runs after the restart, want 1 (the one before the stop): %+v", len(all.Items), all.Items)
			}
			states, err := h2.Jobs(ctx, ids)
			if err != nil || states[0].State != "completed" {
				t.Errorf("the job after the restart = %+v, %v; want completed", states, err)
			}
			sctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
			_ = h2.Stop(sctx)
			cancel()

			// A start an interval later: the schedule is due, and its start run reconciles.
			later := time.Now().Add(time.Hour + time.Minute)
			rec.Now = func() time.Time { return later }
			if due, err := h2.Due(ctx, "app"); err != nil || !due {
				t.Fatalf("due an interval later = %v, %v", due, err)
			}
			h3, err := jobs.New(ctx, st, rec, jobs.Options{PollInterval: 20 * time.Millisecond, Interval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if err := h3.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = h3.Stop(context.Background()) })
			deadline = time.Now().Add(20 * time.Second)
			for {
				runs, err := st.ListReconciles(ctx, gatehouse.ReconcileFilter{Status: gatehouse.ReconcileConverged})
				if err != nil {
					t.Fatal(err)
				}
				if len(runs.Items) == 2 {
					if runs.Items[0].Cause != "schedule" {
						t.Errorf("the run at the later start = %+v, want cause schedule", runs.Items[0])
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no scheduled reconcile at a start an interval later: %+v", runs.Items)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
