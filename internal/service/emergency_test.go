package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const emergencyCatalog = `
settings:
  security_approvers: [sec@example.com]
  emergency_operators: [oncall@example.com, oncall2@example.com, plain@example.com]
  emergency_max_duration: 4h
systems:
  - {id: db, name: DB, owner: sec@example.com, tier: high, connector: {type: manual}}
entitlements:
  - {id: db/root, system: db, name: Root, kind: group, risk: standard, emergency: true, max_duration: 2h}
  - {id: db/read, system: db, name: Read, kind: group, risk: standard}
`

type emgFixture struct {
	svc                    *service.Service
	st                     store.Store
	now                    time.Time
	oncall, oncall2, plain *gatehouse.Principal // plain is listed but lacks the operator role
	other, sec             *gatehouse.Principal // other: an operator not listed
}

func newEmgFixture(t *testing.T, h storetest.Harness) *emgFixture {
	t.Helper()
	ctx := context.Background()
	f := &emgFixture{st: h.Store, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	f.svc = service.New(h.Store, service.Options{Now: func() time.Time { return f.now }})
	sys := service.SystemPrincipal("test")
	mk := func(emp, email string, roles ...gatehouse.AccessRole) *gatehouse.Principal {
		id, err := f.svc.CreateIdentity(ctx, sys, &gatehouse.Identity{EmployeeID: emp, Email: email, Roles: roles}, "test")
		if err != nil {
			t.Fatal(err)
		}
		return &gatehouse.Principal{IdentityID: id.ID, Email: id.Email, Roles: id.Roles}
	}
	f.oncall = mk("E1", "oncall@example.com", gatehouse.RoleOperator)
	f.oncall2 = mk("E2", "oncall2@example.com", gatehouse.RoleOperator)
	f.plain = mk("E3", "plain@example.com")
	f.other = mk("E4", "other@example.com", gatehouse.RoleOperator)
	f.sec = mk("E5", "sec@example.com")
	mk("E6", "dev@example.com")
	if _, err := f.svc.ApplyCatalog(ctx, sys, []catalog.File{{Name: "c.yaml", Content: []byte(emergencyCatalog)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	return f
}

const emgReason = "INC-4711 database down, need root to restart"

func TestEmergencyGrantDenials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newEmgFixture(t, storetest.NewSQLite(t))
	ok := service.NewEmergencyGrant{Identity: "dev@example.com", Entitlement: "db/root", Reason: emgReason, Duration: gatehouse.Duration(time.Hour)}
	with := func(mod func(*service.NewEmergencyGrant)) service.NewEmergencyGrant {
		in := ok
		mod(&in)
		return in
	}
	tests := []struct {
		name string
		p    *gatehouse.Principal
		in   service.NewEmergencyGrant
		code string
		msg  string
	}{
		{"not signed in", nil, ok, gatehouse.EUNAUTHORIZED, ""},
		{"operator not listed", f.other, ok, gatehouse.EFORBIDDEN, "only emergency operators"},
		{"listed without operator role", f.plain, ok, gatehouse.EFORBIDDEN, "operator"},
		{"not an emergency entitlement", f.oncall, with(func(in *service.NewEmergencyGrant) { in.Entitlement = "db/read" }), gatehouse.EFORBIDDEN, "not pre-approved"},
		{"longer than the entitlement allows", f.oncall, with(func(in *service.NewEmergencyGrant) { in.Duration = gatehouse.Duration(3 * time.Hour) }), gatehouse.EINVALID, "exceeds the emergency limit of 2h0m0s"},
		{"self", f.oncall, with(func(in *service.NewEmergencyGrant) { in.Identity = "oncall@example.com" }), gatehouse.EFORBIDDEN, "yourself"},
		{"short reason", f.oncall, with(func(in *service.NewEmergencyGrant) { in.Reason = "urgent" }), gatehouse.EINVALID, "at least 15 characters"},
		{"unknown entitlement", f.oncall, with(func(in *service.NewEmergencyGrant) { in.Entitlement = "db/nope" }), gatehouse.ENOTFOUND, ""},
	}
	for _, tt := range tests {
		_, err := f.svc.GrantEmergency(ctx, tt.p, tt.in)
		if gatehouse.ErrorCode(err) != tt.code || !strings.Contains(gatehouse.ErrorMessage(err), tt.msg) {
			t.Errorf("%s: err = %v, want %s containing %q", tt.name, err, tt.code, tt.msg)
		}
	}
	// Nothing was written by any refusal: no grant, no review, no number used.
	if g, _ := f.st.ListGrants(ctx, gatehouse.GrantFilter{Limit: 10}); len(g.Items) != 0 {
		t.Errorf("refusals left grants: %+v", g.Items)
	}
	got, err := f.svc.GrantEmergency(ctx, f.oncall, ok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Review.Ref != "EMG-000001" {
		t.Errorf("first grant after refusals is %s, want EMG-000001", got.Review.Ref)
	}
	// Holding it already is refused too.
	if _, err := f.svc.GrantEmergency(ctx, f.oncall2, ok); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Errorf("second grant of held access: err = %v, want conflict", err)
	}
}

func TestEmergencyGrantAndReview(t *testing.T) {
	for _, eng := range expiryEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newEmgFixture(t, eng.open(t))
			// No duration: the entitlement's 2h (below the settings' 4h).
			eg, err := f.svc.GrantEmergency(ctx, f.oncall, service.NewEmergencyGrant{Identity: "dev@example.com", Entitlement: "db/root", Reason: emgReason})
			if err != nil {
				t.Fatal(err)
			}
			g, rev := eg.Grant, eg.Review
			if g.Source != gatehouse.SourceEmergency || g.Reference != "EMG-000001" || g.GrantedBy != "oncall@example.com" {
				t.Errorf("grant = %+v", g)
			}
			if g.ExpiresAt == nil || !g.ExpiresAt.Equal(f.now.Add(2*time.Hour)) {
				t.Errorf("grant expires %v, want %v", g.ExpiresAt, f.now.Add(2*time.Hour))
			}
			if !rev.Open() || !rev.DueAt.Equal(f.now.Add(24*time.Hour)) || rev.GrantID != g.ID ||
				len(rev.Assignees) != 1 || rev.Assignees[0] != "sec@example.com" {
				t.Errorf("review = %+v", rev)
			}
			// Audited in the same transaction: the grant, the emergency and security's notice.
			for _, action := range []string{"grant.create", string(gatehouse.AuditEmergencyGrant), string(gatehouse.AuditEmergencyNotifySecurity)} {
				evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: action, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				if len(evs.Items) != 1 || evs.Items[0].Reference != "EMG-000001" || evs.Items[0].Reason != emgReason {
					t.Errorf("audit %s: %+v", action, evs.Items)
				}
			}
			list, err := f.svc.ListEmergencyReviews(ctx, f.other, gatehouse.EmergencyReviewFilter{OpenOnly: true})
			if err != nil || len(list.Items) != 1 || list.Open != 1 || list.Overdue != 0 {
				t.Fatalf("open reviews = %+v, %v; want 1 open, 0 overdue", list, err)
			}
			f.now = f.now.Add(25 * time.Hour)
			if list, _ = f.svc.ListEmergencyReviews(ctx, f.other, gatehouse.EmergencyReviewFilter{}); list.Overdue != 1 {
				t.Errorf("after 25h overdue = %d, want 1", list.Overdue)
			}
			done := service.EmergencyReviewCompletion{Who: "dev@example.com", Why: "INC-4711 db down", What: "restarted postgres"}
			// The granter may not review their own break-glass; an ordinary identity may not either.
			if _, err := f.svc.CompleteEmergencyReview(ctx, f.oncall, rev.Ref, done); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
				t.Errorf("granter reviews: err = %v, want forbidden", err)
			}
			if _, err := f.svc.CompleteEmergencyReview(ctx, f.plain, rev.Ref, done); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
				t.Errorf("ordinary identity reviews: err = %v, want forbidden", err)
			}
			if _, err := f.svc.CompleteEmergencyReview(ctx, f.sec, rev.Ref, service.EmergencyReviewCompletion{Who: "x", Why: "y"}); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
				t.Errorf("review without what: err = %v, want invalid", err)
			}
			out, err := f.svc.CompleteEmergencyReview(ctx, f.sec, strings.ToLower(rev.Ref), done)
			if err != nil {
				t.Fatal(err)
			}
			if out.Open() || out.CompletedBy != "sec@example.com" || out.What != "restarted postgres" {
				t.Errorf("completed review = %+v", out)
			}
			if _, err := f.svc.CompleteEmergencyReview(ctx, f.other, rev.Ref, done); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
				t.Errorf("second completion: err = %v, want conflict", err)
			}
			if list, _ = f.svc.ListEmergencyReviews(ctx, f.other, gatehouse.EmergencyReviewFilter{OpenOnly: true}); len(list.Items) != 0 || list.Open != 0 || list.Overdue != 0 {
				t.Errorf("after review: %+v, want none open", list)
			}
			if _, err := f.svc.ListEmergencyReviews(ctx, f.plain, gatehouse.EmergencyReviewFilter{}); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
				t.Errorf("ordinary identity lists reviews: err = %v, want forbidden", err)
			}
			if v, err := f.svc.VerifyAudit(ctx, service.SystemPrincipal("test")); err != nil || !v.OK {
				t.Errorf("audit verify = %+v, %v", v, err)
			}
		})
	}
}

