package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func testSettings(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	equal(t, "settings of an empty database", mustGet[gatehouse.Settings](t)(s.GetSettings(ctx)), gatehouse.DefaultSettings())

	want := gatehouse.Settings{SecurityApprovers: []string{"sec-lead@example.com", "ciso@example.com"},
		LeaverGuard: gatehouse.LeaverGuard{MaxFraction: 0.125, MinCount: 7}}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutSettings(ctx, want) })
	equal(t, "settings", mustGet[gatehouse.Settings](t)(s.GetSettings(ctx)), want)

	// No approvers read back as an empty list, which encodes as [] rather than null.
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutSettings(ctx, gatehouse.Settings{LeaverGuard: want.LeaverGuard})
	})
	equal(t, "settings without approvers", mustGet[gatehouse.Settings](t)(s.GetSettings(ctx)),
		gatehouse.Settings{SecurityApprovers: []string{}, LeaverGuard: want.LeaverGuard})
}

// catalogFixture is a catalog whose ids sort differently in byte order and in a typical locale
// ("a-b" < "ab" only by bytes), written in no particular order.
func catalogFixture() *gatehouse.Catalog {
	return &gatehouse.Catalog{
		// The pins (…ID fields) round-trip as written; the store does not check them.
		Settings: gatehouse.Settings{SecurityApprovers: []string{"sec@example.com"}, SecurityApproverIDs: []string{"id-sec"},
			LeaverGuard: gatehouse.LeaverGuard{MaxFraction: 0.1, MinCount: 3}},
		Systems: []*gatehouse.System{
			{ID: "wiki", Name: "Team Wiki", Owner: "it@example.com", OwnerID: "id-it", Tier: gatehouse.TierStandard,
				Connector: gatehouse.Connector{Type: "scim", Settings: map[string]any{"url": "http://127.0.0.1:8090/scim/v2", "token_env": "WIKI_TOKEN"}}},
			{ID: "corp-ldap", Name: "Corporate Directory", Owner: "it@example.com", Tier: gatehouse.TierCritical,
				Connector: gatehouse.Connector{Type: "ldap", Settings: map[string]any{
					"url":      "ldap://127.0.0.1:3389",
					"tls":      false,
					"port":     float64(3389), // JSON numbers read back as float64
					"bases":    []any{"ou=people,dc=example,dc=com", "ou=groups,dc=example,dc=com"},
					"mapping":  map[string]any{"user": map[string]any{"uid": "uid", "mail": "mail", "enabled": true}},
					"note":     "quotes \" and unicode ✓",
					"timeouts": []any{float64(1.5), nil},
				}}},
			{ID: "manual", Name: "Paper forms", Owner: "ops@example.com", Tier: gatehouse.TierHigh, Connector: gatehouse.Connector{Type: "manual"}},
		},
		Entitlements: []*gatehouse.Entitlement{
			{ID: "corp-ldap/engineering", System: "corp-ldap", Name: "Engineering", Description: "Source and CI",
				ExternalID: "cn=engineering,ou=groups,dc=example,dc=com", Kind: gatehouse.KindGroup, Risk: gatehouse.RiskStandard,
				Owner: "eng@example.com", Requestable: true, Approval: []string{"manager", "owner"}},
			{ID: "corp-ldap/admins", System: "corp-ldap", Name: "Domain admins", Kind: gatehouse.KindGroup, Risk: gatehouse.RiskPrivileged,
				Owner: "it@example.com", Requestable: true, MaxDuration: gatehouse.Duration(8 * time.Hour), Approval: []string{"manager", "owner", "security"}},
			{ID: "corp-ldap/a-b", System: "corp-ldap", Name: "A-B", Kind: gatehouse.KindRole, Risk: gatehouse.RiskSensitive,
				Owner: "it@example.com", MaxDuration: gatehouse.Duration(720 * time.Hour), Approval: []string{}},
			{ID: "corp-ldap/ab", System: "corp-ldap", Name: "AB", Kind: gatehouse.KindLicense, Risk: gatehouse.RiskStandard, Owner: "it@example.com",
				OwnerID: "id-it", Approval: []string{"it-lead@example.com"}, ApproverIDs: map[string]string{"it-lead@example.com": "id-it-lead"}},
			{ID: "wiki/members", System: "wiki", Name: "Members", Kind: gatehouse.KindPermissionSet, Risk: gatehouse.RiskStandard, Owner: "it@example.com", Requestable: true, Approval: []string{}},
		},
		Roles: []*gatehouse.Role{
			{ID: "engineering-baseline", Name: "Engineering baseline", Description: "Everyone in engineering",
				Entitlements: []string{"corp-ldap/engineering", "wiki/members"}, Birthright: `identity.department == "Engineering" && identity.status == "active"`},
			{ID: "auditors", Name: "Auditors", Entitlements: []string{}},
		},
		SoD: []*gatehouse.SoDRule{
			{ID: "payments-maker-checker", Description: "Nobody may both create and approve payments",
				Left: []string{"erp/payments-create"}, Right: []string{"erp/payments-approve", "erp/payments-admin"}, Severity: "high", OnViolation: "block"},
			{ID: "admin-auditor", Left: []string{"corp-ldap/admins"}, Right: []string{}, Severity: "medium", OnViolation: "exception"},
		},
	}
}

