package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSoDViolationsEndToEnd runs `gatehouse sod violations` against `gatehouse serve`: nobody in
// violation exits 0; a direct grant that completes a conflicting pair is listed with its rule's
// mode and exits 1, as drift does; filters narrow it; an employee is refused.
func TestSoDViolationsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	write := fileWriter(t, dir)
	cat := write("catalog.yaml", `
systems:
  - {id: pay, name: Payments, owner: p0@example.com, tier: critical, connector: {type: manual, assignee: p0@example.com}}
entitlements:
  - {id: pay/create, system: pay, name: Create payments, kind: group, risk: standard}
  - {id: pay/approve, system: pay, name: Approve payments, kind: group, risk: standard}
  - {id: pay/view, system: pay, name: View payments, kind: group, risk: standard}
sod:
  - {id: maker-checker, left: [pay/create], right: [pay/approve], severity: critical, on_violation: record}
  - {id: view-vs-approve, left: [pay/view], right: [pay/approve], severity: low, on_violation: block}
`)
	full, err := os.ReadFile(cat)
	if err != nil {
		t.Fatal(err)
	}
	without := write("catalog-without-block.yaml", strings.Replace(string(full), "  - {id: view-vs-approve", "  # - {id: view-vs-approve", 1))
	hr := write("hr.csv", "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"+
		"E0,p0@example.com,P,0,IT,Staff,,HQ,employee,active,2020-01-01,\n"+
		"E1,p1@example.com,P,1,Finance,Clerk,E0,HQ,employee,active,2020-01-01,\n"+
		"E2,p2@example.com,P,2,Finance,Clerk,E0,HQ,employee,active,2020-01-01,\n")

	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	url := srv.url
	expect(t, gh(t, url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	grant := func(who, ent string) {
		t.Helper()
		expect(t, gh(t, url, admin, "grants", "create", "--identity", who, "--entitlement", ent,
			"--reference", "EXC-SOD", "--reason", "e2e"), 0)
	}
	grant("p1@example.com", "pay/create")
	grant("p2@example.com", "pay/approve")
	expect(t, gh(t, url, admin, "sod", "violations"), 0, "0 violations")

	// p1 now makes and checks payments; the record rule reports it, nothing stopped it.
	grant("p1@example.com", "pay/approve")
	// A block rule refuses a direct grant, so p2's pair predates the rule: granted under a
	// catalog without it, which is then applied again with it.
	expect(t, gh(t, url, admin, "grants", "create", "--identity", "p2@example.com", "--entitlement", "pay/view",
		"--reference", "EXC-SOD", "--reason", "e2e"), 1, "blocked by SoD rule view-vs-approve")
	expect(t, gh(t, url, admin, "catalog", "apply", without, "--reason", "e2e"), 0)
	grant("p2@example.com", "pay/view")
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	r := gh(t, url, admin, "sod", "violations")
	expect(t, r, 1, "RULE", "SEVERITY", "MODE", "IDENTITY", "LEFT", "RIGHT",
		"2 violations by 2 identities (1 block, 1 record)")
	t.Logf("sod violations:\n%s%s", r.stdout, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "maker-checker") || !strings.Contains(lines[1], "record") ||
		!strings.Contains(lines[1], "p1@example.com") || !strings.HasPrefix(lines[2], "view-vs-approve") ||
		!strings.Contains(lines[2], "p2@example.com") {
		t.Fatalf("table rows, by rule then identity:\n%s", r.stdout)
	}

	r = gh(t, url, admin, "sod", "violations", "--rule", "maker-checker", "-o", "json")
	expect(t, r, 1)
	var rep struct {
		Items []struct {
			Rule, Email, Left, Right string
			LeftGrants               []struct{ Reference string } `json:"left_grants"`
		}
		Count int
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Count != 1 || len(rep.Items) != 1 ||
		rep.Items[0].Email != "p1@example.com" || rep.Items[0].Right != "pay/approve" || rep.Items[0].LeftGrants[0].Reference != "EXC-SOD" {
		t.Fatalf("sod violations -o json: %v\n%s", err, r)
	}
	expect(t, gh(t, url, admin, "sod", "violations", "--identity", "p0@example.com"), 0, "0 violations")
	expect(t, gh(t, url, admin, "sod", "violations", "--rule", "nope"), 1, "error: ")

	tok := gh(t, url, admin, "token", "create", "--for", "p1@example.com", "--ttl", "1h")
	expect(t, tok, 0)
	expect(t, gh(t, url, strings.TrimSpace(tok.stdout), "sod", "violations"), 1, "error: this needs the auditor, operator or admin role")
}
