package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

func TestIdentityDetailShowsIdPGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	alice, bob := f.ids["alice"], f.ids["bob"]
	sa, err := f.svc.CreateIdentity(context.Background(), service.SystemPrincipal("test"),
		&gatehouse.Identity{Email: "okta@example.com", Kind: gatehouse.KindService}, "test")
	if err != nil {
		t.Fatal(err)
	}
	idp := &gatehouse.Principal{IdentityID: sa.ID, Email: sa.Email, Scopes: []string{gatehouse.ScopeSCIM}}
	for _, g := range []*gatehouse.SCIMGroup{
		{DisplayName: "okta-engineering", ExternalID: "00g-eng", Members: []string{alice.ID, bob.ID}},
		{DisplayName: "okta-finance", Members: []string{bob.ID}},
	} {
		if _, err := f.svc.CreateSCIMGroup(context.Background(), idp, g); err != nil {
			t.Fatal(err)
		}
	}

	res, body := f.get(t, "auditor", "/identities/"+alice.ID)
	wantStatus(t, res, body, http.StatusOK)
	groups := section(t, body, `id="idp-groups-title"`, "</section>")
	wantContains(t, groups, "okta-engineering", "scim:okta@example.com", "00g-eng")
	wantNotContains(t, groups, "okta-finance")

	res, body = f.get(t, "auditor", "/identities/"+f.ids["cfo"].ID)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, section(t, body, `id="idp-groups-title"`, "</section>"), "In no group")

	// A person on their own page sees their access, not the IdP's review data.
	res, body = f.get(t, "alice", "/identities/"+alice.ID)
	wantStatus(t, res, body, http.StatusOK)
	wantNotContains(t, body, "IdP groups", "okta-engineering")
}
