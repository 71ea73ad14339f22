package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func newTestRequest(requester, beneficiary string, approvers ...string) *gatehouse.AccessRequest {
	return &gatehouse.AccessRequest{
		RequesterID: requester, BeneficiaryID: beneficiary, Action: gatehouse.ActionAdd, EntitlementID: "app/eng",
		Entitlements: []string{"app/eng"}, Justification: "deploy the fix", Priority: gatehouse.PriorityNormal,
		State:       gatehouse.RequestPendingApproval,
		Steps:       []gatehouse.ApprovalStep{{Kind: gatehouse.StepManager, Approvers: approvers, Emails: []string{"m@example.com"}, Why: "manager"}},
		Findings:    gatehouse.RequestFindings{Risk: gatehouse.RiskStandard, SoD: []gatehouse.SoDFinding{}, Peers: []gatehouse.PeerContext{}},
		SubmittedAt: time.Date(2030, 1, 2, 3, 4, 5, 6_789, time.UTC), DueAt: time.Date(2030, 1, 3, 3, 4, 5, 0, time.UTC),
		GrantIDs: []string{}, Events: []gatehouse.RequestEvent{{At: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Actor: "a@example.com", Kind: "submitted"}},
	}
}

func testRequests(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	ann, bob, boss := person(1), person(2), person(3)
	createIdentities(t, s, ann, bob, boss)

	r1 := newTestRequest(ann.ID, ann.ID, boss.ID)
	r2 := newTestRequest(boss.ID, bob.ID, ann.ID)
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.CreateRequest(ctx, r1), tx.CreateRequest(ctx, r2))
	})
	wantUUIDv7(t, "request", r1.ID)
	wantStored(t, "CreatedAt", r1.CreatedAt)
	if r1.Number != 1 || r1.Ref != "REQ-000001" || r2.Ref != "REQ-000002" || r1.Version != 1 {
		t.Fatalf("numbers: %s v%d, %s", r1.Ref, r1.Version, r2.Ref)
	}
	equal(t, "GetRequest by id", mustGet[*gatehouse.AccessRequest](t)(s.GetRequest(ctx, r1.ID)), r1)
	equal(t, "GetRequest by ref", mustGet[*gatehouse.AccessRequest](t)(s.GetRequest(ctx, "req-000002")), r2)
	_, err := s.GetRequest(ctx, "nope")
	wantError(t, err, gatehouse.ENOTFOUND, `request "nope" not found`)
	_, err = s.GetRequest(ctx, "REQ-000099")
	wantCode(t, err, gatehouse.ENOTFOUND)

	all := pageAll(t, func(cursor string) (gatehouse.Page[*gatehouse.AccessRequest], error) {
		return s.ListRequests(ctx, gatehouse.RequestFilter{Limit: 1, Cursor: cursor})
	}, func(r *gatehouse.AccessRequest) string { return r.ID }, 1)
	equal(t, "newest first", sortedKeys(all, func(r *gatehouse.AccessRequest) string { return r.Ref }), []string{"REQ-000001", "REQ-000002"})
	if all[0].Ref != "REQ-000002" {
		t.Fatalf("first listed: %s, want the newest", all[0].Ref)
	}
	refs := func(f gatehouse.RequestFilter) []string {
		t.Helper()
		p := mustGet[gatehouse.Page[*gatehouse.AccessRequest]](t)(s.ListRequests(ctx, f))
		return sortedKeys(p.Items, func(r *gatehouse.AccessRequest) string { return r.Ref })
	}
	equal(t, "by requester", refs(gatehouse.RequestFilter{RequesterID: boss.ID}), []string{"REQ-000002"})
	equal(t, "by beneficiary", refs(gatehouse.RequestFilter{BeneficiaryID: ann.ID}), []string{"REQ-000001"})
	equal(t, "by party", refs(gatehouse.RequestFilter{Party: boss.ID}), []string{"REQ-000002"})
	equal(t, "by approver", refs(gatehouse.RequestFilter{Approvers: []string{boss.ID}}), []string{"REQ-000001"})
	equal(t, "by approvers", refs(gatehouse.RequestFilter{Approvers: []string{boss.ID, ann.ID}}), []string{"REQ-000001", "REQ-000002"})
	equal(t, "by state", refs(gatehouse.RequestFilter{States: []gatehouse.RequestState{gatehouse.RequestDenied, gatehouse.RequestPendingApproval}}),
		[]string{"REQ-000001", "REQ-000002"})

	// An update bumps the version; a stale one is a conflict; a decided request leaves the
	// approver's inbox.
	stale := *r1
	now := time.Date(2030, 1, 2, 5, 0, 0, 0, time.UTC)
	r1.Steps[0].Decision, r1.Steps[0].DecidedAt, r1.State = gatehouse.DecisionDenied, &now, gatehouse.RequestDenied
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateRequest(ctx, r1) })
	if r1.Version != 2 {
		t.Fatalf("version after update = %d", r1.Version)
	}
	equal(t, "updated", mustGet[*gatehouse.AccessRequest](t)(s.GetRequest(ctx, r1.ID)), r1)
	stale.State = gatehouse.RequestCancelled
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateRequest(ctx, &stale) }), gatehouse.ECONFLICT)
	equal(t, "approver after the decision", refs(gatehouse.RequestFilter{Approvers: []string{boss.ID}}), []string{})
	missing := newTestRequest(ann.ID, ann.ID)
	missing.ID, missing.Version = "nope", 1
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateRequest(ctx, missing) }), gatehouse.ENOTFOUND)
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateRequest(ctx, newTestRequest("nobody", ann.ID))
	}), gatehouse.EINVALID)

	// Delegations: active between start and end.
	d := &gatehouse.Delegation{FromID: boss.ID, ToID: bob.ID, StartsAt: now, EndsAt: now.Add(48 * time.Hour), Reason: "holiday", CreatedBy: "boss"}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateDelegation(ctx, d) })
	wantUUIDv7(t, "delegation", d.ID)
	got := mustGet[[]*gatehouse.Delegation](t)(s.ListDelegations(ctx, gatehouse.DelegationFilter{ToID: bob.ID, ActiveAt: now.Add(time.Hour)}))
	equal(t, "active delegation", got, []*gatehouse.Delegation{d})
	for _, at := range []time.Time{now.Add(-time.Second), now.Add(48 * time.Hour)} {
		if got := mustGet[[]*gatehouse.Delegation](t)(s.ListDelegations(ctx, gatehouse.DelegationFilter{FromID: boss.ID, ActiveAt: at})); len(got) != 0 {
			t.Fatalf("delegation active at %v", at)
		}
	}
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateDelegation(ctx, &gatehouse.Delegation{FromID: boss.ID, ToID: bob.ID, StartsAt: now, EndsAt: now})
	}), gatehouse.EINVALID)
}

