package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeCleanRestartDoesNotReconcileAgain: a reconcile queued by an HR import finishes, the
// server is stopped cleanly (SIGINT) a few seconds later and started again on the same
// database: no reconcile runs at the new start. The schedule (an hour here) is not due: its
// run at start skips the systems reconciled less than an interval ago. A benchmark found a
// full run of every system at each start.
func TestServeCleanRestartDoesNotReconcileAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	write := fileWriter(t, dir)
	cat := write("catalog.yaml", `
systems:
  - id: pay
    name: Payments
    owner: p0@example.com
    tier: standard
    connector: {type: manual, assignee: p0@example.com}
entitlements:
  - {id: pay/users, system: pay, name: Payments users, kind: group, risk: standard, external_id: pay-users}
roles:
  - {id: all-staff, name: All staff, entitlements: [pay/users], birthright: 'identity.status == "active"'}
`)
	header := "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"
	hr := write("hr.csv", header+"E0,p0@example.com,P,0,IT,Staff,,HQ,employee,active,2020-01-01,\n")
	hr2 := write("hr2.csv", header+"E0,p0@example.com,P,0,IT,Staff,,HQ,employee,active,2020-01-01,\n"+
		"E1,p1@example.com,P,1,IT,Staff,,HQ,employee,active,2020-01-01,\n")

	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	addr := freeAddr(t)
	env := []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}
	args := []string{"serve", "--db", "sqlite:" + filepath.Join(dir, "gh.db"), "--reconcile-interval", "1h"}
	srv := startAt(t, addr, env, args...)
	url := "http://" + addr
	expect(t, gh(t, url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")

	// The HR import's reconcile: wait for it to log, then stop cleanly 3s later.
	before := strings.Count(srv.stderr.String(), "reconciled")
	expect(t, gh(t, url, admin, "hr", "import", hr2), 0)
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(srv.stderr.String(), "reconciled") == before {
		if time.Now().After(deadline) {
			t.Fatalf("the HR import's reconcile never ran\nstderr:\n%s", srv.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	srv.stop(t)

	srv = startAt(t, addr, env, args...)
	defer srv.stop(t)
	time.Sleep(4 * time.Second)
	if log := srv.stderr.String(); strings.Contains(log, "reconciled") || strings.Contains(log, "interrupted") {
		t.Errorf("a reconcile ran at the restart:\n%s", log)
	}
}
