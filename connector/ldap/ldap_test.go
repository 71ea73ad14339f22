package ldap_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/connectortest"
	"github.com/gatehouse/gatehouse/connector/ldap"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
)

var (
	engineering = "cn=engineering," + ldaptest.GroupsDN
	finance     = "cn=finance," + ldaptest.GroupsDN
	vpn         = "cn=vpn," + ldaptest.GroupsDN
)

// open opens a connector on srv through the registry, as the server will.
func open(t *testing.T, srv *ldaptest.Server, change func(map[string]any)) connector.Connector {
	t.Helper()
	settings := srv.Settings()
	if change != nil {
		change(settings)
	}
	c, err := connectors.Open(t.Context(), gatehouse.Connector{Type: "ldap", Settings: settings}, nil)
	if err != nil {
		t.Fatalf("open ldap connector: %v\nslapd: %s", err, srv.Logs())
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T) connectortest.Target {
			// A slapd per subtest: they start in well under a second.
			srv := ldaptest.Start(t, ldaptest.Options{})
			c, err := connectors.Open(t.Context(), gatehouse.Connector{Type: "ldap", Settings: srv.Settings()}, nil)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			return connectortest.Target{
				Connector: c,
				Groups:    []string{engineering, finance},
				Missing:   "cn=never," + ldaptest.GroupsDN,
				AddOutOfBand: func(t *testing.T, group string, account connector.AccountRef) {
					mod := goldap.NewModifyRequest(group, nil)
					mod.Add("member", []string{account.Locator})
					if err := srv.Conn(t).Modify(mod); err != nil {
						t.Fatalf("add member by hand: %v", err)
					}
				},
			}
		},
	})
}

func spec(name, emp string) connector.AccountSpec {
	first, last, _ := strings.Cut(name, " ")
	return connector.AccountSpec{
		Email: strings.ToLower(first+"."+last) + "@example.com", FirstName: first, LastName: last, EmployeeID: emp,
	}
}

