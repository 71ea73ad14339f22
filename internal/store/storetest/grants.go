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

func testGrants(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	alice := person(1)
	createIdentities(t, s, alice)
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutEntitlement(ctx, &gatehouse.Entitlement{ID: "crm/sales", System: "crm", Name: "Sales", Approval: []string{}})
	})

	expires := time.Date(2031, 2, 3, 4, 5, 6, 789_123_456, time.FixedZone("CET", 3600))
	g := &gatehouse.Grant{IdentityID: alice.ID, EntitlementID: "crm/sales", Source: gatehouse.SourceRequest,
		Reference: "REQ-42", GrantedBy: "mgr@example.com", ExpiresAt: &expires}
	// A grant may name an entitlement the catalog does not (or no longer) hold: grants are
	// evidence and outlive catalog objects.
	ghost := &gatehouse.Grant{IdentityID: alice.ID, EntitlementID: "gone/old", Source: gatehouse.SourceBirthright,
		Reference: "baseline", GrantedBy: "system:jml", GrantedAt: time.Date(2020, 1, 1, 0, 0, 0, 1500, time.UTC)}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.CreateGrant(ctx, g), tx.CreateGrant(ctx, ghost))
	})
	wantUUIDv7(t, "grant", g.ID)
	wantStored(t, "GrantedAt (from the clock)", g.GrantedAt)
	if !g.ExpiresAt.Equal(expires.Truncate(time.Microsecond)) {
		t.Fatalf("ExpiresAt = %v, want %v", g.ExpiresAt, expires)
	}
	equal(t, "GetGrant", mustGet[*gatehouse.Grant](t)(s.GetGrant(ctx, g.ID)), g)
	equal(t, "GetGrant ghost", mustGet[*gatehouse.Grant](t)(s.GetGrant(ctx, ghost.ID)), ghost)
	if ghost.GrantedAt != time.Date(2020, 1, 1, 0, 0, 0, 1000, time.UTC) {
		t.Fatalf("a given GrantedAt was not kept (to the microsecond): %v", ghost.GrantedAt)
	}
	_, err := s.GetGrant(ctx, "nope")
	wantError(t, err, gatehouse.ENOTFOUND, `grant "nope" not found`)

	// A grant to an identity that does not exist is refused.
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateGrant(ctx, &gatehouse.Grant{IdentityID: "no-such-identity", EntitlementID: "crm/sales", Source: gatehouse.SourceRequest})
	})
	wantError(t, err, gatehouse.ENOTFOUND, `identity "no-such-identity" not found`)
	// The same id twice is a conflict.
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateGrant(ctx, &gatehouse.Grant{ID: g.ID, IdentityID: alice.ID, EntitlementID: "crm/sales", Source: gatehouse.SourceRequest})
	})
	wantCode(t, err, gatehouse.ECONFLICT)

	// Revoke keeps the row, with who, when and why.
	at := time.Date(2030, 6, 1, 12, 0, 0, 999_999_999, time.UTC)
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RevokeGrant(ctx, g.ID, at, "sec@example.com", "review: not needed")
	})
	got := mustGet[*gatehouse.Grant](t)(s.GetGrant(ctx, g.ID))
	wantAt := at.Truncate(time.Microsecond)
	g.RevokedAt, g.RevokedBy, g.RevokeReason = &wantAt, "sec@example.com", "review: not needed"
	equal(t, "revoked grant", got, g)
	if got.Active(at) {
		t.Fatal("revoked grant is active")
	}

	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RevokeGrant(ctx, g.ID, at.Add(time.Hour), "x", "again")
	})
	wantError(t, err, gatehouse.ECONFLICT, fmt.Sprintf("grant %q is already revoked", g.ID))
	equal(t, "grant after a second revoke", mustGet[*gatehouse.Grant](t)(s.GetGrant(ctx, g.ID)), g)
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeGrant(ctx, "nope", at, "x", "y") })
	wantError(t, err, gatehouse.ENOTFOUND, `grant "nope" not found`)

	// Deleting the entitlement keeps its grants as evidence.
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteEntitlement(ctx, "crm/sales") })
	equal(t, "grant of a deleted entitlement", mustGet[*gatehouse.Grant](t)(s.GetGrant(ctx, g.ID)), g)
}

