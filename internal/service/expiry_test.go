package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var expiryEngines = []struct {
	name string
	open func(t *testing.T) storetest.Harness
}{
	{"sqlite", func(t *testing.T) storetest.Harness { return storetest.NewSQLite(t) }},
	{"postgres", func(t *testing.T) storetest.Harness { return storetest.NewPostgres(t) }},
}

// seedExpiring stores n people, each with a grant of app/admins expiring at exp, in one
// transaction, and returns the grant ids.
func seedExpiring(t *testing.T, st store.Store, n int, exp time.Time) []string {
	t.Helper()
	ids := make([]string, 0, n)
	err := st.Update(context.Background(), func(tx store.Tx) error {
		ctx := context.Background()
		for i := range n {
			id := &gatehouse.Identity{EmployeeID: fmt.Sprintf("X%04d", i), Email: fmt.Sprintf("x%04d@example.com", i)}
			if err := tx.CreateIdentity(ctx, id); err != nil {
				return err
			}
			g := &gatehouse.Grant{IdentityID: id.ID, EntitlementID: "app/admins", Source: gatehouse.SourceRequest,
				Reference: fmt.Sprintf("REQ-%06d", i), GrantedBy: "test", ExpiresAt: &exp}
			if err := tx.CreateGrant(ctx, g); err != nil {
				return err
			}
			ids = append(ids, g.ID)
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.seed", ObjectType: "test", Reason: "seed"})
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func expireEvents(t *testing.T, st store.Store) []*gatehouse.AuditEvent {
	t.Helper()
	var out []*gatehouse.AuditEvent
	f := gatehouse.AuditFilter{Action: "grant.expire", Ascending: true, Limit: gatehouse.MaxLimit}
	for {
		page, err := st.ListAuditEvents(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

func TestExpireGrants(t *testing.T) {
	for _, eng := range expiryEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := eng.open(t)
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			svc := service.New(h.Store, service.Options{Now: clock})
			p := service.SystemPrincipal("test")
			for _, id := range []*gatehouse.Identity{
				{EmployeeID: "E1", Email: "owner@example.com"},
				{EmployeeID: "E2", Email: "ann@example.com"},
			} {
				if _, err := svc.CreateIdentity(ctx, p, id, "test"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(bulkCatalog)}}, false, "test"); err != nil {
				t.Fatal(err)
			}
			short, err := svc.CreateGrant(ctx, p, service.NewGrant{Identity: "ann@example.com", Entitlement: "app/admins",
				Reference: "INC-000042", Duration: gatehouse.Duration(2 * time.Hour), Reason: "on call"})
			if err != nil {
				t.Fatal(err)
			}
			long, err := svc.CreateGrant(ctx, p, service.NewGrant{Identity: "owner@example.com", Entitlement: "app/admins",
				Reference: "INC-000043", Reason: "on call"}) // max_duration: 8h
			if err != nil {
				t.Fatal(err)
			}
			forever, err := svc.CreateGrant(ctx, p, service.NewGrant{Identity: "ann@example.com", Entitlement: "app/users",
				Reference: "CHG-1", Reason: "standing"})
			if err != nil || forever.ExpiresAt != nil {
				t.Fatalf("standard grant = %+v, %v; want one without expiry", forever, err)
			}

			// Not yet: nothing is revoked.
			if n, err := svc.ExpireGrants(ctx, now.Add(2*time.Hour-time.Second)); err != nil || n != 0 {
				t.Fatalf("before expiry: ExpireGrants = %d, %v; want 0", n, err)
			}
			// At the expiry exactly, the 2-hour grant ends; the 8-hour and open-ended ones stay.
			now = now.Add(2 * time.Hour)
			if n, err := svc.ExpireGrants(ctx, now); err != nil || n != 1 {
				t.Fatalf("at expiry: ExpireGrants = %d, %v; want 1", n, err)
			}
			got, err := h.Store.GetGrant(ctx, short.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.RevokedAt == nil || !got.RevokedAt.Equal(now) || got.RevokedBy != service.ExpiryActor ||
				got.RevokeReason != "expired at "+short.ExpiresAt.UTC().Format(time.RFC3339) {
				t.Errorf("expired grant = %+v; want revoked now by %s with the expiry as reason", got, service.ExpiryActor)
			}
			for _, id := range []string{long.ID, forever.ID} {
				if g, err := h.Store.GetGrant(ctx, id); err != nil || g.RevokedAt != nil {
					t.Errorf("grant %s = %+v, %v; want still in force", id, g, err)
				}
			}
			evs := expireEvents(t, h.Store)
			if len(evs) != 1 {
				t.Fatalf("%d grant.expire events, want 1", len(evs))
			}
			if ev := evs[0]; ev.ObjectID != short.ID || ev.Actor != service.ExpiryActor || ev.Reference != "INC-000042" ||
				ev.Reason != got.RevokeReason || len(ev.Before) == 0 || len(ev.After) == 0 {
				t.Errorf("event = %+v; want the grant, its request number and the reason", ev)
			}

			// Idempotent: a second run, later, revokes nothing more and records nothing.
			if n, err := svc.ExpireGrants(ctx, now.Add(time.Minute)); err != nil || n != 0 {
				t.Fatalf("second run: ExpireGrants = %d, %v; want 0", n, err)
			}
			if evs := expireEvents(t, h.Store); len(evs) != 1 {
				t.Errorf("%d grant.expire events after a second run, want 1", len(evs))
			}
			// An operator cannot revoke it again either.
			if _, err := svc.RevokeGrant(ctx, p, short.ID, "again"); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
				t.Errorf("revoke an expired grant: err = %v, want conflict", err)
			}

			// Expiring soon: readers see everyone's, ann sees her own only.
			if _, err := svc.CreateGrant(ctx, p, service.NewGrant{Identity: "ann@example.com", Entitlement: "app/admins",
				Reference: "INC-000044", Duration: gatehouse.Duration(time.Hour), Reason: "again"}); err != nil {
				t.Fatal(err)
			}
			all, err := svc.ExpiringGrants(ctx, p, 7*time.Hour)
			if err != nil || len(all) != 2 {
				t.Fatalf("expiring within 7h (admin) = %d grants, %v; want 2 (the 8h grant's 6h left, ann's 1h)", len(all), err)
			}
			if soon, _ := svc.ExpiringGrants(ctx, p, 30*time.Minute); len(soon) != 0 {
				t.Errorf("expiring within 30m = %d grants, want 0", len(soon))
			}
			ann, err := svc.GetIdentity(ctx, p, "ann@example.com")
			if err != nil {
				t.Fatal(err)
			}
			annP := &gatehouse.Principal{IdentityID: ann.ID, Email: ann.Email}
			mine, err := svc.ExpiringGrants(ctx, annP, 7*time.Hour)
			if err != nil || len(mine) != 1 || mine[0].IdentityID != ann.ID {
				t.Fatalf("ann's expiring grants = %+v, %v; want her one", mine, err)
			}
			if _, err := svc.ListExpiringGrants(ctx, annP, gatehouse.GrantFilter{IdentityID: "owner@example.com"}, time.Hour); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
				t.Errorf("ann lists owner's expiring grants: err = %v, want forbidden", err)
			}
			if _, err := svc.ExpiringGrants(ctx, p, 0); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
				t.Errorf("expiring within 0: err = %v, want invalid", err)
			}
			if v, err := service.VerifyStore(ctx, h.Store); err != nil || !v.OK {
				t.Fatalf("audit chain: %+v %v", v, err)
			}
		})
	}
}

// Two replicas expiring at once (and in batches) revoke each grant once, with one event each.
func TestExpireGrantsConcurrently(t *testing.T) {
	const n = 1100 // more than two batches
	for _, eng := range expiryEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := eng.open(t)
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			svc := service.New(h.Store, service.Options{Now: clock})
			if _, err := svc.CreateIdentity(ctx, service.SystemPrincipal("test"),
				&gatehouse.Identity{EmployeeID: "E1", Email: "owner@example.com"}, "test"); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.ApplyCatalog(ctx, service.SystemPrincipal("test"),
				[]catalog.File{{Name: "c.yaml", Content: []byte(bulkCatalog)}}, false, "test"); err != nil {
				t.Fatal(err)
			}
			ids := seedExpiring(t, h.Store, n, now.Add(-time.Minute))
			replicas := []*service.Service{svc, service.New(h.Reopen(t), service.Options{Now: clock})}
			var wg sync.WaitGroup
			counts := make([]int, 4)
			errs := make([]error, 4)
			for i := range counts {
				wg.Go(func() { counts[i], errs[i] = replicas[i%2].ExpireGrants(ctx, now) })
			}
			wg.Wait()
			total := 0
			for i := range counts {
				if errs[i] != nil {
					t.Errorf("run %d: %v", i, errs[i])
				}
				total += counts[i]
			}
			t.Logf("revoked per run: %v", counts)
			if total != n {
				t.Errorf("runs revoked %v = %d grants in all, want %d", counts, total, n)
			}
			evs := expireEvents(t, h.Store)
			seen := map[string]int{}
			for _, ev := range evs {
				seen[ev.ObjectID]++
			}
			for _, id := range ids {
				if seen[id] != 1 {
					t.Fatalf("grant %s has %d grant.expire events, want 1", id, seen[id])
				}
			}
			if len(evs) != n {
				t.Errorf("%d grant.expire events, want %d", len(evs), n)
			}
			left, err := h.Store.ListGrants(ctx, gatehouse.GrantFilter{Status: "active", Limit: 10})
			if err != nil || len(left.Items) != 0 {
				t.Errorf("grants left in force: %d, %v", len(left.Items), err)
			}
			if v, err := service.VerifyStore(ctx, h.Store); err != nil || !v.OK {
				t.Fatalf("audit chain: %+v %v", v, err)
			}
		})
	}
}