func members(t *testing.T, inv *connector.Inventory, group string) []string {
	t.Helper()
	g := inv.Groups[group]
	if g == nil {
		return nil
	}
	user := map[string]string{}
	for _, a := range inv.Accounts {
		user[a.Ref.ID] = a.Username
	}
	var out []string
	for _, m := range g.Members {
		out = append(out, user[m.ID])
	}
	return sortStrings(out)
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// TestJoinerMoverLeaver walks one person through the JML life cycle the engine will drive, and
// checks the directory itself (not only the inventory) at each step.
func TestJoinerMoverLeaver(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{})
	c := open(t, srv, nil)
	ctx := t.Context()
	admin := srv.Conn(t)

	// Joiner: account and birthright groups.
	ada, err := c.CreateAccount(ctx, spec("Ada Lovelace", "E100"))
	if err != nil {
		t.Fatal(err)
	}
	if ada.Locator != "uid=ada.lovelace,"+ldaptest.PeopleDN {
		t.Fatalf("locator = %q", ada.Locator)
	}
	for _, g := range []string{engineering, vpn} {
		if err := c.AddMember(ctx, g, ada); err != nil {
			t.Fatal(err)
		}
	}
	res, err := admin.Search(goldap.NewSearchRequest(ada.Locator, goldap.ScopeBaseObject, 0, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"mail", "cn", "sn", "givenName", "employeeNumber"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("joiner entry: %v", err)
	}
	e := res.Entries[0]
	if e.GetAttributeValue("mail") != "ada.lovelace@example.com" || e.GetAttributeValue("cn") != "Ada Lovelace" ||
		e.GetAttributeValue("sn") != "Lovelace" || e.GetAttributeValue("givenName") != "Ada" || e.GetAttributeValue("employeeNumber") != "E100" {
		t.Fatalf("joiner entry attributes: %v", e.Attributes)
	}
	inv, err := c.Inventory(ctx, []string{engineering, finance, vpn})
	if err != nil {
		t.Fatal(err)
	}
	if got := members(t, inv, engineering); fmt.Sprint(got) != "[ada.lovelace]" {
		t.Fatalf("engineering = %v", got)
	}
	if _, ok := inv.Groups[finance]; ok {
		t.Fatal("finance does not exist yet but is in the inventory")
	}

	// Mover: engineering → finance.
	if err := c.AddMember(ctx, finance, ada); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveMember(ctx, engineering, ada); err != nil {
		t.Fatal(err)
	}
	inv, _ = c.Inventory(ctx, []string{engineering, finance, vpn})
	if got := members(t, inv, finance); fmt.Sprint(got) != "[ada.lovelace]" {
		t.Fatalf("finance = %v", got)
	}
	if g := inv.Groups[engineering]; g == nil || len(g.Members)+len(g.Foreign) != 0 {
		t.Fatalf("engineering after the mover = %+v, want present and empty", g)
	}
	// The directory holds the placeholder, not an empty group.
	res, err = admin.Search(goldap.NewSearchRequest(engineering, goldap.ScopeBaseObject, 0, 0, 0, false,
		"(objectClass=groupOfNames)", []string{"member"}, nil))
	if err != nil || fmt.Sprint(res.Entries[0].GetAttributeValues("member")) != "["+ldap.DefaultPlaceholder+"]" {
		t.Fatalf("empty engineering in LDAP: %v %v", err, res)
	}

	// Leaver: disabled = out of every group (even one added by hand) and moved.
	mod := goldap.NewModifyRequest(engineering, nil)
	mod.Add("member", []string{ada.Locator})
	if err := admin.Modify(mod); err != nil {
		t.Fatal(err)
	}
	if err := c.SetEnabled(ctx, ada, false); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{engineering, finance, vpn} {
		r, err := admin.Search(goldap.NewSearchRequest(g, goldap.ScopeBaseObject, 0, 0, 0, false,
			"(objectClass=*)", []string{"member"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Entries[0].GetAttributeValues("member") {
			if strings.Contains(m, "ada.lovelace") {
				t.Fatalf("leaver still in %s", g)
			}
		}
	}
	if _, err := admin.Search(goldap.NewSearchRequest("uid=ada.lovelace,"+ldaptest.DisabledDN, goldap.ScopeBaseObject,
		0, 0, 0, false, "(objectClass=*)", nil, nil)); err != nil {
		t.Fatalf("leaver not under disabled_dn: %v", err)
	}
	inv, _ = c.Inventory(ctx, []string{engineering, finance, vpn})
	if len(inv.Accounts) != 1 || inv.Accounts[0].Enabled || inv.Accounts[0].Ref.ID != ada.ID {
		t.Fatalf("leaver in inventory: %+v", inv.Accounts)
	}

	// Rehire: enabled again with the stale locator, back under users_dn.
	if err := c.SetEnabled(ctx, ada, true); err != nil {
		t.Fatal(err)
	}
	inv, _ = c.Inventory(ctx, nil)
	if !inv.Accounts[0].Enabled || inv.Accounts[0].Ref.Locator != "uid=ada.lovelace,"+ldaptest.PeopleDN {
		t.Fatalf("rehire: %+v", inv.Accounts[0])
	}
	if len(inv.Groups) != 3 {
		t.Fatalf("Inventory(nil) groups = %v, want all three", inv.Groups)
	}
}

func TestDriftForeignMembers(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: []byte(`dn: cn=ops,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: ops
member: uid=Bob ,ou=People,dc=example,dc=com
member: cn=service,dc=example,dc=com

dn: uid=bob,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: B
mail: bob@example.com
`)})
	c := open(t, srv, nil)
	ops := "cn=ops," + ldaptest.GroupsDN
	inv, err := c.Inventory(t.Context(), []string{ops})
	if err != nil {
		t.Fatal(err)
	}
	g := inv.Groups[ops]
	// A member DN written by hand with other case and spacing still resolves; a DN that is not
	// an account is reported, not dropped.
	if got := members(t, inv, ops); fmt.Sprint(got) != "[bob]" || fmt.Sprint(g.Foreign) != "[cn=service,dc=example,dc=com]" {
		t.Fatalf("ops = members %v foreign %v", got, g.Foreign)
	}
}

// TestOutage: with slapd down every operation fails retryably, and the same connector works
// again once slapd is back (it dials again), with nothing lost.
func TestOutage(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{})
	c := open(t, srv, func(s map[string]any) { s["timeout"] = "2s" })
	ctx := t.Context()
	ada, err := c.CreateAccount(ctx, spec("Ada Lovelace", "E100"))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	ops := map[string]func() error{
		"Inventory":     func() error { _, err := c.Inventory(ctx, []string{vpn}); return err },
		"CreateAccount": func() error { _, err := c.CreateAccount(ctx, spec("Grace Hopper", "E101")); return err },
		"AddMember":     func() error { return c.AddMember(ctx, vpn, ada) },
		"RemoveMember":  func() error { return c.RemoveMember(ctx, vpn, ada) },
		"SetEnabled":    func() error { return c.SetEnabled(ctx, ada, false) },
	}
	for name, op := range ops {
		err := op()
		if err == nil || !connector.IsRetryable(err) {
			t.Fatalf("%s with slapd down: err = %v, want retryable", name, err)
		}
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAccount(ctx, spec("Grace Hopper", "E101")); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if err := c.AddMember(ctx, vpn, ada); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	inv, err := c.Inventory(ctx, []string{vpn})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Accounts) != 2 || fmt.Sprint(members(t, inv, vpn)) != "[ada.lovelace]" {
		t.Fatalf("after restart: accounts %+v, vpn %v", inv.Accounts, members(t, inv, vpn))
	}
}

// TestPagedInventory reads 3,000 users and a 3,000-member group with a page size of 100, so the
// server must page (slapd's default size limit is 500 entries per search without paging).
func TestPagedInventory(t *testing.T) {
	t.Parallel()
	const n = 3000
	var b strings.Builder
	var group strings.Builder
	group.WriteString("dn: cn=all,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: all\n")
	for i := range n {
		fmt.Fprintf(&b, "dn: uid=user%05d,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: user%05d\ncn: User %d\nsn: %d\nmail: user%05d@example.com\nemployeeNumber: E%05d\n\n", i, i, i, i, i, i)
		fmt.Fprintf(&group, "member: uid=user%05d,ou=people,dc=example,dc=com\n", i)
	}
	b.WriteString(group.String())
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: []byte(b.String())})
	c := open(t, srv, func(s map[string]any) { s["page_size"] = 100 })
	all := "cn=all," + ldaptest.GroupsDN
	start := time.Now()
	inv, err := c.Inventory(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("inventory of %d users in %v", n, time.Since(start))
	if len(inv.Accounts) != n || len(inv.Groups[all].Members) != n || len(inv.Groups[all].Foreign) != 0 {
		t.Fatalf("inventory: %d accounts, all = %d members %d foreign; want %d", len(inv.Accounts),
			len(inv.Groups[all].Members), len(inv.Groups[all].Foreign), n)
	}
}