func testGrantFilters(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ids := []*gatehouse.Identity{person(1), person(2), person(3)}
	createIdentities(t, s, ids...)
	// "crm" is a prefix of "crm-eu": the system filter must not mix them up.
	ents := []string{"crm/sales", "crm/admin", "crm-eu/sales", "erp/payments", "crmx"}
	sources := []gatehouse.GrantSource{gatehouse.SourceBirthright, gatehouse.SourceRequest, gatehouse.SourceReview,
		gatehouse.SourceException, gatehouse.SourceEmergency}
	var all []*gatehouse.Grant
	for n := range 45 {
		all = append(all, &gatehouse.Grant{IdentityID: ids[n%3].ID, EntitlementID: ents[n%len(ents)],
			Source: sources[(n/2)%len(sources)], Reference: fmt.Sprint("ref-", n), GrantedBy: "storetest"})
	}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range all {
			if err := tx.CreateGrant(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
	now := time.Now()
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		for n, g := range all {
			if n%4 == 1 {
				if err := tx.RevokeGrant(ctx, g.ID, now, "storetest", "filter test"); err != nil {
					return err
				}
				g.RevokedAt = &now
			}
		}
		return nil
	})

	tests := []struct {
		name   string
		filter gatehouse.GrantFilter
		match  func(*gatehouse.Grant) bool
	}{
		{"all", gatehouse.GrantFilter{}, func(*gatehouse.Grant) bool { return true }},
		{"identity", gatehouse.GrantFilter{IdentityID: ids[1].ID}, func(g *gatehouse.Grant) bool { return g.IdentityID == ids[1].ID }},
		{"entitlement", gatehouse.GrantFilter{EntitlementID: "crm/sales"}, func(g *gatehouse.Grant) bool { return g.EntitlementID == "crm/sales" }},
		{"system", gatehouse.GrantFilter{System: "crm"}, func(g *gatehouse.Grant) bool { return strings.HasPrefix(g.EntitlementID, "crm/") }},
		{"system with a dash", gatehouse.GrantFilter{System: "crm-eu"}, func(g *gatehouse.Grant) bool { return strings.HasPrefix(g.EntitlementID, "crm-eu/") }},
		{"source", gatehouse.GrantFilter{Source: gatehouse.SourceReview}, func(g *gatehouse.Grant) bool { return g.Source == gatehouse.SourceReview }},
		{"active", gatehouse.GrantFilter{Status: "active"}, func(g *gatehouse.Grant) bool { return g.RevokedAt == nil }},
		{"revoked", gatehouse.GrantFilter{Status: "revoked"}, func(g *gatehouse.Grant) bool { return g.RevokedAt != nil }},
		{"identity, system and active", gatehouse.GrantFilter{IdentityID: ids[0].ID, System: "crm", Status: "active"},
			func(g *gatehouse.Grant) bool {
				return g.IdentityID == ids[0].ID && strings.HasPrefix(g.EntitlementID, "crm/") && g.RevokedAt == nil
			}},
	}
	byID := func(g *gatehouse.Grant) string { return g.ID }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []*gatehouse.Grant
			for _, g := range all {
				if tc.match(g) {
					want = append(want, g)
				}
			}
			if len(want) == 0 {
				t.Fatal("the fixture gives this case no matches")
			}
			f := tc.filter
			f.Limit = 4
			got := pageAll(t, func(cursor string) (gatehouse.Page[*gatehouse.Grant], error) {
				f.Cursor = cursor
				return s.ListGrants(t.Context(), f)
			}, byID, f.Limit)
			if !slices.IsSortedFunc(got, func(a, b *gatehouse.Grant) int { return strings.Compare(a.ID, b.ID) }) {
				t.Fatal("grants are not in id order")
			}
			equal(t, "ids", sortedKeys(got, byID), sortedKeys(want, byID))
		})
	}
	_, err := s.ListGrants(t.Context(), gatehouse.GrantFilter{Status: "expired"})
	wantCode(t, err, gatehouse.EINVALID)
}

func testCountActiveGrants(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	alice, bob := person(1), person(2)
	createIdentities(t, s, alice, bob)
	// Two active grants of e0003, one of e0000 and of e0599 (past the first batch of ids bound
	// in one query); revoked grants do not count.
	grants := []struct {
		ent     string
		who     string
		revoked bool
	}{
		{"sys/e0000", alice.ID, false}, {"sys/e0000", bob.ID, true},
		{"sys/e0003", alice.ID, false}, {"sys/e0003", bob.ID, false},
		{"sys/e0300", alice.ID, true},
		{"sys/e0599", bob.ID, false},
		{"other/e0000", alice.ID, false},
	}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range grants {
			gr := &gatehouse.Grant{IdentityID: g.who, EntitlementID: g.ent, Source: gatehouse.SourceRequest}
			if err := tx.CreateGrant(ctx, gr); err != nil {
				return err
			}
			if g.revoked {
				if err := tx.RevokeGrant(ctx, gr.ID, time.Now(), "t", "count test"); err != nil {
					return err
				}
			}
		}
		return nil
	})

	got := mustGet[map[string]int](t)(s.CountActiveGrants(ctx, []string{"sys/e0000", "sys/e0003", "sys/e0300", "sys/none"}))
	equal(t, "counts", got, map[string]int{"sys/e0000": 1, "sys/e0003": 2, "sys/e0300": 0, "sys/none": 0})
	equal(t, "counts of nothing", mustGet[map[string]int](t)(s.CountActiveGrants(ctx, nil)), map[string]int{})

	// More ids than one query binds.
	var many []string
	for n := range 600 {
		many = append(many, fmt.Sprintf("sys/e%04d", n))
	}
	counts := mustGet[map[string]int](t)(s.CountActiveGrants(ctx, many))
	if len(counts) != 600 || counts["sys/e0000"] != 1 || counts["sys/e0003"] != 2 || counts["sys/e0599"] != 1 {
		t.Fatalf("counts over 600 ids: %d entitlements, e0000=%d e0003=%d e0599=%d; want 600, 1, 2, 1",
			len(counts), counts["sys/e0000"], counts["sys/e0003"], counts["sys/e0599"])
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != 4 {
		t.Fatalf("%d active grants counted over 600 ids, want 4", total)
	}
}

