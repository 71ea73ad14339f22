package service_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/bench/hrgen"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkImportHR measures HR imports of 100,000 people (targets in bench/README.md), on
// SQLite and, when GATEHOUSE_TEST_POSTGRES is set, on PostgreSQL right after it, so that the two
// engines are compared under the same load:
//
//	go test -run '^$' -bench BenchmarkImportHR -benchtime 1x ./internal/service
//
// dry-run: parse and plan 100,000 joiners; apply: the same, written; next-dry-run and
// next-apply: a second feed (1% movers, 0.5% leavers) against the 100,000 stored people. Each
// is a sub-benchmark per engine: BenchmarkImportHR/apply/sqlite, BenchmarkImportHR/apply/postgres.
func BenchmarkImportHR(b *testing.B) {
	const n = 100_000
	var first, next bytes.Buffer
	if err := hrgen.Write(&first, n, hrgen.Options{Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if err := hrgen.Write(&next, n, hrgen.Options{Seed: 1, MoveFraction: 0.01, LeaveFraction: 0.005}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	p := service.SystemPrincipal("bench")
	engines := []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}}
	if os.Getenv("GATEHOUSE_TEST_POSTGRES") != "" {
		engines = append(engines, struct {
			name string
			open func(testing.TB) store.Store
		}{"postgres", storetest.OpenPostgres})
	}
	setup := func(b *testing.B, open func(testing.TB) store.Store) *service.Service {
		svc := service.New(open(b), service.Options{})
		if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{Email: "bench-owner@example.com", Kind: gatehouse.KindService}, "bench"); err != nil {
			b.Fatal(err)
		}
		cat := []catalog.File{{Name: "c.yaml", Content: []byte(hrgen.Catalog())}}
		if _, err := svc.ApplyCatalog(ctx, p, cat, false, "bench"); err != nil {
			b.Fatal(err)
		}
		return svc
	}
	run := func(b *testing.B, svc *service.Service, data []byte, dry bool) *service.HRImportResult {
		res, err := svc.ImportHR(ctx, p, "hr.csv", data, dry)
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	perEngine := func(name string, fn func(b *testing.B, open func(testing.TB) store.Store)) {
		b.Run(name, func(b *testing.B) {
			for _, e := range engines {
				b.Run(e.name, func(b *testing.B) { fn(b, e.open) })
			}
		})
	}
	perEngine("dry-run", func(b *testing.B, open func(testing.TB) store.Store) {
		svc := setup(b, open)
		for b.Loop() {
			res := run(b, svc, first.Bytes(), true)
			b.ReportMetric(float64(res.Plan.Summary.GrantsGained), "grants")
		}
	})
	perEngine("apply", func(b *testing.B, open func(testing.TB) store.Store) {
		for b.Loop() {
			b.StopTimer()
			svc := setup(b, open)
			b.StartTimer()
			res := run(b, svc, first.Bytes(), false)
			b.ReportMetric(float64(res.Plan.Summary.GrantsGained), "grants")
		}
	})
	for _, dry := range []bool{true, false} {
		name := "next-apply"
		if dry {
			name = "next-dry-run"
		}
		perEngine(name, func(b *testing.B, open func(testing.TB) store.Store) {
			for b.Loop() {
				b.StopTimer()
				svc := setup(b, open)
				run(b, svc, first.Bytes(), false)
				b.StartTimer()
				res := run(b, svc, next.Bytes(), dry)
				b.ReportMetric(float64(res.Plan.Summary.Movers+res.Plan.Summary.Leavers), "changed")
			}
		})
	}
}
