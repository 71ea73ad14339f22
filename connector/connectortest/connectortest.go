// Package connectortest is the conformance suite every connector must pass: create an account
// and find it in the inventory, add and remove memberships, disable and enable, run every
// operation twice (idempotency), and see a membership added behind the connector's back
// (drift). A connector package runs it against a real server in its own tests:
//
//	connectortest.Run(t, connectortest.Harness{New: ..., Groups: ...})
package connectortest

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/connector"
)

// Harness describes the connector under test.
type Harness struct {
	// New returns a target isolated from every other subtest (subtests run in parallel): an
	// open connector, which the suite closes, and the groups to use in it. It is called once
	// per subtest.
	New func(t *testing.T) Target
}

// Target is one isolated system under test.
type Target struct {
	Connector connector.Connector
	// Groups are at least two group external ids in the target. They may not exist yet when
	// the connector creates groups (Capabilities.CreatesGroups); otherwise they must exist.
	Groups []string
	// Missing, when set, is a group external id that does not exist in the target (and is not
	// in Groups). Removing a member from it must succeed, and Inventory must not report it.
	Missing string
	// AddOutOfBand, when set, adds account to group directly in the target, bypassing the
	// connector, as an administrator would by hand. The drift test uses it.
	AddOutOfBand func(t *testing.T, group string, account connector.AccountRef)
	// Fulfill, when set, does the work a connector deferred to a person (connector.Deferred,
	// the manual connector's tasks): the suite calls it with the task and then repeats the
	// operation, which must now succeed. A connector that defers without it fails the suite.
	Fulfill func(t *testing.T, task string)
}

// Run runs the suite as subtests of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"CreateAccount", testCreate},
		{"Membership", testMembership},
		{"EmptyGroup", testEmptyGroup},
		{"SetEnabled", testSetEnabled},
		{"Drift", testDrift},
		{"NotFound", testNotFound},
		{"BatchMembership", testBatchMembership},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := h.New(t)
			if len(target.Groups) < 2 {
				t.Fatal("connectortest: Target.Groups needs at least two groups")
			}
			c := target.Connector
			t.Cleanup(func() {
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, &suite{h: target, c: c, ctx: t.Context(), caps: c.Capabilities()})
		})
	}
}

type suite struct {
	h    Target
	c    connector.Connector
	ctx  context.Context
	caps connector.Capabilities
}

// person returns a spec unique to the subtest, so subtests sharing a directory do not
// collide. The local part is short: AD account names have at most 20 characters.
func person(t *testing.T, n int) connector.AccountSpec {
	id := fmt.Sprintf("u%08x%d", crc32.ChecksumIEEE([]byte(t.Name())), n)
	return connector.AccountSpec{
		Email:      id + "@example.com",
		FirstName:  "Test",
		LastName:   fmt.Sprintf("Person %d", n),
		EmployeeID: "E-" + id,
	}
}

func (s *suite) create(t *testing.T, spec connector.AccountSpec) connector.AccountRef {
	t.Helper()
	if !s.caps.CreateAccount {
		t.Skip("connector cannot create accounts")
	}
	ref, err := s.c.CreateAccount(s.ctx, spec)
	if s.deferred(t, err) {
		ref, err = s.c.CreateAccount(s.ctx, spec)
	}
	if err != nil {
		t.Fatalf("CreateAccount(%s): %v", spec.Email, err)
	}
	if ref.ID == "" {
		t.Fatalf("CreateAccount(%s) returned a reference without ID: %+v", spec.Email, ref)
	}
	return ref
}

func (s *suite) inventory(t *testing.T) *connector.Inventory {
	t.Helper()
	inv, err := s.c.Inventory(s.ctx, s.h.Groups)
	if err != nil {
		t.Fatalf("Inventory: %v", err)
	}
	return inv
}

func account(inv *connector.Inventory, ref connector.AccountRef) *connector.Account {
	for i := range inv.Accounts {
		if inv.Accounts[i].Ref.ID == ref.ID {
			return &inv.Accounts[i]
		}
	}
	return nil
}

func isMember(inv *connector.Inventory, group string, ref connector.AccountRef) bool {
	g := inv.Groups[group]
	return g != nil && slices.ContainsFunc(g.Members, func(m connector.AccountRef) bool { return m.ID == ref.ID })
}

func (s *suite) add(t *testing.T, group string, ref connector.AccountRef) {
	t.Helper()
	for i := range 2 { // twice: idempotent
		if err := s.retry(t, func() error { return s.c.AddMember(s.ctx, group, ref) }); err != nil {
			t.Fatalf("AddMember(%s) #%d: %v", group, i+1, err)
		}
	}
}

func (s *suite) remove(t *testing.T, group string, ref connector.AccountRef) {
	t.Helper()
	for i := range 2 {
		if err := s.retry(t, func() error { return s.c.RemoveMember(s.ctx, group, ref) }); err != nil {
			t.Fatalf("RemoveMember(%s) #%d: %v", group, i+1, err)
		}
	}
}