func TestEmergencyNotifiesSecurity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newEmgFixture(t, storetest.NewSQLite(t))
	rec := &recorder{t: t}
	f.svc = service.New(f.st, service.Options{Now: func() time.Time { return f.now }, Notifier: rec})
	eg, err := f.svc.GrantEmergency(ctx, f.oncall, service.NewEmergencyGrant{Identity: "dev@example.com", Entitlement: "db/root",
		Reason: emgReason, Duration: gatehouse.Duration(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	msgs := rec.take()
	if len(msgs) != 1 {
		t.Fatalf("messages = %+v, want one to security", msgs)
	}
	m := msgs[0]
	if rcpts(m) != "sec" || m.Reference != eg.Review.Ref || m.Why != emgReason ||
		!strings.Contains(m.Subject, "EMERGENCY") || !strings.Contains(m.Subject, "oncall@example.com") ||
		m.Link != "https://gatehouse.example.com/api/v1/emergency/reviews/"+eg.Review.Ref {
		t.Errorf("message = %+v", m)
	}
	// A refused grant tells nobody.
	if _, err := f.svc.GrantEmergency(ctx, f.other, service.NewEmergencyGrant{Identity: "dev@example.com", Entitlement: "db/root", Reason: emgReason}); err == nil {
		t.Fatal("not an emergency operator: granted")
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("refusal sent %+v", got)
	}
}
