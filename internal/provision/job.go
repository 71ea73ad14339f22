package provision

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// JobState is where a reconcile job is.
type JobState struct {
	ID       int64  `json:"id"`
	SystemID string `json:"system_id"`
	State    string `json:"state"` // River's: available, running, retryable, completed, cancelled, discarded, …
	Attempt  int    `json:"attempt"`
	Done     bool   `json:"done"` // completed, cancelled or discarded: no further attempt
	Error    string `json:"error,omitempty"`
	// HandedOverTo is the job doing this one's work, which it handed over to its system's
	// waiting job (it found another reconcile of the system running); State, Attempt, Done and
	// Error are that job's. 0 when it does its own.
	HandedOverTo int64 `json:"handed_over_to,omitempty"`
}

// Systems affected by a change, critical first: the systems of the given entitlements.
func Systems(ctx context.Context, r store.Reader, entitlementIDs []string) ([]string, error) {
	seen := map[string]bool{}
	var systems []*gatehouse.System
	for _, id := range entitlementIDs {
		e, err := r.GetEntitlement(ctx, id)
		if err != nil {
			return nil, err
		}
		if seen[e.System] {
			continue
		}
		seen[e.System] = true
		s, err := r.GetSystem(ctx, e.System)
		if err != nil {
			return nil, err
		}
		systems = append(systems, s)
	}
	OrderSystems(systems)
	out := make([]string, len(systems))
	for i, s := range systems {
		out[i] = s.ID
	}
	return out, nil
}
