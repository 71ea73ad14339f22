package service

import (
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
)

// terminatedManagerWarnings warns, for a delta, of the people it leaves active or on leave under
// a stored manager who is terminated: the file is accepted (a snapshot does not refuse a
// terminated manager either), but a mover's confirmations and manager approval steps would go
// to someone who has left, so HR should see it before applying.
func terminatedManagerWarnings(feed *jml.Feed, current []*gatehouse.Identity) []string {
	byEmp := make(map[string]*gatehouse.Identity, len(current))
	for _, c := range current {
		if c.EmployeeID != "" {
			byEmp[c.EmployeeID] = c
		}
	}
	const most = 5
	var out []string
	n := 0
	for i := range feed.Len() {
		row := feed.Identity(i)
		if row.Status == gatehouse.StatusTerminated || row.ManagerID == "" || feed.Contains(row.ManagerID) {
			continue
		}
		m, ok := byEmp[row.ManagerID]
		if !ok || m.Status != gatehouse.StatusTerminated {
			continue
		}
		n++
		if n <= most {
			out = append(out, fmt.Sprintf("%s: manager_id %q is a terminated person (%s); manager steps and mover confirmations would go to them",
				row.EmployeeID, row.ManagerID, m.Email))
		}
	}
	if n > most {
		out = append(out, fmt.Sprintf("%d more rows name a terminated manager", n-most))
	}
	return out
}
