package ldap_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
)

// benchCompany is the directory of issue 3's target: 20,000 users, 2,000 groups, 200,000
// memberships. GATEHOUSE_BENCH_USERS scales it down for a quick run.
func benchCompany() ldaptest.Company {
	c := ldaptest.Company{Users: 20000, Groups: 2000, PerUser: 10}
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_USERS")); err == nil && n > 0 {
		c.Users, c.Groups = n, max(n/10, c.PerUser)
	}
	return c
}

// BenchmarkInventory reads the whole directory through the connector and diffs it against the
// desired memberships (connector), and reads the same entries and attributes with ldapsearch
// (ldapsearch: the floor). Both run against the same slapd in the same run.
func BenchmarkInventory(b *testing.B) {
	company := benchCompany()
	dir := b.TempDir()
	ldif := filepath.Join(dir, "company.ldif")
	f, err := os.Create(ldif)
	if err != nil {
		b.Fatal(err)
	}
	if err := company.WriteLDIF(f); err != nil {
		b.Fatal(err)
	}
	f.Close()
	start := time.Now()
	srv := ldaptest.Start(b, ldaptest.Options{LDIFFile: ldif, Dir: filepath.Join(dir, "slapd")})
	b.Logf("slapadd + start of %d users, %d groups, %d memberships: %v",
		company.Users, company.Groups, company.Users*company.PerUser, time.Since(start))

	// The desired state the engine would hold: group DN → usernames.
	desired := map[string]map[string]bool{}
	for i := range company.Users {
		for _, g := range company.MemberOf(i) {
			dn := company.GroupDN(g)
			if desired[dn] == nil {
				desired[dn] = map[string]bool{}
			}
			desired[dn][company.Username(i)] = true
		}
	}

	b.Run("connector", func(b *testing.B) {
		c, err := connectors.Open(b.Context(), gatehouse.Connector{Type: "ldap", Settings: srv.Settings()}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		for b.Loop() {
			inv, err := c.Inventory(b.Context(), nil)
			if err != nil {
				b.Fatal(err)
			}
			if missing, extra := diff(inv, desired); len(inv.Accounts) != company.Users || missing+extra != 0 {
				b.Fatalf("inventory: %d accounts, %d missing and %d extra memberships", len(inv.Accounts), missing, extra)
			}
		}
	})
	b.Run("ldapsearch", func(b *testing.B) {
		if _, err := exec.LookPath("ldapsearch"); err != nil {
			b.Skip("ldapsearch is not installed (apt-get install ldap-utils)")
		}
		search := func(base, filter string, attrs ...string) {
			args := append([]string{"-x", "-LLL", "-H", srv.URL, "-D", ldaptest.AdminDN, "-w", ldaptest.AdminPassword,
				"-E", "pr=500/noprompt", "-b", base, filter}, attrs...)
			cmd := exec.Command("ldapsearch", args...)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = discard{}, &stderr
			if err := cmd.Run(); err != nil {
				b.Fatalf("ldapsearch: %v: %s", err, stderr.String())
			}
		}
		for b.Loop() {
			// The same three searches the connector makes.
			search(ldaptest.PeopleDN, "(objectClass=inetOrgPerson)", "entryUUID", "uid", "mail", "employeeNumber")
			search(ldaptest.DisabledDN, "(objectClass=inetOrgPerson)", "entryUUID", "uid", "mail", "employeeNumber")
			search(ldaptest.GroupsDN, "(objectClass=groupOfNames)", "member")
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// diff counts desired memberships the inventory lacks and observed ones nobody wants: the
// comparison the provisioning engine makes.
func diff(inv *connector.Inventory, desired map[string]map[string]bool) (missing, extra int) {
	user := make(map[string]string, len(inv.Accounts))
	for _, a := range inv.Accounts {
		user[a.Ref.ID] = a.Username
	}
	for dn, want := range desired {
		g := inv.Groups[dn]
		have := map[string]bool{}
		if g != nil {
			for _, m := range g.Members {
				have[user[m.ID]] = true
			}
			extra += len(g.Foreign)
		}
		for u := range want {
			if !have[u] {
				missing++
			}
		}
		for u := range have {
			if !want[u] {
				extra++
			}
		}
	}
	return missing, extra
}
