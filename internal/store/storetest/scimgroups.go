package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func testSCIMGroups(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	ann, bob, cat := person(1), person(2), person(3)
	createIdentities(t, s, ann, bob, cat)

	eng := &gatehouse.SCIMGroup{DisplayName: "Engineering", ExternalID: "okta-00g1", Source: "scim:okta@example.com",
		Members: []string{cat.ID, ann.ID, cat.ID}}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSCIMGroup(ctx, eng) })
	wantUUIDv7(t, "scim group", eng.ID)
	wantStored(t, "CreatedAt", eng.CreatedAt)
	if eng.Version != 1 || !eng.UpdatedAt.Equal(eng.CreatedAt) {
		t.Fatalf("new group: version %d, updated %v, created %v; want version 1, updated = created", eng.Version, eng.UpdatedAt, eng.CreatedAt)
	}
	equal(t, "members (de-duplicated, sorted)", eng.Members, sortedKeys([]string{ann.ID, cat.ID}, func(s string) string { return s }))
	equal(t, "GetSCIMGroup", mustGet[*gatehouse.SCIMGroup](t)(s.GetSCIMGroup(ctx, eng.ID)), eng)
	_, err := s.GetSCIMGroup(ctx, "nope")
	wantError(t, err, gatehouse.ENOTFOUND, `scim group "nope" not found`)

	empty := &gatehouse.SCIMGroup{DisplayName: "all-staff", Source: "scim:entra@example.com"}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSCIMGroup(ctx, empty) })
	got := mustGet[*gatehouse.SCIMGroup](t)(s.GetSCIMGroup(ctx, empty.ID))
	if got.Members == nil || len(got.Members) != 0 {
		t.Fatalf("group without members: Members = %#v, want an empty, non-nil list", got.Members)
	}

	// A display name is unique ignoring case, on create and on update.
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateSCIMGroup(ctx, &gatehouse.SCIMGroup{DisplayName: "ENGINEERING", Source: "scim:entra@example.com"})
	})
	wantError(t, err, gatehouse.ECONFLICT, `display_name: a group named "ENGINEERING" already exists`)
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		g := *got
		g.DisplayName = "engineering"
		return tx.UpdateSCIMGroup(ctx, &g)
	})
	wantCode(t, err, gatehouse.ECONFLICT)
	// A name is required; members must be identity ids, and the error names the bad one.
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateSCIMGroup(ctx, &gatehouse.SCIMGroup{DisplayName: " "})
	})
	wantError(t, err, gatehouse.EINVALID, "display_name: required")
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateSCIMGroup(ctx, &gatehouse.SCIMGroup{DisplayName: "Ghosts", Members: []string{ann.ID, "ghost-1"}})
	})
	wantError(t, err, gatehouse.EINVALID, `members: "ghost-1" is not an identity id`)
	if n := mustGet[int](t)(s.CountSCIMGroups(ctx, gatehouse.SCIMGroupFilter{})); n != 2 {
		t.Fatalf("after refused writes: %d groups, want 2", n)
	}

	// Update replaces name, external id and members when the version matches.
	upd := &gatehouse.SCIMGroup{ID: eng.ID, DisplayName: "Engineering (all)", ExternalID: "okta-00g2",
		Source: "ignored", Members: []string{bob.ID, ann.ID}, Version: 1}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateSCIMGroup(ctx, upd) })
	if upd.Version != 2 || upd.Source != eng.Source || !upd.CreatedAt.Equal(eng.CreatedAt) {
		t.Fatalf("after update: version %d, source %q, created %v; want 2, %q (unchanged), %v", upd.Version, upd.Source, upd.CreatedAt, eng.Source, eng.CreatedAt)
	}
	wantStored(t, "UpdatedAt", upd.UpdatedAt)
	equal(t, "updated group", mustGet[*gatehouse.SCIMGroup](t)(s.GetSCIMGroup(ctx, eng.ID)), upd)
	// A stale version is a conflict, and changes nothing.
	stale := *upd
	stale.Version, stale.Members = 1, nil
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateSCIMGroup(ctx, &stale) })
	wantError(t, err, gatehouse.ECONFLICT, fmt.Sprintf("scim group %q is at version 2, not 1: it changed since it was read", eng.ID))
	equal(t, "after a stale update", mustGet[*gatehouse.SCIMGroup](t)(s.GetSCIMGroup(ctx, eng.ID)), upd)
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.UpdateSCIMGroup(ctx, &gatehouse.SCIMGroup{ID: "nope", DisplayName: "x", Version: 1})
	})
	wantCode(t, err, gatehouse.ENOTFOUND)
	bad := *upd
	bad.Members = []string{ann.ID, "ghost-2"}
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateSCIMGroup(ctx, &bad) })
	wantError(t, err, gatehouse.EINVALID, `members: "ghost-2" is not an identity id`)
	equal(t, "after a refused update", mustGet[*gatehouse.SCIMGroup](t)(s.GetSCIMGroup(ctx, eng.ID)), upd)

	// Filters.
	list := func(f gatehouse.SCIMGroupFilter) []string {
		t.Helper()
		p := mustGet[gatehouse.Page[*gatehouse.SCIMGroup]](t)(s.ListSCIMGroups(ctx, f))
		names := []string{}
		for _, g := range p.Items {
			names = append(names, g.DisplayName)
		}
		if n := mustGet[int](t)(s.CountSCIMGroups(ctx, f)); n != len(names) {
			t.Fatalf("CountSCIMGroups(%+v) = %d, ListSCIMGroups found %d", f, n, len(names))
		}
		return names
	}
	equal(t, "all, by name ignoring case", list(gatehouse.SCIMGroupFilter{}), []string{"all-staff", "Engineering (all)"})
	equal(t, "display name ignoring case", list(gatehouse.SCIMGroupFilter{DisplayName: "ENGINEERING (ALL)"}), []string{"Engineering (all)"})
	equal(t, "display name is exact", list(gatehouse.SCIMGroupFilter{DisplayName: "Engineering"}), []string{})
	equal(t, "external id", list(gatehouse.SCIMGroupFilter{ExternalID: "okta-00g2"}), []string{"Engineering (all)"})
	equal(t, "old external id", list(gatehouse.SCIMGroupFilter{ExternalID: "okta-00g1"}), []string{})
	equal(t, "member", list(gatehouse.SCIMGroupFilter{MemberID: bob.ID}), []string{"Engineering (all)"})
	equal(t, "removed member", list(gatehouse.SCIMGroupFilter{MemberID: cat.ID}), []string{})
	equal(t, "source", list(gatehouse.SCIMGroupFilter{Source: "scim:entra@example.com"}), []string{"all-staff"})
	equal(t, "source and member", list(gatehouse.SCIMGroupFilter{Source: "scim:entra@example.com", MemberID: ann.ID}), []string{})

	// Delete takes the memberships with it.
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteSCIMGroup(ctx, eng.ID) })
	_, err = s.GetSCIMGroup(ctx, eng.ID)
	wantCode(t, err, gatehouse.ENOTFOUND)
	equal(t, "groups of ann after delete", list(gatehouse.SCIMGroupFilter{MemberID: ann.ID}), []string{})
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteSCIMGroup(ctx, eng.ID) })
	wantCode(t, err, gatehouse.ENOTFOUND)
	// The name is free again.
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateSCIMGroup(ctx, &gatehouse.SCIMGroup{DisplayName: "engineering (ALL)", Members: []string{bob.ID}})
	})
}

