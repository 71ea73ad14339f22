package jml

import (
	"fmt"
	"strings"
)

// Snapshots and deltas. An HR file is a full snapshot of everyone unless it is sent as a delta
// (gatehouse hr import --delta): then its rows are upserts, the people it does not list are left
// alone, and a manager may be a stored person rather than a row. A file of changes sent as a
// snapshot is the usual mistake, and it shows in two ways: managers the file does not list, and
// a plan that terminates most of the company. Both say so, naming the delta mode.

// SnapshotHint ends the problem and the plan message of a file that looks like changes only.
const SnapshotHint = "an HR file is a full snapshot of everyone; to send only changes use `gatehouse hr import --delta`"

// partialShare: a snapshot that terminates or suspends more than this share of the current
// people looks like a partial file.
const partialShare = 0.5

// NotePartial adds to a snapshot's plan, when it would terminate, suspend or hold as missing
// more than half of the current people (HR's people not terminated, active or on leave,
// counted before the import), that the file looks partial: to the held reason when the leaver
// guard holds it, to the warnings otherwise. It changes no decision: the guard holds what it
// holds.
func (p *Plan) NotePartial(current int) {
	n := p.Summary.Removals + p.Summary.Missing
	if current <= 0 || float64(n) <= partialShare*float64(current) {
		return
	}
	msg := fmt.Sprintf("it would remove %d of the %d current people: this looks like a partial file; %s", n, current, SnapshotHint)
	if p.Held {
		p.HeldReason += "; " + msg
		return
	}
	p.Warnings = append(p.Warnings, msg)
}

// CheckDeltaManagers checks the managers of a delta that are not rows of it: each must be the
// employee_id of a stored person (stored answers a stored person's manager_id and whether
// there is one), and no chain of managers through the stored people may come back to the row
// it started from. Problems name the file, line and field; nil means every manager is known.
func CheckDeltaManagers(f *Feed, stored func(employeeID string) (managerID string, ok bool)) error {
	var probs problemList
	// managerOf is a person's manager as the import would leave it: the file's row wins over
	// the stored person.
	managerOf := func(emp string) (string, bool) {
		if r, ok := f.byEmp[emp]; ok {
			return f.value(int(r), f.at[colManagerID]), true
		}
		return stored(emp)
	}
	inCycle := map[string]bool{}
	for _, r := range f.outside {
		n := int(r)
		emp, mgr := f.EmployeeID(n), f.value(n, f.at[colManagerID])
		if _, ok := stored(mgr); !ok {
			probs.add(Problem{Line: f.line(n), Field: "manager_id",
				Message: fmt.Sprintf("%q is neither the employee_id of a row nor of a stored person", mgr)})
			continue
		}
		if inCycle[emp] {
			continue
		}
		// Walk up from the row; a chain that comes back to it is a cycle the import would make.
		path := []string{emp}
		seen := map[string]bool{emp: true}
		for cur := mgr; cur != ""; {
			if cur == emp {
				path = append(path, emp)
				for _, e := range path {
					inCycle[e] = true
				}
				probs.add(Problem{Line: f.line(n), Field: "manager_id",
					Message: "manager cycle with the stored people: " + strings.Join(path, " → ")})
				break
			}
			if seen[cur] {
				break // a cycle above the row, among stored people: not this file's doing
			}
			seen[cur] = true
			path = append(path, cur)
			next, ok := managerOf(cur)
			if !ok {
				break
			}
			cur = next
		}
	}
	if len(probs.probs) == 0 {
		return nil
	}
	return probs.list(f.name)
}
