package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/internal/notify/smtptest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var (
	failpointOnce sync.Once
	failpointPath string
	failpointErr  error
)

// failpointBinary builds the binary with the failpoint tag once per test run: with
// GATEHOUSE_FAILPOINT=exit-after-commit:<audit action> it exits right after committing that
// action's transaction (internal/store/sqlstore/failpoint.go). The binary users get has no
// such hook.
func failpointBinary(t *testing.T) string {
	t.Helper()
	failpointOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gatehouse-e2e-failpoint-")
		if err != nil {
			failpointErr = err
			return
		}
		failpointPath = filepath.Join(dir, "gatehouse")
		cmd := exec.Command("go", "build", "-tags", "failpoint", "-o", failpointPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			failpointErr = fmt.Errorf("go build -tags failpoint: %v\n%s", err, out)
		}
	})
	if failpointErr != nil {
		t.Fatal(failpointErr)
	}
	return failpointPath
}

// TestCrashAfterCommitLosesNothing: `gatehouse serve` dies right after committing an emergency
// grant (the failpoint exits the process at that instant, before any worker could run), and
// is started again on the same database. What the grant implies was committed with it, so
// nothing is lost: the reconcile puts the membership in slapd, security is mailed once, and
// the grant is revoked and deprovisioned at its expiry by the job scheduled for it (the sweep
// is an hour away). On PostgreSQL and SQLite.
func TestCrashAfterCommitLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Run("postgres", func(t *testing.T) { testCrashAfterCommit(t, storetest.NewPostgresSchema(t)) })
	t.Run("sqlite", func(t *testing.T) { testCrashAfterCommit(t, "sqlite:"+filepath.Join(t.TempDir(), "gh.db")) })
}

func testCrashAfterCommit(t *testing.T, db string) {
	slapd := ldaptest.Start(t, ldaptest.Options{})
	relay := smtptest.Start(t, smtptest.Options{NoTLS: true})
	set := slapd.Settings()
	write := fileWriter(t, t.TempDir())
	cat := write("catalog.yaml", fmt.Sprintf(`
settings:
  security_approvers: [sec@example.com]
  emergency_operators: [oncall@example.com]
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
	hr := write("hr.csv", header+row(1, "oncall")+row(2, "dev")+row(3, "sec"))
	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	env := []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}
	// No scheduled reconcile and an hourly expiry sweep: only the jobs the grant's transaction
	// inserted can provision it and end it within this test. No expiring-access notice: the
	// one mail is the grant's.
	args := []string{"serve", "--db", db, "--reconcile-interval", "0", "--expiry-interval", "1h", "--expiring-notice", "0",
		"--smtp-url", "smtp://" + relay.Addr + "?starttls=false", "--smtp-from", "Gatehouse <gatehouse@example.com>"}

	srv := startBinary(t, failpointBinary(t), append(env, "GATEHOUSE_FAILPOINT=exit-after-commit:emergency.grant"), "listening on", args...)
	expect(t, gh(t, srv.url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, srv.url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	expect(t, gh(t, srv.url, admin, "reconcile", "--wait"), 0, "Converged.")
	expect(t, gh(t, srv.url, admin, "identities", "roles", "oncall@example.com", "--set", "operator"), 0)
	r := gh(t, srv.url, admin, "token", "create", "--for", "oncall@example.com")
	expect(t, r, 0)
	oncall := strings.TrimSpace(r.stdout)

	// The grant commits, and the process is gone before it answers.
	r = gh(t, srv.url, oncall, "emergency", "grant", "--for", "dev@example.com", "--entitlement", "dir/dba",
		"--reason", "INC-4711 payments database down", "--duration", "25s")
	if r.code == 0 {
		t.Fatalf("the grant was answered: the failpoint did not stop the server\n%s", r)
	}
	select {
	case err := <-srv.done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 86 || !strings.Contains(srv.stderr.String(), "failpoint: exit right after the commit of emergency.grant") {
			t.Fatalf("server exited with %v, want the failpoint's exit 86\nstderr:\n%s", err, srv.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not exit at the failpoint")
	}
	died := time.Now()
	c := slapd.Conn(t)
	if slices.Contains(groupMembers(t, c, "dba"), "dev") || len(relay.Messages()) != 0 {
		t.Fatalf("something ran before the crash: dba %v, %d mails", groupMembers(t, c, "dba"), len(relay.Messages()))
	}

	// Started again (the ordinary binary): the committed jobs run.
	srv = start(t, env, "listening on", args...)
	defer srv.stop(t)
	expect(t, gh(t, srv.url, admin, "grants", "list", "--entitlement", "dir/dba"), 0, "dev@example.com", "EMG-000001")
	in := waitMember(t, c, "dba", "dev", true, 30*time.Second)
	t.Logf("crash → membership in slapd after the restart: %s", in.Sub(died).Round(time.Millisecond))
	mails := relay.Wait(t, 1, 30*time.Second)
	if subject, _ := mailText(t, mails[0]); strings.Join(mails[0].To, ",") != "sec@example.com" ||
		!strings.Contains(subject, "[EMG-000001] EMERGENCY access granted") {
		t.Fatalf("mail to %v: %q, want security told of EMG-000001", mails[0].To, subject)
	}
	// The expiry comes from the job committed with the grant: the sweep runs hourly.
	gone := waitMember(t, c, "dba", "dev", false, 60*time.Second)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r := gh(t, srv.url, admin, "audit", "list", "--action", "grant.expire")
		if r.code == 0 && strings.Contains(r.stdout, "EMG-000001") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no grant.expire event for EMG-000001: %s", r)
		}
	}
	expires := died.Add(25 * time.Second) // at most: the grant was written before the crash
	if gone.After(expires.Add(20 * time.Second)) {
		t.Errorf("membership removed %s after the latest possible expiry, want the scheduled job (the sweep is hourly)",
			gone.Sub(expires).Round(time.Millisecond))
	}
	t.Logf("crash → expired membership removed: %s", gone.Sub(died).Round(time.Millisecond))
	// Told once: the message was committed once, and delivered once.
	time.Sleep(2 * time.Second)
	if n := len(relay.Messages()); n != 1 {
		t.Errorf("%d mails, want security told exactly once", n)
	}
	expect(t, gh(t, srv.url, admin, "audit", "verify"), 0)
}