// testSCIMGroupPagination pages groups by name with their members, and checks that a page of
// many groups with many members comes back whole.
func testSCIMGroupPagination(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	people := make([]*gatehouse.Identity, 30)
	for i := range people {
		people[i] = person(i + 1)
	}
	createIdentities(t, s, people...)
	var want []*gatehouse.SCIMGroup
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		for n := range 25 {
			// Mixed case, so that an order by raw name would differ from the order by name
			// ignoring case.
			name := fmt.Sprintf("group-%02d", n)
			if n%3 == 0 {
				name = fmt.Sprintf("GROUP-%02d", n)
			}
			g := &gatehouse.SCIMGroup{DisplayName: name, Source: "scim:okta@example.com"}
			for i := 0; i < n; i++ {
				g.Members = append(g.Members, people[(i*7)%len(people)].ID)
			}
			if err := tx.CreateSCIMGroup(ctx, g); err != nil {
				return err
			}
			want = append(want, g)
		}
		return nil
	})
	for _, limit := range []int{1, 7, 25} {
		all := pageAll(t, func(cursor string) (gatehouse.Page[*gatehouse.SCIMGroup], error) {
			return s.ListSCIMGroups(ctx, gatehouse.SCIMGroupFilter{Limit: limit, Cursor: cursor})
		}, func(g *gatehouse.SCIMGroup) string { return g.ID }, limit)
		equal(t, fmt.Sprintf("all groups, pages of %d", limit), all, want)
	}
	for _, g := range want {
		if !slices.IsSorted(g.Members) {
			t.Fatalf("%s: members not sorted: %v", g.DisplayName, g.Members)
		}
	}
	// Pages of one member's groups.
	member := people[7].ID
	var mine []*gatehouse.SCIMGroup
	for _, g := range want {
		if slices.Contains(g.Members, member) {
			mine = append(mine, g)
		}
	}
	got := pageAll(t, func(cursor string) (gatehouse.Page[*gatehouse.SCIMGroup], error) {
		return s.ListSCIMGroups(ctx, gatehouse.SCIMGroupFilter{MemberID: member, Limit: 3, Cursor: cursor})
	}, func(g *gatehouse.SCIMGroup) string { return g.ID }, 3)
	equal(t, "groups of one member", got, mine)
	_, err := s.ListSCIMGroups(ctx, gatehouse.SCIMGroupFilter{Cursor: "bogus"})
	wantCode(t, err, gatehouse.EINVALID)
}

