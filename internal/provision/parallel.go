package provision

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// outcome is the result of an operation run ahead of its turn in the plan.
type outcome struct {
	ref        connector.AccountRef
	err        error
	start, end time.Time
}

// prepareWindow is how many creations a connector.CreatePreparer is asked to prepare at once:
// what it learns is trusted for that many creations only, so a window is small enough to run
// in well under a second, and large enough that its lookups are few (a search per 200 names on
// LDAP).
const prepareWindow = 1000

// concurrency is how many operations the connector may be given at once (connector.Concurrent).
func concurrency(conn connector.Connector) int {
	if c, ok := conn.(connector.Concurrent); ok {
		return max(c.Concurrency(), 1)
	}
	return 1
}

// createConcurrently runs the account creations of the plan from index from on, as far as
// they go, on up to n at once: they touch different entries, and the memberships that depend on
// them come later in the plan. A retryable error stops the handing out of more (the target is
// probably down, as execute assumes); creations already handed out finish and keep their
// results, which execute records as they happened whatever stopped meanwhile. Creations execute
// would not send (a refused name, a name lost to another run) are left out, as are those
// waiting for a person.
func (r *Reconciler) createConcurrently(ctx context.Context, conn connector.Connector, ops []Op,
	rows []*gatehouse.Operation, lost map[int]error, from, n int) map[int]outcome {
	var todo []int
	for j := from; j < len(ops) && ops[j].Kind == OpCreateAccount; j++ {
		if ops[j].Refused == "" && lost[j] == nil && rows[j].Task == "" {
			todo = append(todo, j)
		}
	}
	out := make(map[int]outcome, len(todo))
	prep, _ := conn.(connector.CreatePreparer)
	window := len(todo)
	if prep != nil {
		window = prepareWindow
	}
	var (
		mu      sync.Mutex
		stopped bool
	)
	for lo := 0; lo < len(todo) && !stopped; lo += window {
		part := todo[lo:min(lo+window, len(todo))]
		if prep != nil {
			specs := make([]connector.AccountSpec, len(part))
			for k, j := range part {
				specs[k] = *ops[j].Spec
			}
			if err := prep.PrepareCreates(ctx, specs); err != nil {
				// Only a saving lost: each creation looks for its account itself.
				r.log().Warn("preparing account creations failed; they look up their accounts one by one",
					"system", ops[part[0]].SystemID, "err", err)
			}
		}
		var (
			next int
			wg   sync.WaitGroup
		)
		take := func() (int, bool) {
			mu.Lock()
			defer mu.Unlock()
			if stopped || next == len(part) {
				return 0, false
			}
			next++
			return part[next-1], true
		}
		for range min(n, len(part)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					j, ok := take()
					if !ok {
						return
					}
					start := r.now()
					ref, err := apply(ctx, conn, ops[j])
					o := outcome{ref: ref, err: err, start: start, end: r.now()}
					mu.Lock()
					out[j] = o
					if connector.IsRetryable(err) {
						stopped = true
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	return out
}
