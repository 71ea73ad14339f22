package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExceptionsEndToEnd runs `gatehouse exceptions` against `gatehouse serve`: a request that
// breaks an SoD exception rule is refused, an exception is recorded, refused to its requester
// and approved by the security approver, and the same request then goes through, naming the
// exception; the list shows it as expiring within its window.
func TestExceptionsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	write := fileWriter(t, dir)
	hr := write("hr.csv", "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"+
		"E0,sec@example.com,Sam,Sec,Security,Analyst,,HQ,employee,active,2020-01-01,\n"+
		"E1,ops@example.com,Oli,Ops,IT,Ops,,HQ,employee,active,2020-01-01,\n"+
		"E2,emp@example.com,Emil,Emp,Finance,Clerk,E0,HQ,employee,active,2021-01-01,\n")
	cat := write("catalog.yaml", `
settings:
  security_approvers: [sec@example.com]
systems:
  - {id: pay, name: Payments, owner: sec@example.com, tier: high, connector: {type: manual, assignee: sec@example.com}}
entitlements:
  - {id: pay/create, system: pay, name: Create payments, kind: group, risk: standard, requestable: true, approval: [owner]}
  - {id: pay/approve, system: pay, name: Approve payments, kind: group, risk: standard, requestable: true, approval: [owner]}
sod:
  - {id: maker-checker, left: [pay/create], right: [pay/approve], severity: critical, on_violation: exception}
`)
	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	url := srv.url
	expect(t, gh(t, url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	expect(t, gh(t, url, admin, "identities", "roles", "ops@example.com", "--set", "operator", "--reason", "e2e"), 0)
	token := func(email string) string {
		r := gh(t, url, admin, "token", "create", "--for", email)
		expect(t, r, 0)
		return strings.TrimSpace(r.stdout)
	}
	emp, ops, sec := token("emp@example.com"), token("ops@example.com"), token("sec@example.com")
	expect(t, gh(t, url, admin, "grants", "create", "--identity", "emp@example.com", "--entitlement", "pay/create",
		"--reference", "CHG-1", "--reason", "e2e"), 0)
	ask := []string{"request", "create", "--entitlement", "pay/approve", "--justification", "approve the vendor run while the controller is away"}

	expect(t, gh(t, url, emp, ask...), 1, "need an approved exception", "gatehouse exceptions create")
	expect(t, gh(t, url, ops, "exceptions", "create", "--for", "emp@example.com", "--rule", "maker-checker",
		"--rationale", "month-end cover"), 2, "--expires")
	expect(t, gh(t, url, ops, "exceptions", "create", "--for", "emp@example.com", "--rule", "maker-checker",
		"--rationale", "month-end cover while the controller is away", "--controls", "CFO reviews every payment weekly",
		"--expires", "30d", "--review", "14d"), 0, "EXC-000001 pending for emp@example.com", "on expiry revoke")
	expect(t, gh(t, url, emp, ask...), 1, "need an approved exception")
	expect(t, gh(t, url, ops, "exceptions", "approve", "EXC-000001", "--comment", "mine"), 1, "no one decides an exception they asked for")
	expect(t, gh(t, url, emp, "exceptions", "approve", "EXC-000001", "--comment", "mine"), 1, "concerns them")
	expect(t, gh(t, url, sec, "exceptions", "approve", "EXC-000001"), 2, "--comment is required")
	expect(t, gh(t, url, sec, "exceptions", "approve", "EXC-000001", "--comment", "controls checked"), 0, "EXC-000001: approved")

	expect(t, gh(t, url, emp, ask...), 0, "REQ-000001 pending_approval")
	expect(t, gh(t, url, sec, "request", "show", "REQ-000001"), 0, "maker-checker", "allowed by exception EXC-000001")
	expect(t, gh(t, url, sec, "request", "approve", "REQ-000001", "--comment", "under EXC-000001"), 0, "provisioning")
	r := gh(t, url, sec, "exceptions", "show", "EXC-000001")
	expect(t, r, 0, "month-end cover", "CFO reviews every payment weekly", "sec@example.com", "Grants")

	expect(t, gh(t, url, sec, "exceptions", "list", "--expiring", "31d"), 0, "EXC-000001", "approved", "emp@example.com", "maker-checker")
	if out := gh(t, url, sec, "exceptions", "list", "--expiring", "29d"); strings.Contains(out.stdout, "EXC-000001") {
		t.Fatalf("29d lists an exception expiring in 30d:\n%s", out.stdout)
	}
	expect(t, gh(t, url, emp, "exceptions", "list", "--status", "approved"), 0, "EXC-000001")
	expect(t, gh(t, url, admin, "audit", "list", "--action", "exception."), 0, "exception.create", "exception.approve", "exception.use", "EXC-000001")
	// Ending it early takes the access it allowed away.
	expect(t, gh(t, url, sec, "exceptions", "revoke", "EXC-000001", "--comment", "controller is back"), 0, "EXC-000001: revoked")
	if out := gh(t, url, admin, "grants", "list", "--identity", "emp@example.com"); out.code != 0 || !strings.Contains(out.stdout, "pay/create") ||
		strings.Contains(out.stdout, "pay/approve") {
		t.Fatalf("pay/approve still active after the revoke:\n%s", out.stdout)
	}
	expect(t, gh(t, url, admin, "audit", "list", "--action", "grant.revoke"), 0, "EXC-000001")
	expect(t, gh(t, url, admin, "audit", "verify"), 0)
}