func (s *suite) setEnabled(t *testing.T, ref connector.AccountRef, enabled bool) {
	t.Helper()
	for i := range 2 {
		if err := s.retry(t, func() error { return s.c.SetEnabled(s.ctx, ref, enabled) }); err != nil {
			t.Fatalf("SetEnabled(%v) #%d: %v", enabled, i+1, err)
		}
	}
}

// deferred reports whether err handed the operation to a person; it then has the person do it
// (Target.Fulfill), after checking that asking again waits for the same task rather than
// making a second one.
func (s *suite) deferred(t *testing.T, err error) bool {
	t.Helper()
	task := connector.DeferredTask(err)
	if task == "" {
		return false
	}
	if s.h.Fulfill == nil {
		t.Fatalf("the connector deferred an operation (%v) and the harness has no Fulfill", err)
	}
	s.h.Fulfill(t, task)
	return true
}

// retry runs op, and once more after a person did the work it deferred.
func (s *suite) retry(t *testing.T, op func() error) error {
	t.Helper()
	err := op()
	if connector.IsDeferred(err) {
		again := op() // idempotent while waiting: the same task
		if connector.DeferredTask(again) != connector.DeferredTask(err) {
			t.Fatalf("asking again while %v: %v, want the same task", err, again)
		}
	}
	if s.deferred(t, err) {
		err = op()
	}
	return err
}

func (s *suite) needGroups(t *testing.T) {
	if !s.caps.Groups {
		t.Skip("connector has no groups")
	}
}

func testCreate(t *testing.T, s *suite) {
	spec := person(t, 1)
	ref := s.create(t, spec)
	again := s.create(t, spec)
	if again.ID != ref.ID {
		t.Fatalf("second CreateAccount returned %+v, want the adopted %+v", again, ref)
	}
	inv := s.inventory(t)
	a := account(inv, ref)
	if a == nil {
		t.Fatalf("created account %+v is not in the inventory", ref)
	}
	if !a.Enabled || !strings.EqualFold(a.Email, spec.Email) || a.EmployeeID != spec.EmployeeID || a.Username == "" {
		t.Fatalf("inventory account = %+v, want enabled, email %s, employee id %s, a username", a, spec.Email, spec.EmployeeID)
	}
	n := 0
	for _, x := range inv.Accounts {
		if strings.EqualFold(x.Email, spec.Email) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("inventory holds %d accounts for %s, want 1", n, spec.Email)
	}

	// Somebody else's account under the same username is not adopted.
	other := spec
	other.EmployeeID += "-other"
	if _, err := s.c.CreateAccount(s.ctx, other); !connector.IsPermanent(err) {
		t.Fatalf("CreateAccount for another employee with the same username: err = %v, want a permanent error", err)
	}
}

func testMembership(t *testing.T, s *suite) {
	s.needGroups(t)
	a, b := s.create(t, person(t, 1)), s.create(t, person(t, 2))
	g1, g2 := s.h.Groups[0], s.h.Groups[1]
	s.add(t, g1, a)
	s.add(t, g1, b)
	s.add(t, g2, a)
	inv := s.inventory(t)
	if !isMember(inv, g1, a) || !isMember(inv, g1, b) || !isMember(inv, g2, a) || isMember(inv, g2, b) {
		t.Fatalf("after adds: %s=%+v %s=%+v; want a,b in the first and a in the second", g1, inv.Groups[g1], g2, inv.Groups[g2])
	}
	// A mover: a leaves g1.
	s.remove(t, g1, a)
	inv = s.inventory(t)
	if isMember(inv, g1, a) || !isMember(inv, g1, b) || !isMember(inv, g2, a) {
		t.Fatalf("after removing a from %s: %s=%+v %s=%+v", g1, g1, inv.Groups[g1], g2, inv.Groups[g2])
	}
}

func testEmptyGroup(t *testing.T, s *suite) {
	s.needGroups(t)
	a := s.create(t, person(t, 1))
	g := s.h.Groups[1]
	s.add(t, g, a)
	s.remove(t, g, a) // the last member leaves
	inv := s.inventory(t)
	grp := inv.Groups[g]
	if grp == nil {
		t.Fatalf("group %s vanished from the inventory when its last member left", g)
	}
	if len(grp.Members) != 0 || len(grp.Foreign) != 0 {
		t.Fatalf("empty group %s = %+v, want no members and no foreign values (placeholders are internal)", g, grp)
	}
	s.add(t, g, a) // and can be filled again
	if inv := s.inventory(t); !isMember(inv, g, a) || len(inv.Groups[g].Members) != 1 {
		t.Fatalf("refilled group = %+v, want exactly the account", inv.Groups[g])
	}
	if s.h.Missing != "" {
		if err := s.c.RemoveMember(s.ctx, s.h.Missing, a); err != nil {
			t.Fatalf("RemoveMember from a missing group: %v", err)
		}
		inv, err := s.c.Inventory(s.ctx, append([]string{s.h.Missing}, s.h.Groups...))
		if err != nil {
			t.Fatalf("Inventory: %v", err)
		}
		if g, ok := inv.Groups[s.h.Missing]; ok {
			t.Fatalf("missing group %s is in the inventory: %+v", s.h.Missing, g)
		}
	}
}

