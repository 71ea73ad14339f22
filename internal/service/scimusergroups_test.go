package service_test

import (
	"testing"

	"github.com/gatehouse/gatehouse"
)

// A User's groups are read by a SCIM client or a reader, like the groups themselves; an
// employee may not list who is in which group.
func TestSCIMUserGroupsAuthorization(t *testing.T) {
	f := newSCIMFixture(t, 3)
	ctx := t.Context()
	g, err := f.svc.CreateSCIMGroup(ctx, f.okta, &gatehouse.SCIMGroup{DisplayName: "Eng", Members: []string{f.ids[0], f.ids[1]}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*gatehouse.Principal{f.okta, f.entra, f.auditor} {
		gs, err := f.svc.SCIMUserGroups(ctx, p, f.ids)
		if err != nil {
			t.Fatalf("%s: %v", p.Email, err)
		}
		if len(gs[f.ids[0]]) != 1 || gs[f.ids[0]][0].GroupID != g.ID || gs[f.ids[0]][0].DisplayName != "Eng" || len(gs[f.ids[2]]) != 0 {
			t.Errorf("%s: groups = %v", p.Email, gs)
		}
	}
	for _, p := range []*gatehouse.Principal{f.employee, nil} {
		_, err := f.svc.SCIMUserGroups(ctx, p, f.ids)
		if c := gatehouse.ErrorCode(err); err == nil || (c != gatehouse.EFORBIDDEN && c != gatehouse.EUNAUTHORIZED) {
			t.Errorf("%v: %v, want a denial", p, err)
		}
	}
}
