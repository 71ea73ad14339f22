package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func rule(id string, left, right []string, onViolation string) *gatehouse.SoDRule {
	return &gatehouse.SoDRule{ID: id, Left: left, Right: right, Severity: "high", OnViolation: onViolation}
}

// testRules: maker-checker in payments, and an admin-vs-auditor rule with two entitlements a side.
var testRules = []*gatehouse.SoDRule{
	rule("payments-maker-checker", []string{"pay/create"}, []string{"pay/approve"}, "block"),
	rule("admin-vs-audit", []string{"erp/admin", "crm/admin"}, []string{"erp/audit", "crm/audit"}, "record"),
	rule("deploy-vs-review", []string{"git/merge"}, []string{"git/review", "pay/approve"}, "exception"),
	// Listed on both sides (the catalog refuses this; the index must still not flag it alone).
	rule("overlap", []string{"x/both", "x/left"}, []string{"x/both", "x/right"}, "record"),
}

// got renders conflicts as "rule:left+right" for compact comparison.
func got(cs []SoDConflict) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Rule.ID+":"+c.Left+"+"+c.Right)
	}
	return out
}

func TestSoDConflicts(t *testing.T) {
	t.Parallel()
	x := CompileSoD(testRules)
	tests := []struct {
		name       string
		have, want []string
		conflicts  []string
		violations []string // of have alone
	}{
		{"nothing held, nothing asked", nil, nil, []string{}, []string{}},
		{"no conflict", []string{"pay/create", "erp/audit"}, []string{"git/review"}, []string{}, []string{}},
		{"conflict via want", []string{"pay/create"}, []string{"pay/approve"},
			[]string{"payments-maker-checker:pay/create+pay/approve"}, []string{}},
		{"conflict via want, left side asked", []string{"pay/approve"}, []string{"pay/create"},
			[]string{"payments-maker-checker:pay/create+pay/approve"}, []string{}},
		{"already violated by have is not a conflict of want", []string{"pay/create", "pay/approve"}, []string{"crm/admin"},
			[]string{}, []string{"payments-maker-checker:pay/create+pay/approve"}},
		{"already violated, asking for more of the same rule", []string{"erp/admin", "erp/audit"}, []string{"crm/audit"},
			[]string{}, []string{"admin-vs-audit:erp/admin+erp/audit"}},
		{"multiple rules from one want", []string{"pay/create", "git/merge"}, []string{"pay/approve"},
			[]string{"deploy-vs-review:git/merge+pay/approve", "payments-maker-checker:pay/create+pay/approve"}, []string{}},
		{"both sides in want", nil, []string{"erp/audit", "crm/admin"},
			[]string{"admin-vs-audit:crm/admin+erp/audit"}, []string{}},
		{"first in sorted order on each side", []string{"erp/admin", "crm/admin"}, []string{"erp/audit", "crm/audit"},
			[]string{"admin-vs-audit:crm/admin+crm/audit"}, []string{}},
		{"want already held adds nothing", []string{"pay/create"}, []string{"pay/create"}, []string{}, []string{}},
		{"duplicates", []string{"pay/create", "pay/create"}, []string{"pay/approve", "pay/approve"},
			[]string{"payments-maker-checker:pay/create+pay/approve"}, []string{}},
		{"unknown entitlements", []string{"nope/a"}, []string{"nope/b"}, []string{}, []string{}},
		{"both-sides entitlement alone", nil, []string{"x/both"}, []string{}, []string{}},
		{"both-sides entitlement held, want the left", []string{"x/both"}, []string{"x/left"},
			[]string{"overlap:x/left+x/both"}, []string{}},
		{"both-sides entitlement asked, right held", []string{"x/right"}, []string{"x/both"},
			[]string{"overlap:x/both+x/right"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c := got(x.Conflicts(tt.have, tt.want)); !slices.Equal(c, tt.conflicts) {
				t.Errorf("Conflicts(%v, %v) = %v, want %v", tt.have, tt.want, c, tt.conflicts)
			}
			if v := got(x.Violations(tt.have)); !slices.Equal(v, tt.violations) {
				t.Errorf("Violations(%v) = %v, want %v", tt.have, v, tt.violations)
			}
		})
	}
}

