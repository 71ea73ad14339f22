package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testRevokeTokensOf: a termination revokes every live token of the leavers, in batches, and
// leaves other people's tokens, revoked ones and expired ones alone.
func testRevokeTokensOf(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	const leavers = 1203 // more than two batches of ids
	var ids []*gatehouse.Identity
	for i := range leavers + 1 {
		ids = append(ids, person(i))
	}
	createIdentities(t, s, ids...)
	stay := ids[leavers]
	now := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	tok := func(identity, hint string, expires *time.Time) *gatehouse.Token {
		return &gatehouse.Token{IdentityID: identity, Hash: gatehouse.HashToken(identity + hint), Hint: hint,
			CreatedBy: "storetest", ExpiresAt: expires}
	}
	var live []*gatehouse.Token
	expired := tok(ids[0].ID, "expired", &past)
	revoked := tok(ids[1].ID, "revoked", &future)
	kept := tok(stay.ID, "kept", &future)
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range leavers {
			tk := tok(ids[i].ID, "live", &future)
			if i%2 == 0 {
				tk.ExpiresAt = nil // no expiry
			}
			if err := tx.CreateToken(ctx, tk); err != nil {
				return err
			}
			live = append(live, tk)
		}
		return joinErr(tx.CreateToken(ctx, expired), tx.CreateToken(ctx, revoked), tx.CreateToken(ctx, kept),
			tx.RevokeToken(ctx, revoked.ID, past))
	})
	leaverIDs := make([]string, leavers)
	for i := range leavers {
		leaverIDs[i] = ids[i].ID
	}
	var got []*gatehouse.Token
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		got, err = tx.RevokeTokensOf(ctx, leaverIDs, now)
		return err
	})
	if len(got) != leavers {
		t.Fatalf("revoked %d tokens, want %d", len(got), leavers)
	}
	for i, tk := range got {
		if i > 0 && got[i-1].ID >= tk.ID {
			t.Fatalf("revoked tokens not in id order at %d", i)
		}
		if tk.RevokedAt == nil || !tk.RevokedAt.Equal(now) {
			t.Fatalf("returned token %s: revoked_at %v, want %v", tk.ID, tk.RevokedAt, now)
		}
	}
	for _, want := range []struct {
		tok     *gatehouse.Token
		revoked *time.Time
	}{{live[0], &now}, {live[leavers-1], &now}, {expired, nil}, {revoked, &past}, {kept, nil}} {
		stored := mustGet[*gatehouse.Token](t)(s.GetToken(ctx, want.tok.ID))
		if (stored.RevokedAt == nil) != (want.revoked == nil) || (want.revoked != nil && !stored.RevokedAt.Equal(*want.revoked)) {
			t.Fatalf("token %s (%s): revoked_at %v, want %v", stored.ID, stored.Hint, stored.RevokedAt, want.revoked)
		}
	}
	// Again: nothing left to revoke; no identities: nothing at all.
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		again, err := tx.RevokeTokensOf(ctx, leaverIDs, now.Add(time.Minute))
		if err == nil && len(again) != 0 {
			err = fmt.Errorf("second revocation returned %d tokens", len(again))
		}
		if none, err2 := tx.RevokeTokensOf(ctx, nil, now); err2 != nil || len(none) != 0 {
			return joinErr(err, err2, fmt.Errorf("no identities: %d tokens", len(none)))
		}
		return err
	})
}

