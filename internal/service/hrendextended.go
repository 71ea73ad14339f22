package service

import (
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
)

// extendedEndWarnings warns of the people a plan keeps (active or on leave) while moving an
// end_date that has already passed to a later one: the date check would have terminated them,
// and a termination that comes later is then counted from the new date, not late. A contract
// extended after the fact is legitimate; it is said in the plan (and kept in the import's
// summary), so that it is not also a quiet way around the late-leaver count.
func extendedEndWarnings(now time.Time, plan *jml.Plan) []string {
	const most = 5
	var out []string
	n := 0
	for _, it := range plan.Items {
		if it.Identity == nil || it.Identity.Status == gatehouse.StatusTerminated {
			continue
		}
		for _, c := range it.Changes {
			if c.Field != "end_date" || c.From == "" || jml.LateDays(c.From, now) == 0 || (c.To != "" && jml.LateDays(c.To, now) > 0) {
				continue
			}
			n++
			if n <= most {
				to := c.To
				if to == "" {
					to = "none"
				}
				out = append(out, fmt.Sprintf("%s: end_date %s had passed and is moved to %s while %s stays %s",
					it.EmployeeID, c.From, to, it.Email, it.Identity.Status))
			}
		}
	}
	if n > most {
		out = append(out, fmt.Sprintf("%d more people have a passed end_date moved later", n-most))
	}
	return out
}
