package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

type scimFixture struct {
	svc      *service.Service
	st       store.Store
	okta     *gatehouse.Principal // a SCIM client
	entra    *gatehouse.Principal // another SCIM client
	auditor  *gatehouse.Principal
	employee *gatehouse.Principal
	ids      []string // identity ids of ann, bob, cat, sorted as created
}

func newSCIMFixture(t *testing.T, people int) *scimFixture {
	t.Helper()
	st := storetest.OpenSQLite(t)
	svc := service.New(st, service.Options{})
	sys := service.SystemPrincipal("test")
	f := &scimFixture{svc: svc, st: st,
		okta:    &gatehouse.Principal{IdentityID: "okta-sa", Email: "okta@example.com", Scopes: []string{gatehouse.ScopeSCIM}},
		entra:   &gatehouse.Principal{IdentityID: "entra-sa", Email: "entra@example.com", Scopes: []string{gatehouse.ScopeSCIM}},
		auditor: &gatehouse.Principal{IdentityID: "aud", Email: "aud@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAuditor}},
	}
	for n := range people {
		i, err := svc.CreateIdentity(t.Context(), sys, &gatehouse.Identity{EmployeeID: fmt.Sprintf("E%d", n), Email: fmt.Sprintf("p%d@example.com", n)}, "t")
		if err != nil {
			t.Fatal(err)
		}
		f.ids = append(f.ids, i.ID)
	}
	f.employee = &gatehouse.Principal{IdentityID: f.ids[0], Email: "p0@example.com"}
	return f
}

// lastEvent returns the newest audit event.
func scimLastEvent(t *testing.T, st store.Store) *gatehouse.AuditEvent {
	t.Helper()
	p, err := st.ListAuditEvents(t.Context(), gatehouse.AuditFilter{Limit: 1})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("last audit event: %v %v", p, err)
	}
	return p.Items[0]
}

func TestSCIMGroupLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newSCIMFixture(t, 3)
	ann, bob, cat := f.ids[0], f.ids[1], f.ids[2]

	g, err := f.svc.CreateSCIMGroup(ctx, f.okta, &gatehouse.SCIMGroup{DisplayName: "Engineering", ExternalID: "00g1",
		Source: "scim:someone-else", Members: []string{cat, ann, cat}})
	if err != nil {
		t.Fatal(err)
	}
	if g.Source != service.SCIMSource(f.okta) || g.Version != 1 || !slices.Equal(g.Members, scimSorted(ann, cat)) {
		t.Fatalf("created %+v: want source scim:okta-sa, version 1, members %v", g, scimSorted(ann, cat))
	}
	ev := scimLastEvent(t, f.st)
	if ev.Action != "scim_group.create" || ev.ObjectType != "scim_group" || ev.ObjectID != g.ID || ev.Actor != "okta@example.com" {
		t.Fatalf("create event = %+v", ev)
	}
	if !strings.Contains(string(ev.After), ann) {
		t.Fatalf("create event of a small group does not name its members: %s", ev.After)
	}

	// Bad input: no name, an unknown member (named), a taken name.
	if _, err := f.svc.CreateSCIMGroup(ctx, f.okta, &gatehouse.SCIMGroup{DisplayName: ""}); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("no display name: err = %v, want invalid", err)
	}
	_, err = f.svc.CreateSCIMGroup(ctx, f.okta, &gatehouse.SCIMGroup{DisplayName: "Ghosts", Members: []string{ann, "not-a-person"}})
	if gatehouse.ErrorCode(err) != gatehouse.EINVALID || !strings.Contains(err.Error(), `"not-a-person"`) {
		t.Errorf("unknown member: err = %v, want invalid naming it", err)
	}
	if _, err := f.svc.CreateSCIMGroup(ctx, f.entra, &gatehouse.SCIMGroup{DisplayName: "engineering"}); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Errorf("taken name: err = %v, want conflict", err)
	}

	// Replace with the version read; a stale version is a conflict.
	r, err := f.svc.ReplaceSCIMGroup(ctx, f.okta, &gatehouse.SCIMGroup{ID: g.ID, DisplayName: "Engineering EU", Members: []string{bob, ann}, Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 2 || r.ExternalID != "" || r.Source != g.Source || !slices.Equal(r.Members, scimSorted(ann, bob)) {
		t.Fatalf("replaced %+v", r)
	}
	ev = scimLastEvent(t, f.st)
	var after struct {
		DisplayName    string   `json:"display_name"`
		Members        []string `json:"members"`
		MembersAdded   []string `json:"members_added"`
		MembersRemoved []string `json:"members_removed"`
	}
	if err := json.Unmarshal(ev.After, &after); err != nil {
		t.Fatal(err)
	}
	if ev.Action != "scim_group.replace" || after.DisplayName != "Engineering EU" || after.Members != nil ||
		!slices.Equal(after.MembersAdded, []string{bob}) || !slices.Equal(after.MembersRemoved, []string{cat}) ||
		!strings.Contains(string(ev.Before), `"display_name":"Engineering"`) {
		t.Fatalf("replace event: before %s after %s", ev.Before, ev.After)
	}
	if _, err := f.svc.ReplaceSCIMGroup(ctx, f.okta, &gatehouse.SCIMGroup{ID: g.ID, DisplayName: "x", Version: 1}); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Errorf("stale version: err = %v, want conflict", err)
	}
	// Version 0 replaces whatever is there.
	if r, err = f.svc.ReplaceSCIMGroup(ctx, f.okta, &gatehouse.SCIMGroup{ID: g.ID, DisplayName: "Engineering", Members: []string{cat}}); err != nil || r.Version != 3 {
		t.Fatalf("unconditional replace: %+v, %v", r, err)
	}
	if _, err := f.svc.ReplaceSCIMGroup(ctx, f.okta, &gatehouse.SCIMGroup{ID: "nope", DisplayName: "x"}); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("replace of a missing group: err = %v, want not found", err)
	}

	// Readers and SCIM clients list and count; filters pass through.
	for _, p := range []*gatehouse.Principal{f.okta, f.entra, f.auditor} {
		page, err := f.svc.ListSCIMGroups(ctx, p, gatehouse.SCIMGroupFilter{MemberID: cat})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != g.ID {
			t.Fatalf("%s lists cat's groups: %+v, %v", p.Email, page, err)
		}
		if n, err := f.svc.CountSCIMGroups(ctx, p, gatehouse.SCIMGroupFilter{}); err != nil || n != 1 {
			t.Fatalf("%s counts: %d, %v", p.Email, n, err)
		}
		if got, err := f.svc.GetSCIMGroup(ctx, p, g.ID); err != nil || got.DisplayName != "Engineering" {
			t.Fatalf("%s gets: %+v, %v", p.Email, got, err)
		}
	}

	// A member may be named by email or employee_id; a key naming nobody selects nothing.
	for key, want := range map[string]int{"p2@example.com": 1, "E2": 1, "p1@example.com": 0, "nobody@example.com": 0} {
		page, err := f.svc.ListSCIMGroups(ctx, f.auditor, gatehouse.SCIMGroupFilter{MemberID: key})
		if err != nil || len(page.Items) != want || page.Items == nil {
			t.Fatalf("groups of %s: %+v, %v; want %d", key, page, err, want)
		}
		if n, err := f.svc.CountSCIMGroups(ctx, f.auditor, gatehouse.SCIMGroupFilter{MemberID: key}); err != nil || n != want {
			t.Fatalf("count of groups of %s: %d, %v; want %d", key, n, err, want)
		}
	}

	if err := f.svc.DeleteSCIMGroup(ctx, f.okta, g.ID); err != nil {
		t.Fatal(err)
	}
	if ev := scimLastEvent(t, f.st); ev.Action != "scim_group.delete" || !strings.Contains(string(ev.Before), cat) {
		t.Fatalf("delete event = %+v (before %s): want the members it had", ev, ev.Before)
	}
	if _, err := f.svc.GetSCIMGroup(ctx, f.auditor, g.ID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("deleted group: err = %v, want not found", err)
	}
	if v, err := f.svc.VerifyAudit(ctx, f.auditor); err != nil || !v.OK {
		t.Fatalf("audit chain: %+v, %v", v, err)
	}
}

