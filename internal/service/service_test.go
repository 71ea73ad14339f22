package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestRecentVerificationFollowsTheHead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := storetest.NewSQLite(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	svc := service.New(h.Store, service.Options{Now: func() time.Time { return now }})
	p := service.SystemPrincipal("test")
	if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{EmployeeID: "E1", Email: "a@example.com"}, "t"); err != nil {
		t.Fatal(err)
	}
	v, err := svc.RecentVerification(ctx, p, time.Minute)
	if err != nil || !v.OK || v.Count != 1 {
		t.Fatalf("first verification = %+v, %v; want ok with 1 event", v, err)
	}
	// Tampering that leaves the head alone shows once the cached result is older than maxAge;
	// the full check sees it at once.
	if err := h.Exec(ctx, `UPDATE audit_events SET actor = 'mallory' WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	if v, _ := svc.RecentVerification(ctx, p, time.Minute); !v.OK {
		t.Fatalf("cached verification re-read the chain within maxAge")
	}
	if v, err := svc.VerifyAudit(ctx, p); err != nil || v.OK || v.Break.Seq != 1 {
		t.Fatalf("VerifyAudit = %+v, %v; want a break at 1", v, err)
	}
	now = now.Add(2 * time.Minute)
	if v, _ := svc.RecentVerification(ctx, p, time.Minute); v.OK || v.Break.Seq != 1 {
		t.Fatalf("stale cache not re-verified: %+v", v)
	}
	// An auditor may verify; an ordinary identity may not.
	if _, err := svc.RecentVerification(ctx, &gatehouse.Principal{IdentityID: "x"}, time.Minute); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("ordinary identity: err = %v, want forbidden", err)
	}
}

func TestVerifyStoreFindsRowsAppendedAroundGatehouse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := storetest.NewSQLite(t)
	svc := service.New(h.Store, service.Options{})
	p := service.SystemPrincipal("test")
	if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{EmployeeID: "E1", Email: "a@example.com"}, "t"); err != nil {
		t.Fatal(err)
	}
	// A forger can compute a valid hash, but cannot append without moving the head.
	evs, err := h.Store.ListAuditEvents(ctx, gatehouse.AuditFilter{Ascending: true, Limit: 10})
	if err != nil || len(evs.Items) != 1 {
		t.Fatalf("list: %v %v", evs, err)
	}
	forged := *evs.Items[0]
	forged.Actor = "mallory"
	forged.Seq, forged.PrevHash = 2, evs.Items[0].Hash
	forged.Hash = audit.Hash(&forged)
	if err := h.Exec(ctx, `INSERT INTO audit_events (seq, time, actor, action, object_type, object_id, "before", "after", reason, reference, prev_hash, hash)
		SELECT 2, time, 'mallory', action, object_type, object_id, "before", "after", reason, reference, $1, $2 FROM audit_events WHERE seq = 1`,
		forged.PrevHash, forged.Hash); err != nil {
		t.Fatal(err)
	}
	v, err := service.VerifyStore(ctx, h.Store)
	if err != nil {
		t.Fatal(err)
	}
	if v.OK || v.Break.Seq != 2 || !strings.Contains(v.Break.Reason, "head") {
		t.Fatalf("verification = %+v, want a break at 2 past the head", v)
	}
}

func TestAuthorizationRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, _ := bulkFixture(t)
	sys := service.SystemPrincipal("test")
	admin, err := svc.SetRoles(ctx, sys, "owner@example.com", []gatehouse.AccessRole{gatehouse.RoleAdmin}, "t")
	if err != nil {
		t.Fatal(err)
	}
	adminP := &gatehouse.Principal{IdentityID: admin.ID, Email: admin.Email, Roles: admin.Roles}
	ann, err := svc.GetIdentity(ctx, sys, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	annP := &gatehouse.Principal{IdentityID: ann.ID, Email: ann.Email}

	// No admin can lock the door behind them.
	if _, err := svc.SetRoles(ctx, adminP, admin.Email, nil, "oops"); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Errorf("admin removing own admin role: err = %v, want conflict", err)
	}
	// An ordinary identity sees itself only, and makes tokens for itself only.
	if _, err := svc.GetIdentity(ctx, annP, "owner@example.com"); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Errorf("ann reads owner: err = %v, want forbidden", err)
	}
	if _, err := svc.GetIdentity(ctx, annP, "nobody@example.com"); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Errorf("ann probes a missing identity: err = %v, want forbidden (no existence leak)", err)
	}
	if _, err := svc.CreateToken(ctx, annP, service.NewToken{For: "owner@example.com"}); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Errorf("ann makes a token for owner: err = %v, want forbidden", err)
	}
	tok, err := svc.CreateToken(ctx, annP, service.NewToken{})
	if err != nil {
		t.Fatalf("ann makes her own token: %v", err)
	}
	if got, err := svc.Authenticate(ctx, tok.Secret); err != nil || got.IdentityID != ann.ID || got.CanReadAll() {
		t.Fatalf("Authenticate(ann's token) = %+v, %v", got, err)
	}
	// A leaver's tokens stop working the moment HR says so.
	term := gatehouse.StatusTerminated
	if _, err := svc.UpdateIdentity(ctx, adminP, ann.ID, service.IdentityPatch{Status: &term}, "left"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, tok.Secret); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHORIZED {
		t.Errorf("terminated identity's token: err = %v, want unauthorized", err)
	}
	// Direct grants: need an operator, a reference and a reason; a leaver gets nothing.
	g := service.NewGrant{Identity: "owner@example.com", Entitlement: "app/users", Reference: "CHG-1", Reason: "exception"}
	if _, err := svc.CreateGrant(ctx, annP, g); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Errorf("ann grants: err = %v, want forbidden", err)
	}
	noRef := g
	noRef.Reference = ""
	if _, err := svc.CreateGrant(ctx, adminP, noRef); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("grant without reference: err = %v, want invalid", err)
	}
	leaver := g
	leaver.Identity = "leaver@example.com"
	if _, err := svc.CreateGrant(ctx, adminP, leaver); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Errorf("grant to a leaver: err = %v, want conflict", err)
	}
	priv := g
	priv.Entitlement = "app/admins"
	// Nobody grants to themselves, not even an admin; another (here: the system) may.
	if _, err := svc.CreateGrant(ctx, adminP, priv); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Errorf("admin grants to themselves: err = %v, want forbidden", err)
	}
	got, err := svc.CreateGrant(ctx, sys, priv)
	if err != nil || got.ExpiresAt == nil || got.ExpiresAt.Sub(got.GrantedAt) != 8*time.Hour {
		t.Fatalf("privileged grant = %+v, %v; want one that expires after max_duration 8h", got, err)
	}
	if _, err := svc.CreateGrant(ctx, sys, priv); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Errorf("second identical grant: err = %v, want conflict", err)
	}
	if _, err := svc.RevokeGrant(ctx, adminP, got.ID, ""); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("revoke without reason: err = %v, want invalid", err)
	}
	if r, err := svc.RevokeGrant(ctx, adminP, got.ID, "done"); err != nil || r.RevokedAt == nil || r.RevokedBy != admin.Email {
		t.Fatalf("revoke = %+v, %v", r, err)
	}
}
