package jml

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func TestLateDays(t *testing.T) {
	at := time.Date(2026, 6, 15, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		end  string
		at   time.Time
		want int
	}{
		{"", at, 0},
		{"not a date", at, 0},
		{"2026-06-15", at, 0},                      // the end date itself: on time
		{"2026-06-20", at, 0},                      // in the future
		{"2026-06-14", at, 1},                      // the day after
		{"2026-06-12", at, 3},                      // three days after, whatever the hour
		{"2026-06-12", at.Add(-23 * time.Hour), 3}, // 00:30 the same UTC day
		{"2025-06-15", at, 365},                    // a year late
		// A time in another zone counts by its UTC date: 2026-06-16 01:00 in Berlin is
		// 2026-06-15 23:00 UTC.
		{"2026-06-14", time.Date(2026, 6, 16, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)), 1},
	}
	for _, tc := range tests {
		if got := LateDays(tc.end, tc.at); got != tc.want {
			t.Errorf("LateDays(%q, %s) = %d, want %d", tc.end, tc.at, got, tc.want)
		}
	}
	if got := LateText(3); got != "terminated 3 days after end date" {
		t.Errorf("LateText(3) = %q", got)
	}
	if got := LateText(1); got != "terminated 1 day after end date" {
		t.Errorf("LateText(1) = %q", got)
	}
}

// TestPlanLateLeavers: now is 2026-06-15 (plan_test.go).
func TestPlanLateLeavers(t *testing.T) {
	rs := roles(t)
	end := func(d string) func(*gatehouse.Identity) { return func(i *gatehouse.Identity) { i.EndDate = d } }
	tests := []struct {
		name    string
		current *gatehouse.Identity // nil: new
		snap    *gatehouse.Identity // nil: missing from the snapshot
		opts    Options
		class   Class
		late    int
	}{
		{name: "terminated 3 days after end date", current: stored(person("E1", "Eng", "active")),
			snap: person("E1", "Eng", "terminated", end("2026-06-12")), class: Leaver, late: 3},
		{name: "terminated on the end date", current: stored(person("E1", "Eng", "active")),
			snap: person("E1", "Eng", "terminated", end("2026-06-15")), class: Leaver},
		{name: "terminated before a future end date", current: stored(person("E1", "Eng", "active")),
			snap: person("E1", "Eng", "terminated", end("2026-07-01")), class: Leaver},
		{name: "terminated without an end date", current: stored(person("E1", "Eng", "active")),
			snap: person("E1", "Eng", "terminated"), class: Leaver},
		{name: "active with a passed end date", current: stored(person("E1", "Eng", "active")),
			snap: person("E1", "Eng", "active", end("2026-06-10")), class: Leaver, late: 5},
		{name: "active with a future end date stays", current: stored(person("E1", "Eng", "active")),
			snap: person("E1", "Eng", "active", end("2026-06-30")), class: Updated},
		{name: "missing from the snapshot with a passed stored end date", current: stored(person("E1", "Eng", "active", end("2026-06-13"))),
			class: Leaver, late: 2},
		{name: "on leave, then terminated late", current: stored(person("E1", "Eng", "leave")),
			snap: person("E1", "Eng", "terminated", end("2026-06-01")), class: Leaver, late: 14},
		{name: "already terminated: not terminated again", current: stored(person("E1", "Eng", "terminated")),
			snap: person("E1", "Eng", "terminated", end("2026-06-01")), class: Updated},
		{name: "first seen terminated never had access", snap: person("E1", "Eng", "terminated", end("2026-06-01")), class: NewTerminated},
		{name: "the date check's day after is on time", current: stored(person("E1", "Eng", "active", end("2026-06-14"))),
			snap: person("E1", "Eng", "active", end("2026-06-14")), opts: Options{OnTimeDays: 1}, class: Leaver},
		{name: "the date check two days after is late", current: stored(person("E1", "Eng", "active", end("2026-06-13"))),
			snap: person("E1", "Eng", "active", end("2026-06-13")), opts: Options{OnTimeDays: 1}, class: Leaver, late: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cur, snap []*gatehouse.Identity
			if tc.current != nil {
				cur = append(cur, tc.current)
			}
			if tc.snap != nil {
				snap = append(snap, tc.snap)
			}
			p := MakePlan(now, cur, snap, rs, nil, tc.opts)
			if len(p.Items) != 1 {
				t.Fatalf("got %d items, want 1", len(p.Items))
			}
			it := p.Items[0]
			if it.Class != tc.class {
				t.Fatalf("class = %s (%s), want %s", it.Class, it.Reason, tc.class)
			}
			if it.LateDays != tc.late {
				t.Errorf("late_days = %d, want %d", it.LateDays, tc.late)
			}
			wantText, wantCount := "", 0
			if tc.late > 0 {
				wantText, wantCount = LateText(tc.late), 1
			}
			if it.Late != wantText {
				t.Errorf("late = %q, want %q", it.Late, wantText)
			}
			if p.Summary.LateLeavers != wantCount {
				t.Errorf("summary.late_leavers = %d, want %d", p.Summary.LateLeavers, wantCount)
			}
			// Only (the date check's filter) counts them again.
			if got := p.Only(Leaver).Summary.LateLeavers; tc.class == Leaver && got != wantCount {
				t.Errorf("Only: late_leavers = %d, want %d", got, wantCount)
			}
		})
	}
}
