package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// bulkPast is a batch larger than one bulk statement of the PostgreSQL store (5,000 rows), so
// that a batch crosses a chunk boundary.
const bulkPast = 5_003

// wantRowError fails unless err is a *store.RowError for row index with the code and message.
func wantRowError(t *testing.T, err error, index int, code, message string) {
	t.Helper()
	var re *store.RowError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a row error", err, err)
	}
	if re.Index != index {
		t.Fatalf("row error names row %d (%v), want %d", re.Index, re.Err, index)
	}
	wantError(t, err, code, message)
}

// testBulkIdentities: CreateIdentities and UpdateIdentities store what CreateIdentity and
// UpdateIdentity would, and a row the database refuses fails the whole transaction with that
// row's error and index, even past the first statement of a large batch.
func testBulkIdentities(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	one, batch := person(1), []*gatehouse.Identity{person(2), person(3), person(4)}
	batch[1].Attributes, batch[1].Roles, batch[1].ManagerID = map[string]string{"cost_center": "42"}, []gatehouse.AccessRole{"operator"}, "E00001"
	createIdentities(t, s, one)
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateIdentities(ctx, batch) })
	for _, i := range batch {
		wantUUIDv7(t, "identity", i.ID)
		wantStored(t, "CreatedAt", i.CreatedAt)
		equal(t, "GetIdentity of a batch row", mustGet[*gatehouse.Identity](t)(s.GetIdentity(ctx, i.ID)), i)
	}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateIdentities(ctx, nil) })

	count := func() int { return mustGet[int](t)(s.CountIdentities(ctx, gatehouse.IdentityFilter{})) }
	before := count()
	tests := []struct {
		name    string
		rows    func() []*gatehouse.Identity
		index   int
		code    string
		message string
	}{
		{"email of a stored person, in another case", func() []*gatehouse.Identity {
			c := person(11)
			c.Email = "USER00002@Example.com"
			return []*gatehouse.Identity{person(10), c, person(12)}
		}, 1, gatehouse.ECONFLICT, `identity with email "USER00002@Example.com" already exists`},
		{"an employee_id twice in the batch", func() []*gatehouse.Identity {
			c := person(12)
			c.EmployeeID = "E00010"
			return []*gatehouse.Identity{person(10), person(11), c}
		}, 2, gatehouse.ECONFLICT, `identity with employee_id "E00010" already exists`},
		{"a stored id", func() []*gatehouse.Identity {
			c := person(11)
			c.ID = one.ID
			return []*gatehouse.Identity{person(10), c}
		}, 1, gatehouse.ECONFLICT, fmt.Sprintf("identity %q already exists", one.ID)},
		{"past the first statement", func() []*gatehouse.Identity {
			rows := make([]*gatehouse.Identity, bulkPast)
			for k := range rows {
				rows[k] = person(100 + k)
			}
			rows[bulkPast-1].Email = one.Email
			return rows
		}, bulkPast - 1, gatehouse.ECONFLICT, fmt.Sprintf("identity with email %q already exists", one.Email)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateIdentities(ctx, tc.rows()) })
			wantRowError(t, err, tc.index, tc.code, tc.message)
			if n := count(); n != before {
				t.Fatalf("%d identities after a failed batch, want %d: nothing of it is stored", n, before)
			}
		})
	}

	// Updates: every field written, by id.
	a, b := *batch[0], *batch[2]
	a.Department, a.Status, a.Attributes = "Finance", gatehouse.StatusLeave, map[string]string{"x": "y"}
	b.Email, b.Title = "renamed@example.com", "Lead"
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.UpdateIdentities(ctx, []*gatehouse.Identity{&a, &b})
	})
	equal(t, "updated a", mustGet[*gatehouse.Identity](t)(s.GetIdentity(ctx, a.ID)), &a)
	equal(t, "updated b", mustGet[*gatehouse.Identity](t)(s.GetIdentity(ctx, "renamed@example.com")), &b)
	if !a.UpdatedAt.After(batch[0].CreatedAt) && !a.UpdatedAt.Equal(batch[0].CreatedAt) {
		t.Fatalf("UpdatedAt %v before CreatedAt %v", a.UpdatedAt, batch[0].CreatedAt)
	}
	missing, taken := a, b
	missing.ID = "nope"
	taken.Email = strings.ToUpper(one.Email)
	err := auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.UpdateIdentities(ctx, []*gatehouse.Identity{&a, &missing})
	})
	wantRowError(t, err, 1, gatehouse.ENOTFOUND, `identity "nope" not found`)
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.UpdateIdentities(ctx, []*gatehouse.Identity{&a, &taken})
	})
	wantRowError(t, err, 1, gatehouse.ECONFLICT, fmt.Sprintf("identity with email %q already exists", taken.Email))
	equal(t, "b after failed updates", mustGet[*gatehouse.Identity](t)(s.GetIdentity(ctx, b.ID)), &b)
}

