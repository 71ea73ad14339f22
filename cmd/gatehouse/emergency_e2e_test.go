package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/internal/service"
)

// TestEmergencyEndToEnd: an emergency operator grants break-glass access through the CLI; the
// membership appears in slapd within seconds with nobody running a reconcile, and disappears
// after its 2-second duration. The refusals say why, the post-event review is counted until
// someone other than the granter completes it, and the audit chain verifies.
func TestEmergencyEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	slapd := ldaptest.Start(t, ldaptest.Options{})
	set := slapd.Settings()
	dir := t.TempDir()
	write := fileWriter(t, dir)
	cat := write("catalog.yaml", fmt.Sprintf(`
settings:
  security_approvers: [sec@example.com]
  emergency_operators: [oncall@example.com, oncall2@example.com]
  emergency_max_duration: 1h
systems:
  - id: dir
    name: Corporate Directory
    owner: sec@example.com
    tier: critical
    connector: {type: ldap, url: %q, bind_dn: %q, bind_password_file: %q, users_dn: %q, groups_dn: %q,
                disabled_dn: %q, flavor: openldap, timeout: 2s}
entitlements:
  - {id: dir/staff, system: dir, name: Staff, kind: group, risk: standard, external_id: "cn=staff,%s"}
  - {id: dir/dba, system: dir, name: Database admins, kind: group, risk: privileged, max_duration: 30m,
     approval: [security], emergency: true, external_id: "cn=dba,%s"}
roles:
  - {id: all-staff, name: All staff, entitlements: [dir/staff], birthright: 'identity.status == "active"'}
`, set["url"], set["bind_dn"], set["bind_password_file"], set["users_dn"], set["groups_dn"], set["disabled_dn"],
		ldaptest.GroupsDN, ldaptest.GroupsDN))
	header := "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"
	row := func(n int, name string) string {
		return fmt.Sprintf("E%d,%s@example.com,P,%d,IT,Staff,,HQ,employee,active,2020-01-01,\n", n, name, n)
	}
	hr := write("hr.csv", header+row(1, "oncall")+row(2, "oncall2")+row(3, "dev")+row(4, "sec"))
	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	env := []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}
	srv := start(t, env, "listening on", "serve", "--db", "sqlite:"+filepath.Join(t.TempDir(), "gh.db"), "--reconcile-interval", "0")
	url := srv.url
	expect(t, gh(t, url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")
	for _, who := range []string{"oncall@example.com", "oncall2@example.com"} {
		expect(t, gh(t, url, admin, "identities", "roles", who, "--set", "operator"), 0)
	}
	token := func(email string) string {
		r := gh(t, url, admin, "token", "create", "--for", email)
		expect(t, r, 0)
		return strings.TrimSpace(r.stdout)
	}
	oncall, oncall2, dev := token("oncall@example.com"), token("oncall2@example.com"), token("dev@example.com")
	c := slapd.Conn(t)
	reason := "INC-4711 payments database down"

	// Refusals, each with its reason.
	expect(t, gh(t, url, dev, "emergency", "grant", "--for", "oncall@example.com", "--entitlement", "dir/dba", "--reason", reason), 1, "operator")
	expect(t, gh(t, url, oncall, "emergency", "grant", "--for", "oncall@example.com", "--entitlement", "dir/dba", "--reason", reason), 1, "yourself")
	expect(t, gh(t, url, oncall, "emergency", "grant", "--for", "dev@example.com", "--entitlement", "dir/staff", "--reason", reason), 1, "not pre-approved")
	expect(t, gh(t, url, oncall, "emergency", "grant", "--for", "dev@example.com", "--entitlement", "dir/dba", "--reason", reason, "--duration", "45m"), 1, "exceeds the emergency limit of 30m0s")
	expect(t, gh(t, url, oncall, "emergency", "grant", "--for", "dev@example.com", "--entitlement", "dir/dba", "--reason", "urgent"), 1, "15 characters")
	expect(t, gh(t, url, oncall, "emergency", "grant", "--for", "dev@example.com", "--entitlement", "dir/dba"), 2, "--reason")

	// The grant: provisioned at once, gone after 2 seconds.
	start := time.Now()
	r := gh(t, url, oncall, "-o", "json", "emergency", "grant", "--for", "dev@example.com", "--entitlement", "dir/dba",
		"--reason", reason, "--duration", "2s")
	expect(t, r, 0)
	var eg service.EmergencyGrant
	if err := json.Unmarshal([]byte(r.stdout), &eg); err != nil || eg.Review == nil || eg.Grant.ExpiresAt == nil {
		t.Fatalf("emergency grant -o json: %v\n%s", err, r)
	}
	if eg.Review.Ref != "EMG-000001" || eg.Grant.Reference != "EMG-000001" || eg.Grant.Source != "emergency" {
		t.Errorf("grant %+v, review %s", eg.Grant, eg.Review.Ref)
	}
	in := waitMember(t, c, "dba", "dev", true, 5*time.Second)
	t.Logf("emergency grant → membership in slapd: %s", in.Sub(start).Round(time.Millisecond))
	gone := waitMember(t, c, "dba", "dev", false, 20*time.Second)
	t.Logf("expiry → membership removed from slapd: %s after expiry", gone.Sub(*eg.Grant.ExpiresAt).Round(time.Millisecond))
	if d := gone.Sub(*eg.Grant.ExpiresAt); d > 10*time.Second {
		t.Errorf("membership removed %s after expiry, want within 10s", d)
	}

	// The review is open and counted until someone other than the granter completes it.
	expect(t, gh(t, url, oncall2, "emergency", "list", "--open"), 0, "EMG-000001", "open", "dir/dba", "1 open reviews, 0 overdue")
	expect(t, gh(t, url, dev, "emergency", "list"), 1, "auditor, operator or admin role")
	expect(t, gh(t, url, oncall, "emergency", "review", "EMG-000001", "--who", "dev", "--why", "INC-4711", "--what", "restarted"), 1, "someone else")
	expect(t, gh(t, url, oncall2, "emergency", "review", "EMG-000001", "--who", "dev"), 2, "--why")
	expect(t, gh(t, url, oncall2, "emergency", "review", "EMG-000001", "--who", "dev@example.com", "--why", "INC-4711",
		"--what", "restarted the primary"), 0, "oncall2@example.com", "restarted the primary")
	expect(t, gh(t, url, oncall2, "emergency", "list", "--open"), 0, "0 open reviews, 0 overdue")
	expect(t, gh(t, url, admin, "audit", "list", "--action", "emergency."), 0, "emergency.grant", "emergency.notify_security", "emergency.review")
	expect(t, gh(t, url, admin, "audit", "verify"), 0)
	srv.stop(t)
}
