package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// unauditedMessage is the error of an Update that changed state without an audit event.
const unauditedMessage = "store: transaction changed state without an audit event"

// wantHead fails unless the chain head is at seq.
func wantHead(t *testing.T, r store.Reader, seq int64) {
	t.Helper()
	got, _, err := r.AuditHead(t.Context())
	must(t, err)
	if got != seq {
		t.Fatalf("audit head at %d, want %d", got, seq)
	}
}

func testUpdateRollsBackOnError(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	wantHead(t, s, 0)
	sentinel := gatehouse.Errorf(gatehouse.ECONFLICT, "changed my mind")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateIdentity(ctx, person(1)); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "t", Action: "identity.create", ObjectType: "identity", ObjectID: "E00001"}); err != nil {
			return err
		}
		return sentinel
	})
	if err != sentinel { // the very same value, not a wrapper
		t.Fatalf("Update returned %v, want fn's error unchanged", err)
	}
	var ge *gatehouse.Error
	if !errors.As(err, &ge) || ge.Code != gatehouse.ECONFLICT {
		t.Fatalf("errors.As(*gatehouse.Error) failed on %v", err)
	}
	_, err = s.GetIdentity(ctx, "E00001")
	wantCode(t, err, gatehouse.ENOTFOUND)
	wantHead(t, s, 0)
	if p := mustGet[gatehouse.Page[*gatehouse.AuditEvent]](t)(s.ListAuditEvents(ctx, gatehouse.AuditFilter{})); len(p.Items) != 0 {
		t.Fatalf("a rolled back transaction left %d audit events", len(p.Items))
	}
	// The store is still usable, and the next event is seq 1.
	createIdentities(t, s, person(1))
	wantHead(t, s, 1)
}

// testUpdateRefusesUnauditedWrites runs every write method alone in a transaction: each must be
// refused, and leave no trace.
func testUpdateRefusesUnauditedWrites(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	alice := person(1)
	grant := &gatehouse.Grant{EntitlementID: "crm/sales", Source: gatehouse.SourceRequest}
	token := &gatehouse.Token{Hash: gatehouse.HashToken("gh_fixture")}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateIdentity(ctx, alice); err != nil {
			return err
		}
		grant.IdentityID, token.IdentityID = alice.ID, alice.ID
		return joinErr(putCatalog(ctx, tx, catalogFixture()), tx.CreateGrant(ctx, grant), tx.CreateToken(ctx, token))
	})
	wantHead(t, s, 1)
	before := snapshot(t, s)

	tests := []struct {
		name  string
		write func(ctx context.Context, tx store.Tx) error
	}{
		{"CreateIdentity", func(ctx context.Context, tx store.Tx) error { return tx.CreateIdentity(ctx, person(2)) }},
		{"UpdateIdentity", func(ctx context.Context, tx store.Tx) error {
			i := *alice
			i.Title = "Changed"
			return tx.UpdateIdentity(ctx, &i)
		}},
		{"PutSettings", func(ctx context.Context, tx store.Tx) error { return tx.PutSettings(ctx, gatehouse.Settings{}) }},
		{"PutSystem", func(ctx context.Context, tx store.Tx) error { return tx.PutSystem(ctx, &gatehouse.System{ID: "new"}) }},
		{"DeleteSystem", func(ctx context.Context, tx store.Tx) error { return tx.DeleteSystem(ctx, "wiki") }},
		{"PutEntitlement", func(ctx context.Context, tx store.Tx) error {
			return tx.PutEntitlement(ctx, &gatehouse.Entitlement{ID: "wiki/new", System: "wiki"})
		}},
		{"DeleteEntitlement", func(ctx context.Context, tx store.Tx) error { return tx.DeleteEntitlement(ctx, "wiki/members") }},
		{"PutRole", func(ctx context.Context, tx store.Tx) error { return tx.PutRole(ctx, &gatehouse.Role{ID: "new"}) }},
		{"DeleteRole", func(ctx context.Context, tx store.Tx) error { return tx.DeleteRole(ctx, "auditors") }},
		{"PutSoDRule", func(ctx context.Context, tx store.Tx) error { return tx.PutSoDRule(ctx, &gatehouse.SoDRule{ID: "new"}) }},
		{"DeleteSoDRule", func(ctx context.Context, tx store.Tx) error { return tx.DeleteSoDRule(ctx, "admin-auditor") }},
		{"CreateGrant", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateGrant(ctx, &gatehouse.Grant{IdentityID: alice.ID, EntitlementID: "wiki/members", Source: gatehouse.SourceRequest})
		}},
		{"RevokeGrant", func(ctx context.Context, tx store.Tx) error {
			return tx.RevokeGrant(ctx, grant.ID, time.Now(), "t", "t")
		}},
		{"UpsertAccount", func(ctx context.Context, tx store.Tx) error {
			return tx.UpsertAccount(ctx, &gatehouse.Account{SystemID: "wiki", ExternalID: "alice"})
		}},
		{"CreateToken", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateToken(ctx, &gatehouse.Token{IdentityID: alice.ID, Hash: gatehouse.HashToken("gh_other")})
		}},
		{"RevokeToken", func(ctx context.Context, tx store.Tx) error { return tx.RevokeToken(ctx, token.ID, time.Now()) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Update(ctx, func(tx store.Tx) error { return tc.write(ctx, tx) })
			if err == nil || err.Error() != unauditedMessage {
				t.Fatalf("Update = %v, want %q", err, unauditedMessage)
			}
			equal(t, "state after a refused "+tc.name, snapshot(t, s), before)
		})
	}

	// Reads alone need no audit event.
	must(t, s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.GetIdentity(ctx, alice.ID)
		return err
	}))
	// An audit event alone (a decision that changed nothing) commits.
	must(t, s.Update(ctx, func(tx store.Tx) error {
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "t", Action: "audit.verify", ObjectType: "audit", ObjectID: "chain"})
	}))
	wantHead(t, s, 2)
}