func testAccounts(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	alice, bob := person(1), person(2)
	createIdentities(t, s, alice, bob)

	a := &gatehouse.Account{SystemID: "corp-ldap", ExternalID: "uid=alice,ou=people,dc=example,dc=com", Username: "alice",
		IdentityID: alice.ID, Enabled: true, Memberships: []string{"cn=eng,ou=groups", "cn=all,ou=groups"}}
	orphan := &gatehouse.Account{SystemID: "corp-ldap", ExternalID: "uid=old,ou=people,dc=example,dc=com", Username: "old",
		ObservedAt: time.Date(2025, 5, 5, 5, 5, 5, 5_555_555, time.Local)}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.UpsertAccount(ctx, a), tx.UpsertAccount(ctx, orphan))
	})
	wantUUIDv7(t, "account", a.ID)
	wantStored(t, "ObservedAt (from the clock)", a.ObservedAt)
	if orphan.Memberships != nil {
		t.Fatal("UpsertAccount changed the caller's nil memberships")
	}
	orphan.Memberships = []string{} // reads back empty, not nil
	page := mustGet[gatehouse.Page[*gatehouse.Account]](t)(s.ListAccounts(ctx, gatehouse.AccountFilter{}))
	equal(t, "accounts", page.Items, []*gatehouse.Account{a, orphan})

	// Upsert by (system, external id): same row, same id, new state.
	firstID := a.ID
	again := &gatehouse.Account{SystemID: a.SystemID, ExternalID: a.ExternalID, Username: "alice2", IdentityID: bob.ID,
		Enabled: false, Memberships: []string{"cn=all,ou=groups"}}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAccount(ctx, again) })
	if again.ID != firstID {
		t.Fatalf("upsert of an existing account set id %q, want the stored %q", again.ID, firstID)
	}
	// The same external id in another system is another account.
	other := &gatehouse.Account{SystemID: "wiki", ExternalID: a.ExternalID, Username: "alice", IdentityID: alice.ID, Enabled: true}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertAccount(ctx, other) })
	if other.ID == firstID {
		t.Fatal("an account in another system took the id of the first")
	}
	other.Memberships = []string{}

	byID := func(a *gatehouse.Account) string { return a.ID }
	tests := []struct {
		name   string
		filter gatehouse.AccountFilter
		want   []*gatehouse.Account
	}{
		{"all", gatehouse.AccountFilter{}, []*gatehouse.Account{again, orphan, other}},
		{"system", gatehouse.AccountFilter{SystemID: "corp-ldap"}, []*gatehouse.Account{again, orphan}},
		{"identity", gatehouse.AccountFilter{IdentityID: bob.ID}, []*gatehouse.Account{again}},
		{"orphaned", gatehouse.AccountFilter{Orphaned: true}, []*gatehouse.Account{orphan}},
		{"system and identity", gatehouse.AccountFilter{SystemID: "wiki", IdentityID: alice.ID}, []*gatehouse.Account{other}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.filter
			f.Limit = 1
			got := pageAll(t, func(cursor string) (gatehouse.Page[*gatehouse.Account], error) {
				f.Cursor = cursor
				return s.ListAccounts(ctx, f)
			}, byID, 1)
			slices.SortFunc(got, func(a, b *gatehouse.Account) int { return strings.Compare(a.ID, b.ID) })
			want := slices.Clone(tc.want)
			slices.SortFunc(want, func(a, b *gatehouse.Account) int { return strings.Compare(a.ID, b.ID) })
			equal(t, "accounts", got, want)
		})
	}

	err := auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.UpsertAccount(ctx, &gatehouse.Account{SystemID: "x", ExternalID: "y", IdentityID: "no-such-identity"})
	})
	wantError(t, err, gatehouse.ENOTFOUND, `identity "no-such-identity" not found`)
}
