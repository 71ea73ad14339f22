package jml

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// TestMarkLateMovedEndDate: a termination that also moves the end date is late by the later
// of the two lateness counts, and says which date it counted from when that is the stored one.
func TestMarkLateMovedEndDate(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name, stored, sent string
		grace              int
		days               int
		late               string
	}{
		{"unchanged, passed", "2026-02-20", "2026-02-20", 0, 10, "terminated 10 days after end date"},
		{"moved to today", "2026-02-20", "2026-03-02", 0, 10, "terminated 10 days after end date (2026-02-20, as stored before this import, which moves it to 2026-03-02)"},
		{"moved later, still passed", "2026-02-20", "2026-02-27", 0, 10, "terminated 10 days after end date (2026-02-20, as stored before this import, which moves it to 2026-02-27)"},
		{"backdated", "2027-01-01", "2026-02-01", 0, 29, "terminated 29 days after end date"},
		{"first end date, backdated", "", "2026-02-25", 0, 5, "terminated 5 days after end date"},
		{"stored future, moved to today", "2026-06-30", "2026-03-02", 0, 0, ""},
		{"within the date check's grace", "2026-03-01", "2026-03-02", 1, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := &Item{Class: Leaver, Identity: &gatehouse.Identity{Status: gatehouse.StatusTerminated, EndDate: tc.sent},
				Changes: []Change{{Field: "status", From: "active", To: "terminated"}}}
			if tc.stored != tc.sent {
				it.Changes = append(it.Changes, Change{Field: "end_date", From: tc.stored, To: tc.sent})
			}
			it.markLate(now, tc.grace)
			if it.LateDays != tc.days || it.Late != tc.late {
				t.Errorf("late = %d %q, want %d %q", it.LateDays, it.Late, tc.days, tc.late)
			}
		})
	}
}
