package jml

import (
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// planPerson classifies one snapshot row against its current identity (nil for a new person).
// It returns nil for an unchanged person.
func planPerson(cur, s *gatehouse.Identity, pr prepared, grants map[string][]*gatehouse.Grant) *Item {
	next, preHire := pr.next, pr.preHire
	it := &Item{EmployeeID: s.EmployeeID, Email: s.Email, Identity: next, Reason: pr.reason}
	var held []*gatehouse.Grant
	if cur != nil {
		it.IdentityID, it.Before = cur.ID, cur
		held = grants[cur.ID]
	}
	entitled := pr.want != nil
	switch {
	case cur == nil && next.Status == gatehouse.StatusTerminated:
		it.Class = NewTerminated
		if it.Reason == "" {
			it.Reason = "first seen already terminated; gets nothing"
		}
		return it
	case cur == nil && preHire:
		it.Class, it.Reason = PreHire, "starts "+next.StartDate+"; nothing is provisioned before the start date minus the lead time"
		return it
	case cur == nil:
		it.Class = Joiner
		if entitled {
			it.Gain = gains(pr.want, nil)
		} else {
			it.Reason = "on leave: no access until active"
		}
		return it
	}
	it.Changes = diff(cur, next)
	switch {
	case next.Status == gatehouse.StatusTerminated:
		if cur.Status == gatehouse.StatusTerminated {
			if len(held) > 0 {
				// Terminated earlier, yet still holding access (a status set by hand, say):
				// a leaver keeps nothing. Not a new removal for the leaver guard.
				it.Class, it.Reason, it.Lose = Leaver, "already terminated; the access still held is revoked", loseAll(held)
				if len(it.Changes) == 0 {
					it.Identity = nil
				}
				return it
			}
			if len(it.Changes) == 0 {
				return nil
			}
			it.Class = Updated
			return it
		}
		it.Class = Leaver
		if it.Reason == "" {
			it.Reason = "terminated by HR"
			if strings.HasPrefix(next.Source, "scim:") {
				it.Reason = "deactivated by " + next.Source // an IdP's SCIM client, not HR
			}
		}
		it.Lose = loseAll(held)
		return it
	case next.Status == gatehouse.StatusLeave:
		if cur.Status == gatehouse.StatusLeave {
			// On leave the grants are kept as they are, whatever else changes.
			if len(it.Changes) == 0 {
				return nil
			}
			it.Class = Updated
			return it
		}
		if cur.Status == gatehouse.StatusTerminated {
			// Rehired straight onto leave: recorded, no access until active.
			it.Class, it.Reason = Rehire, "rehired, on leave"
			return it
		}
		it.Class, it.Reason = Leave, "on leave: suspended, grants kept"
		return it
	}
	// Active (maybe a pre-hire).
	wasPreHire := cur.Attributes[AttrLifecycle] == LifecyclePreHire
	switch {
	case cur.Status == gatehouse.StatusTerminated:
		it.Class, it.Reason = Rehire, "terminated before, active again: birthright only, earlier requests not restored"
	case cur.Status == gatehouse.StatusLeave:
		it.Class, it.Reason = Returner, "back from leave"
	case wasPreHire && !preHire:
		it.Class, it.Reason = Joiner, "start date reached"
	case moved(it.Changes):
		it.Class = Mover
	default:
		it.Class = Updated
	}
	if preHire {
		// A pre-hire holds no birthright yet; anything held from birthright goes.
		it.Lose = loseBirthright(held, nil)
	} else if entitled {
		want := pr.want
		it.Gain = gains(want, held)
		it.Lose = loseBirthright(held, want)
	}
	if it.Class == Mover {
		for _, g := range held {
			if g.Source == gatehouse.SourceRequest {
				it.Confirm = append(it.Confirm, GrantChange{EntitlementID: g.EntitlementID, Source: g.Source, GrantID: g.ID})
			}
		}
		if len(it.Confirm) > 0 {
			it.ConfirmBy = next.ManagerID
		}
	}
	if it.Class == Updated && len(it.Changes) == 0 && len(it.Gain) == 0 && len(it.Lose) == 0 {
		return nil
	}
	if len(it.Changes) == 0 {
		it.Identity = nil // only grants change
		if it.Reason == "" {
			it.Reason = "birthright recomputed"
		}
	}
	return it
}

// moverFields are the fields whose change makes a mover (docs/hr.md).
var moverFields = []string{"department", "title", "manager_id", "location", "employment_type"}

func moved(changes []Change) bool {
	for _, c := range changes {
		if slices.Contains(moverFields, c.Field) {
			return true
		}
	}
	return false
}

// diff lists the HR fields that differ between the stored and the next identity. The source is
// not one: an identity HR owns but did not create (source api or demo) becomes hr-csv with its
// next real change, rather than every such record being rewritten by the first import.
func diff(a, b *gatehouse.Identity) []Change {
	var out []Change
	f := func(name, x, y string) {
		if x != y {
			out = append(out, Change{Field: name, From: x, To: y})
		}
	}
	f("email", a.Email, b.Email)
	f("first_name", a.FirstName, b.FirstName)
	f("last_name", a.LastName, b.LastName)
	f("department", a.Department, b.Department)
	f("title", a.Title, b.Title)
	f("manager_id", a.ManagerID, b.ManagerID)
	f("location", a.Location, b.Location)
	f("employment_type", string(a.EmploymentType), string(b.EmploymentType))
	f("status", string(a.Status), string(b.Status))
	f("start_date", a.StartDate, b.StartDate)
	f("end_date", a.EndDate, b.EndDate)
	if !maps.Equal(a.Attributes, b.Attributes) {
		keys := slices.Sorted(maps.Keys(a.Attributes))
		for k := range b.Attributes {
			if _, ok := a.Attributes[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			if a.Attributes[k] != b.Attributes[k] {
				f("attributes."+k, a.Attributes[k], b.Attributes[k])
			}
		}
	}
	return out
}

func cloneIdentity(i *gatehouse.Identity) *gatehouse.Identity {
	c := *i
	c.Attributes = maps.Clone(i.Attributes)
	c.Roles = slices.Clone(i.Roles)
	return &c
}

// prepared is the part of planning one person that needs no other person: the identity to
// store, and what birthright the rules give it (nil when it gets none: not active, or a
// pre-hire).
type prepared struct {
	next    *gatehouse.Identity
	preHire bool
	reason  string
	want    map[string]string
	log     ruleLog
}

// prepare computes the identity to store for snapshot row s (cur is its stored identity, nil
// for a new person) and evaluates the birthright rules for it.
func prepare(cur, s *gatehouse.Identity, today, provisionFrom string, roles []BirthrightRole, grants map[string][]*gatehouse.Grant) prepared {
	next := cloneIdentity(s)
	pr := prepared{next: next}
	if next.Status == gatehouse.StatusActive && next.EndDate != "" && next.EndDate < today {
		next.Status = gatehouse.StatusTerminated
		pr.reason = "end_date " + next.EndDate + " has passed"
	}
	pr.preHire = next.Status == gatehouse.StatusActive && next.StartDate > provisionFrom
	if pr.preHire {
		if next.Attributes == nil {
			next.Attributes = map[string]string{}
		}
		next.Attributes[AttrLifecycle] = LifecyclePreHire
	}
	var held []*gatehouse.Grant
	if cur != nil {
		held = grants[cur.ID]
		// What HR does not feed stays as it is: id, Gatehouse roles, creation time, kind.
		next.ID, next.Roles, next.CreatedAt, next.Kind = cur.ID, cur.Roles, cur.CreatedAt, cur.Kind
	}
	if next.Status == gatehouse.StatusActive && !pr.preHire {
		pr.want = desiredSet(next, roles, held, &pr.log)
	}
	return pr
}
