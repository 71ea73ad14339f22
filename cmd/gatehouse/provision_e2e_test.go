package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
)

// TestProvisionEndToEnd is the "tried as a new user would": `gatehouse serve`, an HR
// import and a catalog with an LDAP system, `reconcile --wait`, then a mover and a leaver, a
// membership added by hand (drift), with the real binary against a real slapd.
func TestProvisionEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	slapd := ldaptest.Start(t, ldaptest.Options{})
	set := slapd.Settings()
	dir := t.TempDir()
	write := fileWriter(t, dir)
	cat := write("catalog.yaml", fmt.Sprintf(`
settings:
  leaver_guard: {max_fraction: 0.9, min_count: 5}
systems:
  - id: dir
    name: Corporate Directory
    owner: p0@example.com
    tier: critical
    connector: {type: ldap, url: %q, bind_dn: %q, bind_password_file: %q, users_dn: %q, groups_dn: %q,
                disabled_dn: %q, flavor: openldap, timeout: 2s}
entitlements:
  - {id: dir/staff, system: dir, name: Staff, kind: group, risk: standard, external_id: "cn=staff,%s"}
  - {id: dir/eng, system: dir, name: Engineering, kind: group, risk: standard, external_id: "cn=engineering,%s"}
roles:
  - {id: all-staff, name: All staff, entitlements: [dir/staff], birthright: 'identity.status == "active"'}
  - {id: eng, name: Engineering, entitlements: [dir/eng], birthright: 'identity.department == "Eng"'}
`, set["url"], set["bind_dn"], set["bind_password_file"], set["users_dn"], set["groups_dn"], set["disabled_dn"],
		ldaptest.GroupsDN, ldaptest.GroupsDN))
	row := func(n int, dept, status string) string {
		return fmt.Sprintf("E%d,p%d@example.com,P,%d,%s,Staff,,HQ,employee,%s,2020-01-01,\n", n, n, n, dept, status)
	}
	header := "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"
	hr1 := write("hr1.csv", header+row(0, "IT", "active")+row(1, "Eng", "active")+row(2, "Eng", "active")+row(3, "Sales", "active"))
	hr2 := write("hr2.csv", header+row(0, "IT", "active")+row(1, "Eng", "active")+row(2, "Sales", "active")+row(3, "Sales", "terminated"))

	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	url := srv.url
	expect(t, gh(t, url, admin, "hr", "import", hr1), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")
	wantDirectory(t, slapd, "enabled=[p0 p1 p2 p3] disabled=[] engineering=[p1 p2] staff=[p0 p1 p2 p3]")
	expect(t, gh(t, url, admin, "ops", "list", "--system", "dir"), 0, "create_account", "add_member", "applied", "cn=engineering")
	expect(t, gh(t, url, admin, "drift"), 0)

	// A mover and a leaver: the import itself enqueues the reconcile; --wait confirms it.
	expect(t, gh(t, url, admin, "hr", "import", hr2), 0)
	expect(t, gh(t, url, admin, "reconcile", "--system", "dir", "--wait"), 0, "Converged.")
	wantDirectory(t, slapd, "enabled=[p0 p1 p2] disabled=[p3] engineering=[p1] staff=[p0 p1 p2]")
	r := gh(t, url, admin, "ops", "list", "--system", "dir")
	expect(t, r, 0, "disable", "remove_member", "hr-import:")
	t.Logf("ops list:\n%s", r.stdout)

	// A membership added by hand is drift: removed (enforce is the default) and reported.
	mod := goldap.NewModifyRequest("cn=engineering,"+ldaptest.GroupsDN, nil)
	mod.Add("member", []string{"uid=p0," + ldaptest.PeopleDN})
	if err := slapd.Conn(t).Modify(mod); err != nil {
		t.Fatal(err)
	}
	r = gh(t, url, admin, "reconcile", "--wait")
	expect(t, r, 0, "Converged.")
	t.Logf("reconcile --wait:\n%s%s", r.stdout, r.stderr)
	wantDirectory(t, slapd, "enabled=[p0 p1 p2] disabled=[p3] engineering=[p1] staff=[p0 p1 p2]")
	r = gh(t, url, admin, "drift", "--system", "dir")
	expect(t, r, 1, "unknown_membership", "enforce", "p0")
	t.Logf("drift:\n%s%s", r.stdout, r.stderr)
	expect(t, gh(t, url, admin, "ops", "list", "--failed"), 0)

	// A crash mid-reconcile: 300 joiners, the server killed once the plan is recorded (its
	// operations pending), restarted; reconcile --wait converges and nothing is lost.
	rows := header + row(0, "IT", "active") + row(1, "Eng", "active") + row(2, "Sales", "active") + row(3, "Sales", "terminated")
	for n := 100; n < 400; n++ {
		rows += row(n, "Eng", "active")
	}
	expect(t, gh(t, url, admin, "hr", "import", write("hr3.csv", rows)), 0) // enqueues the reconcile
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(gh(t, url, admin, "ops", "list", "--limit", "1").stdout, "pending") {
		if time.Now().After(deadline) {
			t.Fatal("no operation planned within 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	srv = start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	url = srv.url
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")
	users, groups := countDirectory(t, slapd)
	if users != 303 || groups["engineering"] != 301 || groups["staff"] != 303 {
		t.Fatalf("after the crash: %d enabled users, groups %v", users, groups)
	}
	r = gh(t, url, admin, "ops", "list", "--failed", "--limit", "1000")
	t.Logf("after the crash, %d operations were left unfinished and planned again",
		strings.Count(r.stdout, "interrupted"))
	srv.stop(t)
}

// countDirectory counts enabled users and each group's members.
func countDirectory(t *testing.T, s *ldaptest.Server) (int, map[string]int) {
	t.Helper()
	c := s.Conn(t)
	res, err := c.Search(goldap.NewSearchRequest(ldaptest.PeopleDN, goldap.ScopeSingleLevel, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=inetOrgPerson)", []string{"uid"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]int{}
	for _, g := range []string{"engineering", "staff"} {
		gr, err := c.Search(goldap.NewSearchRequest("cn="+g+","+ldaptest.GroupsDN, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
			0, 0, false, "(objectClass=groupOfNames)", []string{"member"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range gr.Entries[0].GetAttributeValues("member") {
			if strings.HasPrefix(m, "uid=") {
				groups[g]++
			}
		}
	}
	return len(res.Entries), groups
}

func wantDirectory(t *testing.T, s *ldaptest.Server, want string) {
	t.Helper()
	c := s.Conn(t)
	var enabled, disabled []string
	res, err := c.Search(goldap.NewSearchRequest(ldaptest.BaseDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=inetOrgPerson)", []string{"uid"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Entries {
		if strings.HasSuffix(e.DN, ","+ldaptest.DisabledDN) {
			disabled = append(disabled, e.GetAttributeValue("uid"))
		} else {
			enabled = append(enabled, e.GetAttributeValue("uid"))
		}
	}
	slices.Sort(enabled)
	slices.Sort(disabled)
	got := fmt.Sprintf("enabled=%v disabled=%v", enabled, disabled)
	for _, g := range []string{"engineering", "staff"} {
		res, err := c.Search(goldap.NewSearchRequest("cn="+g+","+ldaptest.GroupsDN, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
			0, 0, false, "(objectClass=groupOfNames)", []string{"member"}, nil))
		if err != nil {
			t.Fatalf("group %s: %v", g, err)
		}
		var ms []string
		for _, m := range res.Entries[0].GetAttributeValues("member") {
			if uid, ok := strings.CutPrefix(m, "uid="); ok {
				uid, _, _ = strings.Cut(uid, ",")
				ms = append(ms, uid)
			}
		}
		slices.Sort(ms)
		got += fmt.Sprintf(" %s=%v", g, ms)
	}
	if got != want {
		t.Fatalf("directory:\n got  %s\n want %s", got, want)
	}
}