// testBulkGrants: CreateGrants and RevokeGrants store what CreateGrant and RevokeGrant would,
// with the one-row errors, and a large batch spans statements.
func testBulkGrants(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	alice, bob := person(1), person(2)
	createIdentities(t, s, alice, bob)
	expires := time.Date(2031, 2, 3, 4, 5, 6, 789_123_456, time.UTC)
	gs := []*gatehouse.Grant{
		{IdentityID: alice.ID, EntitlementID: "crm/sales", Source: gatehouse.SourceBirthright, Reference: "role-a", GrantedBy: "system:jml"},
		{IdentityID: bob.ID, EntitlementID: "crm/admin", Source: gatehouse.SourceRequest, Reference: "REQ-1", GrantedBy: "mgr", ExpiresAt: &expires,
			GrantedAt: time.Date(2020, 1, 1, 0, 0, 0, 1500, time.UTC)},
	}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateGrants(ctx, gs) })
	for _, g := range gs {
		wantUUIDv7(t, "grant", g.ID)
		equal(t, "GetGrant of a batch row", mustGet[*gatehouse.Grant](t)(s.GetGrant(ctx, g.ID)), g)
	}
	wantStored(t, "GrantedAt (from the clock)", gs[0].GrantedAt)
	if gs[1].GrantedAt != time.Date(2020, 1, 1, 0, 0, 0, 1000, time.UTC) || !gs[1].ExpiresAt.Equal(expires.Truncate(time.Microsecond)) {
		t.Fatalf("given times not kept to the microsecond: %v %v", gs[1].GrantedAt, gs[1].ExpiresAt)
	}

	err := auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateGrants(ctx, []*gatehouse.Grant{{IdentityID: alice.ID, EntitlementID: "x/1"}, {IdentityID: "no-such-identity", EntitlementID: "x/2"}})
	})
	wantRowError(t, err, 1, gatehouse.ENOTFOUND, `identity "no-such-identity" not found`)
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateGrants(ctx, []*gatehouse.Grant{{IdentityID: alice.ID, EntitlementID: "x/1"}, {ID: gs[0].ID, IdentityID: alice.ID, EntitlementID: "x/2"}})
	})
	wantRowError(t, err, 1, gatehouse.ECONFLICT, fmt.Sprintf("grant %q already exists", gs[0].ID))

	// Many grants, then revoked in one batch with a reason each.
	many := make([]*gatehouse.Grant, bulkPast)
	for k := range many {
		many[k] = &gatehouse.Grant{IdentityID: alice.ID, EntitlementID: fmt.Sprintf("bulk/%05d", k), Source: gatehouse.SourceBirthright}
	}
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateGrants(ctx, many) })
	active := func() int {
		n, err := s.CountActiveGrants(ctx, []string{"bulk/00000", "bulk/05002", "crm/sales"})
		must(t, err)
		return n["bulk/00000"] + n["bulk/05002"] + n["crm/sales"]
	}
	if n := active(); n != 3 {
		t.Fatalf("%d of the three grants looked at are active, want 3", n)
	}
	at := time.Date(2030, 6, 1, 12, 0, 0, 999_999_999, time.UTC)
	rs := make([]store.Revocation, 0, bulkPast+1)
	for k, g := range many {
		rs = append(rs, store.Revocation{GrantID: g.ID, Reason: fmt.Sprintf("why %d", k)})
	}
	rs = append(rs, store.Revocation{GrantID: gs[0].ID, Reason: "leaver"})
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeGrants(ctx, rs, at, "sec@example.com") })
	if n := active(); n != 0 {
		t.Fatalf("%d grants still active after RevokeGrants", n)
	}
	got := mustGet[*gatehouse.Grant](t)(s.GetGrant(ctx, many[bulkPast-1].ID))
	wantAt := at.Truncate(time.Microsecond)
	want := *many[bulkPast-1]
	want.RevokedAt, want.RevokedBy, want.RevokeReason = &wantAt, "sec@example.com", fmt.Sprintf("why %d", bulkPast-1)
	equal(t, "revoked in a batch", got, &want)

	for _, tc := range []struct {
		name    string
		rs      []store.Revocation
		code    string
		message string
	}{
		{"already revoked", []store.Revocation{{GrantID: gs[1].ID}, {GrantID: gs[0].ID}}, gatehouse.ECONFLICT, fmt.Sprintf("grant %q is already revoked", gs[0].ID)},
		{"missing", []store.Revocation{{GrantID: gs[1].ID}, {GrantID: "nope"}}, gatehouse.ENOTFOUND, `grant "nope" not found`},
		{"named twice", []store.Revocation{{GrantID: gs[1].ID}, {GrantID: gs[1].ID}}, gatehouse.ECONFLICT, fmt.Sprintf("grant %q is already revoked", gs[1].ID)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeGrants(ctx, tc.rs, at, "x") })
			wantRowError(t, err, 1, tc.code, tc.message)
			equal(t, "grant after a failed batch", mustGet[*gatehouse.Grant](t)(s.GetGrant(ctx, gs[1].ID)), gs[1])
		})
	}
}

// testBulkAudit: a batch of audit events past one bulk statement seals one chain with the
// events appended one at a time around it.
func testBulkAudit(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	evs := auditFixture(bulkPast+2, time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC))
	must(t, s.Update(ctx, func(tx store.Tx) error {
		return joinErr(tx.AppendAudit(ctx, evs[0]), tx.AppendAudits(ctx, evs[1:bulkPast+1]), tx.AppendAudit(ctx, evs[bulkPast+1]))
	}))
	stored := scanAll(t, s)
	if len(stored) != len(evs) {
		t.Fatalf("stored %d events, want %d", len(stored), len(evs))
	}
	v := audit.NewVerifier()
	for i, ev := range stored {
		if ev.Seq != int64(i+1) || ev.Hash != evs[i].Hash {
			t.Fatalf("event %d: seq %d hash %s, want %d %s", i, ev.Seq, ev.Hash, i+1, evs[i].Hash)
		}
		v.Add(ev)
	}
	seq, _, err := s.AuditHead(ctx)
	must(t, err)
	if _, brk := v.Result(seq); brk != nil || seq != int64(len(evs)) {
		t.Fatalf("head %d, chain break %v", seq, brk)
	}
}