func testSetEnabled(t *testing.T, s *suite) {
	if !s.caps.Disable {
		t.Skip("connector cannot disable accounts")
	}
	a := s.create(t, person(t, 1))
	if s.caps.Groups {
		s.add(t, s.h.Groups[0], a)
		s.add(t, s.h.Groups[1], a)
	}
	s.setEnabled(t, a, false)
	inv := s.inventory(t)
	acc := account(inv, a)
	if acc == nil || acc.Enabled {
		t.Fatalf("after disable: account = %+v, want present and disabled", acc)
	}
	if s.caps.DisableRemovesMemberships {
		for _, g := range s.h.Groups {
			if isMember(inv, g, a) {
				t.Fatalf("disabled account is still in %s", g)
			}
		}
	}
	// A leaver's account is adopted, still disabled, when created again.
	if again := s.create(t, person(t, 1)); again.ID != a.ID {
		t.Fatalf("CreateAccount of a disabled account returned %+v, want %+v", again, a)
	}
	s.setEnabled(t, a, true)
	acc = account(s.inventory(t), a)
	if acc == nil || !acc.Enabled {
		t.Fatalf("after enable: account = %+v, want present and enabled", acc)
	}
	// A stale locator (the account moved while disabled) still finds it.
	if s.caps.Groups {
		s.add(t, s.h.Groups[0], a)
		if !isMember(s.inventory(t), s.h.Groups[0], a) {
			t.Fatalf("re-enabled account could not be added to %s", s.h.Groups[0])
		}
	}
}

func testDrift(t *testing.T, s *suite) {
	s.needGroups(t)
	if s.h.AddOutOfBand == nil {
		t.Skip("harness cannot change the target out of band")
	}
	a, b := s.create(t, person(t, 1)), s.create(t, person(t, 2))
	g := s.h.Groups[0]
	s.add(t, g, a)
	s.h.AddOutOfBand(t, g, b)
	inv := s.inventory(t)
	if !isMember(inv, g, b) || !isMember(inv, g, a) {
		t.Fatalf("membership added out of band is not in the inventory: %s=%+v", g, inv.Groups[g])
	}
	s.remove(t, g, b) // enforcing: the engine removes it
	if isMember(s.inventory(t), g, b) {
		t.Fatal("drift was not removed")
	}
}

func testNotFound(t *testing.T, s *suite) {
	ghost := connector.AccountRef{ID: "00000000-0000-0000-0000-000000000000"}
	if s.caps.Disable {
		err := s.c.SetEnabled(s.ctx, ghost, false)
		if !connector.IsPermanent(err) || !errors.Is(err, connector.ErrNotFound) {
			t.Fatalf("SetEnabled(unknown account) = %v, want a permanent ErrNotFound", err)
		}
	}
	if s.caps.Groups {
		err := s.c.AddMember(s.ctx, s.h.Groups[0], ghost)
		if !connector.IsPermanent(err) || !errors.Is(err, connector.ErrNotFound) {
			t.Fatalf("AddMember(unknown account) = %v, want a permanent ErrNotFound", err)
		}
	}
}

// testBatchMembership checks connector.MemberBatcher, for connectors that have it: a batch
// creates a missing group with its members (when the connector creates groups), swaps members
// in and out in one call, repeats idempotently, and removes from a missing group.
func testBatchMembership(t *testing.T, s *suite) {
	mb, ok := s.c.(connector.MemberBatcher)
	if !ok {
		t.Skip("connector has no MemberBatcher")
	}
	s.needGroups(t)
	var refs []connector.AccountRef
	for n := range 4 {
		refs = append(refs, s.create(t, person(t, n)))
	}
	g := s.h.Groups[0]
	if !s.caps.CreatesGroups {
		s.add(t, g, refs[3]) // the group must exist; refs[3] is removed again below
	}
	for i := range 2 { // twice: idempotent
		if err := mb.ChangeMembers(s.ctx, g, refs[:3], nil); err != nil {
			t.Fatalf("ChangeMembers(%s, add 3) #%d: %v", g, i+1, err)
		}
	}
	for i := range 2 {
		if err := mb.ChangeMembers(s.ctx, g, refs[3:], refs[:2]); err != nil {
			t.Fatalf("ChangeMembers(%s, add 1, remove 2) #%d: %v", g, i+1, err)
		}
	}
	inv := s.inventory(t)
	for i, want := range []bool{false, false, true, true} {
		if got := isMember(inv, g, refs[i]); got != want {
			t.Errorf("after the batches, account %d member of %s = %v, want %v", i, g, got, want)
		}
	}
	if s.h.Missing != "" {
		if err := mb.ChangeMembers(s.ctx, s.h.Missing, nil, refs[2:3]); err != nil {
			t.Errorf("ChangeMembers removing from a missing group: %v, want success", err)
		}
		if _, ok := s.inventory(t).Groups[s.h.Missing]; ok {
			t.Errorf("removing from the missing group %s created it", s.h.Missing)
		}
	}
}
