package provision_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// tempSecrets lets catalogs name secret files in test temporary directories, where the LDAP
// and SCIM test servers write theirs (as serve --secrets-dir would).
var tempSecrets = &connector.SecretPolicy{Dir: os.TempDir()}

// hangingDir is a target whose inventory never answers, until released: the run reading it is
// running when its process dies.
type hangingDir struct {
	*fakeDir
	entered chan struct{}
	release chan struct{}
}

func (d *hangingDir) Inventory(ctx context.Context, groups []string) (*connector.Inventory, error) {
	select {
	case d.entered <- struct{}{}:
	default:
	}
	select {
	case <-d.release:
	case <-ctx.Done():
	}
	return nil, connector.Permanentf("released")
}

// TestInterruptedReconcile: a process stops (here: its queue stops taking jobs while a run
// hangs, as a killed process leaves its rows) in the middle of a reconcile. At the next start
// the run is marked interrupted, with an audit event, and the same job runs the system again
// at once, so that `reconcile --wait` following that job sees it finish instead of waiting for
// River's rescuer (the job timeout plus an hour) or for ever. On both engines.
func TestInterruptedReconcile(t *testing.T) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			st := eng.open(t)
			ctx := t.Context()
			_, rec, dir := fakeFixture(t, st)

			// The first process: its reconcile hangs in the inventory, and then it is gone.
			hang := &hangingDir{fakeDir: dir, entered: make(chan struct{}, 1), release: make(chan struct{})}
			first := &provision.Reconciler{Store: st, Open: func(context.Context, *gatehouse.System) (connector.Connector, error) { return hang, nil }}
			q1, err := jobs.New(ctx, st, first, jobs.Options{PollInterval: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := q1.Start(ctx); err != nil {
				t.Fatal(err)
			}
			ids, err := q1.Enqueue(ctx, []string{"app"}, "test", false)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-hang.entered:
			case <-time.After(20 * time.Second):
				t.Fatal("the first reconcile never started")
			}
			stopCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			_ = q1.Stop(stopCtx) // stops fetching; the hanging run stays "running", as after kill -9
			cancel()
			t.Cleanup(func() {
				close(hang.release)
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = q1.Stop(sctx)
			})
			running, err := st.ListReconciles(ctx, gatehouse.ReconcileFilter{Status: gatehouse.ReconcileRunning})
			if err != nil || len(running.Items) != 1 || running.Items[0].JobID != ids[0] {
				t.Fatalf("running runs = %+v, %v", running.Items, err)
			}
			stuck := running.Items[0]

			// The next start.
			q2, err := jobs.New(ctx, st, rec, jobs.Options{PollInterval: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := q2.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = q2.Stop(context.Background()) })
			run, err := st.GetReconcile(ctx, stuck.ID)
			if err != nil || run.Status != gatehouse.ReconcileInterrupted || run.FinishedAt == nil ||
				run.Error != "interrupted: the server stopped during this reconcile; the system is reconciled again" {
				t.Fatalf("after restart the run is %+v, %v", run, err)
			}
			events, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "reconcile.interrupted"})
			if err != nil || len(events.Items) != 1 || events.Items[0].Reference != stuck.ID {
				t.Fatalf("audit of the interruption = %+v, %v", events.Items, err)
			}

			// The same job runs again and finishes: a --wait on it ends, converged.
			deadline := time.Now().Add(20 * time.Second)
			for {
				jobs, err := q2.Jobs(ctx, ids)
				if err != nil {
					t.Fatal(err)
				}
				if jobs[0].Done {
					if jobs[0].State != "completed" {
						t.Fatalf("job = %+v", jobs[0])
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the interrupted job never finished: %+v", jobs[0])
				}
				time.Sleep(20 * time.Millisecond)
			}
			runs, err := st.ListReconciles(ctx, gatehouse.ReconcileFilter{JobIDs: ids})
			if err != nil || len(runs.Items) != 2 || runs.Items[0].Status != gatehouse.ReconcileConverged {
				t.Fatalf("runs of the job = %+v, %v", runs.Items, err)
			}
		})
	}
}