func TestSoDViolations(t *testing.T) {
	t.Parallel()
	x := CompileSoD(testRules)
	have := []string{"git/merge", "pay/approve", "pay/create", "crm/audit", "erp/admin"}
	want := []string{
		"admin-vs-audit:erp/admin+crm/audit",
		"deploy-vs-review:git/merge+pay/approve",
		"payments-maker-checker:pay/create+pay/approve",
	}
	if v := got(x.Violations(have)); !slices.Equal(v, want) {
		t.Errorf("Violations = %v, want %v", v, want)
	}
	// Everything adding a held entitlement's partner would cause is also a violation of the union.
	if c := got(x.Conflicts(have[:1], have[1:])); !slices.Equal(c, want) {
		t.Errorf("Conflicts(first, rest) = %v, want %v", c, want)
	}
}

func TestCompileSoDIgnoresUnusableRules(t *testing.T) {
	t.Parallel()
	x := CompileSoD([]*gatehouse.SoDRule{
		nil,
		rule("empty-right", []string{"a/a"}, nil, "block"),
		rule("dup", []string{"a/a"}, []string{"b/b"}, "block"),
		rule("dup", []string{"c/c"}, []string{"d/d"}, "block"),
	})
	if x.Len() != 1 {
		t.Fatalf("Len = %d, want 1", x.Len())
	}
	if got := got(x.Violations([]string{"a/a", "b/b", "c/c", "d/d"})); !slices.Equal(got, []string{"dup:a/a+b/b"}) {
		t.Errorf("Violations = %v, want the first dup only", got)
	}
	if x.Rule("dup").Left[0] != "a/a" || x.Rule("empty-right") != nil {
		t.Errorf("Rule lookups wrong")
	}
	var nilIndex *SoDIndex
	if nilIndex.Conflicts([]string{"a"}, []string{"b"}) != nil || nilIndex.Violations([]string{"a"}) != nil {
		t.Errorf("a nil index finds nothing")
	}
}

// TestSoDDeterministic checks that the order of input (rules, held and wanted entitlements) never
// changes the answer, and that concurrent callers agree.
func TestSoDDeterministic(t *testing.T) {
	t.Parallel()
	w := newSoDWorld(1, 200, 500)
	x := CompileSoD(w.rules)
	r := rand.New(rand.NewPCG(2, 3))
	for trial := range 200 {
		have := w.someEntitlements(r, 30)
		want := w.someEntitlements(r, 3)
		base := got(x.Conflicts(have, want))
		baseV := got(x.Violations(have))

		shuffled := slices.Clone(w.rules)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		y := CompileSoD(shuffled)
		h2, w2 := slices.Clone(have), slices.Clone(want)
		r.Shuffle(len(h2), func(i, j int) { h2[i], h2[j] = h2[j], h2[i] })
		r.Shuffle(len(w2), func(i, j int) { w2[i], w2[j] = w2[j], w2[i] })
		if c := got(y.Conflicts(h2, w2)); !slices.Equal(c, base) {
			t.Fatalf("trial %d: Conflicts depends on order: %v vs %v", trial, c, base)
		}
		if v := got(y.Violations(h2)); !slices.Equal(v, baseV) {
			t.Fatalf("trial %d: Violations depends on order: %v vs %v", trial, v, baseV)
		}
		// Cross-check against the definition, rule by rule.
		if want := naiveConflicts(w.rules, have, want); !slices.Equal(base, want) {
			t.Fatalf("trial %d: Conflicts = %v, by definition %v", trial, base, want)
		}
		if want := naiveViolations(w.rules, have); !slices.Equal(baseV, want) {
			t.Fatalf("trial %d: Violations = %v, by definition %v", trial, baseV, want)
		}
	}
	// Concurrent use of one index.
	have, want := w.someEntitlements(r, 40), w.someEntitlements(r, 5)
	expect := got(x.Conflicts(have, want))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if c := got(x.Conflicts(have, want)); !slices.Equal(c, expect) {
					t.Errorf("concurrent Conflicts = %v, want %v", c, expect)
					return
				}
			}
		})
	}
	wg.Wait()
}

// naiveBroken is the definition: some left and some different right entitlement are held; the
// pair named is the smallest left with a partner and its smallest partner.
func naiveBroken(r *gatehouse.SoDRule, set map[string]bool) (string, string, bool) {
	l := slices.Sorted(slices.Values(r.Left))
	rt := slices.Sorted(slices.Values(r.Right))
	for _, a := range l {
		for _, b := range rt {
			if set[a] && set[b] && a != b {
				return a, b, true
			}
		}
	}
	return "", "", false
}

