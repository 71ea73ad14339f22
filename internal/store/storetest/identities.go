package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func testIdentityCRUD(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()

	alice := person(1)
	alice.Email = "Alice.Smith@Example.com"
	alice.Attributes = map[string]string{"cost_center": "CC-42", "badge": "7"}
	alice.Roles = []gatehouse.AccessRole{gatehouse.RoleAdmin, gatehouse.RoleAuditor}
	alice.EndDate = "2026-12-31"
	svc := &gatehouse.Identity{Email: "ci-bot@example.com", Kind: gatehouse.KindService, Source: "api",
		EmploymentType: gatehouse.Employee, Status: gatehouse.StatusActive}
	fixed := person(2)
	fixed.ID = "fixed-id-2"
	createIdentities(t, s, alice, svc, fixed)

	wantUUIDv7(t, "identity", alice.ID)
	wantStored(t, "CreatedAt", alice.CreatedAt)
	if alice.UpdatedAt != alice.CreatedAt {
		t.Fatalf("UpdatedAt %v != CreatedAt %v after create", alice.UpdatedAt, alice.CreatedAt)
	}
	if fixed.ID != "fixed-id-2" {
		t.Fatalf("CreateIdentity replaced a given id with %q", fixed.ID)
	}

	for _, key := range []string{alice.ID, "alice.smith@example.com", "ALICE.SMITH@EXAMPLE.COM", alice.Email, "E00001"} {
		got, err := s.GetIdentity(ctx, key)
		if err != nil {
			t.Fatalf("GetIdentity(%q): %v", key, err)
		}
		equal(t, "GetIdentity("+key+")", got, alice)
	}
	equal(t, "service account", mustGet[*gatehouse.Identity](t)(s.GetIdentity(ctx, svc.ID)), svc)
	if svc.Attributes != nil || svc.Roles != nil {
		t.Fatal("empty attributes and roles must read back as nil")
	}

	_, err := s.GetIdentity(ctx, "nobody@example.com")
	wantError(t, err, gatehouse.ENOTFOUND, `identity "nobody@example.com" not found`)
	// An empty employee_id never matches the service account.
	_, err = s.GetIdentity(ctx, "")
	wantCode(t, err, gatehouse.ENOTFOUND)

	// Update replaces every field and stamps UpdatedAt, keeping CreatedAt.
	created := alice.CreatedAt
	alice.Title = "Staff Engineer"
	alice.Department = "Platform"
	alice.Roles = []gatehouse.AccessRole{gatehouse.RoleOperator}
	alice.Attributes = nil
	alice.Status = gatehouse.StatusLeave
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateIdentity(ctx, alice) })
	wantStored(t, "UpdatedAt", alice.UpdatedAt)
	if alice.UpdatedAt.Before(created) || alice.CreatedAt != created {
		t.Fatalf("after update: CreatedAt %v (was %v), UpdatedAt %v", alice.CreatedAt, created, alice.UpdatedAt)
	}
	equal(t, "after update", mustGet[*gatehouse.Identity](t)(s.GetIdentity(ctx, alice.ID)), alice)

	missing := person(99)
	missing.ID = "no-such-id"
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateIdentity(ctx, missing) })
	wantError(t, err, gatehouse.ENOTFOUND, `identity "no-such-id" not found`)
}

