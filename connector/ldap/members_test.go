package ldap_test

import (
	"fmt"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
)

// TestChangeMembersMany: a first load's group, missing until then, is created holding all its
// members (more than one modify carries), and later batches add to it and remove from it across
// the modify bound, leaving exactly the members asked for.
func TestChangeMembersMany(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{})
	c := open(t, srv, nil)
	ctx := t.Context()
	specs := make([]connector.AccountSpec, 3300)
	for i := range specs {
		specs[i] = spec(fmt.Sprintf("P%d Many", i), fmt.Sprintf("E%d", i))
	}
	if err := c.(connector.CreatePreparer).PrepareCreates(ctx, specs); err != nil {
		t.Fatal(err)
	}
	refs := make([]connector.AccountRef, len(specs))
	for i, s := range specs {
		ref, err := c.CreateAccount(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = ref
	}
	group := "cn=everyone," + ldaptest.GroupsDN
	b := c.(connector.MemberBatcher)
	if err := b.ChangeMembers(ctx, group, refs[:2500], nil); err != nil {
		t.Fatal(err)
	}
	if err := b.ChangeMembers(ctx, group, refs[2500:], refs[:1200]); err != nil {
		t.Fatal(err)
	}
	res, err := srv.Conn(t).Search(goldap.NewSearchRequest(group, goldap.ScopeBaseObject, 0, 0, 0, false,
		"(objectClass=groupOfNames)", []string{"member"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("the group: %v", err)
	}
	got := map[string]bool{}
	for _, m := range res.Entries[0].GetAttributeValues("member") {
		got[m] = true
	}
	if len(got) != 2100 {
		t.Fatalf("the group has %d members, want 2100", len(got))
	}
	for _, r := range refs[1200:] {
		if !got[r.Locator] {
			t.Fatalf("%s is not a member", r.Locator)
		}
	}
}