func TestErrorsArePermanent(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{})
	ctx := t.Context()

	// Wrong password: permanent, and the message does not contain the password.
	settings := srv.Settings()
	settings["bind_password_env"] = "GATEHOUSE_TEST_WRONG_LDAP_PASSWORD"
	delete(settings, "bind_password_file")
	secrets := connector.SecretFunc(func(_ context.Context, ref connector.SecretRef) (string, error) {
		return "wrong-password-value", nil
	})
	_, err := connectors.Open(ctx, gatehouse.Connector{Type: "ldap", Settings: settings}, secrets)
	if !connector.IsPermanent(err) || strings.Contains(err.Error(), "wrong-password-value") {
		t.Fatalf("bad password: %v, want permanent without the password", err)
	}

	c := open(t, srv, nil)
	ada, err := c.CreateAccount(ctx, spec("Ada Lovelace", "E100"))
	if err != nil {
		t.Fatal(err)
	}
	// A group DN the schema cannot take (groupOfNames is named cn=…).
	if err := c.AddMember(ctx, "ou=nope,"+ldaptest.GroupsDN, ada); !connector.IsPermanent(err) {
		t.Fatalf("bad group name: %v, want permanent", err)
	}
	// A group under a parent that does not exist.
	if err := c.AddMember(ctx, "cn=x,ou=missing,"+ldaptest.BaseDN, ada); !connector.IsPermanent(err) {
		t.Fatalf("group under a missing parent: %v, want permanent", err)
	}
	if _, err := c.CreateAccount(ctx, connector.AccountSpec{Email: "nolocalpart"}); !connector.IsPermanent(err) {
		t.Fatalf("bad email: %v, want permanent", err)
	}
	// The name is held by an entry that is not an account (AD: an account elsewhere in the
	// domain): refused with a clear reason, not adopted.
	blocker := goldap.NewAddRequest("uid=blocker,"+ldaptest.PeopleDN, nil)
	blocker.Attribute("objectClass", []string{"account"})
	blocker.Attribute("uid", []string{"blocker"})
	if err := srv.Conn(t).Add(blocker); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateAccount(ctx, connector.AccountSpec{Email: "b@example.com", Username: "blocker"})
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), `uid "blocker" is taken by an entry that is not an account under `+ldaptest.PeopleDN) {
		t.Fatalf("name held by another entry: %v, want a permanent refusal", err)
	}
}