func testIdentityConflicts(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	a, b := person(1), person(2)
	createIdentities(t, s, a, b)

	tests := []struct {
		name    string
		write   func(ctx context.Context, tx store.Tx) error
		code    string
		message string
	}{
		{"email differs only in case", func(ctx context.Context, tx store.Tx) error {
			i := person(3)
			i.Email = "USER00001@example.COM"
			return tx.CreateIdentity(ctx, i)
		}, gatehouse.ECONFLICT, `identity with email "USER00001@example.COM" already exists`},
		{"same employee_id", func(ctx context.Context, tx store.Tx) error {
			i := person(3)
			i.EmployeeID = a.EmployeeID
			return tx.CreateIdentity(ctx, i)
		}, gatehouse.ECONFLICT, `identity with employee_id "E00001" already exists`},
		{"same id", func(ctx context.Context, tx store.Tx) error {
			i := person(3)
			i.ID = a.ID
			return tx.CreateIdentity(ctx, i)
		}, gatehouse.ECONFLICT, fmt.Sprintf("identity %q already exists", a.ID)},
		{"update to another's email", func(ctx context.Context, tx store.Tx) error {
			i := *b
			i.Email = strings.ToUpper(a.Email)
			return tx.UpdateIdentity(ctx, &i)
		}, gatehouse.ECONFLICT, fmt.Sprintf("identity with email %q already exists", strings.ToUpper(a.Email))},
		{"update to another's employee_id", func(ctx context.Context, tx store.Tx) error {
			i := *b
			i.EmployeeID = a.EmployeeID
			return tx.UpdateIdentity(ctx, &i)
		}, gatehouse.ECONFLICT, `identity with employee_id "E00001" already exists`},
		{"service accounts share the empty employee_id", func(ctx context.Context, tx store.Tx) error {
			for _, e := range []string{"svc1@example.com", "svc2@example.com"} {
				if err := tx.CreateIdentity(ctx, &gatehouse.Identity{Email: e, Kind: gatehouse.KindService}); err != nil {
					return err
				}
			}
			return nil
		}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := auditedErr(t, s, tc.write)
			if tc.code == "" {
				must(t, err)
				return
			}
			wantError(t, err, tc.code, tc.message)
		})
	}
	if n := mustGet[int](t)(s.CountIdentities(t.Context(), gatehouse.IdentityFilter{})); n != 4 {
		t.Fatalf("%d identities after the conflicts, want 4", n)
	}
}

// identityFixture is a small company with every filterable field varied.
func identityFixture() []*gatehouse.Identity {
	depts := []string{"Engineering", "Sales", "Finance"}
	statuses := []gatehouse.IdentityStatus{gatehouse.StatusActive, gatehouse.StatusActive, gatehouse.StatusLeave, gatehouse.StatusTerminated}
	types := []gatehouse.EmploymentType{gatehouse.Employee, gatehouse.Employee, gatehouse.Contractor, gatehouse.Intern}
	locations := []string{"Berlin", "Lisbon", "Austin", "Berlin", "Tokyo"}
	// "Director Ops" and "1000 Club" would match "r_o" and "100%" if _ and % were wildcards.
	titles := []string{"Engineer", "Account Executive", "Director Ops", "Senior Engineer", "100% Remote Lead", "Manager_Ops", "1000 Club"}
	firsts := []string{"Alice", "Bob", "Chloé", "Dan", "Émile", "Farah"}
	lasts := []string{"Smith", "Jones", "Nguyen", "Smithson", "Okafor"}
	var out []*gatehouse.Identity
	for n := 1; n <= 40; n++ {
		i := person(n)
		i.Department = depts[n%len(depts)]
		i.Status = statuses[n%len(statuses)]
		i.EmploymentType = types[n%len(types)]
		i.Location = locations[n%len(locations)]
		i.Title = titles[n%len(titles)]
		i.FirstName = firsts[n%len(firsts)]
		i.LastName = lasts[n%len(lasts)]
		if n > 3 {
			i.ManagerID = fmt.Sprintf("E%05d", 1+n%3)
		}
		switch n % 7 {
		case 0:
			i.Roles = []gatehouse.AccessRole{gatehouse.RoleAdmin}
		case 1:
			i.Roles = []gatehouse.AccessRole{gatehouse.RoleAuditor, gatehouse.RoleOperator}
		}
		out = append(out, i)
	}
	return out
}