// stateSnapshot is everything a write method can change, read through the store.
type stateSnapshot struct {
	Identities []*gatehouse.Identity
	Catalog    *gatehouse.Catalog
	Grants     []*gatehouse.Grant
	Accounts   []*gatehouse.Account
	Tokens     []*gatehouse.Token
	HeadSeq    int64
}

func snapshot(t *testing.T, r store.Reader) stateSnapshot {
	t.Helper()
	ctx := t.Context()
	var s stateSnapshot
	s.Identities = mustGet[gatehouse.Page[*gatehouse.Identity]](t)(r.ListIdentities(ctx, gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit})).Items
	s.Catalog = mustGet[*gatehouse.Catalog](t)(r.LoadCatalog(ctx))
	s.Grants = mustGet[gatehouse.Page[*gatehouse.Grant]](t)(r.ListGrants(ctx, gatehouse.GrantFilter{Limit: gatehouse.MaxLimit})).Items
	s.Accounts = mustGet[gatehouse.Page[*gatehouse.Account]](t)(r.ListAccounts(ctx, gatehouse.AccountFilter{Limit: gatehouse.MaxLimit})).Items
	s.Tokens = mustGet[[]*gatehouse.Token](t)(r.ListTokens(ctx, gatehouse.TokenFilter{IncludeRevoked: true}))
	seq, _, err := r.AuditHead(ctx)
	must(t, err)
	s.HeadSeq = seq
	return s
}

func testUpdateRollsBackOnPanic(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the panic of fn", r)
			}
		}()
		_ = s.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateIdentity(ctx, person(1)); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "t", Action: "identity.create", ObjectType: "identity"}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	_, err := s.GetIdentity(ctx, "E00001")
	wantCode(t, err, gatehouse.ENOTFOUND)
	wantHead(t, s, 0)
	// The connection went back to the pool: the next transaction runs (on SQLite it would wait
	// forever for the single write connection otherwise).
	done := make(chan struct{})
	go func() {
		defer close(done)
		createIdentities(t, s, person(1))
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Update after a panic did not finish: the transaction was not rolled back")
	}
	wantHead(t, s, 1)
}

func testTxReadsOwnWrites(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	createIdentities(t, s, person(1))
	must(t, s.Update(ctx, func(tx store.Tx) error {
		i := person(2)
		if err := tx.CreateIdentity(ctx, i); err != nil {
			return err
		}
		got, err := tx.GetIdentity(ctx, "user00002@EXAMPLE.com")
		if err != nil {
			return err
		}
		equal(t, "identity read in its transaction", got, i)
		if n, err := tx.CountIdentities(ctx, gatehouse.IdentityFilter{}); err != nil || n != 2 {
			t.Errorf("CountIdentities in the transaction = %d, %v; want 2", n, err)
		}
		// Outside the transaction nothing is visible yet.
		if _, err := s.GetIdentity(ctx, i.ID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("an uncommitted identity is visible outside its transaction (err %v)", err)
		}
		if err := tx.PutSystem(ctx, &gatehouse.System{ID: "crm", Name: "CRM"}); err != nil {
			return err
		}
		cat, err := tx.LoadCatalog(ctx)
		if err != nil {
			return err
		}
		if len(cat.Systems) != 1 {
			t.Errorf("LoadCatalog in the transaction sees %d systems, want 1", len(cat.Systems))
		}
		ev := &gatehouse.AuditEvent{Actor: "t", Action: "identity.create", ObjectType: "identity", ObjectID: i.ID}
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
		seq, hash, err := tx.AuditHead(ctx)
		if err != nil {
			return err
		}
		if seq != 2 || hash != ev.Hash {
			t.Errorf("AuditHead in the transaction = %d %s, want 2 %s", seq, hash, ev.Hash)
		}
		p, err := tx.ListAuditEvents(ctx, gatehouse.AuditFilter{Limit: 1})
		if err != nil {
			return err
		}
		if len(p.Items) != 1 || p.Items[0].Seq != 2 {
			t.Errorf("ListAuditEvents in the transaction does not show the new event")
		}
		// A second append in the same transaction continues the chain.
		ev2 := &gatehouse.AuditEvent{Actor: "t", Action: "system.put", ObjectType: "system", ObjectID: "crm"}
		if err := tx.AppendAudit(ctx, ev2); err != nil {
			return err
		}
		if ev2.Seq != 3 || ev2.PrevHash != ev.Hash {
			t.Errorf("second append: seq %d prev %s; want 3 %s", ev2.Seq, ev2.PrevHash, ev.Hash)
		}
		return nil
	}))
	wantHead(t, s, 3)
	verifyChain(t, s, 3, nil)
}

