package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The leaver guard's window counts the terminations of the date check (ApplyHRDates) too. An
// import that only sets end dates a day ahead terminates nobody itself; without this, the
// next date check's terminations would count for neither that import nor the imports after
// it, and end dates spread over days would let more people go within a window than the guard
// allows.

// recentDateRemovals sums the removals of the date checks applied since since.
func recentDateRemovals(ctx context.Context, r store.Reader, since time.Time) (int, error) {
	n := 0
	f := gatehouse.AuditFilter{Action: string(gatehouse.AuditHRDates), Since: since, Limit: gatehouse.MaxLimit}
	for {
		page, err := r.ListAuditEvents(ctx, f)
		if err != nil {
			return n, fmt.Errorf("leaver guard: date checks of the window: %w", err)
		}
		for _, ev := range page.Items {
			var sum struct {
				Removals int `json:"removals"`
			}
			if err := json.Unmarshal(ev.After, &sum); err == nil {
				n += sum.Removals
			}
		}
		if page.NextCursor == "" {
			return n, nil
		}
		f.Cursor = page.NextCursor
	}
}
