package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// groupMembers returns the uids in an LDAP group (none when the group does not exist yet).
func groupMembers(t *testing.T, c *goldap.Conn, cn string) []string {
	t.Helper()
	res, err := c.Search(goldap.NewSearchRequest("cn="+cn+","+ldaptest.GroupsDN, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=groupOfNames)", []string{"member"}, nil))
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return nil
	}
	if err != nil {
		t.Fatalf("group %s: %v", cn, err)
	}
	var ms []string
	for _, m := range res.Entries[0].GetAttributeValues("member") {
		if uid, ok := strings.CutPrefix(m, "uid="); ok {
			uid, _, _ = strings.Cut(uid, ",")
			ms = append(ms, uid)
		}
	}
	slices.Sort(ms)
	return ms
}

// waitMember polls slapd until uid's membership of cn is as wanted, and returns when that was.
func waitMember(t *testing.T, c *goldap.Conn, cn, uid string, want bool, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if slices.Contains(groupMembers(t, c, cn), uid) == want {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s in %s = %v still after %s (members %v)", uid, cn, !want, within, groupMembers(t, c, cn))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestExpiryEndToEnd: a privileged grant for 2 seconds is provisioned into slapd and the
// membership disappears after expiry, with nobody running a reconcile: `gatehouse serve` revokes
// the grant (grant.expire), and that transaction enqueues the reconcile of the directory. Then a
// grant that expires while the server is down is revoked, and deprovisioned, as the server
// starts again.
func TestExpiryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Run("sqlite", func(t *testing.T) { testExpiryEndToEnd(t, "sqlite:"+filepath.Join(t.TempDir(), "gh.db")) })
	t.Run("postgres", func(t *testing.T) { testExpiryEndToEnd(t, storetest.NewPostgresSchema(t)) })
}

func testExpiryEndToEnd(t *testing.T, db string) {
	slapd := ldaptest.Start(t, ldaptest.Options{})
	set := slapd.Settings()
	dir := t.TempDir()
	write := fileWriter(t, dir)
	cat := write("catalog.yaml", fmt.Sprintf(`
settings:
  security_approvers: [p0@example.com]
systems:
  - id: dir
    name: Corporate Directory
    owner: p0@example.com
    tier: critical
    connector: {type: ldap, url: %q, bind_dn: %q, bind_password_file: %q, users_dn: %q, groups_dn: %q,
                disabled_dn: %q, flavor: openldap, timeout: 2s}
entitlements:
  - {id: dir/staff, system: dir, name: Staff, kind: group, risk: standard, external_id: "cn=staff,%s"}
  - {id: dir/oncall, system: dir, name: On-call admins, kind: group, risk: privileged, max_duration: 8h,
     external_id: "cn=oncall,%s"}
roles:
  - {id: all-staff, name: All staff, entitlements: [dir/staff], birthright: 'identity.status == "active"'}
`, set["url"], set["bind_dn"], set["bind_password_file"], set["users_dn"], set["groups_dn"], set["disabled_dn"],
		ldaptest.GroupsDN, ldaptest.GroupsDN))
	header := "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"
	row := func(n int) string {
		return fmt.Sprintf("E%d,p%d@example.com,P,%d,IT,Staff,,HQ,employee,active,2020-01-01,\n", n, n, n)
	}
	hr := write("hr.csv", header+row(0)+row(1)+row(2))
	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	env := []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}

	// The default sweep interval (30s): what ends this access on time is the job scheduled at
	// its expiry, not the sweep.
	srv := start(t, env, "listening on", "serve", "--db", db, "--reconcile-interval", "0")
	url := srv.url
	expect(t, gh(t, url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")
	c := slapd.Conn(t)

	r := gh(t, url, admin, "-o", "json", "grants", "create", "--identity", "p1@example.com", "--entitlement", "dir/oncall",
		"--duration", "2s", "--reference", "INC-000001", "--reason", "incident 42")
	expect(t, r, 0)
	var g gatehouse.Grant
	if err := json.Unmarshal([]byte(r.stdout), &g); err != nil || g.ExpiresAt == nil {
		t.Fatalf("grant create -o json: %v\n%s", err, r)
	}
	expires := *g.ExpiresAt // the server's clock, the same as this test's
	// Told before it ends: the grant is in the "expiring soon" list.
	expect(t, gh(t, url, admin, "grants", "list", "--expiring", "7d"), 0, "p1@example.com", "dir/oncall")
	waitMember(t, c, "oncall", "p1", true, 5*time.Second)
	gone := waitMember(t, c, "oncall", "p1", false, 20*time.Second)
	t.Logf("expiry → membership removed from slapd: %s (scheduled job; sweep every 30s)", gone.Sub(expires).Round(time.Millisecond))
	if d := gone.Sub(expires); d > 10*time.Second {
		t.Errorf("membership removed %s after expiry, want within 10s", d)
	}
	r = gh(t, url, admin, "grants", "list", "--status", "revoked")
	expect(t, r, 0, "INC-000001", "revoked")
	expect(t, gh(t, url, admin, "audit", "list", "--action", "grant.expire"), 0, "system:expiry", "INC-000001")
	if r := gh(t, url, admin, "grants", "list", "--expiring", "7d"); strings.Contains(r.stdout, "dir/oncall") {
		t.Errorf("an expired grant is still listed as expiring: %s", r)
	}
	expect(t, gh(t, url, admin, "grants", "list", "--expiring", "soon"), 2, "--expiring")
	if got := groupMembers(t, c, "staff"); !slices.Equal(got, []string{"p0", "p1", "p2"}) {
		t.Errorf("staff = %v; expiry must touch nothing else", got)
	}

	// Restart catch-up: the grant expires while the server is down (killed, as in a crash).
	expect(t, gh(t, url, admin, "grants", "create", "--identity", "p2@example.com", "--entitlement", "dir/oncall",
		"--duration", "2s", "--reference", "INC-000002", "--reason", "incident 43"), 0)
	waitMember(t, c, "oncall", "p2", true, 5*time.Second)
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	time.Sleep(3 * time.Second)
	if !slices.Contains(groupMembers(t, c, "oncall"), "p2") {
		t.Fatal("the membership went while the server was down: nothing was left to catch up")
	}
	srv = start(t, env, "listening on", "serve", "--db", db, "--reconcile-interval", "0")
	started := time.Now()
	gone = waitMember(t, c, "oncall", "p2", false, 20*time.Second)
	t.Logf("restart → expired membership removed from slapd: %s", gone.Sub(started).Round(time.Millisecond))
	// The catch-up revokes the grant (grant.expire) and a reconcile removes the membership; the
	// reconcile may come first, since it already reads the grant as expired.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r := gh(t, srv.url, admin, "audit", "list", "--action", "grant.expire")
		if r.code == 0 && strings.Contains(r.stdout, "INC-000002") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no grant.expire event for INC-000002 within 15s of the restart: %s", r)
		}
	}
	expect(t, gh(t, srv.url, admin, "audit", "verify"), 0)
	srv.stop(t)
}
