package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/connector/scim/scimtest"
)

// TestJMLSCIMFigures measures issue 4's "a 1% change reconciled under 5 s" end to end, with the
// real binary and a real SCIM server (SCIMMY): a SCIM app already holding 20,000 users in 50
// groups of 400 (seeded straight into the server, as an existing app would be), an HR feed and
// a catalog that say exactly that, the first reconcile (which adopts everything and changes
// nothing), then 1% of the people moving department (one group lost, one gained each) from the
// import until `reconcile --wait` says converged. It only runs when GATEHOUSE_BENCH_JML_SCIM is
// set (bench/jml-scim.sh sets it): it is a measurement, not a check.
func TestJMLSCIMFigures(t *testing.T) {
	if os.Getenv("GATEHOUSE_BENCH_JML_SCIM") == "" {
		t.Skip("a measurement: run bench/jml-scim.sh")
	}
	users, groups := 20_000, 50
	if v := os.Getenv("GATEHOUSE_BENCH_USERS"); v != "" {
		var err error
		if users, err = strconv.Atoi(v); err != nil || users < groups*10 {
			t.Fatalf("GATEHOUSE_BENCH_USERS=%q: want a number >= %d", v, groups*10)
		}
	}
	per := users / groups
	scimtest.Require(t)
	app := scimtest.Start(t, scimtest.Scimmy)
	t0 := time.Now()
	app.Seed(t, users, groups, per)
	seeded := time.Since(t0)
	sset := app.Settings(t)
	dir := t.TempDir()
	write := fileWriter(t, dir)
	// Person n (1-based) is in group ceil(n/per), as the peer seeds it; department d<group>.
	group := func(n int) int { return (n-1)/per + 1 }
	var cat strings.Builder
	fmt.Fprintf(&cat, `settings:
  leaver_guard: {max_fraction: 0.9, min_count: 5}
systems:
  - id: app
    name: SCIM app
    owner: user000001@example.com
    tier: standard
    connector: {type: scim, url: %q, token_file: %q, timeout: 10s}
entitlements:
`, sset["url"], sset["token_file"])
	for g := 1; g <= groups; g++ {
		fmt.Fprintf(&cat, "  - {id: app/g%d, system: app, name: G%d, kind: group, risk: standard, external_id: group%05d}\n", g, g, g)
	}
	cat.WriteString("roles:\n")
	for g := 1; g <= groups; g++ {
		fmt.Fprintf(&cat, "  - {id: d%d, name: D%d, entitlements: [app/g%d], birthright: 'identity.department == \"d%d\"'}\n", g, g, g, g)
	}
	header := "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"
	feed := func(dept func(n int) int) string {
		var b strings.Builder
		b.WriteString(header)
		for n := 1; n <= users; n++ {
			fmt.Fprintf(&b, "E%06d,user%06d@example.com,User,%06d,d%d,Staff,,HQ,employee,active,2020-01-01,\n", n, n, n, dept(n))
		}
		return b.String()
	}
	moved := func(n int) int { // 1%: every 100th person moves to the next department
		if n%100 == 7 {
			return group(n)%groups + 1
		}
		return group(n)
	}

	const admin = "bench-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	url := srv.url
	defer srv.stop(t)
	t0 = time.Now()
	expect(t, gh(t, url, admin, "hr", "import", write("hr1.csv", feed(group))), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", write("catalog.yaml", cat.String()), "--reason", "bench"), 0)
	imported := time.Since(t0)
	t0 = time.Now()
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")
	first := time.Since(t0)
	if r := gh(t, url, admin, "ops", "list", "--limit", "5"); strings.Contains(r.stdout, "add_member") {
		t.Fatalf("the first reconcile changed the app, but the feed matches it:\n%s", r.stdout)
	}

	t0 = time.Now()
	expect(t, gh(t, url, admin, "hr", "import", write("hr2.csv", feed(moved))), 0)
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")
	change := time.Since(t0)
	r := gh(t, url, admin, "ops", "list", "--system", "app", "--limit", "1000", "-o", "json")
	adds, removes := strings.Count(r.stdout, `"add_member"`), strings.Count(r.stdout, `"remove_member"`)
	fmt.Printf("jml-scim: %d people in %d groups of %d, SQLite, SCIMMY on loopback (seeded in %.0f ms)\n", users, groups, per, ms(seeded))
	fmt.Printf("jml-scim: HR import + catalog apply:                       %8.0f ms\n", ms(imported))
	fmt.Printf("jml-scim: first reconcile (inventory, adopt, no change):   %8.0f ms\n", ms(first))
	fmt.Printf("jml-scim: 1%% change (%d movers: %d add, %d remove), import until reconcile --wait converged: %8.0f ms\n", users/100, adds, removes, ms(change))
	// The runs behind that figure: the one the import triggered (which applied the change) and
	// the one reconcile --wait asked for (nothing left to do).
	r = gh(t, url, admin, "systems", "status", "app", "-o", "json")
	var st struct {
		Runs []struct {
			Cause                    string
			StartedAt                time.Time  `json:"started_at"`
			FinishedAt               *time.Time `json:"finished_at"`
			Planned, Applied, Failed int
			Accounts, Groups         int
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("systems status: %v\n%s", err, r.stdout)
	}
	for _, run := range st.Runs {
		if run.FinishedAt == nil {
			continue
		}
		fmt.Printf("jml-scim:   run %-28s %6.0f ms: inventory %d accounts, %d groups; %d planned, %d applied, %d failed\n",
			run.Cause, ms(run.FinishedAt.Sub(run.StartedAt)), run.Accounts, run.Groups, run.Planned, run.Applied, run.Failed)
	}
}
