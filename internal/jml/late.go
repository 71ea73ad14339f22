package jml

import (
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Late leavers. A leaver is late when the termination happens after their end_date: auditors
// count the people who kept access past their last day. The feed has dates, not times, so
// lateness is counted in whole calendar days, the way the planner already decides that an end
// date has passed: the end_date is the last day of employment (the person is still active on
// it), and the day of the termination is the UTC date of the moment the plan is made. A
// termination on the end_date itself, or before it, is on time; one on a later UTC date is
// late by the difference ("terminated 3 days after end date").

// LateDays is how many whole days after endDate (YYYY-MM-DD) a termination at at is: 0 when it
// is on or before that date, or when endDate is empty or not a date.
func LateDays(endDate string, at time.Time) int {
	if endDate == "" {
		return 0
	}
	end, err := time.Parse(gatehouse.DateLayout, endDate)
	if err != nil {
		return 0
	}
	y, m, d := at.UTC().Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	// Dates at UTC midnight are whole days apart: no daylight saving time in UTC.
	days := int(day.Sub(end) / (24 * time.Hour))
	return max(days, 0)
}

// LateText says how late a termination is, for the plan, the import's page and the audit log.
func LateText(days int) string {
	if days == 1 {
		return "terminated 1 day after end date"
	}
	return fmt.Sprintf("terminated %d days after end date", days)
}

// markLate flags a leaver this plan terminates after their end date. Only a termination the
// plan makes counts (status changes to terminated): a person terminated earlier who still
// holds access is not terminated again, and a person first seen already terminated never had
// access. A termination within grace days after the end date is on time (Options.OnTimeDays).
func (it *Item) markLate(now time.Time, grace int) {
	if it.Class != Leaver || it.Identity == nil || it.Identity.Status != gatehouse.StatusTerminated || !it.statusChanged() {
		return
	}
	days := LateDays(it.Identity.EndDate, now)
	// An end date the same import moves later does not make the termination on time: the
	// end date known before it is what the access outlived (otherwise a file that terminates
	// someone would hide their lateness by also moving their end_date to today).
	stored := ""
	for _, c := range it.Changes {
		if c.Field == "end_date" && c.From != "" {
			if d := LateDays(c.From, now); d > days {
				days, stored = d, c.From
			}
		}
	}
	if days <= grace {
		return
	}
	it.LateDays, it.Late = days, LateText(days)
	if stored != "" {
		it.Late += fmt.Sprintf(" (%s, as stored before this import, which moves it to %s)", stored, it.Identity.EndDate)
	}
}
