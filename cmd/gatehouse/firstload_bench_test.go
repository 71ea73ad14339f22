package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
)

// TestFirstLoadLDAPFigures measures the first load of a company into an empty directory
// (bench/first-load-ldap.sh): N people, each in 10 groups (9 all-staff groups and one of 5
// departments), against the floor of ldapadd loading the same entries over one connection.
//
// It only runs when GATEHOUSE_BENCH_FIRSTLOAD is set, because it is a measurement, not a check.
// GATEHOUSE_BENCH_USERS is N (default 10,000); GATEHOUSE_BENCH_BINS names the binaries to
// compare, "name=path,name=path" (default: this checkout's build as "now"), run alternately
// GATEHOUSE_BENCH_RUNS times (default 1) so that both see the same machine. Each run gets a
// fresh slapd and a fresh SQLite database; the HR import and the catalog (birthright roles)
// come first, then the figure is the reconcile that creates everyone: the run's own record,
// from its start to its end, and the wall time from the catalog apply until `reconcile --wait`
// said converged. The directory is checked afterwards (N accounts, 10N memberships).
func TestFirstLoadLDAPFigures(t *testing.T) {
	users, bins, runs := firstLoadParams(t)
	dir := t.TempDir()
	write := fileWriter(t, dir)
	hr := write("hr.csv", firstLoadFeed(users))

	// The floor: ldapadd over one connection, the same entries Gatehouse creates.
	ldif := write("load.ldif", firstLoadLDIF(users))
	var floors []time.Duration
	for range runs {
		slapd := ldaptest.Start(t, ldaptest.Options{})
		t0 := time.Now()
		cmd := exec.Command("ldapadd", "-x", "-H", slapd.URL, "-D", ldaptest.AdminDN, "-w", ldaptest.AdminPassword, "-f", ldif)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ldapadd: %v: %s", err, out)
		}
		floors = append(floors, time.Since(t0))
		checkFirstLoad(t, slapd, users)
		_ = slapd.Stop()
	}

	figures := map[string][]firstLoadRun{}
	for r := range runs {
		for _, b := range bins {
			slapd := ldaptest.Start(t, ldaptest.Options{})
			cat := write(fmt.Sprintf("catalog-%s-%d.yaml", b.name, r), firstLoadCatalog(slapd.Settings()))
			run := firstLoadOnce(t, b.path, filepath.Join(dir, fmt.Sprintf("%s-%d.db", b.name, r)), hr, cat)
			checkFirstLoad(t, slapd, users)
			_ = slapd.Stop()
			figures[b.name] = append(figures[b.name], run)
		}
	}
	fmt.Printf("first-load-ldap: %d people, 10 groups each (%d memberships), slapd on loopback, SQLite\n", users, 10*users)
	floor := medianDuration(floors)
	fmt.Printf("first-load-ldap: ldapadd, one connection (the floor): %8.0f ms (runs: %s)\n", ms(floor), durations(floors))
	for _, b := range bins {
		var recs, walls []time.Duration
		for _, f := range figures[b.name] {
			recs, walls = append(recs, f.run), append(walls, f.wall)
		}
		rec := medianDuration(recs)
		fmt.Printf("first-load-ldap: %-8s reconcile run %8.0f ms = %.2fx the floor; catalog apply to converged %8.0f ms (runs: %s / %s)\n",
			b.name, ms(rec), float64(rec)/float64(floor), ms(medianDuration(walls)), durations(recs), durations(walls))
	}
}

type firstLoadBin struct{ name, path string }

type firstLoadRun struct{ run, wall time.Duration }

