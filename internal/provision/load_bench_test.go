package provision

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkLoadFull measures the live heap a full run's input holds (load, before planning)
// for a company where every entitlement is a managed group: GATEHOUSE_BENCH_PEOPLE people
// (default 20,000) on SQLite, each with two active birthright grants, one in ten also with a
// revoked one, on a manual system not provisioned yet. live-MB is what load keeps; all-MB is
// every grant and identity as the store returns them (what load kept before), in the same run.
func BenchmarkLoadFull(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_PEOPLE")); err == nil && v > 0 {
		n = v
	}
	ctx := b.Context()
	st := storetest.OpenSQLite(b)
	sys := seedCompany(ctx, b, st, n)
	r := &Reconciler{Store: st, Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		return connectors.OpenSystem(ctx, sys, Tasks{Store: st}, nil)
	}}
	conn, err := r.Open(ctx, sys)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	live := func(f func() any) float64 {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v := f()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(v)
		return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / 1e6
	}
	var kept, everything float64
	for b.Loop() {
		kept = live(func() any {
			in, err := r.load(ctx, sys, conn, RunOptions{})
			if err != nil {
				b.Fatal(err)
			}
			return in
		})
		everything = live(func() any {
			gs, err := all(ctx, func(c string) (gatehouse.Page[*gatehouse.Grant], error) {
				return st.ListGrants(ctx, gatehouse.GrantFilter{System: sys.ID, Limit: gatehouse.MaxLimit, Cursor: c})
			})
			if err != nil {
				b.Fatal(err)
			}
			ids, err := all(ctx, func(c string) (gatehouse.Page[*gatehouse.Identity], error) {
				return st.ListIdentities(ctx, gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit, Cursor: c})
			})
			if err != nil {
				b.Fatal(err)
			}
			return []any{gs, ids}
		})
	}
	b.ReportMetric(kept, "live-MB")
	b.ReportMetric(everything, "all-MB")
}

// seedCompany stores a manual system with managed groups and n people holding grants to them.
func seedCompany(ctx context.Context, b *testing.B, st store.Store, n int) *gatehouse.System {
	b.Helper()
	sys := &gatehouse.System{ID: "dir", Name: "Directory", Owner: "owner@example.com", Tier: gatehouse.TierStandard,
		Connector: gatehouse.Connector{Type: "manual"}}
	depts := []string{"Engineering", "Sales", "Finance", "Support", "Marketing"}
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutSystem(ctx, sys); err != nil {
			return err
		}
		for _, e := range append([]string{"all-staff"}, depts...) {
			if err := tx.PutEntitlement(ctx, &gatehouse.Entitlement{ID: "dir/" + e, System: "dir", Name: e, Kind: "group",
				Risk: "standard", ExternalID: e}); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Time: time.Now(), Actor: "bench", Action: gatehouse.AuditIdentityCreate,
			ObjectType: "system", ObjectID: "dir", Reason: "bench seed"})
	})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for lo := 0; lo < n; lo += 5000 {
		var ids []*gatehouse.Identity
		for i := lo; i < min(lo+5000, n); i++ {
			ids = append(ids, &gatehouse.Identity{EmployeeID: fmt.Sprintf("E%07d", i), Email: fmt.Sprintf("person%07d@example.com", i),
				FirstName: fmt.Sprint("First", i), LastName: fmt.Sprint("Last", i), Department: depts[i%len(depts)],
				Title: depts[i%len(depts)] + " 2", ManagerID: "E0000000", Location: "Paris", EmploymentType: "employee",
				Status: gatehouse.StatusActive, StartDate: "2020-01-01", Kind: gatehouse.KindPerson, Source: "hr-csv",
				Attributes: map[string]string{"cost_center": fmt.Sprintf("CC%03d", i%1000)}})
		}
		err := st.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateIdentities(ctx, ids); err != nil {
				return err
			}
			// The grants name the ids the store gave.
			var gs []*gatehouse.Grant
			for i, id := range ids {
				for _, e := range []string{"all-staff", id.Department} {
					gs = append(gs, &gatehouse.Grant{IdentityID: id.ID, EntitlementID: "dir/" + e, Source: gatehouse.SourceBirthright,
						Reference: "role:" + e, GrantedBy: "system:hr", GrantedAt: t0})
				}
				if i%10 == 0 {
					end := t0.Add(time.Hour)
					gs = append(gs, &gatehouse.Grant{IdentityID: id.ID, EntitlementID: "dir/Finance", Source: gatehouse.SourceDirect,
						Reference: "INC-1", GrantedBy: "admin@example.com", GrantedAt: t0, RevokedAt: &end,
						RevokedBy: "admin@example.com", RevokeReason: "moved"})
				}
			}
			if err := tx.CreateGrants(ctx, gs); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Time: time.Now(), Actor: "bench", Action: gatehouse.AuditGrantCreate,
				ObjectType: "system", ObjectID: "dir", Reason: "bench seed"})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return sys
}