func TestParseConfig(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{
			"url": "ldap://127.0.0.1:389", "bind_dn": "cn=admin,dc=example,dc=com", "bind_password_env": "PW",
			"users_dn": "ou=people,dc=example,dc=com", "groups_dn": "ou=groups,dc=example,dc=com",
		}
	}
	cfg, err := ldap.ParseConfig(base())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Flavor != ldap.FlavorOpenLDAP || cfg.Timeout != ldap.DefaultTimeout || cfg.PageSize != ldap.DefaultPageSize ||
		cfg.Concurrency != ldap.DefaultConcurrency {
		t.Fatalf("defaults: %+v", cfg)
	}
	tests := []struct {
		name   string
		change func(map[string]any)
		want   string // "" = valid
	}{
		{"yaml int page size", func(m map[string]any) { m["page_size"] = 100; m["timeout"] = "3s" }, ""},
		{"json float page size", func(m map[string]any) { m["page_size"] = float64(100) }, ""},
		{"start tls", func(m map[string]any) { m["start_tls"] = true; m["insecure_skip_verify"] = true }, ""},
		{"no url", func(m map[string]any) { delete(m, "url") }, "url: required"},
		{"http url", func(m map[string]any) { m["url"] = "http://x" }, "url: must be"},
		{"ldaps and starttls", func(m map[string]any) { m["url"] = "ldaps://x:636"; m["start_tls"] = true }, "start_tls"},
		{"bad dn", func(m map[string]any) { m["users_dn"] = "people" }, "users_dn: not a valid DN"},
		{"no password", func(m map[string]any) { delete(m, "bind_password_env") }, "bind_password_env or bind_password_file: required"},
		{"both passwords", func(m map[string]any) { m["bind_password_file"] = "/x" }, "not both"},
		{"flavor", func(m map[string]any) { m["flavor"] = "novell" }, "flavor"},
		{"ad", func(m map[string]any) { m["flavor"] = "ad" }, ""},
		{"timeout", func(m map[string]any) { m["timeout"] = "soon" }, "timeout"},
		{"page size", func(m map[string]any) { m["page_size"] = "many" }, "page_size"},
		{"one at a time", func(m map[string]any) { m["concurrency"] = 1 }, ""},
		{"most at once", func(m map[string]any) { m["concurrency"] = ldap.MaxConcurrency }, ""},
		{"too many at once", func(m map[string]any) { m["concurrency"] = ldap.MaxConcurrency + 1 }, "concurrency 65: at most 64"},
		{"bool", func(m map[string]any) { m["start_tls"] = "yes please" }, "start_tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.change(m)
			_, err := ldap.ParseConfig(m)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !connector.IsPermanent(err) {
				t.Fatalf("err = %v, want a permanent error containing %q", err, tt.want)
			}
		})
	}
}