// testSCIMGroupLargeMembership writes a group of 10,000 members, changes a part of it, and
// reads it back: the size an IdP's "everyone" group has.
func testSCIMGroupLargeMembership(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	const n = 10_000
	people := make([]*gatehouse.Identity, n+500)
	for i := range people {
		people[i] = person(i + 1)
	}
	createIdentities(t, s, people...)
	ids := make([]string, len(people))
	for i, p := range people {
		ids[i] = p.ID
	}
	g := &gatehouse.SCIMGroup{DisplayName: "Everyone", Members: ids[:n]}
	start := time.Now()
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSCIMGroup(ctx, g) })
	t.Logf("create with %d members: %v", n, time.Since(start))
	// Replace: drop the first 500, add 500 others.
	next := slices.Clone(ids[500:])
	g.Members = next
	start = time.Now()
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateSCIMGroup(ctx, g) })
	t.Logf("update of %d members (500 out, 500 in): %v", n, time.Since(start))
	start = time.Now()
	got := mustGet[*gatehouse.SCIMGroup](t)(s.GetSCIMGroup(ctx, g.ID))
	t.Logf("get: %v", time.Since(start))
	if len(got.Members) != n {
		t.Fatalf("got %d members, want %d", len(got.Members), n)
	}
	equal(t, "members", got.Members, sortedKeys(next, func(s string) string { return s }))
	if p := mustGet[gatehouse.Page[*gatehouse.SCIMGroup]](t)(s.ListSCIMGroups(ctx, gatehouse.SCIMGroupFilter{MemberID: ids[0]})); len(p.Items) != 0 {
		t.Fatalf("a removed member is still in %d groups", len(p.Items))
	}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteSCIMGroup(ctx, g.ID) })
	if p := mustGet[gatehouse.Page[*gatehouse.SCIMGroup]](t)(s.ListSCIMGroups(ctx, gatehouse.SCIMGroupFilter{MemberID: ids[n]})); len(p.Items) != 0 {
		t.Fatalf("a deleted group's member is still in %d groups", len(p.Items))
	}
}

