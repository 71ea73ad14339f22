package provision

import (
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// BenchmarkPlanSystem plans a converged directory of the benchmark size: 20,000 users,
// 2,000 groups, 200,000 memberships (10 groups each), all granted. It is the "diff" half of
// "inventory read + diff"; the read is the connector's benchmark.
func BenchmarkPlanSystem(b *testing.B) {
	const users, groups, per = 20_000, 2_000, 10
	in := Input{System: &gatehouse.System{ID: "dir"}, Capabilities: connector.Capabilities{CreateAccount: true, Disable: true, Groups: true},
		Policy: DefaultDriftPolicy(), Now: now, Inventory: &connector.Inventory{Groups: map[string]*connector.Group{}}}
	for g := range groups {
		ext := fmt.Sprintf("cn=group%05d,ou=groups", g)
		in.Entitlements = append(in.Entitlements, &gatehouse.Entitlement{ID: fmt.Sprintf("dir/g%d", g), System: "dir", ExternalID: ext})
		in.Inventory.Groups[ext] = &connector.Group{ID: ext}
	}
	for u := range users {
		id := &gatehouse.Identity{ID: fmt.Sprintf("id%d", u), EmployeeID: fmt.Sprintf("E%d", u),
			Email: fmt.Sprintf("user%06d@example.com", u), Status: gatehouse.StatusActive}
		in.Identities = append(in.Identities, id)
		ref := connector.AccountRef{ID: fmt.Sprintf("uuid%d", u)}
		in.Inventory.Accounts = append(in.Inventory.Accounts, connector.Account{Ref: ref, Username: fmt.Sprintf("user%06d", u),
			EmployeeID: id.EmployeeID, Email: id.Email, Enabled: true})
		for k := range per {
			g := (u*per + k) % groups
			in.Grants = append(in.Grants, &gatehouse.Grant{ID: fmt.Sprintf("g%d-%d", u, k), IdentityID: id.ID,
				EntitlementID: fmt.Sprintf("dir/g%d", g), GrantedAt: t0})
			ext := fmt.Sprintf("cn=group%05d,ou=groups", g)
			in.Inventory.Groups[ext].Members = append(in.Inventory.Groups[ext].Members, ref)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p := PlanSystem(in)
		if len(p.Ops) != 0 {
			b.Fatalf("%d operations on a converged directory", len(p.Ops))
		}
	}
}
