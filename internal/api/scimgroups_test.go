package api

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
)

var (
	madeSCIMGroups sync.Map // *fixture → *gatehouse.SCIMGroup
	madeSCIMIdPs   sync.Map // *fixture → *gatehouse.Principal
)

// scimIdP returns the principal of an IdP's SCIM client: the service account okta@example.com
// with a scim-scoped token, made on first use per fixture.
func (f *fixture) scimIdP() *gatehouse.Principal {
	f.t.Helper()
	if p, ok := madeSCIMIdPs.Load(f); ok {
		return p.(*gatehouse.Principal)
	}
	sa, err := f.svc.CreateIdentity(context.Background(), f.sys, &gatehouse.Identity{Email: "okta@example.com",
		Kind: gatehouse.KindService}, "test setup")
	if err != nil {
		f.t.Fatal(err)
	}
	p := &gatehouse.Principal{IdentityID: sa.ID, Email: sa.Email, Scopes: []string{gatehouse.ScopeSCIM}}
	madeSCIMIdPs.Store(f, p)
	return p
}

// scimGroup returns a group "Engineering" with "user" and "other" as members, pushed by an IdP
// client on first use per fixture.
func (f *fixture) scimGroup() *gatehouse.SCIMGroup {
	f.t.Helper()
	if g, ok := madeSCIMGroups.Load(f); ok {
		return g.(*gatehouse.SCIMGroup)
	}
	idp := f.scimIdP()
	g, err := f.svc.CreateSCIMGroup(context.Background(), idp, &gatehouse.SCIMGroup{DisplayName: "Engineering",
		ExternalID: "00g-eng", Members: []string{f.ids["user"].ID, f.ids["other"].ID}})
	if err != nil {
		f.t.Fatal(err)
	}
	madeSCIMGroups.Store(f, g)
	return g
}

func TestSCIMGroupHandlers(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			g := f.scimGroup()
			idp := f.scimIdP()
			if _, err := f.svc.CreateSCIMGroup(context.Background(), idp, &gatehouse.SCIMGroup{DisplayName: "Admins",
				Members: []string{f.ids["admin"].ID}}); err != nil {
				t.Fatal(err)
			}

			type page struct {
				Items      []gatehouse.SCIMGroup `json:"items"`
				NextCursor string                `json:"next_cursor"`
			}
			names := func(p page) []string {
				out := []string{}
				for _, g := range p.Items {
					out = append(out, g.DisplayName)
				}
				return out
			}
			var p page
			must(t, f.as(t, "auditor", "GET", "/api/v1/scim-groups", ""), s200).json(t, &p)
			if got := names(p); len(got) != 2 || got[0] != "Admins" || got[1] != "Engineering" {
				t.Fatalf("all groups = %v, want [Admins Engineering]", got)
			}
			// By member (email or id), by name ignoring case, and paged.
			must(t, f.as(t, "auditor", "GET", "/api/v1/scim-groups?member=user@example.com", ""), s200).json(t, &p)
			if got := names(p); len(got) != 1 || got[0] != "Engineering" || len(p.Items[0].Members) != 2 {
				t.Fatalf("groups of user = %+v", p.Items)
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/scim-groups?member="+f.ids["admin"].ID, ""), s200).json(t, &p)
			if got := names(p); len(got) != 1 || got[0] != "Admins" {
				t.Fatalf("groups of admin = %v", got)
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/scim-groups?member=nobody@example.com", ""), s200).json(t, &p)
			if p.Items == nil || len(p.Items) != 0 {
				t.Fatalf("groups of nobody = %s; want an empty list", f.as(t, "auditor", "GET", "/api/v1/scim-groups?member=nobody@example.com", "").body)
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/scim-groups?display_name=ENGINEERING", ""), s200).json(t, &p)
			if got := names(p); len(got) != 1 || got[0] != "Engineering" {
				t.Fatalf("by display name = %v", got)
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/scim-groups?limit=1", ""), s200).json(t, &p)
			if got := names(p); len(got) != 1 || got[0] != "Admins" || p.NextCursor == "" {
				t.Fatalf("first page = %v, cursor %q", got, p.NextCursor)
			}
			next := p.NextCursor
			p = page{}
			must(t, f.as(t, "auditor", "GET", "/api/v1/scim-groups?limit=1&cursor="+next, ""), s200).json(t, &p)
			if got := names(p); len(got) != 1 || got[0] != "Engineering" || p.NextCursor != "" {
				t.Fatalf("second page = %v, cursor %q", got, p.NextCursor)
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/scim-groups?cursor=bogus", ""), http.StatusBadRequest)
			must(t, f.as(t, "auditor", "GET", "/api/v1/scim-groups?limit=0", ""), http.StatusBadRequest)

			var got gatehouse.SCIMGroup
			must(t, f.as(t, "operator", "GET", "/api/v1/scim-groups/"+g.ID, ""), s200).json(t, &got)
			if got.ID != g.ID || got.Source != "scim:"+idp.IdentityID || got.SourceName != "scim:okta@example.com" || got.ExternalID != "00g-eng" || len(got.Members) != 2 {
				t.Fatalf("get = %+v", got)
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/scim-groups/nope", ""), http.StatusNotFound)
			// Read-only here: writes go through /scim/v2.
			if a := f.as(t, "admin", "DELETE", "/api/v1/scim-groups/"+g.ID, ""); a.status != http.StatusMethodNotAllowed {
				t.Fatalf("DELETE: status %d, want 405", a.status)
			}
		})
	}
}