// TestTLS connects with StartTLS and with ldaps://, trusting the server's CA through ca_file,
// and refuses a server whose certificate it cannot verify (permanently: retrying will not help).
func TestTLS(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{TLS: true})
	tests := []struct {
		name   string
		change func(map[string]any)
		ok     bool
	}{
		{"starttls", func(s map[string]any) { s["start_tls"] = true; s["ca_file"] = srv.CAFile }, true},
		{"ldaps", func(s map[string]any) { s["url"] = srv.LDAPSURL; s["ca_file"] = srv.CAFile }, true},
		{"ldaps, insecure", func(s map[string]any) { s["url"] = srv.LDAPSURL; s["insecure_skip_verify"] = true }, true},
		{"starttls, unknown CA", func(s map[string]any) { s["start_tls"] = true }, false},
		{"ldaps, unknown CA", func(s map[string]any) { s["url"] = srv.LDAPSURL }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := srv.Settings()
			tt.change(settings)
			c, err := connectors.Open(t.Context(), gatehouse.Connector{Type: "ldap", Settings: settings}, nil)
			if !tt.ok {
				if err == nil {
					c.Close()
					t.Fatal("connected to a server with an unverifiable certificate")
				}
				if !connector.IsPermanent(err) {
					t.Fatalf("err = %v, want permanent", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("open: %v\n%s", err, srv.Logs())
			}
			defer c.Close()
			ref, err := c.CreateAccount(t.Context(), spec("Tls "+strings.ReplaceAll(tt.name, " ", ""), "E1-"+tt.name))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.AddMember(t.Context(), vpn, ref); err != nil {
				t.Fatal(err)
			}
			inv, err := c.Inventory(t.Context(), []string{vpn}) // the inventory's own connection
			if err != nil {
				t.Fatal(err)
			}
			if len(inv.Groups[vpn].Members) == 0 {
				t.Fatalf("inventory over TLS: %+v", inv)
			}
		})
	}
}

// TestCancel: a cancelled context stops an operation with a retryable error, and the connector
// works afterwards.
func TestCancel(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{})
	c := open(t, srv, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Inventory(ctx, nil); err == nil || connector.IsPermanent(err) {
		t.Fatalf("Inventory with a cancelled context = %v, want a retryable error", err)
	}
	if _, err := c.CreateAccount(ctx, spec("Ada Lovelace", "E100")); err == nil || connector.IsPermanent(err) {
		t.Fatalf("CreateAccount with a cancelled context = %v, want a retryable error", err)
	}
	if _, err := c.CreateAccount(t.Context(), spec("Ada Lovelace", "E100")); err != nil {
		t.Fatalf("CreateAccount afterwards: %v", err)
	}
}

// TestTimeout: a server that accepts connections and never answers costs one timeout, and the
// error is retryable.
func TestTimeout(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // hold it open, say nothing
		}
	}()
	settings := map[string]any{
		"url": "ldap://" + l.Addr().String(), "bind_dn": "cn=admin,dc=example,dc=com", "bind_password_env": "X",
		"users_dn": "ou=people,dc=example,dc=com", "groups_dn": "ou=groups,dc=example,dc=com", "timeout": "300ms",
	}
	secrets := connector.SecretFunc(func(context.Context, connector.SecretRef) (string, error) { return "pw", nil })
	start := time.Now()
	_, err = connectors.Open(t.Context(), gatehouse.Connector{Type: "ldap", Settings: settings}, secrets)
	if err == nil || connector.IsPermanent(err) {
		t.Fatalf("Open against a silent server = %v, want a retryable error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Open took %v with a 300ms timeout", d)
	}
}

