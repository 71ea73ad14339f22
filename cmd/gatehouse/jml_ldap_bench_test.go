package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
)

// TestJMLLDAPFigures measures the anchor end to end, with the real binary and a real
// slapd: how long from an HR import until the directory agrees. It only runs when
// GATEHOUSE_BENCH_JML is set (bench/jml-ldap.sh sets it), because it is a measurement, not a
// check; GATEHOUSE_BENCH_USERS sets the company size (default 2,000).
//
// Everyone active is in 10 groups: 9 from an all-staff role and 1 from their department's. The
// figures are: the first import converged; a 1% change (movers between departments: one group
// lost, one gained each) from the import until `reconcile --wait` says converged; and one
// leaver from the import until the last LDAP change (disabled, out of all 10 groups) is seen
// in the directory, with no reconcile asked for: the server reconciles on the change itself.
func TestJMLLDAPFigures(t *testing.T) {
	if os.Getenv("GATEHOUSE_BENCH_JML") == "" {
		t.Skip("a measurement: run bench/jml-ldap.sh")
	}
	users := 2000
	if v := os.Getenv("GATEHOUSE_BENCH_USERS"); v != "" {
		var err error
		if users, err = strconv.Atoi(v); err != nil || users < 200 {
			t.Fatalf("GATEHOUSE_BENCH_USERS=%q: want a number >= 200", v)
		}
	}
	slapd := ldaptest.Start(t, ldaptest.Options{})
	set := slapd.Settings()
	dir := t.TempDir()
	write := fileWriter(t, dir)
	depts := []string{"d0", "d1", "d2", "d3", "d4"}
	var cat strings.Builder
	fmt.Fprintf(&cat, `settings:
  leaver_guard: {max_fraction: 0.9, min_count: 5}
systems:
  - id: dir
    name: Corporate Directory
    owner: p0@example.com
    tier: critical
    connector: {type: ldap, url: %q, bind_dn: %q, bind_password_file: %q, users_dn: %q, groups_dn: %q,
                disabled_dn: %q, flavor: openldap, timeout: 5s}
entitlements:
`, set["url"], set["bind_dn"], set["bind_password_file"], set["users_dn"], set["groups_dn"], set["disabled_dn"])
	var staff []string
	for g := 1; g <= 9; g++ {
		fmt.Fprintf(&cat, "  - {id: dir/s%d, system: dir, name: S%d, kind: group, risk: standard, external_id: \"cn=s%d,%s\"}\n", g, g, g, ldaptest.GroupsDN)
		staff = append(staff, fmt.Sprintf("dir/s%d", g))
	}
	for _, d := range depts {
		fmt.Fprintf(&cat, "  - {id: dir/%s, system: dir, name: %s, kind: group, risk: standard, external_id: \"cn=%s,%s\"}\n", d, d, d, ldaptest.GroupsDN)
	}
	fmt.Fprintf(&cat, "roles:\n  - {id: all-staff, name: All staff, entitlements: [%s], birthright: 'identity.status == \"active\"'}\n", strings.Join(staff, ", "))
	for _, d := range depts {
		fmt.Fprintf(&cat, "  - {id: %s, name: %s, entitlements: [dir/%s], birthright: 'identity.department == \"%s\"'}\n", d, d, d, d)
	}
	header := "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"
	feed := func(dept func(n int) string, status func(n int) string) string {
		var b strings.Builder
		b.WriteString(header)
		for n := range users {
			fmt.Fprintf(&b, "E%d,p%d@example.com,P,%d,%s,Staff,,HQ,employee,%s,2020-01-01,\n", n, n, n, dept(n), status(n))
		}
		return b.String()
	}
	home := func(n int) string { return depts[n%len(depts)] }
	active := func(int) string { return "active" }
	moved := func(n int) string { // 1%: every 100th person moves to the next department
		if n%100 == 7 {
			return depts[(n+1)%len(depts)]
		}
		return home(n)
	}

	const admin = "bench-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	url := srv.url
	defer srv.stop(t)
	// The catalog's owner is a person of the feed, so the feed comes first; the catalog apply
	// then grants everyone's birthright access.
	t0 := time.Now()
	expect(t, gh(t, url, admin, "hr", "import", write("hr1.csv", feed(home, active))), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", write("catalog.yaml", cat.String()), "--reason", "bench"), 0)
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")
	first := time.Since(t0)

	t0 = time.Now()
	expect(t, gh(t, url, admin, "hr", "import", write("hr2.csv", feed(moved, active))), 0)
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")
	change := time.Since(t0)

	// One leaver in 10 groups: watch the directory itself.
	const leaver = 3
	c := slapd.Conn(t)
	memberships := func() int {
		res, err := c.Search(goldap.NewSearchRequest(ldaptest.GroupsDN, goldap.ScopeSingleLevel, goldap.NeverDerefAliases,
			0, 0, false, fmt.Sprintf("(member=uid=p%d,%s)", leaver, ldaptest.PeopleDN), []string{"cn"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Entries)
	}
	disabled := func() bool {
		res, err := c.Search(goldap.NewSearchRequest(ldaptest.DisabledDN, goldap.ScopeSingleLevel, goldap.NeverDerefAliases,
			0, 0, false, fmt.Sprintf("(uid=p%d)", leaver), []string{"uid"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Entries) == 1
	}
	if n := memberships(); n != 10 || disabled() {
		t.Fatalf("before: p%d is in %d groups (want 10), disabled %v", leaver, n, disabled())
	}
	status := func(n int) string {
		if n == leaver {
			return "terminated"
		}
		return "active"
	}
	hr3 := write("hr3.csv", feed(moved, status))
	t0 = time.Now()
	expect(t, gh(t, url, admin, "hr", "import", hr3), 0)
	imported := time.Since(t0)
	deadline := t0.Add(2 * time.Minute)
	for memberships() != 0 || !disabled() {
		if time.Now().After(deadline) {
			t.Fatalf("the leaver is still in %d groups (disabled %v) after 2 minutes", memberships(), disabled())
		}
		time.Sleep(2 * time.Millisecond)
	}
	leave := time.Since(t0)
	fmt.Printf("jml-ldap: %d people, 10 groups each, SQLite, slapd on loopback\n", users)
	fmt.Printf("jml-ldap: first import + catalog until converged:      %8.0f ms\n", ms(first))
	fmt.Printf("jml-ldap: 1%% change (%d movers) until converged:      %8.0f ms\n", (users+92)/100, ms(change))
	fmt.Printf("jml-ldap: one leaver (10 groups), import to last LDAP change: %8.0f ms (the import command itself: %.0f ms)\n", ms(leave), ms(imported))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