func firstLoadParams(t *testing.T) (users int, bins []firstLoadBin, runs int) {
	if os.Getenv("GATEHOUSE_BENCH_FIRSTLOAD") == "" {
		t.Skip("a measurement: run bench/first-load-ldap.sh or bench/first-load-scim.sh")
	}
	users, runs = 10_000, 1
	if v := os.Getenv("GATEHOUSE_BENCH_USERS"); v != "" {
		var err error
		if users, err = strconv.Atoi(v); err != nil || users < 10 {
			t.Fatalf("GATEHOUSE_BENCH_USERS=%q: want a number >= 10", v)
		}
	}
	if v := os.Getenv("GATEHOUSE_BENCH_RUNS"); v != "" {
		var err error
		if runs, err = strconv.Atoi(v); err != nil || runs < 1 {
			t.Fatalf("GATEHOUSE_BENCH_RUNS=%q: want a number >= 1", v)
		}
	}
	for _, kv := range strings.Split(os.Getenv("GATEHOUSE_BENCH_BINS"), ",") {
		if name, path, ok := strings.Cut(kv, "="); ok {
			bins = append(bins, firstLoadBin{name, path})
		}
	}
	if len(bins) == 0 {
		bins = []firstLoadBin{{"now", binary(t)}}
	}
	return users, bins, runs
}

// firstLoadDepts are the departments: one group each, beside the 9 all-staff groups.
var firstLoadDepts = []string{"d0", "d1", "d2", "d3", "d4"}

func firstLoadFeed(users int) string {
	var b strings.Builder
	b.WriteString("employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n")
	for n := range users {
		fmt.Fprintf(&b, "E%d,p%d@example.com,P,%d,%s,Staff,,HQ,employee,active,2020-01-01,\n", n, n, n, firstLoadDepts[n%len(firstLoadDepts)])
	}
	return b.String()
}

// firstLoadLDIF is what Gatehouse creates, as LDIF: the accounts (the LDAP connector's
// attributes), then the groups with their members.
func firstLoadLDIF(users int) string {
	var b strings.Builder
	for n := range users {
		fmt.Fprintf(&b, "dn: uid=p%d,%s\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: inetOrgPerson\n"+
			"uid: p%d\ncn: P %d\nmail: p%d@example.com\nsn: %d\ngivenName: P\nemployeeNumber: E%d\n\n", n, ldaptest.PeopleDN, n, n, n, n, n)
	}
	group := func(cn string, member func(n int) bool) {
		fmt.Fprintf(&b, "dn: cn=%s,%s\nobjectClass: top\nobjectClass: groupOfNames\ncn: %s\n", cn, ldaptest.GroupsDN, cn)
		for n := range users {
			if member(n) {
				fmt.Fprintf(&b, "member: uid=p%d,%s\n", n, ldaptest.PeopleDN)
			}
		}
		b.WriteString("\n")
	}
	for g := 1; g <= 9; g++ {
		group(fmt.Sprintf("s%d", g), func(int) bool { return true })
	}
	for i, d := range firstLoadDepts {
		group(d, func(n int) bool { return n%len(firstLoadDepts) == i })
	}
	return b.String()
}

func firstLoadCatalog(set map[string]any) string {
	var cat strings.Builder
	fmt.Fprintf(&cat, `systems:
  - id: dir
    name: Corporate Directory
    owner: p0@example.com
    tier: critical
    connector: {type: ldap, url: %q, bind_dn: %q, bind_password_file: %q, users_dn: %q, groups_dn: %q,
                disabled_dn: %q, flavor: openldap, timeout: 5s}
entitlements:
`, set["url"], set["bind_dn"], set["bind_password_file"], set["users_dn"], set["groups_dn"], set["disabled_dn"])
	firstLoadEntitlements(&cat, func(cn string) string { return "cn=" + cn + "," + ldaptest.GroupsDN })
	return cat.String()
}

