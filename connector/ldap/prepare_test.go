package ldap_test

import (
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
)

// TestPrepareCreates: creations prepared together still adopt what CreateAccount alone
// adopts. Of four people prepared at once, a leaver's disabled account is adopted (not created
// again beside it), an account another employee holds is refused, a name taken after the
// preparation found it free is adopted (the add fails as taken, and the creation looks again),
// and a free name is created.
func TestPrepareCreates(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{})
	c := open(t, srv, nil)
	ctx := t.Context()
	admin := srv.Conn(t)
	add := func(dn, uid, emp string) {
		t.Helper()
		req := goldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson"})
		req.Attribute("uid", []string{uid})
		req.Attribute("cn", []string{uid})
		req.Attribute("sn", []string{uid})
		req.Attribute("employeeNumber", []string{emp})
		if err := admin.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	add("uid=ada.lovelace,"+ldaptest.DisabledDN, "ada.lovelace", "E1")
	add("uid=alan.turing,"+ldaptest.PeopleDN, "alan.turing", "E999")
	people := []connector.AccountSpec{spec("Ada Lovelace", "E1"), spec("Alan Turing", "E2"),
		spec("Grace Hopper", "E3"), spec("Edsger Dijkstra", "E4")}
	p, ok := c.(connector.CreatePreparer)
	if !ok {
		t.Fatal("the LDAP connector is not a connector.CreatePreparer")
	}
	if err := p.PrepareCreates(ctx, people); err != nil {
		t.Fatal(err)
	}
	add("uid=grace.hopper,"+ldaptest.PeopleDN, "grace.hopper", "E3") // after the preparation

	ada, err := c.CreateAccount(ctx, people[0])
	if err != nil || ada.Locator != "uid=ada.lovelace,"+ldaptest.DisabledDN {
		t.Fatalf("the leaver's disabled account: %+v %v, want it adopted", ada, err)
	}
	if _, err := c.CreateAccount(ctx, people[1]); err == nil || !connector.IsPermanent(err) {
		t.Fatalf("another employee's account: %v, want a permanent refusal", err)
	}
	grace, err := c.CreateAccount(ctx, people[2])
	if err != nil || grace.Locator != "uid=grace.hopper,"+ldaptest.PeopleDN {
		t.Fatalf("an account made after the preparation: %+v %v, want it adopted", grace, err)
	}
	edsger, err := c.CreateAccount(ctx, people[3])
	if err != nil || edsger.Locator != "uid=edsger.dijkstra,"+ldaptest.PeopleDN || edsger.ID == "" {
		t.Fatalf("a free name: %+v %v, want it created", edsger, err)
	}
	res, err := admin.Search(goldap.NewSearchRequest(ldaptest.BaseDN, goldap.ScopeWholeSubtree, 0, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"1.1"}, nil))
	if err != nil || len(res.Entries) != 4 {
		t.Fatalf("accounts in the directory: %v %d, want 4 (nothing created beside an existing account)", err, len(res.Entries))
	}
}