func putCatalog(ctx context.Context, tx store.Tx, c *gatehouse.Catalog) error {
	if err := tx.PutSettings(ctx, c.Settings); err != nil {
		return err
	}
	for _, s := range c.Systems {
		if err := tx.PutSystem(ctx, s); err != nil {
			return err
		}
	}
	for _, e := range c.Entitlements {
		if err := tx.PutEntitlement(ctx, e); err != nil {
			return err
		}
	}
	for _, r := range c.Roles {
		if err := tx.PutRole(ctx, r); err != nil {
			return err
		}
	}
	for _, r := range c.SoD {
		if err := tx.PutSoDRule(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// sortedCatalog is c with every list sorted by id (byte order), as LoadCatalog returns it.
func sortedCatalog(c *gatehouse.Catalog) *gatehouse.Catalog {
	out := *c
	out.Systems = slices.SortedFunc(slices.Values(c.Systems), func(a, b *gatehouse.System) int { return strings.Compare(a.ID, b.ID) })
	out.Entitlements = slices.SortedFunc(slices.Values(c.Entitlements), func(a, b *gatehouse.Entitlement) int { return strings.Compare(a.ID, b.ID) })
	out.Roles = slices.SortedFunc(slices.Values(c.Roles), func(a, b *gatehouse.Role) int { return strings.Compare(a.ID, b.ID) })
	out.SoD = slices.SortedFunc(slices.Values(c.SoD), func(a, b *gatehouse.SoDRule) int { return strings.Compare(a.ID, b.ID) })
	return &out
}

func testCatalogRoundTrip(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()

	empty := mustGet[*gatehouse.Catalog](t)(s.LoadCatalog(ctx))
	if len(empty.Systems)+len(empty.Entitlements)+len(empty.Roles)+len(empty.SoD) != 0 {
		t.Fatalf("empty database has a catalog: %+v", empty)
	}
	equal(t, "settings of an empty catalog", empty.Settings, gatehouse.DefaultSettings())

	c := catalogFixture()
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return putCatalog(ctx, tx, c) })
	want := sortedCatalog(c)
	equal(t, "LoadCatalog", mustGet[*gatehouse.Catalog](t)(s.LoadCatalog(ctx)), want)
	equal(t, "ListSystems", mustGet[[]*gatehouse.System](t)(s.ListSystems(ctx)), want.Systems)
	equal(t, "ListRoles", mustGet[[]*gatehouse.Role](t)(s.ListRoles(ctx)), want.Roles)
	equal(t, "ListSoDRules", mustGet[[]*gatehouse.SoDRule](t)(s.ListSoDRules(ctx)), want.SoD)
	for _, sys := range c.Systems {
		equal(t, "GetSystem "+sys.ID, mustGet[*gatehouse.System](t)(s.GetSystem(ctx, sys.ID)), sys)
	}
	for _, e := range c.Entitlements {
		equal(t, "GetEntitlement "+e.ID, mustGet[*gatehouse.Entitlement](t)(s.GetEntitlement(ctx, e.ID)), e)
	}
	for _, r := range c.Roles {
		equal(t, "GetRole "+r.ID, mustGet[*gatehouse.Role](t)(s.GetRole(ctx, r.ID)), r)
	}
	for _, r := range c.SoD {
		equal(t, "GetSoDRule "+r.ID, mustGet[*gatehouse.SoDRule](t)(s.GetSoDRule(ctx, r.ID)), r)
	}

	// Put replaces every field; nil lists read back empty.
	c.Systems[0].Name, c.Systems[0].Connector = "Wiki 2", gatehouse.Connector{Type: "manual"}
	c.Entitlements[0].Requestable, c.Entitlements[0].MaxDuration, c.Entitlements[0].Approval = false, gatehouse.Duration(90*time.Minute), nil
	c.Roles[0].Entitlements, c.Roles[0].Birthright = nil, ""
	c.SoD[0].Left, c.SoD[0].OnViolation = nil, "record"
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return putCatalog(ctx, tx, c) })
	c.Entitlements[0].Approval, c.Roles[0].Entitlements, c.SoD[0].Left = []string{}, []string{}, []string{}
	equal(t, "LoadCatalog after put", mustGet[*gatehouse.Catalog](t)(s.LoadCatalog(ctx)), sortedCatalog(c))

	// Delete each kind; deleting what is not there is ENOTFOUND.
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.DeleteSystem(ctx, "manual"), tx.DeleteEntitlement(ctx, "corp-ldap/ab"),
			tx.DeleteRole(ctx, "auditors"), tx.DeleteSoDRule(ctx, "admin-auditor"))
	})
	gets := []struct {
		what string
		get  func() error
		msg  string
	}{
		{"system", func() error { _, err := s.GetSystem(ctx, "manual"); return err }, `system "manual" not found`},
		{"entitlement", func() error { _, err := s.GetEntitlement(ctx, "corp-ldap/ab"); return err }, `entitlement "corp-ldap/ab" not found`},
		{"role", func() error { _, err := s.GetRole(ctx, "auditors"); return err }, `role "auditors" not found`},
		{"SoD rule", func() error { _, err := s.GetSoDRule(ctx, "admin-auditor"); return err }, `SoD rule "admin-auditor" not found`},
	}
	for _, g := range gets {
		wantError(t, g.get(), gatehouse.ENOTFOUND, g.msg)
	}
	deletes := []func(ctx context.Context, tx store.Tx) error{
		func(ctx context.Context, tx store.Tx) error { return tx.DeleteSystem(ctx, "manual") },
		func(ctx context.Context, tx store.Tx) error { return tx.DeleteEntitlement(ctx, "corp-ldap/ab") },
		func(ctx context.Context, tx store.Tx) error { return tx.DeleteRole(ctx, "auditors") },
		func(ctx context.Context, tx store.Tx) error { return tx.DeleteSoDRule(ctx, "admin-auditor") },
	}
	for i, del := range deletes {
		err := auditedErr(t, s, del)
		wantError(t, err, gatehouse.ENOTFOUND, gets[i].msg)
	}
	got := mustGet[*gatehouse.Catalog](t)(s.LoadCatalog(ctx))
	if len(got.Systems) != 2 || len(got.Entitlements) != 4 || len(got.Roles) != 1 || len(got.SoD) != 1 {
		t.Fatalf("after deletes: %d systems, %d entitlements, %d roles, %d SoD rules; want 2, 4, 1, 1",
			len(got.Systems), len(got.Entitlements), len(got.Roles), len(got.SoD))
	}
}

func joinErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func testEntitlementFilters(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	systems := []string{"crm", "crm-eu", "erp"}
	risks := []gatehouse.Risk{gatehouse.RiskStandard, gatehouse.RiskSensitive, gatehouse.RiskPrivileged}
	var all []*gatehouse.Entitlement
	for n := range 30 {
		sys := systems[n%len(systems)]
		all = append(all, &gatehouse.Entitlement{
			ID: fmt.Sprintf("%s/group-%02d", sys, n), System: sys, Name: fmt.Sprintf("Group %d", n),
			Description: []string{"Read reports", "Approve PAYMENTS", "Admin console"}[(n/2)%3] + fmt.Sprintf(" #%d", n%4),
			Kind:        gatehouse.KindGroup, Risk: risks[(n/3)%len(risks)], Owner: "o@example.com",
			Requestable: n%2 == 0, Approval: []string{"owner"},
		})
	}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, e := range all {
			if err := tx.PutEntitlement(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	has := func(e *gatehouse.Entitlement, q string) bool {
		return strings.Contains(strings.ToLower(e.ID+" "+e.Name+" "+e.Description), strings.ToLower(q))
	}
	tests := []struct {
		name   string
		filter gatehouse.EntitlementFilter
		match  func(*gatehouse.Entitlement) bool
	}{
		{"all", gatehouse.EntitlementFilter{}, func(*gatehouse.Entitlement) bool { return true }},
		{"system is exact, not a prefix", gatehouse.EntitlementFilter{System: "crm"}, func(e *gatehouse.Entitlement) bool { return e.System == "crm" }},
		{"risk", gatehouse.EntitlementFilter{Risk: gatehouse.RiskPrivileged}, func(e *gatehouse.Entitlement) bool { return e.Risk == gatehouse.RiskPrivileged }},
		{"query description any case", gatehouse.EntitlementFilter{Query: "payments"}, func(e *gatehouse.Entitlement) bool { return has(e, "payments") }},
		{"query id", gatehouse.EntitlementFilter{Query: "CRM-EU/"}, func(e *gatehouse.Entitlement) bool { return has(e, "crm-eu/") }},
		{"query name", gatehouse.EntitlementFilter{Query: "group 1"}, func(e *gatehouse.Entitlement) bool { return has(e, "group 1") }},
		{"requestable", gatehouse.EntitlementFilter{Requestable: ptr(true)}, func(e *gatehouse.Entitlement) bool { return e.Requestable }},
		{"not requestable", gatehouse.EntitlementFilter{Requestable: ptr(false)}, func(e *gatehouse.Entitlement) bool { return !e.Requestable }},
		{"system, risk and requestable", gatehouse.EntitlementFilter{System: "erp", Risk: gatehouse.RiskStandard, Requestable: ptr(true)},
			func(e *gatehouse.Entitlement) bool {
				return e.System == "erp" && e.Risk == gatehouse.RiskStandard && e.Requestable
			}},
	}
	byID := func(e *gatehouse.Entitlement) string { return e.ID }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []*gatehouse.Entitlement
			for _, e := range all {
				if tc.match(e) {
					want = append(want, e)
				}
			}
			if len(want) == 0 {
				t.Fatal("the fixture gives this case no matches")
			}
			f := tc.filter
			f.Limit = 4
			got := pageAll(t, func(cursor string) (gatehouse.Page[*gatehouse.Entitlement], error) {
				f.Cursor = cursor
				return s.ListEntitlements(t.Context(), f)
			}, byID, f.Limit)
			if !slices.IsSortedFunc(got, func(a, b *gatehouse.Entitlement) int { return strings.Compare(a.ID, b.ID) }) {
				t.Fatal("entitlements are not in id order")
			}
			equal(t, "ids", sortedKeys(got, byID), sortedKeys(want, byID))
		})
	}
	_, err := s.ListEntitlements(t.Context(), gatehouse.EntitlementFilter{Cursor: "%%%"})
	wantCode(t, err, gatehouse.EINVALID)
}
