package ldap_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/connectortest"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
)

// TestAD runs the AD flavor against a real Samba AD domain controller: the conformance suite,
// then a joiner / mover / leaver checked in the directory itself. One domain serves every
// subtest (provisioning takes seconds); each works in its own OU.
func TestAD(t *testing.T) {
	samba := ldaptest.StartSamba(t)
	var (
		mu sync.Mutex
		n  int
	)
	openIn := func(t *testing.T) (connector.Connector, string) {
		mu.Lock()
		n++
		ou := fmt.Sprintf("t%d", n)
		mu.Unlock()
		ou = samba.OU(t, ou)
		c, err := connectors.Open(t.Context(), gatehouse.Connector{Type: "ldap", Settings: samba.Settings(ou)}, nil)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return c, ou
	}
	t.Run("Conformance", func(t *testing.T) {
		connectortest.Run(t, connectortest.Harness{
			New: func(t *testing.T) connectortest.Target {
				c, ou := openIn(t)
				return connectortest.Target{
					Connector: c,
					Groups:    []string{"CN=engineering," + ou, "CN=finance," + ou},
					Missing:   "CN=never," + ou,
					AddOutOfBand: func(t *testing.T, group string, account connector.AccountRef) {
						mod := goldap.NewModifyRequest(group, nil)
						mod.Add("member", []string{account.Locator})
						if err := samba.Conn(t).Modify(mod); err != nil {
							t.Fatalf("add member by hand: %v", err)
						}
					},
				}
			},
		})
	})
	t.Run("JoinerMoverLeaver", func(t *testing.T) {
		c, ou := openIn(t)
		defer c.Close()
		ctx := t.Context()
		admin := samba.Conn(t)
		eng, fin := "CN=engineering,"+ou, "CN=finance,"+ou

		ada, err := c.CreateAccount(ctx, connector.AccountSpec{
			Email: "ada.lovelace@example.com", FirstName: "Ada", LastName: "Lovelace", EmployeeID: "E100",
		})
		if err != nil {
			t.Fatalf("%v\n%s", err, samba.Logs())
		}
		if err := c.AddMember(ctx, eng, ada); err != nil {
			t.Fatal(err)
		}
		read := func(dn string, attrs ...string) *goldap.Entry {
			t.Helper()
			r, err := admin.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", attrs, nil))
			if err != nil || len(r.Entries) != 1 {
				t.Fatalf("read %s: %v", dn, err)
			}
			return r.Entries[0]
		}
		e := read(ada.Locator, "sAMAccountName", "userPrincipalName", "mail", "employeeID", "userAccountControl", "memberOf")
		if e.GetAttributeValue("sAMAccountName") != "ada.lovelace" || e.GetAttributeValue("userPrincipalName") != "ada.lovelace@example.com" ||
			e.GetAttributeValue("employeeID") != "E100" || e.GetAttributeValue("userAccountControl") != "512" ||
			!strings.EqualFold(fmt.Sprint(e.GetAttributeValues("memberOf")), "["+eng+"]") {
			t.Fatalf("joiner in AD: %v", e.Attributes)
		}

		// Mover.
		if err := c.AddMember(ctx, fin, ada); err != nil {
			t.Fatal(err)
		}
		if err := c.RemoveMember(ctx, eng, ada); err != nil {
			t.Fatal(err)
		}
		inv, err := c.Inventory(ctx, []string{eng, fin})
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Groups[eng].Members) != 0 || len(inv.Groups[fin].Members) != 1 || inv.Groups[fin].Members[0].ID != ada.ID {
			t.Fatalf("mover: %+v %+v", inv.Groups[eng], inv.Groups[fin])
		}

		// Leaver: the engine removes memberships and disables; the object stays in place with
		// ACCOUNTDISABLE set.
		if err := c.RemoveMember(ctx, fin, ada); err != nil {
			t.Fatal(err)
		}
		if err := c.SetEnabled(ctx, ada, false); err != nil {
			t.Fatal(err)
		}
		e = read(ada.Locator, "userAccountControl", "memberOf")
		uac, _ := strconv.Atoi(e.GetAttributeValue("userAccountControl"))
		if uac&2 == 0 || len(e.GetAttributeValues("memberOf")) != 0 {
			t.Fatalf("leaver in AD: userAccountControl %d, memberOf %v", uac, e.GetAttributeValues("memberOf"))
		}
		inv, err = c.Inventory(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Accounts) != 1 || inv.Accounts[0].Enabled || inv.Accounts[0].Ref.ID != ada.ID || len(inv.Groups) != 2 {
			t.Fatalf("leaver inventory: %+v groups %v", inv.Accounts, inv.Groups)
		}
	})
}