func TestSCIMGroupAuthorization(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newSCIMFixture(t, 2)
	g, err := f.svc.CreateSCIMGroup(ctx, f.okta, &gatehouse.SCIMGroup{DisplayName: "Sales", Members: []string{f.ids[1]}})
	if err != nil {
		t.Fatal(err)
	}
	admin := service.SystemPrincipal("test")
	tests := []struct {
		name string
		p    *gatehouse.Principal
		call func(p *gatehouse.Principal) error
		want string // error code; "" for allowed
	}{
		{"employee get", f.employee, func(p *gatehouse.Principal) error { _, err := f.svc.GetSCIMGroup(ctx, p, g.ID); return err }, gatehouse.EFORBIDDEN},
		{"employee list", f.employee, func(p *gatehouse.Principal) error {
			_, err := f.svc.ListSCIMGroups(ctx, p, gatehouse.SCIMGroupFilter{})
			return err
		}, gatehouse.EFORBIDDEN},
		{"employee count", f.employee, func(p *gatehouse.Principal) error {
			_, err := f.svc.CountSCIMGroups(ctx, p, gatehouse.SCIMGroupFilter{})
			return err
		}, gatehouse.EFORBIDDEN},
		{"employee create", f.employee, func(p *gatehouse.Principal) error {
			_, err := f.svc.CreateSCIMGroup(ctx, p, &gatehouse.SCIMGroup{DisplayName: "Mine"})
			return err
		}, gatehouse.EFORBIDDEN},
		{"employee replace", f.employee, func(p *gatehouse.Principal) error {
			_, err := f.svc.ReplaceSCIMGroup(ctx, p, &gatehouse.SCIMGroup{ID: g.ID, DisplayName: "Mine"})
			return err
		}, gatehouse.EFORBIDDEN},
		{"employee delete", f.employee, func(p *gatehouse.Principal) error { return f.svc.DeleteSCIMGroup(ctx, p, g.ID) }, gatehouse.EFORBIDDEN},
		{"anonymous list", nil, func(p *gatehouse.Principal) error {
			_, err := f.svc.ListSCIMGroups(ctx, p, gatehouse.SCIMGroupFilter{})
			return err
		}, gatehouse.EUNAUTHORIZED},
		{"auditor get", f.auditor, func(p *gatehouse.Principal) error { _, err := f.svc.GetSCIMGroup(ctx, p, g.ID); return err }, ""},
		{"auditor create", f.auditor, func(p *gatehouse.Principal) error {
			_, err := f.svc.CreateSCIMGroup(ctx, p, &gatehouse.SCIMGroup{DisplayName: "Audit"})
			return err
		}, gatehouse.EFORBIDDEN},
		{"auditor replace", f.auditor, func(p *gatehouse.Principal) error {
			_, err := f.svc.ReplaceSCIMGroup(ctx, p, &gatehouse.SCIMGroup{ID: g.ID, DisplayName: "Audit"})
			return err
		}, gatehouse.EFORBIDDEN},
		{"auditor delete", f.auditor, func(p *gatehouse.Principal) error { return f.svc.DeleteSCIMGroup(ctx, p, g.ID) }, gatehouse.EFORBIDDEN},
		// An admin is a person, not an identity source: it reviews groups but does not push them.
		{"admin replace", admin, func(p *gatehouse.Principal) error {
			_, err := f.svc.ReplaceSCIMGroup(ctx, p, &gatehouse.SCIMGroup{ID: g.ID, DisplayName: "Admin"})
			return err
		}, gatehouse.EFORBIDDEN},
		{"other source replace", f.entra, func(p *gatehouse.Principal) error {
			_, err := f.svc.ReplaceSCIMGroup(ctx, p, &gatehouse.SCIMGroup{ID: g.ID, DisplayName: "Taken over"})
			return err
		}, gatehouse.EFORBIDDEN},
		{"other source delete", f.entra, func(p *gatehouse.Principal) error { return f.svc.DeleteSCIMGroup(ctx, p, g.ID) }, gatehouse.EFORBIDDEN},
	}
	for _, tc := range tests {
		err := tc.call(tc.p)
		if got := gatehouse.ErrorCode(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	// The refusal of another source names the owner; and nothing changed.
	_, err = f.svc.ReplaceSCIMGroup(ctx, f.entra, &gatehouse.SCIMGroup{ID: g.ID, DisplayName: "Taken over"})
	if err == nil || !strings.Contains(err.Error(), `"`+service.SCIMSource(f.okta)+`"`) {
		t.Errorf("other source: err = %v, want it to name the owning source", err)
	}
	got, err := f.svc.GetSCIMGroup(ctx, f.auditor, g.ID)
	if err != nil || got.DisplayName != "Sales" || got.Version != 1 {
		t.Fatalf("after refused writes: %+v, %v", got, err)
	}
}

func TestSCIMGroupBigReplaceAuditsTheDifference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newSCIMFixture(t, 300)
	g, err := f.svc.CreateSCIMGroup(ctx, f.okta, &gatehouse.SCIMGroup{DisplayName: "Everyone", Members: f.ids[:250]})
	if err != nil {
		t.Fatal(err)
	}
	if ev := scimLastEvent(t, f.st); strings.Contains(string(ev.After), f.ids[0]) || !strings.Contains(string(ev.After), `"member_count":250`) {
		t.Fatalf("create event of a big group: %s; want a count, not the list", ev.After)
	}
	if _, err := f.svc.ReplaceSCIMGroup(ctx, f.okta, &gatehouse.SCIMGroup{ID: g.ID, DisplayName: "Everyone", Members: f.ids[1:251]}); err != nil {
		t.Fatal(err)
	}
	ev := scimLastEvent(t, f.st)
	if len(ev.Before)+len(ev.After) > 1000 {
		t.Fatalf("replace event of 1 in, 1 out is %d bytes: before %s after %s", len(ev.Before)+len(ev.After), ev.Before, ev.After)
	}
	if !strings.Contains(string(ev.After), f.ids[250]) || !strings.Contains(string(ev.After), f.ids[0]) {
		t.Fatalf("replace event does not name the member added and removed: %s", ev.After)
	}
}

func scimSorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
