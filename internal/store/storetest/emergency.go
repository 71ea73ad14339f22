package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// emergencyGrant stores a break-glass grant of db/root for who and its open review, as the
// service does: number, grant with the reference, review.
func emergencyGrant(ctx context.Context, tx store.Tx, who, by string, at time.Time) (*gatehouse.EmergencyReview, error) {
	n, err := tx.NextEmergencyNumber(ctx)
	if err != nil {
		return nil, err
	}
	exp := at.Add(time.Hour)
	g := &gatehouse.Grant{IdentityID: who, EntitlementID: "db/root", Source: gatehouse.SourceEmergency,
		Reference: gatehouse.EmergencyRef(n), GrantedBy: by, GrantedAt: at, ExpiresAt: &exp}
	if err := tx.CreateGrant(ctx, g); err != nil {
		return nil, err
	}
	r := &gatehouse.EmergencyReview{Number: n, GrantID: g.ID, BeneficiaryID: who, EntitlementID: "db/root",
		GrantedBy: by, Reason: "INC-1 database is down", GrantedAt: at, ExpiresAt: exp,
		DueAt: at.Add(gatehouse.EmergencyReviewWindow), Assignees: []string{"sec@example.com"}}
	return r, tx.CreateEmergencyReview(ctx, r)
}

func testEmergencyReviews(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	ann, bob := person(1), person(2)
	createIdentities(t, s, ann, bob)
	// The emergency flag of an entitlement is stored.
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutEntitlement(ctx, &gatehouse.Entitlement{ID: "db/root", System: "db", Name: "Root", Kind: gatehouse.KindGroup,
			Risk: gatehouse.RiskStandard, Owner: "it@example.com", MaxDuration: gatehouse.Duration(time.Hour), Approval: []string{}, Emergency: true})
	})
	if e, err := s.GetEntitlement(ctx, "db/root"); err != nil || !e.Emergency {
		t.Fatalf("entitlement = %+v, %v; want emergency", e, err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var first, second *gatehouse.EmergencyReview
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		if first, err = emergencyGrant(ctx, tx, ann.ID, bob.ID, t0); err != nil {
			return err
		}
		second, err = emergencyGrant(ctx, tx, bob.ID, ann.ID, t0.Add(2*time.Hour))
		return err
	})
	if first.Ref != "EMG-000001" || second.Ref != "EMG-000002" || first.ID == "" {
		t.Fatalf("refs %s %s", first.Ref, second.Ref)
	}
	got, err := s.GetEmergencyReview(ctx, "emg-000001")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != first.ID || got.GrantID != first.GrantID || !got.DueAt.Equal(t0.Add(24*time.Hour)) || !got.Open() || got.Assignees[0] != "sec@example.com" {
		t.Errorf("got %+v", got)
	}
	if _, err := s.GetEmergencyReview(ctx, "EMG-000099"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("missing review: err = %v, want not found", err)
	}
	// Counts: at t0+25h the first is overdue, the second (due t0+26h) is not.
	open1, overdue, err := s.CountEmergencyReviews(ctx, t0.Add(25*time.Hour))
	if err != nil || open1 != 2 || overdue != 1 {
		t.Errorf("counts = %d open, %d overdue, %v; want 2, 1", open1, overdue, err)
	}
	// Completing: once only.
	done := t0.Add(3 * time.Hour)
	got.CompletedAt, got.CompletedBy, got.Who, got.Why, got.What = &done, "sec@example.com", "ann", "INC-1", "restarted"
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateEmergencyReview(ctx, got) })
	again := *got
	wantCode(t, auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateEmergencyReview(ctx, &again) }), gatehouse.ECONFLICT)
	page, err := s.ListEmergencyReviews(ctx, gatehouse.EmergencyReviewFilter{OpenOnly: true})
	if err != nil || len(page.Items) != 1 || page.Items[0].Ref != "EMG-000002" {
		t.Fatalf("open list = %+v, %v; want EMG-000002 only", page.Items, err)
	}
	all, err := s.ListEmergencyReviews(ctx, gatehouse.EmergencyReviewFilter{Limit: 1})
	if err != nil || len(all.Items) != 1 || all.Items[0].Ref != "EMG-000002" || all.NextCursor == "" {
		t.Fatalf("first page = %+v, %v; want newest first with a cursor", all.Items, err)
	}
	all, err = s.ListEmergencyReviews(ctx, gatehouse.EmergencyReviewFilter{Limit: 1, Cursor: all.NextCursor})
	if err != nil || len(all.Items) != 1 || all.Items[0].Ref != "EMG-000001" || all.Items[0].What != "restarted" || all.Items[0].Open() {
		t.Fatalf("second page = %+v, %v", all.Items, err)
	}
	if o, od, _ := s.CountEmergencyReviews(ctx, t0.Add(100*time.Hour)); o != 1 || od != 1 {
		t.Errorf("after completion counts = %d, %d; want 1, 1", o, od)
	}
}

func testEmergencyNumbersConcurrent(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ann, bob := person(1), person(2)
	createIdentities(t, s, ann, bob)
	const n = 30
	var wg sync.WaitGroup
	refs := make(chan string, n)
	for range n {
		wg.Go(func() {
			var r *gatehouse.EmergencyReview
			err := s.Update(context.Background(), func(tx store.Tx) error {
				var err error
				if r, err = emergencyGrant(context.Background(), tx, ann.ID, bob.ID, time.Now()); err != nil {
					return err
				}
				return tx.AppendAudit(context.Background(), &gatehouse.AuditEvent{Actor: "storetest", Action: "test.write", ObjectType: "emergency_review", ObjectID: r.ID})
			})
			if err != nil {
				t.Error(err)
				return
			}
			refs <- r.Ref
		})
	}
	wg.Wait()
	close(refs)
	seen := map[string]bool{}
	for x := range refs {
		if seen[x] {
			t.Fatalf("%s given twice", x)
		}
		seen[x] = true
	}
	for i := int64(1); i <= n; i++ {
		if !seen[gatehouse.EmergencyRef(i)] {
			t.Fatalf("%s missing", gatehouse.EmergencyRef(i))
		}
	}
}
