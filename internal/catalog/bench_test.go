package catalog

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// genPeople are the owners genCatalog uses.
func genPeople() []string {
	out := []string{"sec-lead@example.com"}
	for i := range 10 {
		out = append(out, fmt.Sprintf("owner%d@example.com", i))
	}
	return out
}

// genCatalog writes a catalog of the given size the way a large company's would look: systems
// of every connector type, entitlements spread over them (one in ten privileged, one in five
// sensitive), and roles of five entitlements, half of them birthright roles.
func genCatalog(systems, entitlements, roles int) []byte {
	var b strings.Builder
	b.WriteString("settings:\n  security_approvers: [sec-lead@example.com]\n  leaver_guard: {max_fraction: 0.05, min_count: 20}\nsystems:\n")
	for s := range systems {
		fmt.Fprintf(&b, "  - id: sys-%d\n    name: System %d\n    owner: owner%d@example.com\n    tier: %s\n    connector:\n",
			s, s, s%10, []string{"critical", "high", "standard"}[s%3])
		switch s % 3 {
		case 0:
			fmt.Fprintf(&b, "      type: ldap\n      url: ldaps://dir%d.example.com\n      bind_dn: cn=gatehouse,dc=example,dc=com\n"+
				"      bind_password_env: SYS_%d_PASSWORD\n      users_dn: ou=people,dc=example,dc=com\n      groups_dn: ou=groups,dc=example,dc=com\n", s, s)
		case 1:
			fmt.Fprintf(&b, "      type: scim\n      url: https://app%d.example.com/scim/v2\n      token_env: SYS_%d_TOKEN\n", s, s)
		default:
			b.WriteString("      type: manual\n")
		}
	}
	b.WriteString("entitlements:\n")
	for e := range entitlements {
		s := e % systems
		risk, extra := "standard", ""
		switch {
		case e%10 == 0:
			risk, extra = "privileged", "    max_duration: 8h\n"
		case e%5 == 0:
			risk, extra = "sensitive", "    max_duration: 90d\n    approval: [manager, owner]\n"
		}
		fmt.Fprintf(&b, "  - id: sys-%d/ent-%d\n    system: sys-%d\n    name: Entitlement %d\n    description: Access number %d to system %d\n"+
			"    external_id: cn=ent-%d,ou=groups,dc=example,dc=com\n    kind: group\n    risk: %s\n    owner: owner%d@example.com\n%s",
			s, e, s, e, e, s, e, risk, e%10, extra)
	}
	b.WriteString("roles:\n")
	for r := range roles {
		ids := make([]string, 5)
		for k := range ids {
			e := (r*5 + k) % entitlements
			ids[k] = fmt.Sprintf("sys-%d/ent-%d", e%systems, e)
		}
		fmt.Fprintf(&b, "  - id: role-%d\n    name: Role %d\n    entitlements: [%s]\n", r, r, strings.Join(ids, ", "))
		if r%2 == 1 { // odd roles start on a sensitive entitlement: a birthright holds nothing privileged
			fmt.Fprintf(&b, "    birthright: identity.department == \"Dept %d\" && identity.status == \"active\"\n", r)
		}
	}
	b.WriteString("sod:\n")
	for i := range max(1, roles/50) {
		// Sides five apart are never in one role (a role holds five consecutive entitlements
		// from a multiple of five), as no birthright role may hold both sides of a block rule.
		fmt.Fprintf(&b, "  - id: sod-%d\n    left: [sys-%d/ent-%d]\n    right: [sys-%d/ent-%d]\n", i, i%systems, i, (i+5)%systems, i+5)
	}
	return []byte(b.String())
}

// BenchmarkParse parses and validates a catalog of 20 systems, 5,000 entitlements and 500
// roles.
func BenchmarkParse(b *testing.B) {
	src := genCatalog(20, 5000, 500)
	files := []File{{Name: "catalog.yaml", Content: src}}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(files, specs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply measures what `gatehouse catalog apply` does for a catalog of 20 systems,
// 5,000 entitlements and 500 roles into an empty SQLite store: parse, plan and apply in one
// transaction, audit events included, through commit. Target: under 2 s.
func BenchmarkApply(b *testing.B) {
	src := genCatalog(20, 5000, 500)
	ctx := context.Background()
	b.SetBytes(int64(len(src)))
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := storetest.OpenSQLite(b)
		addPeople(b, s, genPeople()...)
		b.StartTimer()

		doc, err := Parse([]File{{Name: "catalog.yaml", Content: src}}, specs)
		if err != nil {
			b.Fatal(err)
		}
		err = s.Update(ctx, func(tx store.Tx) error {
			plan, err := MakePlan(ctx, tx, doc)
			if err != nil {
				return err
			}
			_, err = Apply(ctx, tx, plan, ApplyOptions{Actor: "admin@example.com", Now: t0})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

// BenchmarkReplan measures a plan against a store that already holds the same large catalog:
// the common case of CI planning a catalog change.
func BenchmarkReplan(b *testing.B) {
	src := genCatalog(20, 5000, 500)
	ctx := context.Background()
	s := storetest.OpenSQLite(b)
	addPeople(b, s, genPeople()...)
	doc, err := Parse([]File{{Name: "catalog.yaml", Content: src}}, specs)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := planAndApply(b, s, doc, ApplyOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		plan, err := MakePlan(ctx, s, doc)
		if err != nil {
			b.Fatal(err)
		}
		if !plan.Empty() {
			b.Fatalf("re-plan is not empty: %d changes", len(plan.Changes))
		}
	}
}
