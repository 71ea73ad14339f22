package jml

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Birthright grants: what the roles' rules give a person, and what they gain or lose when that
// changes (or lose entirely as a leaver).

// desiredSet evaluates every birthright role for id: entitlement id → the first role (by id)
// that gives it. An entitlement whose rule cannot be evaluated is kept if held, so a rule error
// never revokes access by accident; the error is a plan warning.
func desiredSet(id *gatehouse.Identity, roles []BirthrightRole, held []*gatehouse.Grant, log *ruleLog) map[string]string {
	want := map[string]string{}
	for _, r := range roles {
		ok, err := r.Rule.Matches(id)
		if err != nil {
			log.errors++
			if len(log.warnings) < maxWarnings {
				log.warnings = append(log.warnings, fmt.Sprintf("%s: role %s: %v", id.EmployeeID, r.Role.ID, err))
			}
			for _, g := range held {
				if g.Source == gatehouse.SourceBirthright && g.Reference == r.Role.ID {
					if _, dup := want[g.EntitlementID]; !dup {
						want[g.EntitlementID] = r.Role.ID
					}
				}
			}
			continue
		}
		if !ok {
			continue
		}
		for _, e := range r.Role.Entitlements {
			if _, dup := want[e]; !dup {
				want[e] = r.Role.ID
			}
		}
	}
	return want
}

// gains is what an identity gains: desired entitlements it holds by no active grant (of any
// source: a requested entitlement that birthright now implies needs no second grant).
func gains(want map[string]string, held []*gatehouse.Grant) []GrantChange {
	has := make(map[string]bool, len(held))
	for _, g := range held {
		has[g.EntitlementID] = true
	}
	var out []GrantChange
	for _, e := range slices.Sorted(maps.Keys(want)) {
		if !has[e] {
			out = append(out, GrantChange{EntitlementID: e, Role: want[e], Source: gatehouse.SourceBirthright})
		}
	}
	return out
}

// loseBirthright is the held birthright grants that want no longer supports.
func loseBirthright(held []*gatehouse.Grant, want map[string]string) []GrantChange {
	var out []GrantChange
	for _, g := range held {
		if g.Source != gatehouse.SourceBirthright {
			continue
		}
		if _, ok := want[g.EntitlementID]; ok {
			continue
		}
		out = append(out, GrantChange{EntitlementID: g.EntitlementID, Role: g.Reference, Source: g.Source, GrantID: g.ID})
	}
	sortChanges(out)
	return out
}

// loseAll is every held grant: a leaver keeps nothing.
func loseAll(held []*gatehouse.Grant) []GrantChange {
	out := make([]GrantChange, 0, len(held))
	for _, g := range held {
		gc := GrantChange{EntitlementID: g.EntitlementID, Source: g.Source, GrantID: g.ID}
		if g.Source == gatehouse.SourceBirthright {
			gc.Role = g.Reference
		}
		out = append(out, gc)
	}
	sortChanges(out)
	return out
}

func sortChanges(cs []GrantChange) {
	slices.SortFunc(cs, func(a, b GrantChange) int { return strings.Compare(a.EntitlementID, b.EntitlementID) })
}

// Recompute recomputes the birthright grants of every active identity that has started (pre-hires
// and people on leave or terminated keep what they have), for a catalog change that adds,
// changes or removes a birthright rule: HR data and the catalog may arrive in either order.
// Items are of class Updated and change only grants.
func Recompute(current []*gatehouse.Identity, roles []BirthrightRole, grants map[string][]*gatehouse.Grant) *Plan {
	p := &Plan{Items: []*Item{}}
	for _, c := range current {
		if c.Status != gatehouse.StatusActive || c.Attributes[AttrLifecycle] == LifecyclePreHire {
			continue
		}
		held := grants[c.ID]
		var log ruleLog
		want := desiredSet(c, roles, held, &log)
		p.merge(&log)
		it := &Item{Class: Updated, EmployeeID: c.EmployeeID, Email: c.Email, IdentityID: c.ID, Before: c,
			Reason: "catalog changed: birthright recomputed", Gain: gains(want, held), Lose: loseBirthright(held, want)}
		if len(it.Gain) > 0 || len(it.Lose) > 0 {
			p.add(it)
		}
	}
	return p
}
