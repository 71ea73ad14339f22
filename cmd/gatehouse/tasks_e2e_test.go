package main

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestManualTasksEndToEnd runs a manual system as a new user would: `gatehouse serve`, a
// catalog with a manual system, an HR import, `reconcile --wait` (converged: waiting for
// people is not failing), `tasks list`, `tasks complete` with an evidence file, and a second
// reconcile that asks nobody again.
func TestManualTasksEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	write := fileWriter(t, dir)
	cat := write("catalog.yaml", `
systems:
  - id: badge
    name: Badge system
    owner: p0@example.com
    tier: high
    connector: {type: manual, assignee: p0@example.com, instructions: Use the badge console in room 1.}
entitlements:
  - {id: badge/front-door, system: badge, name: Front door, kind: group, risk: standard, external_id: Front Door}
roles:
  - {id: eng, name: Engineering, entitlements: [badge/front-door], birthright: 'identity.department == "Eng"'}
`)
	hr := write("hr.csv", "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"+
		"E0,p0@example.com,P,0,IT,Staff,,HQ,employee,active,2020-01-01,\n"+
		"E1,p1@example.com,P,1,Eng,Staff,,HQ,employee,active,2020-01-01,\n")
	evidence := write("badge.txt", "badge 4711 issued to p1\n")
	sum := sha256.Sum256([]byte("badge 4711 issued to p1\n"))

	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	url := srv.url
	expect(t, gh(t, url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	expect(t, gh(t, url, admin, "reconcile", "--system", "badge", "--wait"), 0, "Converged.")

	r := gh(t, url, admin, "tasks", "list")
	expect(t, r, 0, "create_account", "add_member", "p1@example.com", "Front Door", "2 tasks, 0 overdue")
	t.Logf("tasks list:\n%s%s", r.stdout, r.stderr)
	expect(t, gh(t, url, admin, "ops", "list", "--system", "badge"), 0, "pending", "waiting for TASK-")
	refs := regexp.MustCompile(`TASK-\d{6}`).FindAllString(r.stdout, -1)
	if len(refs) != 2 {
		t.Fatalf("task references in the list: %v", refs)
	}

	expect(t, gh(t, url, admin, "tasks", "complete", refs[0]), 2, "--note")
	for _, ref := range refs {
		expect(t, gh(t, url, admin, "tasks", "complete", ref, "--note", "Badge issued", "--evidence-file", evidence), 0,
			"done", hex.EncodeToString(sum[:]))
	}
	expect(t, gh(t, url, admin, "tasks", "complete", refs[0], "--note", "again"), 1, "not open")

	// Done is applied: the next reconcile asks for nothing, and the operations are applied.
	expect(t, gh(t, url, admin, "reconcile", "--system", "badge", "--wait"), 0, "Converged.")
	expect(t, gh(t, url, admin, "tasks", "list"), 0, "0 tasks, 0 overdue")
	r = gh(t, url, admin, "tasks", "list", "--all")
	expect(t, r, 0, "done")
	if n := strings.Count(r.stdout, "TASK-"); n != 2 {
		t.Fatalf("tasks after the second reconcile: %d, want the same 2:\n%s", n, r.stdout)
	}
	r = gh(t, url, admin, "ops", "list", "--system", "badge")
	expect(t, r, 0, "applied")
	if strings.Contains(r.stdout, "pending") {
		t.Fatalf("operations still pending after their tasks were done:\n%s", r.stdout)
	}
	expect(t, gh(t, url, admin, "tasks", "show", refs[0]), 0, "Use the badge console in room 1.", "Badge issued")
	srv.stop(t)
}
