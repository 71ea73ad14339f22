package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func newTestException(identity, rule string, status gatehouse.ExceptionStatus, expires time.Time) *gatehouse.Exception {
	return &gatehouse.Exception{
		IdentityID: identity, Identity: "x@example.com", Kind: gatehouse.ExceptionSoD, RuleID: rule,
		EntitlementIDs: []string{"app/pay"}, Rationale: "month-end cover", CompensatingControls: "CFO reviews every payment",
		RequestedBy: "op@example.com", Status: status, ExpiresAt: expires, ReviewAt: expires.Add(-24 * time.Hour),
		OnExpiry: gatehouse.ExpiryRevoke, GrantIDs: []string{},
	}
}

// testExceptions: numbers, lookups by id and reference, filters, optimistic updates.
func testExceptions(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	ann, bob := person(1), person(2)
	createIdentities(t, s, ann, bob)
	t0 := time.Date(2030, 3, 1, 12, 0, 0, 123_456_789, time.UTC)

	e1 := newTestException(ann.ID, "pay-vs-approve", gatehouse.ExceptionApproved, t0)
	e2 := newTestException(bob.ID, "admin-auditor", gatehouse.ExceptionPending, t0.Add(30*24*time.Hour))
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.CreateException(ctx, e1), tx.CreateException(ctx, e2))
	})
	wantUUIDv7(t, "exception", e1.ID)
	wantStored(t, "ExpiresAt", e1.ExpiresAt)
	if e1.Ref != "EXC-000001" || e2.Ref != "EXC-000002" || e1.Version != 1 {
		t.Fatalf("numbers: %s v%d, %s", e1.Ref, e1.Version, e2.Ref)
	}
	equal(t, "GetException by id", mustGet[*gatehouse.Exception](t)(s.GetException(ctx, e1.ID)), e1)
	equal(t, "GetException by ref", mustGet[*gatehouse.Exception](t)(s.GetException(ctx, "exc-000002")), e2)
	_, err := s.GetException(ctx, "EXC-000042")
	wantCode(t, err, gatehouse.ENOTFOUND)

	all := pageAll(t, func(cursor string) (gatehouse.Page[*gatehouse.Exception], error) {
		return s.ListExceptions(ctx, gatehouse.ExceptionFilter{Limit: 1, Cursor: cursor})
	}, func(e *gatehouse.Exception) string { return e.ID }, 1)
	if len(all) != 2 || all[0].Ref != "EXC-000002" {
		t.Fatalf("list: %d, first %s; want 2, newest first", len(all), all[0].Ref)
	}
	refs := func(f gatehouse.ExceptionFilter) []string {
		t.Helper()
		p := mustGet[gatehouse.Page[*gatehouse.Exception]](t)(s.ListExceptions(ctx, f))
		return sortedKeys(p.Items, func(e *gatehouse.Exception) string { return e.Ref })
	}
	equal(t, "by identity", refs(gatehouse.ExceptionFilter{IdentityID: bob.ID}), []string{"EXC-000002"})
	equal(t, "by rule", refs(gatehouse.ExceptionFilter{RuleID: "pay-vs-approve"}), []string{"EXC-000001"})
	equal(t, "by status", refs(gatehouse.ExceptionFilter{Statuses: []gatehouse.ExceptionStatus{gatehouse.ExceptionPending}}), []string{"EXC-000002"})
	equal(t, "expiring at the bound", refs(gatehouse.ExceptionFilter{ExpiresBefore: t0}), []string{"EXC-000001"})
	equal(t, "expiring before", refs(gatehouse.ExceptionFilter{ExpiresBefore: t0.Add(-time.Second)}), []string{})

	stale := *e1
	e1.Status, e1.GrantIDs = gatehouse.ExceptionExpired, []string{"g1"}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateException(ctx, e1) })
	if e1.Version != 2 {
		t.Fatalf("version after update = %d", e1.Version)
	}
	equal(t, "updated", mustGet[*gatehouse.Exception](t)(s.GetException(ctx, e1.ID)), e1)
	equal(t, "status column follows", refs(gatehouse.ExceptionFilter{Statuses: []gatehouse.ExceptionStatus{gatehouse.ExceptionApproved}}), []string{})
	stale.Status = gatehouse.ExceptionRevoked
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateException(ctx, &stale) }), gatehouse.ECONFLICT)
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateException(ctx, newTestException("nobody", "r", gatehouse.ExceptionPending, t0))
	}), gatehouse.EINVALID)
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateException(ctx, newTestException(ann.ID, "r", "maybe", t0))
	}), gatehouse.EINVALID)
}

// testExceptionNumbersConcurrent: concurrent creators get distinct, gapless numbers.
func testExceptionNumbersConcurrent(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ann := person(1)
	createIdentities(t, s, ann)
	const n = 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]bool{}
	for range n {
		wg.Go(func() {
			e := newTestException(ann.ID, "r", gatehouse.ExceptionPending, time.Now().Add(time.Hour))
			err := s.Update(context.Background(), func(tx store.Tx) error {
				if err := tx.CreateException(context.Background(), e); err != nil {
					return err
				}
				return tx.AppendAudit(context.Background(), &gatehouse.AuditEvent{Actor: "storetest", Action: "test.write", ObjectType: "exception", ObjectID: e.ID})
			})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[e.Number] {
				t.Errorf("number %d given twice", e.Number)
			}
			seen[e.Number] = true
		})
	}
	wg.Wait()
	for i := int64(1); i <= n; i++ {
		if !seen[i] {
			t.Fatalf("number %d missing", i)
		}
	}
}
