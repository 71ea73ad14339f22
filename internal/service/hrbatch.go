package service

import (
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The parts of applying a JML plan in batches (hr.go's applyJML) that say why and whom.

// itemReason is the audit reason of a plan item's changes: its class and why.
func itemReason(it *jml.Item) string {
	reason := string(it.Class)
	if it.Reason != "" {
		reason += ": " + it.Reason
	}
	if it.Late != "" { // auditors count late leavers (jml/late.go)
		reason += "; late: " + it.Late
	}
	return reason
}

// loseReason is why an item's grant is revoked.
func loseReason(it *jml.Item, reason string) string {
	if it.Class == jml.Leaver {
		return "leaver: " + it.Reason
	}
	return "birthright no longer applies (" + reason + ")"
}

// itemError names the person of the plan item a batch write's failed row belongs to (rows[i]
// is the item of row i), and what the row was (what[i], when given): "E0042: grant app/x: …",
// as the error of one write at a time read.
func itemError(plan *jml.Plan, rows []int, err error, what []string) error {
	var re *store.RowError
	if !errors.As(err, &re) || re.Index < 0 || re.Index >= len(rows) {
		return err
	}
	who := plan.Items[rows[re.Index]].EmployeeID
	if what != nil {
		return fmt.Errorf("%s: %s: %w", who, what[re.Index], re.Err)
	}
	return fmt.Errorf("%s: %w", who, re.Err)
}
