package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// sodBenchCatalog is 5,000 entitlements over 50 systems and 1,000 SoD rules with 1–5 distinct
// entitlements a side, never the same on both.
func sodBenchCatalog(r *rand.Rand, ents []string) string {
	var b strings.Builder
	b.WriteString("systems:\n")
	for s := range 50 {
		fmt.Fprintf(&b, "  - {id: sys%02d, name: S%d, owner: bench-owner@example.com, tier: standard, connector: {type: manual}}\n", s, s)
	}
	b.WriteString("entitlements:\n")
	for _, e := range ents {
		sys, _, _ := strings.Cut(e, "/")
		fmt.Fprintf(&b, "  - {id: %s, system: %s, name: %s, kind: group, risk: standard}\n", e, sys, e)
	}
	b.WriteString("sod:\n")
	for i := range 1000 {
		perm := r.Perm(len(ents))
		nl, nr := 1+r.IntN(5), 1+r.IntN(5)
		pick := func(idx []int) string {
			out := make([]string, len(idx))
			for j, k := range idx {
				out[j] = ents[k]
			}
			return strings.Join(out, ", ")
		}
		fmt.Fprintf(&b, "  - {id: rule-%04d, left: [%s], right: [%s], severity: high, on_violation: %s}\n",
			i, pick(perm[:nl]), pick(perm[nl:nl+nr]), []string{"block", "exception", "record"}[i%3])
	}
	return b.String()
}

// BenchmarkSoDServicePath measures the SoD checks against a SQLite store holding 100,000 grants
// (5,000 people, 20 each) and 1,000 rules. Setup takes about a minute; give each part its own
// benchtime:
//
//	go test -run '^$' -bench 'BenchmarkSoDServicePath/check' -benchtime 5000x ./internal/service
//	go test -run '^$' -bench 'BenchmarkSoDServicePath/check-compiling' -benchtime 500x ./internal/service
//	go test -run '^$' -bench 'BenchmarkSoDServicePath/violations-all' -benchtime 3x ./internal/service
//
// check: a request-time check, reading one person's active grants from the store and asking the
// service's cached compiled rules (one indexed read to see no catalog apply happened since) what
// one more entitlement would break; reports p99. check-compiling: the same, reading and compiling
// the rules every time. violations-all: the detective report over everyone.
func BenchmarkSoDServicePath(b *testing.B) {
	ctx := context.Background()
	st := storetest.OpenSQLite(b)
	svc := service.New(st, service.Options{})
	sys := service.SystemPrincipal("bench")
	r := rand.New(rand.NewPCG(1, 2))
	setupStart := time.Now()
	stage := func(what string) {
		b.Logf("setup: %s done after %v", what, time.Since(setupStart).Round(time.Millisecond))
	}
	ents := make([]string, 5000)
	for i := range ents {
		ents[i] = fmt.Sprintf("sys%02d/ent-%05d", i%50, i)
	}
	const people, each = 5000, 20
	var ids []*gatehouse.Identity
	ids = append(ids, &gatehouse.Identity{Email: "bench-owner@example.com", Kind: gatehouse.KindService})
	for i := range people {
		ids = append(ids, &gatehouse.Identity{EmployeeID: fmt.Sprintf("E%05d", i), Email: fmt.Sprintf("p%05d@example.com", i)})
	}
	if _, err := svc.CreateIdentities(ctx, sys, ids, "bench"); err != nil {
		b.Fatal(err)
	}
	stage("identities")
	cat := []catalog.File{{Name: "c.yaml", Content: []byte(sodBenchCatalog(r, ents))}}
	if _, err := svc.ApplyCatalog(ctx, sys, cat, false, "bench"); err != nil {
		b.Fatal(err)
	}
	stage("catalog")
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
	stage("grants")
	if _, err := svc.SoDIndexForTest(ctx, st); err != nil { // compiled once, as a running server has it
		b.Fatal(err)
	}
	identities := make([]string, 0, people)
	for i := range people {
		id, err := st.GetIdentity(ctx, fmt.Sprintf("E%05d", i))
		if err != nil {
			b.Fatal(err)
		}
		identities = append(identities, id.ID)
	}

	b.Run("check", func(b *testing.B) {
		lat := make([]time.Duration, 0, 4096)
		held := make([]string, 0, 64)
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			page, err := st.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: identities[i%people], Status: "active", Limit: gatehouse.MaxLimit})
			if err != nil {
				b.Fatal(err)
			}
			held = held[:0]
			now := time.Now()
			for _, g := range page.Items {
				if g.Active(now) {
					held = append(held, g.EntitlementID)
				}
			}
			idx, err := svc.SoDIndexForTest(ctx, st)
			if err != nil {
				b.Fatal(err)
			}
			idx.Conflicts(held, ents[(i*7919)%len(ents):(i*7919)%len(ents)+1])
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	})
	// check-compiling is the same check for a caller that reads and compiles the rules on every
	// check instead of holding a compiled index: the price of not caching it.
	b.Run("check-compiling", func(b *testing.B) {
		lat := make([]time.Duration, 0, 4096)
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			rules, err := st.ListSoDRules(ctx)
			if err != nil {
				b.Fatal(err)
			}
			page, err := st.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: identities[i%people], Status: "active", Limit: gatehouse.MaxLimit})
			if err != nil {
				b.Fatal(err)
			}
			held := make([]string, 0, len(page.Items))
			for _, g := range page.Items {
				held = append(held, g.EntitlementID)
			}
			policy.CompileSoD(rules).Conflicts(held, ents[(i*7919)%len(ents):(i*7919)%len(ents)+1])
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	})
	b.Run("violations-all", func(b *testing.B) {
		auditor := &gatehouse.Principal{Email: "aud@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAuditor}}
		for b.Loop() {
			rep, err := svc.SoDViolations(ctx, auditor, service.SoDViolationFilter{})
			if err != nil {
				b.Fatal(err)
			}
			if rep.GrantsChecked != people*each {
				b.Fatalf("checked %d grants, want %d", rep.GrantsChecked, people*each)
			}
			b.ReportMetric(float64(rep.Count), "violations")
		}
	})
}
