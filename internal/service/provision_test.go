package service_test

import (
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// TestReconcileJobsBounded: following reconcile jobs reads each job, so one call names at most
// MaxReconcileJobs of them; more is refused before anything is read.
func TestReconcileJobsBounded(t *testing.T) {
	t.Parallel()
	svc := service.New(nil, service.Options{})
	auditor := &gatehouse.Principal{Email: "a@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAuditor}}
	ids := make([]int64, service.MaxReconcileJobs+1)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	if _, err := svc.ReconcileJobs(t.Context(), auditor, ids); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Fatalf("%d ids: err = %v, want EINVALID", len(ids), err)
	}
	// Within the bound the call goes on to the queue, which this service has none of.
	if _, err := svc.ReconcileJobs(t.Context(), auditor, ids[:service.MaxReconcileJobs]); gatehouse.ErrorCode(err) == gatehouse.EINVALID {
		t.Fatalf("%d ids refused as invalid: %v", service.MaxReconcileJobs, err)
	}
}
