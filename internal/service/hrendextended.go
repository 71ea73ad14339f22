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
	var x endExtensions
	x.visit(now, plan.Items)
	return x.warnings()
}

// endExtensions is extendedEndWarnings over a plan handed over a chunk of items at a time.
type endExtensions struct {
	n   int
	out []string
}

// endExtensionsNamed is how many people the warnings name; the others are counted.
const endExtensionsNamed = 5

func (x *endExtensions) visit(now time.Time, items []*jml.Item) {
	for _, it := range items {
		if it.Identity == nil || it.Identity.Status == gatehouse.StatusTerminated {
			continue
		}
		for _, c := range it.Changes {
			if c.Field != "end_date" || c.From == "" || jml.LateDays(c.From, now) == 0 || (c.To != "" && jml.LateDays(c.To, now) > 0) {
				continue
			}
			x.n++
			if x.n <= endExtensionsNamed {
				to := c.To
				if to == "" {
					to = "none"
				}
				x.out = append(x.out, fmt.Sprintf("%s: end_date %s had passed and is moved to %s while %s stays %s",
					it.EmployeeID, c.From, to, it.Email, it.Identity.Status))
			}
		}
	}
}

func (x *endExtensions) warnings() []string {
	if x.n > endExtensionsNamed {
		return append(x.out, fmt.Sprintf("%d more people have a passed end_date moved later", x.n-endExtensionsNamed))
	}
	return x.out
}
