package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testReadsByKeys: IdentitiesByEmployeeID and ActiveGrantsOf, which an HR import plans a chunk
// of its feed with, answer exactly the keys asked (more than one statement's worth of them,
// exact case, inside a transaction that wrote some of them), and only unrevoked grants.
func testReadsByKeys(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	const n = 1203 // more than one batch of keys
	people := make([]*gatehouse.Identity, n)
	for i := range people {
		people[i] = person(i)
	}
	createIdentities(t, s, people...)
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutEntitlement(ctx, &gatehouse.Entitlement{ID: "crm/sales", System: "crm", Name: "Sales", Approval: []string{}})
	})
	var revoked string
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		for i, p := range people {
			if i%2 == 1 {
				continue
			}
			g := &gatehouse.Grant{IdentityID: p.ID, EntitlementID: "crm/sales", Source: gatehouse.SourceBirthright, Reference: "r", GrantedBy: "t"}
			if err := tx.CreateGrant(ctx, g); err != nil {
				return err
			}
			if i == 0 {
				revoked = g.ID
			}
		}
		return tx.RevokeGrant(ctx, revoked, time.Now(), "t", "gone")
	})

	var ask []string
	for i := 0; i < n; i += 2 {
		ask = append(ask, people[i].EmployeeID)
	}
	ask = append(ask, "E-none", strings.ToLower(people[1].EmployeeID)) // unknown, and another case
	got, err := s.IdentitiesByEmployeeID(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	var emps []string
	for _, g := range got {
		emps = append(emps, g.EmployeeID)
	}
	slices.Sort(emps)
	want := slices.Clone(ask[:len(ask)-2])
	slices.Sort(want)
	if !slices.Equal(emps, want) {
		t.Fatalf("IdentitiesByEmployeeID: %d identities, want %d (first %v)", len(emps), len(want), emps[:min(3, len(emps))])
	}
	equal(t, "IdentitiesByEmployeeID reads the whole identity", got[slices.IndexFunc(got, func(i *gatehouse.Identity) bool { return i.ID == people[2].ID })], people[2])

	var ids []string
	for _, p := range people {
		ids = append(ids, p.ID)
	}
	grants, err := s.ActiveGrantsOf(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if want := (n+1)/2 - 1; len(grants) != want {
		t.Fatalf("ActiveGrantsOf: %d grants, want %d (every other person, less one revoked)", len(grants), want)
	}
	for _, g := range grants {
		if g.ID == revoked || g.RevokedAt != nil {
			t.Fatalf("ActiveGrantsOf answered a revoked grant: %+v", g)
		}
	}
	// Inside a transaction, what it wrote is read back.
	err = s.Update(ctx, func(tx store.Tx) error {
		late := person(n + 1)
		if err := tx.CreateIdentity(ctx, late); err != nil {
			return err
		}
		got, err := tx.IdentitiesByEmployeeID(ctx, []string{late.EmployeeID})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ID != late.ID {
			return fmt.Errorf("in the transaction: %v", got)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
}

// errRollback rolls a test's transaction back.
var errRollback = errors.New("roll back")
