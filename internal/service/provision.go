package service

// Provisioning: reconcile on demand, its progress, the operations and the drift it found.

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/provision"
)

// Provisioner is the job queue that runs reconciles (jobs.Host).
type Provisioner interface {
	Enqueue(ctx context.Context, systems []string, cause string, deprovision bool) ([]int64, error)
	EnqueueAll(ctx context.Context, cause string, deprovision bool) ([]int64, error)
	Jobs(ctx context.Context, ids []int64) ([]provision.JobState, error)
}

// ReconcileStatus is the progress of reconcile jobs: each job's state, the runs they made
// (newest first), and the operations of those runs that failed.
type ReconcileStatus struct {
	Jobs []provision.JobState `json:"jobs"`
	// Done: every job has finished (completed, or given up on). Converged: done, and the last
	// run of every job applied everything it planned.
	Done      bool                   `json:"done"`
	Converged bool                   `json:"converged"`
	Runs      []*gatehouse.Reconcile `json:"runs"`
	Failed    []*gatehouse.Operation `json:"failed_operations"`
}

func (s *Provisioning) provisioner() (Provisioner, error) {
	if s.prov == nil {
		return nil, gatehouse.Errorf(gatehouse.EUNAVAILABLE, "this server runs no provisioning workers (gatehouse demo does not: its systems are examples with no servers behind them; gatehouse serve does)")
	}
	return s.prov, nil
}

// Reconcile enqueues a reconcile of one system, or of every system (systemID ""), critical
// systems first (operators). It returns at once; ReconcileJobs follows the jobs.
func (s *Provisioning) Reconcile(ctx context.Context, p *gatehouse.Principal, systemID string) (*ReconcileStatus, error) {
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	q, err := s.provisioner()
	if err != nil {
		return nil, err
	}
	cause := "manual:" + p.Actor()
	var ids []int64
	if systemID == "" {
		ids, err = q.EnqueueAll(ctx, cause, false)
	} else {
		if _, err := s.store.GetSystem(ctx, systemID); err != nil {
			return nil, err
		}
		ids, err = q.Enqueue(ctx, []string{systemID}, cause, false)
	}
	if err != nil {
		return nil, gatehouse.Errorf(gatehouse.EUNAVAILABLE, "enqueue reconcile: %v", err)
	}
	return s.reconcileStatus(ctx, q, ids)
}

// MaxReconcileJobs bounds the jobs one ReconcileJobs call reads (one read each).
const MaxReconcileJobs = 100

// ReconcileJobs reports the progress of reconcile jobs (readers).
func (s *Provisioning) ReconcileJobs(ctx context.Context, p *gatehouse.Principal, ids []int64) (*ReconcileStatus, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "ids: name at least one job")
	}
	if len(ids) > MaxReconcileJobs {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "ids: at most %d jobs at a time, not %d", MaxReconcileJobs, len(ids))
	}
	q, err := s.provisioner()
	if err != nil {
		return nil, err
	}
	return s.reconcileStatus(ctx, q, ids)
}

func (s *Provisioning) reconcileStatus(ctx context.Context, q Provisioner, ids []int64) (*ReconcileStatus, error) {
	jobs, err := q.Jobs(ctx, ids)
	if err != nil {
		return nil, err
	}
	st := &ReconcileStatus{Jobs: jobs, Done: true, Runs: []*gatehouse.Reconcile{}, Failed: []*gatehouse.Operation{}}
	for _, j := range jobs {
		st.Done = st.Done && j.Done
	}
	// A job that handed its work over has no run of its own: the job it handed over to runs.
	runIDs := slices.Clone(ids)
	for _, j := range jobs {
		if j.HandedOverTo != 0 {
			runIDs = append(runIDs, j.HandedOverTo)
		}
	}
	runs, err := s.store.ListReconciles(ctx, gatehouse.ReconcileFilter{JobIDs: runIDs, Limit: gatehouse.MaxLimit})
	if err != nil {
		return nil, err
	}
	st.Runs = runs.Items
	// The newest run of each job decides: earlier attempts' failures were planned again.
	last := map[int64]*gatehouse.Reconcile{}
	for _, r := range runs.Items {
		if last[r.JobID] == nil {
			last[r.JobID] = r
		}
	}
	st.Converged = st.Done
	for _, j := range jobs {
		r := last[cmp.Or(j.HandedOverTo, j.ID)]
		if r == nil || r.Status != gatehouse.ReconcileConverged || j.State != "completed" {
			st.Converged = false
		}
		if r == nil || r.Status != gatehouse.ReconcileFailed {
			continue
		}
		ops, err := s.store.ListOperations(ctx, gatehouse.OperationFilter{ReconcileID: r.ID, Status: gatehouse.OpFailed, Limit: gatehouse.MaxLimit})
		if err != nil {
			return nil, err
		}
		st.Failed = append(st.Failed, ops.Items...)
	}
	return st, nil
}

// ListOperations lists provisioning operations, newest first (readers).
func (s *Provisioning) ListOperations(ctx context.Context, p *gatehouse.Principal, f gatehouse.OperationFilter) (gatehouse.Page[*gatehouse.Operation], error) {
	if err := requireReadAll(p); err != nil {
		return gatehouse.Page[*gatehouse.Operation]{}, err
	}
	if f.IdentityID != "" {
		id, err := s.store.GetIdentity(ctx, f.IdentityID)
		if err != nil {
			return gatehouse.Page[*gatehouse.Operation]{}, err
		}
		f.IdentityID = id.ID
	}
	return s.store.ListOperations(ctx, f)
}

// Drift returns the last finished reconcile of each system (or of one), with its drift
// findings (readers).
func (s *Provisioning) Drift(ctx context.Context, p *gatehouse.Principal, systemID string) ([]*gatehouse.Reconcile, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	if systemID != "" {
		if _, err := s.store.GetSystem(ctx, systemID); err != nil {
			return nil, err
		}
	}
	runs, err := s.store.ListReconciles(ctx, gatehouse.ReconcileFilter{SystemID: strings.TrimSpace(systemID), Latest: true, Limit: gatehouse.MaxLimit})
	if err != nil {
		return nil, err
	}
	return runs.Items, nil
}
