package provision_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestExpiryJobs: a grant committed with an expiry is revoked by the job scheduled at that
// expiry (the sweep is an hour away), and the revocation deprovisions it; on both engines.
func TestExpiryJobs(t *testing.T) {
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
			svc := service.New(st, service.Options{Jobs: q})
			if err := q.ExpireGrants(ctx, svc, time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := q.ExpireGrants(ctx, svc, 0); err == nil {
				t.Error("an expiry interval of 0 was accepted")
			}
			p := service.SystemPrincipal("test")
			if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{EmployeeID: "E9", Email: "u9@example.com"}, "test"); err != nil {
				t.Fatal(err)
			}
			g, err := svc.CreateGrant(ctx, p, service.NewGrant{Identity: "u9@example.com", Entitlement: "app/eng",
				Reference: "INC-000009", Duration: gatehouse.Duration(1500 * time.Millisecond), Reason: "a short task"})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for !slices.Contains(dir.members("eng"), "u9") {
				if time.Now().After(deadline) {
					t.Fatalf("u9 never provisioned: eng = %v", dir.members("eng"))
				}
				time.Sleep(20 * time.Millisecond)
			}
			for {
				got, err := st.GetGrant(ctx, g.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.RevokedAt != nil {
					if got.RevokedBy != service.ExpiryActor {
						t.Fatalf("grant revoked by %q, want %s", got.RevokedBy, service.ExpiryActor)
					}
					late := got.RevokedAt.Sub(*g.ExpiresAt)
					t.Logf("revoked %s after its expiry", late.Round(time.Millisecond))
					// The sweep runs hourly here: a revocation within seconds is the job scheduled at
					// the expiry. The bound is loose because the machine may be busy, not a speed claim.
					if late < 0 || late > 30*time.Second {
						t.Errorf("revoked %s after expiry, want the exact-time job (well before the hourly sweep)", late)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("grant not revoked 10s after it was created: %+v", got)
				}
				time.Sleep(20 * time.Millisecond)
			}
			for slices.Contains(dir.members("eng"), "u9") {
				if time.Now().After(deadline) {
					t.Fatalf("membership kept after the grant expired: eng = %v", dir.members("eng"))
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
