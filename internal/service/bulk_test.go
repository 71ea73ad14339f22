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

const bulkCatalog = `
settings:
  security_approvers: [owner@example.com]
systems:
  - id: app
    name: App
    owner: owner@example.com
    tier: standard
    connector: {type: manual}
entitlements:
  - {id: app/users, system: app, name: Users, kind: group, risk: standard}
  - {id: app/admins, system: app, name: Admins, kind: group, risk: privileged, max_duration: 8h}
`

// bulkFixture is a service with a tiny catalog and three identities: an owner, an active
// person and a leaver.
func bulkFixture(t *testing.T) (*service.Service, store.Store) {
	t.Helper()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	svc := service.New(st, service.Options{Now: func() time.Time { return now }})
	p := service.SystemPrincipal("test")
	for _, id := range []*gatehouse.Identity{
		{EmployeeID: "E1", Email: "owner@example.com"},
		{EmployeeID: "E2", Email: "ann@example.com"},
		{EmployeeID: "E3", Email: "leaver@example.com", Status: gatehouse.StatusTerminated},
	} {
		if _, err := svc.CreateIdentity(ctx, p, id, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(bulkCatalog)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	return svc, st
}

func grantCount(t *testing.T, st store.Store) int {
	t.Helper()
	page, err := st.ListGrants(context.Background(), gatehouse.GrantFilter{Limit: gatehouse.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Items)
}

func TestCreateGrants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st := bulkFixture(t)
	p := service.SystemPrincipal("test")
	head, _, _ := st.AuditHead(ctx)

	out, err := svc.CreateGrants(ctx, p, []service.NewGrant{
		{Identity: "ann@example.com", Entitlement: "app/users", Source: gatehouse.SourceBirthright, Reference: "role-x", Reason: "birthright"},
		{Identity: "E2", Entitlement: "app/admins", Reference: "EXC-1", Reason: "on call"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Source != gatehouse.SourceBirthright || out[1].Source != gatehouse.SourceDirect {
		t.Fatalf("grants %+v", out)
	}
	if out[0].ExpiresAt != nil {
		t.Errorf("standard grant expires at %v, want no expiry", out[0].ExpiresAt)
	}
	if out[1].ExpiresAt == nil || out[1].ExpiresAt.Sub(out[1].GrantedAt) != 8*time.Hour {
		t.Errorf("privileged grant expires at %v, want after max_duration 8h", out[1].ExpiresAt)
	}
	after, _, _ := st.AuditHead(ctx)
	if after != head+2 {
		t.Errorf("%d audit events for 2 grants, want one each", after-head)
	}
	v, err := service.VerifyStore(ctx, st)
	if err != nil || !v.OK {
		t.Fatalf("audit chain: %+v %v", v, err)
	}
}

// TestCreateGrantsAllOrNothing checks that one refused grant refuses the whole batch, and that
// the error names the refused one.
func TestCreateGrantsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := service.SystemPrincipal("test")
	ok := service.NewGrant{Identity: "ann@example.com", Entitlement: "app/users", Reference: "R", Reason: "r"}
	tests := []struct {
		name string
		bad  service.NewGrant
		code string
		msg  string
	}{
		{"duplicate within the batch", ok, gatehouse.ECONFLICT, "already holds app/users"},
		{"leaver", service.NewGrant{Identity: "leaver@example.com", Entitlement: "app/users", Reference: "R", Reason: "r"}, gatehouse.ECONFLICT, "terminated"},
		{"unknown entitlement", service.NewGrant{Identity: "E2", Entitlement: "app/nope", Reference: "R", Reason: "r"}, gatehouse.ENOTFOUND, ""},
		{"too long", service.NewGrant{Identity: "E2", Entitlement: "app/admins", Reference: "R", Reason: "r", Duration: gatehouse.Duration(9 * time.Hour)}, gatehouse.EINVALID, "exceeds the max_duration"},
		{"no reference", service.NewGrant{Identity: "E2", Entitlement: "app/admins", Reason: "r"}, gatehouse.EINVALID, "reference"},
		{"bad source", service.NewGrant{Identity: "E2", Entitlement: "app/admins", Source: "gift", Reference: "R", Reason: "r"}, gatehouse.EINVALID, "source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc, st := bulkFixture(t)
			before := grantCount(t, st)
			_, err := svc.CreateGrants(ctx, p, []service.NewGrant{ok, tt.bad})
			if gatehouse.ErrorCode(err) != tt.code {
				t.Fatalf("error %v, want code %s", err, tt.code)
			}
			if msg := gatehouse.ErrorMessage(err); !strings.HasPrefix(msg, "grants[1]: ") || !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q should name grants[1] and say %q", msg, tt.msg)
			}
			if n := grantCount(t, st); n != before {
				t.Errorf("%d grants recorded by a refused batch", n-before)
			}
		})
	}
}

func TestCreateGrantsNeedsOperator(t *testing.T) {
	t.Parallel()
	svc, _ := bulkFixture(t)
	auditor := &gatehouse.Principal{Email: "a@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAuditor}}
	_, err := svc.CreateGrants(context.Background(), auditor, []service.NewGrant{
		{Identity: "E2", Entitlement: "app/users", Reference: "R", Reason: "r"},
	})
	if gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("auditor: %v, want forbidden", err)
	}
}

func TestCreateIdentities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	svc := service.New(st, service.Options{})
	p := service.SystemPrincipal("test")

	// A manager created earlier in the same batch counts.
	out, err := svc.CreateIdentities(ctx, p, []*gatehouse.Identity{
		{EmployeeID: "E1", Email: "boss@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}},
		{EmployeeID: "E2", Email: "ann@example.com", ManagerID: "E1", Attributes: map[string]string{"cost_center": "CC-1"}},
	}, "load")
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].ID == "" || out[1].ID == "" || out[1].Source != "api" || out[1].Kind != gatehouse.KindPerson {
		t.Fatalf("created %+v", out)
	}
	if head, _, _ := st.AuditHead(ctx); head != 2 {
		t.Errorf("%d audit events for 2 identities", head)
	}

	// One bad identity refuses the batch.
	_, err = svc.CreateIdentities(ctx, p, []*gatehouse.Identity{
		{EmployeeID: "E3", Email: "bob@example.com", ManagerID: "E1"},
		{EmployeeID: "E4", Email: "cy@example.com", ManagerID: "E99"},
	}, "load")
	if gatehouse.ErrorCode(err) != gatehouse.EINVALID || !strings.HasPrefix(gatehouse.ErrorMessage(err), "identities[1]: manager_id") {
		t.Fatalf("unknown manager: %v", err)
	}
	if _, err := st.GetIdentity(ctx, "bob@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("bob was created by a refused batch: %v", err)
	}
	_, err = svc.CreateIdentities(ctx, p, []*gatehouse.Identity{{EmployeeID: "E5", Email: "not-an-email"}}, "")
	if gatehouse.ErrorCode(err) != gatehouse.EINVALID || !strings.HasPrefix(gatehouse.ErrorMessage(err), "identities[0]: email") {
		t.Fatalf("bad email: %v", err)
	}

	operator := &gatehouse.Principal{Email: "op@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}
	_, err = svc.CreateIdentities(ctx, operator, []*gatehouse.Identity{
		{EmployeeID: "E6", Email: "dee@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAuditor}},
	}, "")
	if gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("operator giving roles: %v, want forbidden", err)
	}
}
