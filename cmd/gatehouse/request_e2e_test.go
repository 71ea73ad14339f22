package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAccessRequestEndToEnd runs an access request as people would, with the real binary: an
// employee previews and submits, is refused self-approval, their manager and then the owner
// approve, the grant appears, the manual system's task is done, and the request becomes
// fulfilled on its own (gatehouse serve syncs requests with the provisioning evidence).
func TestAccessRequestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	write := fileWriter(t, dir)
	hr := write("hr.csv", "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"+
		"E0,owner@example.com,Olga,Owner,IT,Staff,,HQ,employee,active,2020-01-01,\n"+
		"E1,boss@example.com,Bea,Boss,Eng,Lead,,HQ,employee,active,2020-01-01,\n"+
		"E2,emp@example.com,Emil,Emp,Eng,Dev,E1,HQ,employee,active,2021-01-01,\n")
	cat := write("catalog.yaml", `
settings:
  security_approvers: [owner@example.com]
systems:
  - id: badge
    name: Badge system
    owner: owner@example.com
    tier: high
    connector: {type: manual, assignee: owner@example.com}
entitlements:
  - {id: badge/lab, system: badge, name: Lab door, kind: group, risk: standard, external_id: Lab, requestable: true, approval: [manager, owner]}
`)
	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	url := srv.url
	expect(t, gh(t, url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	token := func(email string) string {
		r := gh(t, url, admin, "token", "create", "--for", email)
		expect(t, r, 0)
		return strings.TrimSpace(r.stdout)
	}
	emp, boss, owner := token("emp@example.com"), token("boss@example.com"), token("owner@example.com")

	// Before submitting, the employee sees who will approve and why.
	expect(t, gh(t, url, emp, "request", "preview", "--entitlement", "badge/lab", "--justification", "run the soldering workshop on Friday"), 0,
		"manager", "boss@example.com", "manager of emp@example.com (HR)", "owner", "owner@example.com", "owner of badge/lab")
	// A generic justification is returned with what is missing; an invalid line is a usage error.
	expect(t, gh(t, url, emp, "request", "create", "--entitlement", "badge/lab", "--justification", "need access"), 0,
		"REQ-000001 returned", "what task needs it")
	expect(t, gh(t, url, emp, "request", "create", "--justification", "x"), 2, "--entitlement")
	expect(t, gh(t, url, emp, "request", "cancel", "REQ-000001"), 0, "cancelled")
	r := gh(t, url, emp, "request", "create", "--for", "emp@example.com", "--entitlement", "badge/lab",
		"--justification", "run the soldering workshop on Friday", "--priority", "high")
	expect(t, r, 0, "REQ-000002 pending_approval", "badge/lab")

	// Self-approval is refused; the owner may not skip the manager; the manager approves.
	expect(t, gh(t, url, emp, "request", "approve", "REQ-000002"), 1, "no one decides a request they submitted")
	expect(t, gh(t, url, owner, "request", "approve", "REQ-000002"), 1, "waits for its manager step")
	expect(t, gh(t, url, boss, "request", "list", "--pending-me"), 0, "REQ-000002", "emp@example.com")
	expect(t, gh(t, url, boss, "request", "deny", "REQ-000002"), 2, "--comment is required")
	expect(t, gh(t, url, boss, "request", "approve", "REQ-000002", "--comment", "workshop is planned"), 0,
		"pending_approval", "Next: the owner step (owner@example.com)")
	r = gh(t, url, owner, "request", "approve", "REQ-000002", "--comment", "ok")
	expect(t, r, 0, "REQ-000002: provisioning", "Grants:")
	expect(t, gh(t, url, emp, "grants", "list"), 0, "badge/lab", "REQ-000002")

	// Provisioning: the account and the membership are manual tasks; until they are done the
	// request stays provisioning, then it is fulfilled.
	expect(t, gh(t, url, admin, "reconcile", "--system", "badge", "--wait"), 0, "Converged.")
	refs := regexp.MustCompile(`TASK-\d{6}`).FindAllString(gh(t, url, admin, "tasks", "list").stdout, -1)
	if len(refs) != 2 {
		t.Fatalf("tasks after approval: %v, want create_account and add_member", refs)
	}
	time.Sleep(1500 * time.Millisecond) // a sync runs meanwhile, and must not fulfil it early
	expect(t, gh(t, url, emp, "request", "show", "REQ-000002"), 0, "State:             provisioning")
	for _, ref := range refs {
		expect(t, gh(t, url, admin, "tasks", "complete", ref, "--note", "done in the badge console"), 0)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		r = gh(t, url, emp, "request", "show", "REQ-000002")
		if strings.Contains(r.stdout, "fulfilled") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	expect(t, r, 0, "State:", "fulfilled", "Time to provision:", "approved:manager", "approved:owner", "provisioning")
	t.Logf("request show:\n%s", r.stdout)
	expect(t, gh(t, url, admin, "audit", "verify"), 0)
	expect(t, gh(t, url, admin, "request", "list", "--all", "-o", "json"), 0, `"ref": "REQ-000002"`, `"state": "fulfilled"`)
	srv.stop(t)
}