func setOf(lists ...[]string) map[string]bool {
	m := map[string]bool{}
	for _, l := range lists {
		for _, e := range l {
			m[e] = true
		}
	}
	return m
}

func naiveConflicts(rules []*gatehouse.SoDRule, have, want []string) []string {
	h, all := setOf(have), setOf(have, want)
	out := []string{}
	sorted := slices.Clone(rules)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for _, r := range sorted {
		if _, _, before := naiveBroken(r, h); before {
			continue
		}
		if a, b, after := naiveBroken(r, all); after {
			out = append(out, r.ID+":"+a+"+"+b)
		}
	}
	return out
}

func naiveViolations(rules []*gatehouse.SoDRule, have []string) []string {
	return naiveConflicts(rules, nil, have)
}

// sodWorld is a synthetic catalog: rules with 1–5 entitlements a side over a pool of entitlements.
type sodWorld struct {
	ents  []string
	rules []*gatehouse.SoDRule
}

func newSoDWorld(seed uint64, rules, ents int) *sodWorld {
	r := rand.New(rand.NewPCG(seed, seed+1))
	w := &sodWorld{}
	for i := range ents {
		w.ents = append(w.ents, fmt.Sprintf("sys%02d/ent-%05d", i%50, i))
	}
	for i := range rules {
		side := func() []string {
			n := 1 + r.IntN(5)
			out := make([]string, 0, n)
			for range n {
				out = append(out, w.ents[r.IntN(ents)])
			}
			return out
		}
		w.rules = append(w.rules, rule(fmt.Sprintf("rule-%04d", i), side(), side(), []string{"block", "exception", "record"}[i%3]))
	}
	return w
}

func (w *sodWorld) someEntitlements(r *rand.Rand, n int) []string {
	out := make([]string, 0, n)
	for range n {
		out = append(out, w.ents[r.IntN(len(w.ents))])
	}
	return out
}

// BenchmarkSoDCheck is the request-time check: 1,000 rules over 5,000 entitlements, a beneficiary
// holding about 20 (of 100,000 grants across 5,000 people), one entitlement requested. It
// reports p99 latency alongside ns/op; the target is under 1 ms at p99.
func BenchmarkSoDCheck(b *testing.B) {
	w := newSoDWorld(7, 1000, 5000)
	x := CompileSoD(w.rules)
	r := rand.New(rand.NewPCG(8, 9))
	// 100,000 grants over 5,000 people: 20 each.
	const people = 5000
	held := make([][]string, people)
	for i := range held {
		held[i] = w.someEntitlements(r, 100_000/people)
	}
	wants := w.someEntitlements(r, 1024)
	lat := make([]time.Duration, 0, b.N)
	found := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		found += len(x.Conflicts(held[i%people], wants[i%len(wants):i%len(wants)+1]))
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
	b.ReportMetric(float64(found)/float64(len(lat)), "conflicts/op")
}

// BenchmarkViolationsAll is the detective pass: every one of 100,000 grants (5,000 people, 20
// each) checked against 1,000 rules. One op is the whole population.
func BenchmarkViolationsAll(b *testing.B) {
	w := newSoDWorld(7, 1000, 5000)
	x := CompileSoD(w.rules)
	r := rand.New(rand.NewPCG(10, 11))
	const people = 5000
	held := make([][]string, people)
	for i := range held {
		held[i] = w.someEntitlements(r, 100_000/people)
	}
	found := 0
	b.ReportAllocs()
	for b.Loop() {
		found = 0
		for _, h := range held {
			found += len(x.Violations(h))
		}
	}
	b.ReportMetric(float64(found), "violations")
}

// BenchmarkCompileSoD measures building the index from 1,000 rules, paid once per catalog load.
func BenchmarkCompileSoD(b *testing.B) {
	w := newSoDWorld(7, 1000, 5000)
	b.ReportAllocs()
	for b.Loop() {
		CompileSoD(w.rules)
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Nanoseconds()) }
	b.ReportMetric(at(0.50), "p50-ns")
	b.ReportMetric(at(0.99), "p99-ns")
}
