package jml

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

var now = time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC)

func person(emp, dept, status string, mut ...func(*gatehouse.Identity)) *gatehouse.Identity {
	i := &gatehouse.Identity{EmployeeID: emp, Email: strings.ToLower(emp) + "@x.io", Department: dept, Title: "Dev",
		Location: "Berlin", EmploymentType: gatehouse.Employee, Status: gatehouse.IdentityStatus(status),
		StartDate: "2020-01-01", Kind: gatehouse.KindPerson, Source: Source}
	for _, m := range mut {
		m(i)
	}
	return i
}

func stored(i *gatehouse.Identity) *gatehouse.Identity {
	c := cloneIdentity(i)
	c.ID = "id-" + i.EmployeeID
	return c
}

func roles(t *testing.T) []BirthrightRole {
	t.Helper()
	rs, err := CompileRoles([]*gatehouse.Role{
		{ID: "all", Entitlements: []string{"wiki/members"}, Birthright: `identity.status == "active"`},
		{ID: "eng", Entitlements: []string{"ldap/eng", "wiki/members"}, Birthright: `identity.department == "Eng"`},
		{ID: "sales", Entitlements: []string{"crm/users"}, Birthright: `identity.department == "Sales"`},
		{ID: "cc", Entitlements: []string{"erp/cc"}, Birthright: `identity.attributes["cost_center"] == "1"`},
		{ID: "manual"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func grant(id, ent string, src gatehouse.GrantSource, ref string) *gatehouse.Grant {
	return &gatehouse.Grant{ID: "g-" + id + "-" + ent, IdentityID: "id-" + id, EntitlementID: ent, Source: src, Reference: ref}
}

func ents(cs []GrantChange) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.EntitlementID+"("+c.Role+")")
	}
	return strings.Join(s, " ")
}

func TestPlanClasses(t *testing.T) {
	rs := roles(t)
	withAttr := func(k, v string) func(*gatehouse.Identity) {
		return func(i *gatehouse.Identity) { i.Attributes = map[string]string{k: v} }
	}
	tests := []struct {
		name      string
		current   *gatehouse.Identity // stored (nil: new)
		grants    []*gatehouse.Grant
		snap      *gatehouse.Identity // nil: missing from the snapshot
		opts      Options
		class     Class // "" = unchanged, no item
		gain      string
		lose      string
		confirm   int
		write     bool
		wantState gatehouse.IdentityStatus
	}{
		{name: "joiner", snap: person("E1", "Eng", "active"), class: Joiner, gain: "ldap/eng(eng) wiki/members(all)", write: true},
		{name: "joiner rule error keeps nothing and warns", snap: person("E1", "Ops", "active", withAttr("x", "y")), class: Joiner, gain: "wiki/members(all)", write: true},
		{name: "pre-hire", snap: person("E1", "Eng", "active", func(i *gatehouse.Identity) { i.StartDate = "2026-07-15" }),
			opts: Options{LeadTime: 7 * 24 * time.Hour}, class: PreHire, write: true},
		{name: "pre-hire within the lead time is a joiner", snap: person("E1", "Eng", "active", func(i *gatehouse.Identity) { i.StartDate = "2026-06-20" }),
			opts: Options{LeadTime: 7 * 24 * time.Hour}, class: Joiner, gain: "ldap/eng(eng) wiki/members(all)", write: true},
		{name: "pre-hire starts", current: stored(person("E1", "Eng", "active", withAttr(AttrLifecycle, LifecyclePreHire))),
			snap: person("E1", "Eng", "active"), class: Joiner, gain: "ldap/eng(eng) wiki/members(all)", write: true},
		{name: "first seen terminated", snap: person("E1", "Eng", "terminated"), class: NewTerminated, write: true},
		{name: "unchanged", current: stored(person("E1", "Eng", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "birthright", "eng"), grant("E1", "wiki/members", "birthright", "all")},
			snap:   person("E1", "Eng", "active")},
		{name: "catalog changed: birthright recomputed", current: stored(person("E1", "Eng", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/old", "birthright", "old")},
			snap:   person("E1", "Eng", "active"), class: Updated, gain: "ldap/eng(eng) wiki/members(all)", lose: "ldap/old(old)"},
		{name: "mover", current: stored(person("E1", "Eng", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "birthright", "eng"), grant("E1", "wiki/members", "birthright", "all"),
				grant("E1", "db/admin", "request", "REQ-1")},
			snap:  person("E1", "Sales", "active", func(i *gatehouse.Identity) { i.ManagerID = "E9" }),
			class: Mover, gain: "crm/users(sales)", lose: "ldap/eng(eng)", confirm: 1, write: true},
		{name: "requested entitlement not granted twice", current: stored(person("E1", "Sales", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "request", "REQ-1"), grant("E1", "crm/users", "birthright", "sales"), grant("E1", "wiki/members", "birthright", "all")},
			snap:   person("E1", "Eng", "active"), class: Mover, lose: "crm/users(sales)", confirm: 1, write: true},
		{name: "leaver", current: stored(person("E1", "Eng", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "birthright", "eng"), grant("E1", "db/admin", "request", "REQ-1")},
			snap:   person("E1", "Eng", "terminated"), class: Leaver, lose: "db/admin() ldap/eng(eng)", write: true, wantState: gatehouse.StatusTerminated},
		{name: "end date passed", current: stored(person("E1", "Eng", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "birthright", "eng")},
			snap:   person("E1", "Eng", "active", func(i *gatehouse.Identity) { i.EndDate = "2026-06-14" }),
			class:  Leaver, lose: "ldap/eng(eng)", write: true, wantState: gatehouse.StatusTerminated},
		{name: "end date today is still active", current: stored(person("E1", "Eng", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "birthright", "eng"), grant("E1", "wiki/members", "birthright", "all")},
			snap:   person("E1", "Eng", "active", func(i *gatehouse.Identity) { i.EndDate = "2026-06-15" }),
			class:  Updated, write: true},
		{name: "terminated earlier but still holding access", current: stored(person("E1", "Eng", "terminated")),
			grants: []*gatehouse.Grant{grant("E1", "db/admin", "request", "REQ-1")},
			snap:   person("E1", "Eng", "terminated"), class: Leaver, lose: "db/admin()"},
		{name: "missing is a leaver", current: stored(person("E1", "Eng", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "birthright", "eng")},
			class:  Leaver, lose: "ldap/eng(eng)", write: true, wantState: gatehouse.StatusTerminated},
		{name: "missing held for review", current: stored(person("E1", "Eng", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "birthright", "eng")},
			opts:   Options{Missing: MissingHold}, class: Missing},
		{name: "missing terminated stays quiet", current: stored(person("E1", "Eng", "terminated"))},
		{name: "partial: missing is not touched", current: stored(person("E1", "Eng", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "birthright", "eng")},
			opts:   Options{Partial: true}},
		{name: "partial: missing not held either", current: stored(person("E1", "Eng", "active")),
			opts: Options{Partial: true, Missing: MissingHold}},
		{name: "partial: a named person is still planned", current: stored(person("E1", "Eng", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "birthright", "eng")},
			snap:   person("E1", "Eng", "terminated"), opts: Options{Partial: true},
			class: Leaver, lose: "ldap/eng(eng)", write: true, wantState: gatehouse.StatusTerminated},
		{name: "partial: owner decides", current: stored(person("E1", "Eng", "active", func(i *gatehouse.Identity) { i.Source = "scim:okta" })),
			snap:  person("E1", "Sales", "active", func(i *gatehouse.Identity) { i.Source = "scim:okta" }),
			opts:  Options{Partial: true, Owned: func(i *gatehouse.Identity) bool { return i.Source == "scim:okta" }},
			class: Mover, gain: "crm/users(sales) wiki/members(all)", write: true},
		{name: "missing service account untouched", current: stored(person("E1", "Eng", "active", func(i *gatehouse.Identity) { i.Kind = gatehouse.KindService }))},
		{name: "foreign source skipped", current: stored(person("E1", "Eng", "active", func(i *gatehouse.Identity) { i.Source = "scim:okta" })),
			snap: person("E1", "Sales", "active"), class: Skipped},
		{name: "leave keeps grants", current: stored(person("E1", "Eng", "active")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "birthright", "eng")},
			snap:   person("E1", "Sales", "leave"), class: Leave, write: true, wantState: gatehouse.StatusLeave},
		{name: "returner", current: stored(person("E1", "Eng", "leave")),
			grants: []*gatehouse.Grant{grant("E1", "ldap/eng", "birthright", "eng")},
			snap:   person("E1", "Eng", "active"), class: Returner, gain: "wiki/members(all)", write: true},
		{name: "rehire", current: stored(person("E1", "Eng", "terminated")),
			snap: person("E1", "Sales", "active"), class: Rehire, gain: "crm/users(sales) wiki/members(all)", write: true, wantState: gatehouse.StatusActive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cur, snap []*gatehouse.Identity
			if tc.current != nil {
				cur = append(cur, tc.current)
			}
			if tc.snap != nil {
				snap = append(snap, tc.snap)
			}
			held := map[string][]*gatehouse.Grant{}
			for _, g := range tc.grants {
				held[g.IdentityID] = append(held[g.IdentityID], g)
			}
			p := MakePlan(now, cur, snap, rs, held, tc.opts)
			if tc.class == "" {
				if tc.snap != nil && p.Summary.Unchanged != 1 {
					t.Errorf("unchanged = %d, want 1", p.Summary.Unchanged)
				}
				if len(p.Items) != 0 {
					t.Fatalf("items = %+v, want none", *p.Items[0])
				}
				return
			}
			if len(p.Items) != 1 {
				t.Fatalf("got %d items, want 1", len(p.Items))
			}
			it := p.Items[0]
			if it.Class != tc.class {
				t.Errorf("class = %s (%s), want %s", it.Class, it.Reason, tc.class)
			}
			if g := ents(it.Gain); g != tc.gain {
				t.Errorf("gain = %q, want %q", g, tc.gain)
			}
			if l := ents(it.Lose); l != tc.lose {
				t.Errorf("lose = %q, want %q", l, tc.lose)
			}
			if len(it.Confirm) != tc.confirm {
				t.Errorf("confirm = %v, want %d", it.Confirm, tc.confirm)
			}
			if it.Write() != tc.write {
				t.Errorf("write = %v, want %v (changes %v)", it.Write(), tc.write, it.Changes)
			}
			if tc.wantState != "" && it.Identity.Status != tc.wantState {
				t.Errorf("status = %s, want %s", it.Identity.Status, tc.wantState)
			}
			if tc.class == PreHire && it.Identity.Attributes[AttrLifecycle] != LifecyclePreHire {
				t.Errorf("pre-hire not marked: %v", it.Identity.Attributes)
			}
			if tc.name == "joiner rule error keeps nothing and warns" && len(p.Warnings) != 1 {
				t.Errorf("warnings = %v", p.Warnings)
			}
			wantRemovals := 0
			if (tc.class == Leaver || tc.class == Leave) && tc.current.Status == gatehouse.StatusActive {
				wantRemovals = 1
			}
			if p.Summary.Removals != wantRemovals {
				t.Errorf("removals = %d, want %d", p.Summary.Removals, wantRemovals)
			}
			if tc.class == Mover && it.ConfirmBy != tc.snap.ManagerID {
				t.Errorf("confirm_by = %q", it.ConfirmBy)
			}
		})
	}
}

func TestPlanLeaverGuard(t *testing.T) {
	rs := roles(t)
	var cur, snap []*gatehouse.Identity
	for i := range 100 {
		emp := "E" + string(rune('A'+i/26)) + string(rune('a'+i%26))
		cur = append(cur, stored(person(emp, "Eng", "active")))
		if i >= 6 { // 6 missing: leavers
			snap = append(snap, person(emp, "Eng", "active"))
		}
	}
	guard := gatehouse.LeaverGuard{MaxFraction: 0.05, MinCount: 2}
	p := MakePlan(now, cur, snap, rs, nil, Options{Guard: guard})
	if !p.Held || p.Summary.Removals != 6 || p.Summary.GuardLimit != 5 || !strings.Contains(p.HeldReason, "6 people") {
		t.Fatalf("held = %v %q, summary %+v", p.Held, p.HeldReason, p.Summary)
	}
	// Exactly at the limit passes.
	p = MakePlan(now, cur, snap[1:], rs, nil, Options{Guard: gatehouse.LeaverGuard{MaxFraction: 0.05, MinCount: 7}})
	if p.Held || p.Summary.Removals != 7 {
		t.Fatalf("held = %v, summary %+v", p.Held, p.Summary)
	}
	// Missing people held for review are not removals.
	p = MakePlan(now, cur, snap, rs, nil, Options{Guard: guard, Missing: MissingHold})
	if p.Held || p.Summary.Missing != 6 {
		t.Fatalf("held = %v, summary %+v", p.Held, p.Summary)
	}
	if !slices.IsSortedFunc(p.Items, func(a, b *Item) int { return strings.Compare(a.EmployeeID, b.EmployeeID) }) {
		t.Error("items not sorted")
	}
}

func TestRecompute(t *testing.T) {
	rs := roles(t)
	cur := []*gatehouse.Identity{
		stored(person("E1", "Eng", "active")),
		stored(person("E2", "Eng", "leave")),
		stored(person("E3", "Eng", "active", func(i *gatehouse.Identity) { i.Attributes = map[string]string{AttrLifecycle: LifecyclePreHire} })),
		stored(person("E4", "Sales", "active")),
	}
	held := map[string][]*gatehouse.Grant{"id-E4": {grant("E4", "crm/users", "birthright", "sales"), grant("E4", "ldap/eng", "birthright", "eng")}}
	p := Recompute(cur, rs, held)
	if len(p.Items) != 2 {
		t.Fatalf("items = %d", len(p.Items))
	}
	if g := ents(p.Items[0].Gain); g != "ldap/eng(eng) wiki/members(all)" {
		t.Errorf("E1 gains %q", g)
	}
	if g, l := ents(p.Items[1].Gain), ents(p.Items[1].Lose); g != "wiki/members(all)" || l != "ldap/eng(eng)" {
		t.Errorf("E4 gains %q loses %q", g, l)
	}
}
