// Package hrgen generates synthetic HR feeds (the CSV of docs/hr.md) for benchmarks: a company of
// n people in a manager tree, spread over departments, locations and employment types, and
// derived snapshots with a share of movers and leavers.
package hrgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
)

// Departments are the generated departments; benchmark catalogs write birthright rules on them.
var Departments = []string{"Engineering", "Sales", "Finance", "Support", "Marketing", "Operations", "Legal", "People"}

var locations = []string{"Berlin", "Lisbon", "Paris", "London", "Remote"}

// Options shape a generated feed.
type Options struct {
	Seed uint64
	// MoveFraction of people change department; LeaveFraction are terminated. Both pick
	// different people by the seed, so a second feed with the same Seed and other fractions is
	// the first company one step later.
	MoveFraction  float64
	LeaveFraction float64
}

// Write writes a feed of n people: a header, then one row per person. Person i's manager is
// person (i-1)/8, so the tree is 8 wide and every manager comes earlier in the file.
func Write(w io.Writer, n int, o Options) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	r := rand.New(rand.NewPCG(o.Seed, 42))
	fmt.Fprintln(bw, "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date,cost_center")
	for i := range n {
		dept := Departments[r.IntN(len(Departments))]
		loc := locations[r.IntN(len(locations))]
		typ, end := "employee", ""
		switch k := r.IntN(20); {
		case k == 0:
			typ = "intern"
			end = "2027-08-31"
		case k < 4:
			typ = "contractor"
			end = "2027-12-31"
		}
		// Draws for the second snapshot come from the same stream, so they never shift the
		// fields above.
		move, leave := r.Float64(), r.Float64()
		status := "active"
		if move < o.MoveFraction {
			dept = Departments[(indexOf(dept)+1)%len(Departments)]
		}
		if i > 0 && leave < o.LeaveFraction {
			status = "terminated"
			end = "2026-01-31"
		}
		mgr := ""
		if i > 0 {
			mgr = fmt.Sprintf("E%07d", (i-1)/8)
		}
		fmt.Fprintf(bw, "E%07d,person%07d@example.com,First%d,Last%d,%s,%s %d,%s,%s,%s,%s,2020-%02d-%02d,%s,CC%03d\n",
			i, i, i, i, dept, dept, 1+i%5, mgr, loc, typ, status, 1+i%12, 1+i%28, end, i%100)
	}
	return bw.Flush()
}

func indexOf(d string) int {
	for i, x := range Departments {
		if x == d {
			return i
		}
	}
	return 0
}

// TopEmail is the email of the first person of every feed Write writes: the top of the
// company, who has no manager.
const TopEmail = "person0000000@example.com"

// Catalog is a catalog YAML for generated feeds, owned by bench-owner@example.com (a service
// identity the caller creates before applying it): see CatalogOwnedBy.
func Catalog() string { return CatalogOwnedBy("bench-owner@example.com", 0) }

// CatalogOwnedBy is a catalog YAML for generated feeds: one manual system owned by owner (an
// identity must have that email when the catalog is applied), an entitlement per department and
// an all-staff one, and a birthright role for each (so every active person gets two grants);
// plus requestable entitlements dir/req-00, dir/req-01, … with the default approval chain
// (manager, owner), for the request and load drivers.
func CatalogOwnedBy(owner string, requestable int) string {
	s := `settings:
  leaver_guard: {max_fraction: 0.05, min_count: 20}
systems:
  - {id: dir, name: Directory, owner: ` + owner + `, tier: critical, connector: {type: manual}}
entitlements:
  - {id: dir/all-staff, system: dir, name: All staff, kind: group, risk: standard}
`
	for _, d := range Departments {
		s += fmt.Sprintf("  - {id: dir/%s, system: dir, name: %s, kind: group, risk: standard}\n", slug(d), d)
	}
	for k := range requestable {
		s += fmt.Sprintf("  - {id: dir/req-%02d, system: dir, name: Requestable %02d, kind: group, risk: standard}\n", k, k)
	}
	s += "roles:\n  - {id: all-staff, name: All staff, entitlements: [dir/all-staff], birthright: 'identity.status == \"active\" && identity.kind == \"person\"'}\n"
	for _, d := range Departments {
		s += fmt.Sprintf("  - {id: %s, name: %s, entitlements: [dir/%s], birthright: 'identity.department == \"%s\"'}\n", slug(d), d, slug(d), d)
	}
	return s
}

func slug(d string) string {
	b := []byte(d)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
