package provision

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// InterruptedError is the error of a run marked interrupted.
const InterruptedError = "interrupted: the server stopped during this reconcile; the system is reconciled again"

// MarkInterrupted marks every reconcile run still recorded as running as interrupted (with an
// audit event each), except those alive says are still running elsewhere (nil: none), and
// returns the runs it marked and the time it marked them. The job host's RecoverInterrupted
// calls it at start, before the workers, and then now and again, and runs their systems again:
// a run records its end even when its job is cancelled, so a run still "running" whose
// reconcile lease has run out was cut short by a process that stopped (killed, crashed, the
// machine lost power).
func (r *Reconciler) MarkInterrupted(ctx context.Context, alive func(*gatehouse.Reconcile) bool) ([]*gatehouse.Reconcile, time.Time, error) {
	var runs []*gatehouse.Reconcile
	for cursor := ""; ; {
		p, err := r.Store.ListReconciles(ctx, gatehouse.ReconcileFilter{Status: gatehouse.ReconcileRunning, Limit: gatehouse.MaxLimit, Cursor: cursor})
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("interrupted reconciles: %w", err)
		}
		for _, run := range p.Items {
			if alive == nil || !alive(run) {
				runs = append(runs, run)
			}
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	at := r.now()
	if len(runs) == 0 {
		return nil, at, nil
	}
	var marked []*gatehouse.Reconcile
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		marked = marked[:0]
		for _, listed := range runs {
			// Read again in the transaction: a run of a live process may have finished (and
			// dropped its lease) since it was listed; its recorded end must stand.
			run, err := tx.GetReconcile(ctx, listed.ID)
			if err != nil {
				return err
			}
			if run.Status != gatehouse.ReconcileRunning {
				continue
			}
			run.Status, run.Error, run.FinishedAt = gatehouse.ReconcileInterrupted, InterruptedError, &at
			if err := tx.UpdateReconcile(ctx, run); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, r.event(gatehouse.AuditReconcileInterrupted, run, run)); err != nil {
				return err
			}
			marked = append(marked, run)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("mark interrupted reconciles: %w", err)
	}
	return marked, at, nil
}
