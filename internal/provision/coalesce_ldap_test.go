package provision_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestCoalescedBurstConverges: a burst of grant writes through the service (8 writers granting
// and revoking one LDAP group of 40 people, each write inserting its reconcile in its own
// transaction) while the job host runs: the reconciles coalesce, so the queue stays bounded,
// and nothing is lost to a merge: slapd ends with exactly the memberships of the grants in
// force. On both engines, with a real slapd.
func TestCoalescedBurstConverges(t *testing.T) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			slapd := ldaptest.Start(t, ldaptest.Options{})
			st := eng.open(t)
			ctx := t.Context()
			rec := &provision.Reconciler{Store: st, Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
				return connectors.Open(ctx, sys.Connector, nil)
			}}
			q, err := jobs.New(ctx, st, rec, jobs.Options{PollInterval: 50 * time.Millisecond,
				RetryBase: 100 * time.Millisecond, RetryMax: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			svc := service.New(st, service.Options{Secrets: tempSecrets, Jobs: q})
			p := service.SystemPrincipal("test")
			if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{Email: "owner@example.com", Kind: gatehouse.KindService}, "test"); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(ldapCatalog(slapd))}}, false, "test"); err != nil {
				t.Fatal(err)
			}
			const people = 40
			var rows []string
			for n := 1; n <= people; n++ {
				rows = append(rows, hrRow(n, "Sales", "active"))
			}
			f := &ldapFixture{t: t, slapd: slapd, svc: svc, st: st, q: q}
			f.importHR(rows...)
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = q.Stop(context.Background()) })

			// Writer w writes the people n ≡ w (mod 8): grant, revoke, grant, … 28 times each
			// writer, so person n ends granted when written an odd number of times.
			stop := make(chan struct{})
			var peak int
			var sampled sync.WaitGroup
			sampled.Go(func() {
				for {
					if n := pendingReconciles(t, st); n > peak {
						peak = n
					}
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			})
			granted := make([]string, people+1) // grant id in force, by person
			var writers sync.WaitGroup
			for w := range 8 {
				writers.Go(func() {
					for i := range 28 {
						n := 1 + w + 8*(i%(people/8))
						email := fmt.Sprintf("p%d@example.com", n)
						if granted[n] == "" {
							g, err := svc.CreateGrant(ctx, p, service.NewGrant{Identity: email, Entitlement: "dir/eng",
								Reference: "TICKET-1", Reason: "burst"})
							if err != nil {
								t.Error(err)
								return
							}
							granted[n] = g.ID
						} else {
							if _, err := svc.RevokeGrant(ctx, p, granted[n], "burst"); err != nil {
								t.Error(err)
								return
							}
							granted[n] = ""
						}
					}
				})
			}
			writers.Wait()
			var want []string
			for n, g := range granted {
				if g != "" {
					want = append(want, fmt.Sprintf("p%d", n))
				}
			}
			slices.Sort(want)

			deadline := time.Now().Add(60 * time.Second)
			for {
				got := readDirectory(t, slapd.Conn(t)).groups[gEng]
				if slices.Equal(got, want) && pendingReconciles(t, st) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after the burst, engineering = %v, want %v", got, want)
				}
				time.Sleep(100 * time.Millisecond)
			}
			close(stop)
			sampled.Wait()
			// One waits; besides it, for about a second, each job River started that found the
			// system busy and none waiting to hand over to (it snoozes): at most one a worker.
			if peak > 1+4 {
				t.Errorf("%d reconciles waited at once during the burst, want at most 1 and one a worker (4)", peak)
			}
			t.Logf("224 writes: %d people granted at the end, at most %d reconcile waiting", len(want), peak)
		})
	}
}

// pendingReconciles counts the reconcile jobs River has not started.
func pendingReconciles(t *testing.T, st store.Store) int {
	var n int
	if err := st.(jobs.DB).DB().QueryRowContext(context.Background(), `SELECT count(*) FROM river_job
		WHERE kind = 'reconcile_system' AND state IN ('available', 'scheduled', 'retryable')`).Scan(&n); err != nil {
		t.Error(err)
	}
	return n
}