// testSCIMGroupWritesNeedAudit: each SCIM group write alone in a transaction is refused and
// leaves nothing behind.
func testSCIMGroupWritesNeedAudit(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	ann := person(1)
	createIdentities(t, s, ann)
	g := &gatehouse.SCIMGroup{DisplayName: "Sales", Members: []string{ann.ID}}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSCIMGroup(ctx, g) })
	wantHead(t, s, 2)
	writes := map[string]func(ctx context.Context, tx store.Tx) error{
		"create": func(ctx context.Context, tx store.Tx) error {
			return tx.CreateSCIMGroup(ctx, &gatehouse.SCIMGroup{DisplayName: "Other"})
		},
		"update": func(ctx context.Context, tx store.Tx) error {
			u := *g
			u.DisplayName, u.Members = "Renamed", nil
			return tx.UpdateSCIMGroup(ctx, &u)
		},
		"delete": func(ctx context.Context, tx store.Tx) error { return tx.DeleteSCIMGroup(ctx, g.ID) },
	}
	for name, write := range writes {
		err := s.Update(ctx, func(tx store.Tx) error { return write(ctx, tx) })
		if err == nil || err.Error() != unauditedMessage {
			t.Fatalf("%s without an audit event: err = %v, want %q", name, err, unauditedMessage)
		}
	}
	equal(t, "group after refused writes", mustGet[*gatehouse.SCIMGroup](t)(s.GetSCIMGroup(ctx, g.ID)), g)
	if n := mustGet[int](t)(s.CountSCIMGroups(ctx, gatehouse.SCIMGroupFilter{})); n != 1 {
		t.Fatalf("%d groups after refused writes, want 1", n)
	}
	wantHead(t, s, 2)
}

// testSCIMGroupConcurrentUpdates: two replicas replacing the same version of a group at once:
// exactly one wins, the other gets ECONFLICT (the SCIM client then re-reads).
func testSCIMGroupConcurrentUpdates(t *testing.T, open func(t *testing.T) Harness) {
	h := open(t)
	s := h.Store
	other := s
	if h.Reopen != nil {
		other = h.Reopen(t)
	}
	ann, bob := person(1), person(2)
	createIdentities(t, s, ann, bob)
	g := &gatehouse.SCIMGroup{DisplayName: "Race", Members: []string{ann.ID}}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSCIMGroup(ctx, g) })

	errs := make(chan error, 2)
	for i, st := range []store.Store{s, other} {
		go func() {
			u := *g
			u.DisplayName, u.Members = fmt.Sprintf("Race %d", i), []string{bob.ID}
			errs <- auditedErr(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateSCIMGroup(ctx, &u) })
		}()
	}
	var won, lost int
	for range 2 {
		switch err := <-errs; gatehouse.ErrorCode(err) {
		case "":
			if err != nil {
				t.Fatalf("concurrent update: %v", err)
			}
			won++
		case gatehouse.ECONFLICT:
			lost++
		default:
			t.Fatalf("concurrent update: %v", err)
		}
	}
	if won != 1 || lost != 1 {
		t.Fatalf("%d updates won and %d lost; want exactly one of each", won, lost)
	}
	got := mustGet[*gatehouse.SCIMGroup](t)(s.GetSCIMGroup(t.Context(), g.ID))
	if got.Version != 2 || !slices.Equal(got.Members, []string{bob.ID}) {
		t.Fatalf("after the race: %+v", got)
	}
}