func testTimeRoundTrip(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	alice := person(1)
	createIdentities(t, s, alice)
	zone := time.FixedZone("odd", 5*3600+45*60)
	times := []time.Time{
		time.Date(2026, 3, 4, 5, 6, 7, 123_456_789, zone),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC), // before the epoch
		time.Date(1970, 1, 1, 0, 0, 0, 1_000, time.UTC),
		time.Date(2262, 4, 11, 23, 47, 16, 854_775_000, time.UTC), // near the end of int64 nanoseconds
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 500, time.Local), // sub-microsecond only
	}
	for n, tm := range times {
		want := tm.UTC().Truncate(time.Microsecond)
		g := &gatehouse.Grant{IdentityID: alice.ID, EntitlementID: "x/y", Source: gatehouse.SourceRequest, GrantedAt: tm, ExpiresAt: &tm}
		ev := &gatehouse.AuditEvent{Time: tm, Actor: "t", Action: "grant.create", ObjectType: "grant", ObjectID: "time"}
		audited(t, s, func(ctx context.Context, tx store.Tx) error {
			return joinErr(tx.CreateGrant(ctx, g), tx.AppendAudit(ctx, ev))
		})
		got := mustGet[*gatehouse.Grant](t)(s.GetGrant(ctx, g.ID))
		if got.GrantedAt != want || *got.ExpiresAt != want || g.GrantedAt != want {
			t.Errorf("time %d (%v): stored grant times %v / %v, want %v (in UTC)", n, tm, got.GrantedAt, *got.ExpiresAt, want)
		}
		evs := mustGet[gatehouse.Page[*gatehouse.AuditEvent]](t)(s.ListAuditEvents(ctx, gatehouse.AuditFilter{ObjectID: "time", Limit: 1}))
		if len(evs.Items) != 1 || evs.Items[0].Time != want || evs.Items[0].Hash != ev.Hash {
			t.Errorf("time %d (%v): audit event time %+v, want %v", n, tm, evs.Items, want)
		}
		// Since is inclusive and Until exclusive, to the microsecond.
		bounds := []struct {
			f    gatehouse.AuditFilter
			want int
		}{
			{gatehouse.AuditFilter{ObjectID: "time", Since: want, Until: want.Add(time.Microsecond)}, 1},
			{gatehouse.AuditFilter{ObjectID: "time", Since: want.Add(time.Microsecond), Until: want.Add(time.Hour)}, 0},
			{gatehouse.AuditFilter{ObjectID: "time", Since: want.Add(-time.Hour), Until: want}, 0},
		}
		for _, b := range bounds {
			p := mustGet[gatehouse.Page[*gatehouse.AuditEvent]](t)(s.ListAuditEvents(ctx, b.f))
			count := 0
			for _, e := range p.Items {
				if e.Time.Equal(want) {
					count++
				}
			}
			if count != b.want {
				t.Errorf("time %d: Since %v Until %v matched %d events at %v, want %d", n, b.f.Since, b.f.Until, count, want, b.want)
			}
		}
	}
	verifyChain(t, s, int64(1+2*len(times)), nil) // audited adds an event of its own
}

// verifyChain checks the stored chain the way `gatehouse audit verify` does and compares the
// count and the first break (nil for an intact chain).
func verifyChain(t *testing.T, r store.Reader, count int64, wantBreak *int64) {
	t.Helper()
	ctx := t.Context()
	v := audit.NewVerifier()
	must(t, r.ScanAuditEvents(ctx, func(ev *gatehouse.AuditEvent) error {
		v.Add(ev)
		return nil
	}))
	head, _, err := r.AuditHead(ctx)
	must(t, err)
	n, brk := v.Result(head)
	switch {
	case wantBreak == nil && brk != nil:
		t.Fatalf("chain broken: %v", brk)
	case wantBreak != nil && brk == nil:
		t.Fatalf("chain verifies (%d events); want a break at %d", n, *wantBreak)
	case wantBreak != nil && brk.Seq != *wantBreak:
		t.Fatalf("chain breaks at %d (%s); want %d", brk.Seq, brk.Reason, *wantBreak)
	case wantBreak == nil && n != count:
		t.Fatalf("verified %d events, want %d", n, count)
	}
}
