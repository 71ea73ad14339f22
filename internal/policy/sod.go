package policy

// Separation of duties. This file is the contract the request engine codes against; the
// implementation replaces the placeholder bodies.

import "github.com/gatehouse/gatehouse"

// SoDIndex is a compiled set of SoD rules: for each entitlement, the rules it appears in and on
// which side, so that checking a person's access costs what they hold, not the number of rules.
// It is immutable and safe for concurrent use.
type SoDIndex struct {
	rules []*gatehouse.SoDRule
}

// SoDConflict is one rule a set of entitlements breaks: Left and Right are the entitlements
// found on each side (one each; the first in sorted order when several).
type SoDConflict struct {
	Rule  *gatehouse.SoDRule `json:"rule"`
	Left  string             `json:"left"`
	Right string             `json:"right"`
}

// CompileSoD indexes rules.
func CompileSoD(rules []*gatehouse.SoDRule) *SoDIndex { return &SoDIndex{rules: rules} }

// Conflicts returns the rules that have plus want break and that they would not break without
// want: what adding want to someone who holds (or is waiting for) have would cause. Sorted by
// rule id; one conflict per rule.
func (x *SoDIndex) Conflicts(have, want []string) []SoDConflict { return nil }

// Violations returns the rules that have breaks today (detective), sorted by rule id.
func (x *SoDIndex) Violations(have []string) []SoDConflict { return nil }
