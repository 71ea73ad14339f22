package service_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const sodCatalog = `
systems:
  - {id: pay, name: Payments, owner: owner@example.com, tier: critical, connector: {type: manual}}
  - {id: erp, name: ERP, owner: owner@example.com, tier: standard, connector: {type: manual}}
entitlements:
  - {id: pay/create, system: pay, name: Create payments, kind: group, risk: sensitive}
  - {id: pay/approve, system: pay, name: Approve payments, kind: group, risk: sensitive}
  - {id: erp/admin, system: erp, name: ERP admin, kind: group, risk: standard}
  - {id: erp/audit, system: erp, name: ERP audit, kind: group, risk: standard}
sod:
  - {id: maker-checker, left: [pay/create], right: [pay/approve], severity: critical, on_violation: block}
  - {id: admin-vs-audit, left: [erp/admin], right: [erp/audit], severity: medium, on_violation: record}
`

func TestSoDViolations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	now := t0
	svc := service.New(st, service.Options{Now: func() time.Time { return now }})
	sys := service.SystemPrincipal("test")
	for i, email := range []string{"owner@example.com", "ann@example.com", "bob@example.com", "carl@example.com", "dora@example.com"} {
		if _, err := svc.CreateIdentity(ctx, sys, &gatehouse.Identity{EmployeeID: fmt.Sprint("E", i), Email: email}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.ApplyCatalog(ctx, sys, []catalog.File{{Name: "c.yaml", Content: []byte(sodCatalog)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	grant := func(who, ent string, d time.Duration) *gatehouse.Grant {
		t.Helper()
		// Violations of a block rule arise from access loaded before the rule (CreateGrants, the
		// internal path); a direct grant (CreateGrant) is refused by it.
		gs, err := svc.CreateGrants(ctx, sys, []service.NewGrant{{Identity: who, Entitlement: ent, Reference: "T-" + who, Duration: gatehouse.Duration(d), Reason: "test"}})
		if err != nil {
			t.Fatalf("grant %s %s: %v", who, ent, err)
		}
		return gs[0]
	}
	annCreate := grant("ann@example.com", "pay/create", 0)
	grant("ann@example.com", "erp/admin", 0)
	grant("bob@example.com", "erp/audit", 0)
	grant("bob@example.com", "pay/create", 0)
	carlApprove := grant("carl@example.com", "pay/approve", 0)
	grant("carl@example.com", "pay/create", 0)
	grant("dora@example.com", "pay/create", 0)
	grant("dora@example.com", "pay/approve", time.Hour) // expires before the report
	now = t0.Add(2 * time.Hour)
	annApprove := grant("ann@example.com", "pay/approve", 0)
	grant("bob@example.com", "erp/admin", 0)
	if _, err := svc.RevokeGrant(ctx, sys, carlApprove.ID, "sod cleanup"); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(3 * time.Hour)

	auditor := &gatehouse.Principal{Email: "aud@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAuditor}}
	rep, err := svc.SoDViolations(ctx, auditor, service.SoDViolationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range rep.Items {
		got = append(got, fmt.Sprintf("%s %s %s %s %s+%s", v.Rule, v.Severity, v.OnViolation, v.Email, v.Left, v.Right))
	}
	want := []string{
		"admin-vs-audit medium record bob@example.com erp/admin+erp/audit",
		"maker-checker critical block ann@example.com pay/create+pay/approve",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("violations:\n%v\nwant (carl's approve revoked, dora's expired):\n%v", got, want)
	}
	if rep.Count != 2 || rep.Identities != 2 || rep.RulesChecked != 2 || rep.ByOnViolation["block"] != 1 || rep.ByOnViolation["record"] != 1 {
		t.Errorf("counts = %+v", rep)
	}
	if rep.GrantsChecked != 8 { // 10 granted, one revoked, one expired
		t.Errorf("grants checked = %d, want 8", rep.GrantsChecked)
	}
	ann := rep.Items[1]
	if len(ann.LeftGrants) != 1 || ann.LeftGrants[0].ID != annCreate.ID || ann.LeftGrants[0].Source != gatehouse.SourceDirect ||
		ann.LeftGrants[0].Reference != "T-ann@example.com" || len(ann.RightGrants) != 1 || ann.RightGrants[0].ID != annApprove.ID {
		t.Errorf("ann's grants = %+v / %+v", ann.LeftGrants, ann.RightGrants)
	}
	if !ann.Since.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("ann in violation since %v, want when the second grant arrived", ann.Since)
	}

	// Filters.
	rep, err = svc.SoDViolations(ctx, auditor, service.SoDViolationFilter{Rule: "maker-checker"})
	if err != nil || rep.Count != 1 || rep.Items[0].Email != "ann@example.com" || rep.RulesChecked != 1 {
		t.Errorf("rule filter = %+v, %v", rep, err)
	}
	rep, err = svc.SoDViolations(ctx, auditor, service.SoDViolationFilter{Identity: "bob@example.com"})
	if err != nil || rep.Count != 1 || rep.Items[0].Rule != "admin-vs-audit" || rep.GrantsChecked != 3 {
		t.Errorf("identity filter = %+v, %v", rep, err)
	}
	rep, err = svc.SoDViolations(ctx, auditor, service.SoDViolationFilter{Identity: "carl@example.com"})
	if err != nil || rep.Count != 0 || rep.Items == nil {
		t.Errorf("clean identity = %+v, %v; want an empty (non-nil) list", rep, err)
	}
	if _, err := svc.SoDViolations(ctx, auditor, service.SoDViolationFilter{Rule: "no-such-rule"}); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("unknown rule: err = %v, want not found", err)
	}
	if _, err := svc.SoDViolations(ctx, auditor, service.SoDViolationFilter{Identity: "nobody@example.com"}); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("unknown identity: err = %v, want not found", err)
	}

	// Denials: an employee may not see who else holds what, not even filtered to themselves.
	annID, err := svc.GetIdentity(ctx, sys, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	employee := &gatehouse.Principal{IdentityID: annID.ID, Email: annID.Email}
	for _, f := range []service.SoDViolationFilter{{}, {Identity: "ann@example.com"}} {
		if _, err := svc.SoDViolations(ctx, employee, f); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
			t.Errorf("employee %+v: err = %v, want forbidden", f, err)
		}
	}
	if _, err := svc.SoDViolations(ctx, nil, service.SoDViolationFilter{}); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHORIZED {
		t.Errorf("anonymous: err = %v, want unauthorized", err)
	}
}

// TestSoDIndexCache checks that the compiled rules are reused until a catalog apply, by this
// service or by another process over the same database, changes them.
func TestSoDIndexCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	svc := service.New(st, service.Options{})
	other := service.New(st, service.Options{}) // another server process
	sys := service.SystemPrincipal("test")
	if _, err := svc.CreateIdentity(ctx, sys, &gatehouse.Identity{EmployeeID: "E0", Email: "owner@example.com"}, "test"); err != nil {
		t.Fatal(err)
	}
	empty, err := svc.SoDIndexForTest(ctx, st)
	if err != nil || empty.Len() != 0 {
		t.Fatalf("before any catalog: %v rules, %v", empty.Len(), err)
	}
	apply := func(s *service.Service, yaml string) {
		t.Helper()
		if _, err := s.ApplyCatalog(ctx, sys, []catalog.File{{Name: "c.yaml", Content: []byte(yaml)}}, true, "test"); err != nil {
			t.Fatal(err)
		}
	}
	apply(svc, sodCatalog)
	first, err := svc.SoDIndexForTest(ctx, st)
	if err != nil || first.Len() != 2 {
		t.Fatalf("after apply: %d rules, %v", first.Len(), err)
	}
	if again, _ := svc.SoDIndexForTest(ctx, st); again != first {
		t.Errorf("unchanged catalog compiled again")
	}
	// Grants and other writes do not invalidate it.
	if _, err := svc.CreateGrant(ctx, sys, service.NewGrant{Identity: "owner@example.com", Entitlement: "pay/create", Reference: "T", Reason: "t"}); err != nil {
		t.Fatal(err)
	}
	if again, _ := svc.SoDIndexForTest(ctx, st); again != first {
		t.Errorf("a grant made the rules compile again")
	}
	// Another process turns the record rule into a block rule: this one sees it at once.
	apply(other, strings.Replace(sodCatalog, "on_violation: record", "on_violation: block", 1))
	changed, err := svc.SoDIndexForTest(ctx, st)
	if err != nil || changed == first || changed.Rule("admin-vs-audit").OnViolation != "block" {
		t.Fatalf("after another process's apply: same=%v, rule %+v, %v", changed == first, changed.Rule("admin-vs-audit"), err)
	}
}
