package policy

// Separation of duties. A rule is broken by a set of entitlements that holds at least one of its
// Left entitlements and at least one of its Right entitlements, two different ones: an
// entitlement listed on both sides (the catalog validator refuses that, but rules reach this
// package from elsewhere too) does not break the rule on its own, since one grant is not two
// duties. It does break it together with any other entitlement of either side.
//
// Checks are answered from an index (entitlement → the rules and sides it appears in), so their
// cost is what the person holds and asks for plus the rules those touch, never the number of
// rules. Results are sorted by rule id and the entitlements named are chosen in sorted order, so
// the same input always gives the same answer.

import (
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// SoDIndex is a compiled set of SoD rules: for each entitlement, the rules it appears in and on
// which side, so that checking a person's access costs what they hold, not the number of rules.
// It is immutable and safe for concurrent use.
type SoDIndex struct {
	rules []*gatehouse.SoDRule // sorted by id; index positions are the order of results
	byEnt map[string][]sideRef // entitlement id → where it appears, by rule position
	byID  map[string]int       // rule id → position
}

// sideRef says that an entitlement is on a side of the rule at position rule.
type sideRef struct {
	rule  int32
	left  bool
	right bool
}

// SoDConflict is one rule a set of entitlements breaks: Left and Right are the entitlements
// found on each side (one each; the first in sorted order when several).
type SoDConflict struct {
	Rule  *gatehouse.SoDRule `json:"rule"`
	Left  string             `json:"left"`
	Right string             `json:"right"`
}

// CompileSoD indexes rules. Nil rules and rules with an empty side are ignored (they can never be
// broken); of two rules with the same id, the first is kept, as the catalog refuses duplicates.
// The rules are shared, not copied: callers must not change them afterwards.
func CompileSoD(rules []*gatehouse.SoDRule) *SoDIndex {
	x := &SoDIndex{byEnt: make(map[string][]sideRef, 4*len(rules)), byID: make(map[string]int, len(rules))}
	for _, r := range rules {
		if r == nil || len(r.Left) == 0 || len(r.Right) == 0 {
			continue
		}
		if _, dup := x.byID[r.ID]; dup {
			continue
		}
		x.byID[r.ID] = -1
		x.rules = append(x.rules, r)
	}
	slices.SortStableFunc(x.rules, func(a, b *gatehouse.SoDRule) int { return strings.Compare(a.ID, b.ID) })
	for i, r := range x.rules {
		x.byID[r.ID] = i
		// Each entitlement gets one entry per rule, marking both sides when it is listed on
		// both; entries stay sorted by rule position because rules are visited in order.
		mark := func(ent string, left bool) {
			refs := x.byEnt[ent]
			if n := len(refs); n > 0 && refs[n-1].rule == int32(i) {
				if left {
					refs[n-1].left = true
				} else {
					refs[n-1].right = true
				}
				return
			}
			x.byEnt[ent] = append(refs, sideRef{rule: int32(i), left: left, right: !left})
		}
		for _, e := range r.Left {
			mark(e, true)
		}
		for _, e := range r.Right {
			mark(e, false)
		}
	}
	return x
}

// Len returns the number of rules indexed.
func (x *SoDIndex) Len() int { return len(x.rules) }

// Rules returns the indexed rules, sorted by id.
func (x *SoDIndex) Rules() []*gatehouse.SoDRule { return slices.Clone(x.rules) }

// Rule returns the rule with id, or nil.
func (x *SoDIndex) Rule(id string) *gatehouse.SoDRule {
	if i, ok := x.byID[id]; ok {
		return x.rules[i]
	}
	return nil
}

// Conflicts returns the rules that have plus want break and that they would not break without
// want: what adding want to someone who holds (or is waiting for) have would cause. Sorted by
// rule id; one conflict per rule. Left and Right are chosen from have and want together. A rule
// that have already breaks is not a conflict of want: Violations reports it.
func (x *SoDIndex) Conflicts(have, want []string) []SoDConflict {
	if x == nil || len(want) == 0 {
		return nil
	}
	// Only rules that want touches can change state.
	m := matcher{}
	for _, e := range want {
		for _, s := range x.byEnt[e] {
			m.add(s, e, true)
		}
	}
	if len(m) == 0 {
		return nil
	}
	for _, e := range have {
		for _, s := range x.byEnt[e] {
			if _, touched := m[s.rule]; touched {
				m.add(s, e, false)
			}
		}
	}
	var out []SoDConflict
	for _, i := range m.sortedRules() {
		mt := m[i]
		if _, _, broken := pair(mt.haveLeft, mt.haveRight); broken {
			continue
		}
		l, r, broken := pair(append(mt.haveLeft, mt.wantLeft...), append(mt.haveRight, mt.wantRight...))
		if broken {
			out = append(out, SoDConflict{Rule: x.rules[i], Left: l, Right: r})
		}
	}
	return out
}

// Violations returns the rules that have breaks today (detective), sorted by rule id.
func (x *SoDIndex) Violations(have []string) []SoDConflict {
	if x == nil {
		return nil
	}
	m := matcher{}
	for _, e := range have {
		for _, s := range x.byEnt[e] {
			m.add(s, e, false)
		}
	}
	var out []SoDConflict
	for _, i := range m.sortedRules() {
		if l, r, broken := pair(m[i].haveLeft, m[i].haveRight); broken {
			out = append(out, SoDConflict{Rule: x.rules[i], Left: l, Right: r})
		}
	}
	return out
}

// matcher collects, per rule position, the entitlements found on each side.
type matcher map[int32]*match

type match struct {
	haveLeft, haveRight, wantLeft, wantRight []string
}

func (m matcher) add(s sideRef, ent string, want bool) {
	mt := m[s.rule]
	if mt == nil {
		mt = &match{}
		m[s.rule] = mt
	}
	switch {
	case want:
		if s.left {
			mt.wantLeft = append(mt.wantLeft, ent)
		}
		if s.right {
			mt.wantRight = append(mt.wantRight, ent)
		}
	default:
		if s.left {
			mt.haveLeft = append(mt.haveLeft, ent)
		}
		if s.right {
			mt.haveRight = append(mt.haveRight, ent)
		}
	}
}

func (m matcher) sortedRules() []int32 {
	ids := make([]int32, 0, len(m))
	for i := range m {
		ids = append(ids, i)
	}
	slices.Sort(ids)
	return ids
}

// pair finds two different entitlements, one from left and one from right: the smallest left
// that has a partner, and its smallest partner. broken is false when there is none.
func pair(left, right []string) (l, r string, broken bool) {
	if len(left) == 0 || len(right) == 0 {
		return "", "", false
	}
	slices.Sort(left)
	slices.Sort(right)
	for _, a := range left {
		for _, b := range right {
			if a != b {
				return a, b, true
			}
		}
	}
	return "", "", false
}