// firstLoadEntitlements writes the entitlements (external ids by extID) and the birthright roles.
func firstLoadEntitlements(cat *strings.Builder, extID func(cn string) string) {
	var staff []string
	for g := 1; g <= 9; g++ {
		fmt.Fprintf(cat, "  - {id: dir/s%d, system: dir, name: S%d, kind: group, risk: standard, external_id: %q}\n", g, g, extID(fmt.Sprintf("s%d", g)))
		staff = append(staff, fmt.Sprintf("dir/s%d", g))
	}
	for _, d := range firstLoadDepts {
		fmt.Fprintf(cat, "  - {id: dir/%s, system: dir, name: %s, kind: group, risk: standard, external_id: %q}\n", d, d, extID(d))
	}
	fmt.Fprintf(cat, "roles:\n  - {id: all-staff, name: All staff, entitlements: [%s], birthright: 'identity.status == \"active\"'}\n", strings.Join(staff, ", "))
	for _, d := range firstLoadDepts {
		fmt.Fprintf(cat, "  - {id: %s, name: %s, entitlements: [dir/%s], birthright: 'identity.department == \"%s\"'}\n", d, d, d, d)
	}
}

// firstLoadOnce runs one binary: serve on a fresh database, the HR import, the catalog, and
// the reconcile it triggers until converged.
func firstLoadOnce(t *testing.T, bin, db, hr, cat string) firstLoadRun {
	const admin = "bench-bootstrap-secret-at-least-32-chars"
	srv := startBinary(t, bin, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+db, "--reconcile-interval", "0")
	defer srv.stop(t)
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "GATEHOUSE_ADDR="+srv.url, "GATEHOUSE_TOKEN="+admin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	run("hr", "import", hr)
	run("catalog", "apply", cat, "--reason", "bench")
	t0 := time.Now()
	if out := run("reconcile", "--wait"); !strings.Contains(out, "Converged.") {
		t.Fatalf("reconcile --wait: %s", out)
	}
	wall := time.Since(t0)
	req, _ := http.NewRequest("GET", srv.url+"/api/v1/systems/dir/status", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Runs []*gatehouse.Reconcile `json:"runs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	// The run that created everyone is the one that applied the most; a retry after an error
	// would show as several, so every run's time counts.
	var busy time.Duration
	applied := 0
	for _, r := range st.Runs {
		if r.FinishedAt != nil {
			// The runs behind the figures: the one the catalog triggered (everything) and
			// the full one `reconcile --wait` asked for (nothing left to do).
			fmt.Printf("first-load:   %s run %-12s %8.0f ms: %d planned, %d applied, %d failed %s\n", filepath.Base(bin), r.Cause,
				ms(r.FinishedAt.Sub(r.StartedAt)), r.Planned, r.Applied, r.Failed, r.Error)
		}
		if r.FinishedAt != nil && r.Applied > 0 {
			busy += r.FinishedAt.Sub(r.StartedAt)
			applied += r.Applied
		}
	}
	t.Logf("%s: %d operations applied in %d runs, %s", bin, applied, len(st.Runs), busy)
	return firstLoadRun{run: busy, wall: wall}
}

// checkFirstLoad checks that the directory holds everybody with their memberships.
func checkFirstLoad(t *testing.T, slapd *ldaptest.Server, users int) {
	c := slapd.Conn(t)
	defer c.Close()
	res, err := c.SearchWithPaging(goldap.NewSearchRequest(ldaptest.PeopleDN, goldap.ScopeSingleLevel, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=inetOrgPerson)", []string{"1.1"}, nil), 1000)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := c.Search(goldap.NewSearchRequest(ldaptest.GroupsDN, goldap.ScopeSingleLevel, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=groupOfNames)", []string{"member"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	members := 0
	for _, g := range groups.Entries {
		members += len(g.GetAttributeValues("member"))
	}
	if len(res.Entries) != users || members != 10*users {
		t.Fatalf("the directory holds %d accounts and %d memberships, want %d and %d", len(res.Entries), members, users, 10*users)
	}
}

func medianDuration(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[(len(s)-1)/2]
}

func durations(ds []time.Duration) string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%.0f", ms(d)))
	}
	return strings.Join(out, ", ") + " ms"
}
