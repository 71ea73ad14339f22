package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkRequestPolicy measures a request's whole policy evaluation before approval (intake
// checks, SoD against held and pending access, peer context, routing) through PreviewRequest,
// on SQLite with 1,000 SoD rules and 100,000 grants (5,000 people, 20 each; the catalog of
// sod_bench_test.go). Setup takes about a minute:
//
//	go test -run XXX -bench RequestPolicy -benchtime 2000x ./internal/service
func BenchmarkRequestPolicy(b *testing.B) {
	ctx := context.Background()
	st := storetest.OpenSQLite(b)
	svc := service.New(st, service.Options{})
	sys := service.SystemPrincipal("bench")
	r := rand.New(rand.NewPCG(1, 2))
	ents := make([]string, 5000)
	for i := range ents {
		ents[i] = fmt.Sprintf("sys%02d/ent-%05d", i%50, i)
	}
	const people, each = 5000, 20
	ids := []*gatehouse.Identity{{Email: "bench-owner@example.com", Kind: gatehouse.KindService}}
	for i := range people {
		mgr := ""
		if i > 0 {
			mgr = fmt.Sprintf("E%05d", i/10)
		}
		ids = append(ids, &gatehouse.Identity{EmployeeID: fmt.Sprintf("E%05d", i), Email: fmt.Sprintf("p%05d@example.com", i),
			ManagerID: mgr, Department: fmt.Sprintf("D%02d", i%25), Title: "Engineer"})
	}
	created, err := svc.CreateIdentities(ctx, sys, ids, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.ApplyCatalog(ctx, sys, []catalog.File{{Name: "c.yaml", Content: []byte(sodBenchCatalog(r, ents))}}, false, "bench"); err != nil {
		b.Fatal(err)
	}
	batch := make([]service.NewGrant, 0, 5000)
	for i := range people {
		for _, k := range r.Perm(len(ents))[:each] {
			batch = append(batch, service.NewGrant{Identity: fmt.Sprintf("E%05d", i), Entitlement: ents[k], Reference: "bench", Reason: "bench"})
		}
		if len(batch) == cap(batch) || i == people-1 {
			if _, err := svc.CreateGrants(ctx, sys, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	lat := make([]time.Duration, 0, 4096)
	refused := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		who := created[1+i%people]
		p := &gatehouse.Principal{IdentityID: who.ID, Email: who.Email}
		start := time.Now()
		_, err := svc.PreviewRequest(ctx, p, service.NewRequest{Entitlement: ents[(i*7919)%len(ents)], Justification: "quarter-end close of the books"})
		lat = append(lat, time.Since(start))
		if err != nil {
			if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
				b.Fatal(err)
			}
			refused++ // held already, or an SoD block/exception: evaluated all the same
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(refused)/float64(len(lat)), "refused-fraction")
}