// testEndDelegations: a termination ends the delegations from and to the leavers that have not
// ended yet; a future one becomes empty; others are untouched.
func testEndDelegations(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	leaver, boss, deputy, other := person(1), person(2), person(3), person(4)
	createIdentities(t, s, leaver, boss, deputy, other)
	now := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	d := func(from, to *gatehouse.Identity, start, end time.Time) *gatehouse.Delegation {
		return &gatehouse.Delegation{FromID: from.ID, ToID: to.ID, StartsAt: start, EndsAt: end, CreatedBy: "storetest"}
	}
	from := d(leaver, deputy, now.Add(-time.Hour), now.Add(48*time.Hour))
	to := d(boss, leaver, now.Add(-time.Hour), now.Add(48*time.Hour))
	future := d(boss, leaver, now.Add(24*time.Hour), now.Add(48*time.Hour))
	over := d(leaver, deputy, now.Add(-48*time.Hour), now.Add(-time.Hour))
	unrelated := d(boss, other, now.Add(-time.Hour), now.Add(48*time.Hour))
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.CreateDelegation(ctx, from), tx.CreateDelegation(ctx, to), tx.CreateDelegation(ctx, future),
			tx.CreateDelegation(ctx, over), tx.CreateDelegation(ctx, unrelated))
	})
	var got []*gatehouse.Delegation
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		got, err = tx.EndDelegations(ctx, []string{leaver.ID}, now)
		return err
	})
	equal(t, "ended (as they were)", sortedKeys(got, func(d *gatehouse.Delegation) string { return d.ID }),
		sortedKeys([]*gatehouse.Delegation{from, to, future}, func(d *gatehouse.Delegation) string { return d.ID }))
	for _, g := range got {
		if g.EndsAt.Equal(now) {
			t.Fatalf("returned delegation %s already shows the new end; want it as it was", g.ID)
		}
	}
	all := mustGet[[]*gatehouse.Delegation](t)(s.ListDelegations(ctx, gatehouse.DelegationFilter{}))
	byID := map[string]*gatehouse.Delegation{}
	for _, x := range all {
		byID[x.ID] = x
	}
	for _, want := range []struct {
		d          *gatehouse.Delegation
		start, end time.Time
	}{
		{from, from.StartsAt, now}, {to, to.StartsAt, now}, {future, now, now},
		{over, over.StartsAt, over.EndsAt}, {unrelated, unrelated.StartsAt, unrelated.EndsAt},
	} {
		x := byID[want.d.ID]
		if !x.StartsAt.Equal(want.start) || !x.EndsAt.Equal(want.end) {
			t.Fatalf("delegation %s: [%v, %v), want [%v, %v)", x.ID, x.StartsAt, x.EndsAt, want.start, want.end)
		}
	}
	for _, at := range []time.Time{now, now.Add(30 * time.Hour)} {
		if act := mustGet[[]*gatehouse.Delegation](t)(s.ListDelegations(ctx, gatehouse.DelegationFilter{ToID: leaver.ID, ActiveAt: at})); len(act) != 0 {
			t.Fatalf("delegations to the leaver in force at %v: %d", at, len(act))
		}
	}
}

// testSCIMSourceMigration: migration 0016 rewrites "scim:<email>" sources (identities, SCIM
// groups, held SCIM changes) to "scim:<id>" of the identity with that email, ignoring case,
// and leaves other sources and unknown emails alone. It is run again by removing its record.
func testSCIMSourceMigration(t *testing.T, open func(t *testing.T) Harness) {
	h := open(t)
	if h.Reopen == nil {
		t.Skip("the harness cannot reopen its database")
	}
	s := h.Store
	ctx := t.Context()
	okta := &gatehouse.Identity{Email: "Okta-SCIM@example.com", Kind: gatehouse.KindService, Source: "api", Status: gatehouse.StatusActive}
	owned, hr, orphan := person(1), person(2), person(3)
	owned.Source, hr.Source, orphan.Source = "scim:okta-scim@example.com", "hr-csv", "scim:gone@example.com"
	createIdentities(t, s, okta, owned, hr, orphan)
	g := &gatehouse.SCIMGroup{DisplayName: "Engineering", Source: "scim:OKTA-scim@example.com", Members: []string{owned.ID}}
	imp := &gatehouse.HRImport{CreatedBy: "okta-scim@example.com", FileName: "scim:okta-scim@example.com t", SHA256: "0",
		Status: gatehouse.ImportHeld, Format: "scim", Reason: "held",
		Content: `[{"employee_id":"E1","email":"a@example.com","scim_source":"scim:okta-scim@example.com","status":"terminated"}]`}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.CreateSCIMGroup(ctx, g), tx.CreateHRImport(ctx, imp))
	})
	must(t, h.Exec(ctx, `DELETE FROM schema_migrations WHERE version = 16`))
	s2 := h.Reopen(t)

	want := "scim:" + okta.ID
	if got := mustGet[*gatehouse.Identity](t)(s2.GetIdentity(ctx, owned.ID)); got.Source != want {
		t.Fatalf("owned identity source %q, want %q", got.Source, want)
	}
	for _, keep := range []*gatehouse.Identity{hr, orphan, okta} {
		if got := mustGet[*gatehouse.Identity](t)(s2.GetIdentity(ctx, keep.ID)); got.Source != keep.Source {
			t.Fatalf("identity %s source %q, want it kept as %q", keep.Email, got.Source, keep.Source)
		}
	}
	if got := mustGet[*gatehouse.SCIMGroup](t)(s2.GetSCIMGroup(ctx, g.ID)); got.Source != want {
		t.Fatalf("group source %q, want %q", got.Source, want)
	}
	content := mustGet[*gatehouse.HRImport](t)(s2.GetHRImport(ctx, imp.ID)).Content
	var rows []map[string]string
	if err := json.Unmarshal([]byte(content), &rows); err != nil || len(rows) != 1 || rows[0]["scim_source"] != want || rows[0]["employee_id"] != "E1" {
		t.Fatalf("held import content %s (%v): want scim_source %q", content, err, want)
	}
}