func testIdentityFilters(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	all := identityFixture()
	createIdentities(t, s, all...)

	contains := func(field, q string) bool { return strings.Contains(strings.ToLower(field), strings.ToLower(q)) }
	query := func(q string) func(*gatehouse.Identity) bool {
		return func(i *gatehouse.Identity) bool {
			return contains(i.Email, q) || contains(i.FirstName, q) || contains(i.LastName, q) ||
				contains(i.EmployeeID, q) || contains(i.Title, q) || contains(i.FirstName+" "+i.LastName, q)
		}
	}
	tests := []struct {
		name   string
		filter gatehouse.IdentityFilter
		match  func(*gatehouse.Identity) bool
		min    int // the fixture must make the case meaningful
	}{
		{"no filter", gatehouse.IdentityFilter{}, func(*gatehouse.Identity) bool { return true }, 40},
		{"query first name any case", gatehouse.IdentityFilter{Query: "aLiCe"}, query("alice"), 2},
		{"query last name substring", gatehouse.IdentityFilter{Query: "smith"}, query("smith"), 4},
		{"query first and last", gatehouse.IdentityFilter{Query: "Alice Smithson"}, query("alice smithson"), 1},
		{"query non-ASCII case", gatehouse.IdentityFilter{Query: "ÉMILE"}, query("émile"), 2},
		{"query email", gatehouse.IdentityFilter{Query: "USER00017@"}, query("user00017@"), 1},
		{"query employee_id", gatehouse.IdentityFilter{Query: "e0003"}, query("e0003"), 10},
		{"query title", gatehouse.IdentityFilter{Query: "senior engineer"}, query("senior engineer"), 2},
		{"query percent is literal", gatehouse.IdentityFilter{Query: "100%"}, query("100%"), 2},
		{"query underscore is literal", gatehouse.IdentityFilter{Query: "r_o"}, query("r_o"), 2},
		{"query backslash is literal", gatehouse.IdentityFilter{Query: `\`}, query(`\`), 0},
		{"query matches nothing", gatehouse.IdentityFilter{Query: "zzz"}, query("zzz"), 0},
		{"department", gatehouse.IdentityFilter{Department: "Sales"}, func(i *gatehouse.Identity) bool { return i.Department == "Sales" }, 10},
		{"status", gatehouse.IdentityFilter{Status: gatehouse.StatusLeave}, func(i *gatehouse.Identity) bool { return i.Status == gatehouse.StatusLeave }, 5},
		{"employment type", gatehouse.IdentityFilter{EmploymentType: gatehouse.Contractor}, func(i *gatehouse.Identity) bool { return i.EmploymentType == gatehouse.Contractor }, 5},
		{"manager", gatehouse.IdentityFilter{ManagerID: "E00002"}, func(i *gatehouse.Identity) bool { return i.ManagerID == "E00002" }, 5},
		{"role admin", gatehouse.IdentityFilter{Role: gatehouse.RoleAdmin}, func(i *gatehouse.Identity) bool { return i.HasRole(gatehouse.RoleAdmin) }, 3},
		{"role operator", gatehouse.IdentityFilter{Role: gatehouse.RoleOperator}, func(i *gatehouse.Identity) bool { return i.HasRole(gatehouse.RoleOperator) }, 3},
		{"location", gatehouse.IdentityFilter{Location: "Berlin"}, func(i *gatehouse.Identity) bool { return i.Location == "Berlin" }, 10},
		{"department and query", gatehouse.IdentityFilter{Department: "Engineering", Query: "smith"},
			func(i *gatehouse.Identity) bool { return i.Department == "Engineering" && query("smith")(i) }, 1},
		{"status, type and role", gatehouse.IdentityFilter{Status: gatehouse.StatusActive, EmploymentType: gatehouse.Employee, Role: gatehouse.RoleAuditor},
			func(i *gatehouse.Identity) bool {
				return i.Status == gatehouse.StatusActive && i.EmploymentType == gatehouse.Employee && i.HasRole(gatehouse.RoleAuditor)
			}, 1},
	}
	byID := func(i *gatehouse.Identity) string { return i.ID }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []*gatehouse.Identity
			for _, i := range all {
				if tc.match(i) {
					want = append(want, i)
				}
			}
			if len(want) < tc.min {
				t.Fatalf("fixture gives %d matches, the case needs at least %d", len(want), tc.min)
			}
			f := tc.filter
			f.Limit = 3
			got := pageAll(t, func(cursor string) (gatehouse.Page[*gatehouse.Identity], error) {
				f.Cursor = cursor
				return s.ListIdentities(t.Context(), f)
			}, byID, f.Limit)
			if !slices.IsSortedFunc(got, func(a, b *gatehouse.Identity) int { return strings.Compare(a.ID, b.ID) }) {
				t.Fatal("identities are not in id order")
			}
			equal(t, "ids", sortedKeys(got, byID), sortedKeys(want, byID))
			n, err := s.CountIdentities(t.Context(), tc.filter)
			must(t, err)
			if n != len(want) {
				t.Fatalf("CountIdentities = %d, want %d", n, len(want))
			}
		})
	}
}

func testIdentityPagination(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	// More than MaxLimit, so that a larger limit shows it is capped.
	const total = gatehouse.MaxLimit + 37
	ids := make([]*gatehouse.Identity, total)
	var sales []*gatehouse.Identity
	for n := range ids {
		ids[n] = person(n)
		if n%8 == 0 {
			ids[n].Department = "Sales"
			sales = append(sales, ids[n])
		}
	}
	createIdentities(t, s, ids[:total/2]...) // two transactions, two audit events
	createIdentities(t, s, ids[total/2:]...)
	byID := func(i *gatehouse.Identity) string { return i.ID }

	tests := []struct {
		name     string
		filter   gatehouse.IdentityFilter
		pageSize int
		want     []*gatehouse.Identity
	}{
		{"filtered, small pages", gatehouse.IdentityFilter{Department: "Sales", Limit: 10}, 10, sales},
		{"everything, pages of 100", gatehouse.IdentityFilter{Limit: 100}, 100, ids},
		{"limit above the maximum is capped", gatehouse.IdentityFilter{Limit: total}, gatehouse.MaxLimit, ids},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.filter
			got := pageAll(t, func(cursor string) (gatehouse.Page[*gatehouse.Identity], error) {
				f.Cursor = cursor
				p, err := s.ListIdentities(ctx, f)
				if err == nil && p.NextCursor != "" && len(p.Items) != tc.pageSize {
					t.Fatalf("a page of %d before the last, want %d", len(p.Items), tc.pageSize)
				}
				return p, err
			}, byID, tc.pageSize)
			if !slices.IsSortedFunc(got, func(a, b *gatehouse.Identity) int { return strings.Compare(a.ID, b.ID) }) {
				t.Fatal("identities are not in id order")
			}
			equal(t, "all ids", sortedKeys(got, byID), sortedKeys(tc.want, byID))
		})
	}

	p := mustGet[gatehouse.Page[*gatehouse.Identity]](t)(s.ListIdentities(ctx, gatehouse.IdentityFilter{}))
	if len(p.Items) != gatehouse.DefaultLimit || p.NextCursor == "" {
		t.Fatalf("default page: %d items, cursor %q; want %d and a cursor", len(p.Items), p.NextCursor, gatehouse.DefaultLimit)
	}
	_, err := s.ListIdentities(ctx, gatehouse.IdentityFilter{Cursor: "not a cursor!"})
	wantCode(t, err, gatehouse.EINVALID)
	// A cursor from another list is refused rather than misread.
	audit := mustGet[gatehouse.Page[*gatehouse.AuditEvent]](t)(s.ListAuditEvents(ctx, gatehouse.AuditFilter{Limit: 1}))
	if audit.NextCursor == "" {
		t.Fatal("two audit events with limit 1 give no next cursor")
	}
	_, err = s.ListIdentities(ctx, gatehouse.IdentityFilter{Cursor: audit.NextCursor})
	wantCode(t, err, gatehouse.EINVALID)
}