// testCountPeers: peers share department and title, are active, and exclude the person;
// holders count unrevoked grants once per person.
func testCountPeers(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	me, a, b, other, gone := person(1), person(2), person(3), person(4), person(5)
	other.Title = "Manager"
	gone.Status = gatehouse.StatusTerminated
	createIdentities(t, s, me, a, b, other, gone)
	var revoked *gatehouse.Grant
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range []*gatehouse.Grant{
			{IdentityID: a.ID, EntitlementID: "app/x", Source: gatehouse.SourceRequest, GrantedBy: "t"},
			{IdentityID: a.ID, EntitlementID: "app/x", Source: gatehouse.SourceReview, GrantedBy: "t"},
			{IdentityID: other.ID, EntitlementID: "app/x", Source: gatehouse.SourceRequest, GrantedBy: "t"},
			{IdentityID: gone.ID, EntitlementID: "app/x", Source: gatehouse.SourceRequest, GrantedBy: "t"},
			{IdentityID: me.ID, EntitlementID: "app/x", Source: gatehouse.SourceRequest, GrantedBy: "t"},
			{IdentityID: b.ID, EntitlementID: "app/y", Source: gatehouse.SourceRequest, GrantedBy: "t"},
		} {
			if err := tx.CreateGrant(ctx, g); err != nil {
				return err
			}
			revoked = g
		}
		return tx.RevokeGrant(ctx, revoked.ID, time.Now(), "t", "gone")
	})
	peers, holding, err := s.CountPeers(ctx, me, []string{"app/x", "app/y", "app/z"})
	must(t, err)
	if peers != 2 {
		t.Fatalf("peers = %d, want 2 (a and b)", peers)
	}
	equal(t, "holding", holding, map[string]int{"app/x": 1, "app/y": 0, "app/z": 0})
	none := *me
	none.Department = ""
	peers, holding, err = s.CountPeers(ctx, &none, []string{"app/x"})
	must(t, err)
	if peers != 0 || holding["app/x"] != 0 {
		t.Fatalf("no department: %d %v", peers, holding)
	}
}

// testRequestNumbersConcurrent: writers creating requests at once get distinct, gapless
// numbers.
func testRequestNumbersConcurrent(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ann := person(1)
	createIdentities(t, s, ann)
	const n = 40
	var wg sync.WaitGroup
	nums := make(chan int64, n)
	for range n {
		wg.Go(func() {
			r := newTestRequest(ann.ID, ann.ID)
			err := s.Update(context.Background(), func(tx store.Tx) error {
				if err := tx.CreateRequest(context.Background(), r); err != nil {
					return err
				}
				return tx.AppendAudit(context.Background(), &gatehouse.AuditEvent{Actor: "storetest", Action: "test.write", ObjectType: "request", ObjectID: r.ID})
			})
			if err != nil {
				t.Error(err)
				return
			}
			nums <- r.Number
		})
	}
	wg.Wait()
	close(nums)
	seen := map[int64]bool{}
	for x := range nums {
		if seen[x] {
			t.Fatalf("number %d given twice", x)
		}
		seen[x] = true
	}
	for i := int64(1); i <= n; i++ {
		if !seen[i] {
			t.Fatalf("number %d missing: %v", i, fmt.Sprint(seen))
		}
	}
}
