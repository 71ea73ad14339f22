package main

import (
	"database/sql"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // to read the evidence behind the replicas' backs

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/internal/notify/smtptest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// holdProxy forwards TCP connections to target; while hold is set, what clients send waits,
// so an LDAP request in flight hangs there (a reconcile is in flight for as long as the test
// wants).
type holdProxy struct {
	addr string
	hold atomic.Bool
}

func startHoldProxy(t *testing.T, target string) *holdProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { p.serve(c, target) })
		}
	})
	return p
}

func (p *holdProxy) serve(c net.Conn, target string) {
	defer c.Close()
	s, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { _, _ = io.Copy(c, s); c.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		for p.hold.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := s.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

var reqNumber = regexp.MustCompile(`REQ-\d{6}`)

// TestTwoReplicasEndToEnd: two `gatehouse serve` processes on one PostgreSQL database behave
// as one. HR imports, access requests and time-bound grants go through both replicas' APIs
// alternately; the replica running a reconcile of the directory (slapd, behind a proxy that
// holds the reconcile's LDAP traffic) is killed with SIGKILL in the middle of it; work goes on
// through the survivor, and the killed one starts again. Then: the directory converges to the
// desired state; no operation is applied twice; each mail reaches the SMTP relay once; each
// time-bound grant is revoked by its expiry once; and no periodic job runs twice in one
// interval window.
func TestTwoReplicasEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	binary(t) // built before the clock starts
	begin := time.Now()
	slapd := ldaptest.Start(t, ldaptest.Options{})
	set := slapd.Settings()
	ldapURL := fmt.Sprint(set["url"])
	proxy := startHoldProxy(t, strings.TrimPrefix(ldapURL, "ldap://"))
	relay := smtptest.Start(t, smtptest.Options{NoTLS: true})
	db := storetest.NewPostgresSchema(t)
	pg, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })

	dir := t.TempDir()
	write := fileWriter(t, dir)
	cat := write("catalog.yaml", fmt.Sprintf(`
systems:
  - id: dir
    name: Corporate Directory
    owner: owner@example.com
    tier: critical
    connector: {type: ldap, url: %q, bind_dn: %q, bind_password_file: %q, users_dn: %q, groups_dn: %q,
                disabled_dn: %q, flavor: openldap, timeout: 30s}
entitlements:
  - {id: dir/staff, system: dir, name: Staff, kind: group, risk: standard, requestable: false, external_id: "cn=staff,%s"}
  - {id: dir/finance, system: dir, name: Finance, kind: group, risk: standard, requestable: true, approval: [owner], external_id: "cn=finance,%s"}
  - {id: dir/oncall, system: dir, name: On-call, kind: group, risk: standard, requestable: true, max_duration: 8h,
     approval: [owner], external_id: "cn=oncall,%s"}
roles:
  - {id: all-staff, name: All staff, entitlements: [dir/staff], birthright: 'identity.status == "active"'}
`, "ldap://"+proxy.addr, set["bind_dn"], set["bind_password_file"], set["users_dn"], set["groups_dn"], set["disabled_dn"],
		ldaptest.GroupsDN, ldaptest.GroupsDN, ldaptest.GroupsDN))
	const header = "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"
	person := func(n int, status string) string {
		email := fmt.Sprintf("emp%d@example.com", n)
		if n == 0 {
			email = "owner@example.com"
		}
		return fmt.Sprintf("E%d,%s,P,%d,Ops,Staff,,HQ,employee,%s,2020-01-01,\n", n, email, n, status)
	}
	snapshot := func(statuses map[int]string) string {
		var b strings.Builder
		b.WriteString(header)
		for n := 0; n <= 7; n++ {
			if s, ok := statuses[n]; ok {
				b.WriteString(person(n, s))
			}
		}
		return b.String()
	}
	people := map[int]string{0: "active", 1: "active", 2: "active", 3: "active", 4: "active", 5: "active", 6: "active"}
	hr1 := write("hr1.csv", snapshot(people))
	people[6], people[7] = "terminated", "active" // a leaver and a joiner
	hr2 := write("hr2.csv", snapshot(people))
	people[5] = "terminated"
	hr3 := write("hr3.csv", snapshot(people))

	// Short intervals, so that many windows pass; the same flags for both.
	const every = 2 * time.Second
	const admin = "replicas-e2e-bootstrap-at-least-32-chars"
	env := []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}
	args := []string{"serve", "--db", db, "--secrets-dir", os.TempDir(),
		"--reconcile-interval", every.String(), "--reconcile-lease", every.String(), "--expiry-interval", every.String(),
		"--hr-dates-interval", every.String(), "--notice-interval", every.String(), "--request-sync-interval", "1s",
		"--smtp-url", "smtp://" + relay.Addr + "?starttls=false", "--smtp-from", "Gatehouse <gatehouse@example.com>",
		"--public-url", "https://gatehouse.example.com"}
	addrs := []string{freeAddr(t), freeAddr(t)}
	replicas := []*proc{startAt(t, addrs[0], env, args...), startAt(t, addrs[1], env, args...)}
	url := func(i int) string { return "http://" + addrs[i] }
	t.Logf("two replicas up after %s", time.Since(begin).Round(time.Millisecond))

	expect(t, gh(t, url(0), admin, "hr", "import", hr1), 0)
	expect(t, gh(t, url(1), admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	expect(t, gh(t, url(0), admin, "reconcile", "--wait"), 0, "Converged.")
	tokens := map[int]string{}
	for n := 0; n <= 7; n++ {
		email := fmt.Sprintf("emp%d@example.com", n)
		if n == 0 {
			email = "owner@example.com"
		}
		if n == 7 {
			continue // not hired yet
		}
		r := gh(t, url(n%2), admin, "token", "create", "--for", email)
		expect(t, r, 0)
		tokens[n] = strings.TrimSpace(r.stdout)
	}
	owner := tokens[0]

	// request asks through replica via and has the owner approve through replica by; a
	// duration makes a time-bound grant.
	request := func(via, by, who int, entitlement, duration string) string {
		t.Helper()
		a := []string{"request", "create", "--entitlement", entitlement, "--justification", "replica test for emp" + strconv.Itoa(who)}
		if duration != "" {
			a = append(a, "--duration", duration)
		}
		r := gh(t, url(via), tokens[who], a...)
		expect(t, r, 0, "pending_approval")
		id := reqNumber.FindString(r.stdout)
		expect(t, gh(t, url(by), owner, "request", "approve", id, "--comment", "ok"), 0, "provisioning")
		return id
	}

	// Through both replicas: permanent and time-bound access, a leaver and a joiner.
	request(0, 1, 1, "dir/finance", "")
	request(1, 0, 2, "dir/finance", "")
	request(0, 1, 3, "dir/finance", "")
	request(1, 0, 6, "dir/finance", "")
	request(0, 1, 4, "dir/oncall", "6s")
	request(1, 0, 3, "dir/oncall", "6s")
	c := slapd.Conn(t)
	waitMember(t, c, "oncall", "emp4", true, 10*time.Second)
	expect(t, gh(t, url(1), admin, "hr", "import", hr2), 0)
	r := gh(t, url(0), admin, "token", "create", "--for", "emp7@example.com")
	expect(t, r, 0)
	tokens[7] = strings.TrimSpace(r.stdout)

	// Kill the replica that is reconciling the directory, in the middle of it: its LDAP
	// traffic is held, so the reconcile that the approval queues hangs wherever it is.
	proxy.hold.Store(true)
	request(1, 0, 7, "dir/finance", "")
	victim := -1
	deadline := time.Now().Add(20 * time.Second)
	for victim < 0 {
		var note string
		err := pg.QueryRow(`SELECT note FROM leases WHERE name = 'reconcile:dir' AND expires_at > now()`).Scan(&note)
		if err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		for i, p := range replicas {
			if strings.HasSuffix(note, fmt.Sprintf(" pid %d", p.cmd.Process.Pid)) {
				victim = i
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replica took the directory's reconcile lease in 20s (lease note %q)", note)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := replicas[victim].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-replicas[victim].done
	killed := time.Now()
	proxy.hold.Store(false)
	live := 1 - victim
	t.Logf("killed replica %d in the middle of a reconcile after %s", victim, killed.Sub(begin).Round(time.Millisecond))

	// The survivor carries on alone.
	request(live, live, 1, "dir/oncall", "5s")
	expect(t, gh(t, url(live), admin, "hr", "import", hr3), 0)

	// The killed replica starts again, and takes requests again.
	replicas[victim] = startAt(t, addrs[victim], env, args...)
	t.Logf("replica %d back after %s", victim, time.Since(killed).Round(time.Millisecond))
	request(victim, live, 2, "dir/oncall", "4s")

	// Every time-bound grant ends, and the directory converges: the leavers are out too.
	expired := func() (events, grants int) {
		t.Helper()
		if err := pg.QueryRow(`SELECT count(*), count(DISTINCT object_id) FROM audit_events WHERE action = $1`,
			string(gatehouse.AuditGrantExpire)).Scan(&events, &grants); err != nil {
			t.Fatal(err)
		}
		return events, grants
	}
	deadline = time.Now().Add(30 * time.Second)
	for _, n := expired(); n < 4; _, n = expired() {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 4 time-bound grants expired after 30s", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	want := map[string][]string{
		"staff":   {"emp1", "emp2", "emp3", "emp4", "emp7", "owner"},
		"finance": {"emp1", "emp2", "emp3", "emp7"},
		"oncall":  nil,
	}
	converged := func() string {
		var diff []string
		for cn, members := range want {
			got := groupMembers(t, c, cn)
			sort.Strings(got)
			if !slices.Equal(got, members) {
				diff = append(diff, fmt.Sprintf("%s = %v, want %v", cn, got, members))
			}
		}
		return strings.Join(diff, "; ")
	}
	deadline = time.Now().Add(45 * time.Second)
	for d := converged(); d != ""; d = converged() {
		if time.Now().After(deadline) {
			t.Fatalf("the directory did not converge within 45s: %s\nreplica 0:\n%s\nreplica 1:\n%s", d, replicas[0].stderr, replicas[1].stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("directory converged %s after the kill", time.Since(killed).Round(time.Millisecond))
	expect(t, gh(t, url(victim), admin, "reconcile", "--wait"), 0, "Converged.")
	if d := converged(); d != "" {
		t.Fatalf("after a full reconcile: %s", d)
	}
	expect(t, gh(t, url(live), admin, "audit", "verify"), 0)

	// No operation applied twice: each change of each account happened once.
	rows, err := pg.Query(`SELECT kind, username, grp, count(*) FROM operations WHERE status = 'applied'
		GROUP BY kind, username, grp HAVING count(*) > 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var kind, user, grp string
		var n int
		if err := rows.Scan(&kind, &user, &grp, &n); err != nil {
			t.Fatal(err)
		}
		t.Errorf("operation %s of %s %s applied %d times", kind, user, grp, n)
	}
	rows.Close()
	var applied int
	if err := pg.QueryRow(`SELECT count(*) FROM operations WHERE status = 'applied'`).Scan(&applied); err != nil || applied == 0 {
		t.Fatalf("%d applied operations, %v", applied, err)
	}

	// Each expiry revoked its grant once: one grant.expire per grant, four grants.
	if events, grants := expired(); events != 4 || grants != 4 {
		t.Errorf("%d grant.expire events for %d grants, want one each for 4", events, grants)
	}

	// Each mail once.
	time.Sleep(2 * every) // notices due by now are sent
	seen := map[string]int{}
	for _, m := range relay.Messages() {
		subject, _ := mailText(t, m)
		seen[strings.Join(m.To, ",")+" "+subject]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("mail %q sent %d times", k, n)
		}
	}
	if len(seen) < 18 { // an approval request and a decision for each of the 9 requests
		t.Errorf("%d distinct mails, want at least 18: %v", len(seen), seen)
	}

	// No periodic job twice in one window: River's unique key of a periodic task is its
	// interval's window of scheduled_at, whoever inserted it (the leader's schedule, or a
	// replica's start).
	intervals := map[string]time.Duration{"hr_dates": every, "sync_requests": time.Second, "expire_exceptions": every,
		"notices": every, "reconcile_all": every, "recover_reconciles": every, "expire_grants": every}
	// The runs each process makes as it starts (args "start": the scheduled reconcile's, which
	// reconciles only what no run of the window converged, and the catch-ups, which must run
	// after a crash whatever the window) are not counted.
	rows, err = pg.Query(`SELECT kind, scheduled_at FROM river_job WHERE kind = ANY($1)
		AND (kind <> 'expire_grants' OR args = '{}'::jsonb) AND NOT args ? 'start'
		ORDER BY scheduled_at`, slices.Collect(maps.Keys(intervals)))
	if err != nil {
		t.Fatal(err)
	}
	windows := map[string][]time.Time{}
	total := 0
	for rows.Next() {
		var kind string
		var at time.Time
		if err := rows.Scan(&kind, &at); err != nil {
			t.Fatal(err)
		}
		w := at.Truncate(intervals[kind])
		key := kind + " " + w.Format(time.RFC3339Nano)
		windows[key] = append(windows[key], at)
		total++
	}
	rows.Close()
	for key, ats := range windows {
		// A job the database stamped a hair after the start of a window, while River keyed it
		// by its own clock a hair before, belongs to the window before: not a second run.
		n := len(ats)
		kind, _, _ := strings.Cut(key, " ")
		if ats[0].Sub(ats[0].Truncate(intervals[kind])) < 50*time.Millisecond {
			n--
		}
		if n > 1 {
			t.Errorf("periodic job %s ran %d times in one window: %v", key, len(ats), ats)
		}
	}
	for _, kind := range []string{"hr_dates", "sync_requests", "notices", "reconcile_all", "expire_grants"} {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(windows)), func(k string) bool { return strings.HasPrefix(k, kind+" ") }) {
			t.Errorf("no %s job: the schedule did not run", kind)
		}
	}
	t.Logf("%d periodic jobs in %d windows", total, len(windows))
	replicas[0].stop(t)
	replicas[1].stop(t)
	t.Logf("wall time %s", time.Since(begin).Round(time.Millisecond))
}
