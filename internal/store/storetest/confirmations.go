package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func testConfirmations(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	mover, boss, other := person(1), person(2), person(3)
	createIdentities(t, s, mover, boss, other)
	g1 := &gatehouse.Grant{IdentityID: mover.ID, EntitlementID: "crm/sales", Source: gatehouse.SourceRequest, GrantedBy: "x"}
	g2 := &gatehouse.Grant{IdentityID: mover.ID, EntitlementID: "git/admin", Source: gatehouse.SourceRequest, GrantedBy: "x"}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.CreateGrant(ctx, g1), tx.CreateGrant(ctx, g2))
	})
	c1 := &gatehouse.Confirmation{IdentityID: mover.ID, GrantID: g1.ID, EntitlementID: g1.EntitlementID, ManagerID: boss.ID, HRImportID: "imp-1"}
	c2 := &gatehouse.Confirmation{IdentityID: mover.ID, GrantID: g2.ID, EntitlementID: g2.EntitlementID, ManagerID: other.ID,
		CreatedAt: time.Date(2030, 1, 2, 3, 4, 5, 6_789, time.FixedZone("CET", 3600))}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateConfirmations(ctx, []*gatehouse.Confirmation{c1, c2})
	})
	wantUUIDv7(t, "confirmation", c1.ID)
	wantStored(t, "CreatedAt (from the clock)", c1.CreatedAt)
	wantStored(t, "CreatedAt (given)", c2.CreatedAt)
	if c1.Status != gatehouse.ConfirmationOpen {
		t.Fatalf("default status = %q", c1.Status)
	}
	equal(t, "GetConfirmation", mustGet[*gatehouse.Confirmation](t)(s.GetConfirmation(ctx, c1.ID)), c1)
	_, err := s.GetConfirmation(ctx, "nope")
	wantError(t, err, gatehouse.ENOTFOUND, `confirmation "nope" not found`)

	// Newest first, paged, and filtered.
	all := pageAll(t, func(cursor string) (gatehouse.Page[*gatehouse.Confirmation], error) {
		return s.ListConfirmations(ctx, gatehouse.ConfirmationFilter{Limit: 1, Cursor: cursor})
	}, func(c *gatehouse.Confirmation) string { return c.ID }, 1)
	equal(t, "all confirmations", all, []*gatehouse.Confirmation{c2, c1})
	mine := mustGet[gatehouse.Page[*gatehouse.Confirmation]](t)(s.ListConfirmations(ctx, gatehouse.ConfirmationFilter{ManagerID: boss.ID}))
	equal(t, "by manager", mine.Items, []*gatehouse.Confirmation{c1})
	byGrant := mustGet[gatehouse.Page[*gatehouse.Confirmation]](t)(s.ListConfirmations(ctx, gatehouse.ConfirmationFilter{GrantID: g2.ID, IdentityID: mover.ID}))
	equal(t, "by grant", byGrant.Items, []*gatehouse.Confirmation{c2})

	// A decision writes status, who, when and the comment.
	at := time.Date(2031, 2, 3, 4, 5, 6, 789_123_456, time.UTC)
	c1.Status, c1.DecidedBy, c1.DecidedAt, c1.Comment = gatehouse.ConfirmationConfirmed, "boss@example.com", &at, "still needed"
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DecideConfirmation(ctx, c1) })
	if !c1.DecidedAt.Equal(at.Truncate(time.Microsecond)) {
		t.Fatalf("DecidedAt = %v", c1.DecidedAt)
	}
	equal(t, "decided", mustGet[*gatehouse.Confirmation](t)(s.GetConfirmation(ctx, c1.ID)), c1)
	openOnes := mustGet[gatehouse.Page[*gatehouse.Confirmation]](t)(s.ListConfirmations(ctx, gatehouse.ConfirmationFilter{Status: gatehouse.ConfirmationOpen}))
	equal(t, "open", openOnes.Items, []*gatehouse.Confirmation{c2})

	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.DecideConfirmation(ctx, &gatehouse.Confirmation{ID: "nope", Status: gatehouse.ConfirmationRevoked})
	})
	wantCode(t, err, gatehouse.ENOTFOUND)
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateConfirmations(ctx, []*gatehouse.Confirmation{{IdentityID: mover.ID, GrantID: g1.ID, ManagerID: boss.ID, Status: "maybe"}})
	})
	wantCode(t, err, gatehouse.EINVALID)
}