// TestHungServer: with slapd frozen, operations on an open connector time out retryably, and
// work again once it thaws.
func TestHungServer(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{})
	c := open(t, srv, func(s map[string]any) { s["timeout"] = "500ms" })
	ctx := t.Context()
	ada, err := c.CreateAccount(ctx, spec("Ada Lovelace", "E100"))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Freeze(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Inventory(ctx, nil); err == nil || connector.IsPermanent(err) {
		t.Fatalf("Inventory on a hung server = %v, want retryable", err)
	}
	if err := c.AddMember(ctx, vpn, ada); err == nil || connector.IsPermanent(err) {
		t.Fatalf("AddMember on a hung server = %v, want retryable", err)
	}
	if err := srv.Thaw(); err != nil {
		t.Fatal(err)
	}
	// A thawed slapd on a loaded machine may need a moment to answer within the 500ms timeout;
	// the engine retries retryable errors, and so does this test, for a bounded time.
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := c.AddMember(ctx, vpn, ada)
		if err == nil {
			break
		}
		if connector.IsPermanent(err) || time.Now().After(deadline) {
			t.Fatalf("AddMember after thaw: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	inv, err := c.Inventory(ctx, []string{vpn})
	if err != nil || len(inv.Groups[vpn].Members) != 1 {
		t.Fatalf("Inventory after thaw: %v %+v", err, inv)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{})
	c := open(t, srv, nil)
	if err := c.(connector.Checker).Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	bad := open(t, srv, func(s map[string]any) { s["groups_dn"] = "ou=groupz," + ldaptest.BaseDN })
	err := bad.(connector.Checker).Check(t.Context())
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "groups_dn") {
		t.Fatalf("Check with a missing groups_dn = %v, want a permanent error naming it", err)
	}
}

// TestManyGroups asks for more groups than are read one by one, so Inventory reads groups_dn
// in one search and picks them out — plus one group outside groups_dn and one that does not
// exist.
func TestManyGroups(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: []byte(`dn: ou=apps,dc=example,dc=com
objectClass: organizationalUnit
ou: apps
`)})
	c := open(t, srv, nil)
	ctx := t.Context()
	ada, err := c.CreateAccount(ctx, spec("Ada Lovelace", "E100"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 40 {
		ids = append(ids, fmt.Sprintf("cn=g%02d,%s", i, ldaptest.GroupsDN))
	}
	outside := "cn=wiki,ou=apps," + ldaptest.BaseDN
	for _, g := range append(ids[:20:20], outside) {
		if err := c.AddMember(ctx, g, ada); err != nil {
			t.Fatal(err)
		}
	}
	// Written differently (case, spaces) from the DN the server returns.
	asked := append([]string{"CN=G00, OU=Groups,DC=example,DC=com", outside, "cn=missing," + ldaptest.GroupsDN}, ids[1:]...)
	inv, err := c.Inventory(ctx, asked)
	if err != nil {
		t.Fatal(err)
	}
	// g00–g19 and wiki exist; g20–g39 and missing do not.
	if len(inv.Groups) != 21 {
		t.Fatalf("got %d groups, want 21", len(inv.Groups))
	}
	for _, id := range asked {
		g, ok := inv.Groups[id]
		i := slices.Index(ids, id)
		exists := (i >= 0 && i < 20) || id == outside || strings.HasPrefix(id, "CN=G00")
		switch {
		case ok != exists:
			t.Fatalf("group %s reported = %v, want %v", id, ok, exists)
		case exists && (len(g.Members) != 1 || g.Members[0].ID != ada.ID):
			t.Fatalf("%s = %+v, want ada", id, g)
		}
	}
}

// TestDisabledInsideUsers: disabled_dn may lie inside users_dn; accounts there are disabled.
func TestDisabledInsideUsers(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: []byte(`dn: ou=gone,ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: gone
`)})
	c := open(t, srv, func(s map[string]any) { s["disabled_dn"] = "ou=gone," + ldaptest.PeopleDN })
	ctx := t.Context()
	ada, err := c.CreateAccount(ctx, spec("Ada Lovelace", "E100"))
	if err != nil {
		t.Fatal(err)
	}
	grace, err := c.CreateAccount(ctx, spec("Grace Hopper", "E101"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetEnabled(ctx, ada, false); err != nil {
		t.Fatal(err)
	}
	inv, err := c.Inventory(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]bool{}
	for _, a := range inv.Accounts {
		state[a.Ref.ID] = a.Enabled
	}
	if len(inv.Accounts) != 2 || state[ada.ID] || !state[grace.ID] {
		t.Fatalf("accounts = %+v", inv.Accounts)
	}
}
