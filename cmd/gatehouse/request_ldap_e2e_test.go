package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestAccessRequestLDAPEndToEnd is issue 5's "done" against slapd: an employee's request,
// approved by their manager and the owner, appears in the directory and the request becomes
// fulfilled; a privileged request needs security too, and its membership goes when it expires;
// an SoD conflict is blocked.
func TestAccessRequestLDAPEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Run("sqlite", func(t *testing.T) { testAccessRequestLDAP(t, "sqlite:"+filepath.Join(t.TempDir(), "gh.db")) })
	t.Run("postgres", func(t *testing.T) { testAccessRequestLDAP(t, storetest.NewPostgresSchema(t)) })
}

func testAccessRequestLDAP(t *testing.T, db string) {
	slapd := ldaptest.Start(t, ldaptest.Options{})
	set := slapd.Settings()
	dir := t.TempDir()
	write := fileWriter(t, dir)
	cat := write("catalog.yaml", fmt.Sprintf(`
settings:
  security_approvers: [sec@example.com]
systems:
  - id: dir
    name: Corporate Directory
    owner: owner@example.com
    tier: critical
    connector: {type: ldap, url: %q, bind_dn: %q, bind_password_file: %q, users_dn: %q, groups_dn: %q,
                disabled_dn: %q, flavor: openldap, timeout: 2s}
entitlements:
  - {id: dir/staff, system: dir, name: Staff, kind: group, risk: standard, requestable: false, external_id: "cn=staff,%s"}
  - {id: dir/finance, system: dir, name: Finance, kind: group, risk: standard, requestable: true, approval: [manager, owner], external_id: "cn=finance,%s"}
  - {id: dir/payments, system: dir, name: Payments, kind: group, risk: sensitive, requestable: true, approval: [owner], external_id: "cn=payments,%s"}
  - {id: dir/oncall, system: dir, name: On-call admins, kind: group, risk: privileged, requestable: true, max_duration: 8h,
     approval: [manager], external_id: "cn=oncall,%s"}
roles:
  - {id: all-staff, name: All staff, entitlements: [dir/staff], birthright: 'identity.status == "active"'}
sod:
  - {id: finance-vs-payments, left: [dir/finance], right: [dir/payments], severity: critical, on_violation: block}
`, set["url"], set["bind_dn"], set["bind_password_file"], set["users_dn"], set["groups_dn"], set["disabled_dn"],
		ldaptest.GroupsDN, ldaptest.GroupsDN, ldaptest.GroupsDN, ldaptest.GroupsDN))
	hr := write("hr.csv", "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"+
		"E0,owner@example.com,O,Owner,IT,Staff,,HQ,employee,active,2020-01-01,\n"+
		"E1,boss@example.com,B,Boss,Fin,Lead,,HQ,employee,active,2020-01-01,\n"+
		"E2,emp@example.com,E,Emp,Fin,Analyst,E1,HQ,employee,active,2021-01-01,\n"+
		"E3,sec@example.com,S,Sec,Security,Analyst,,HQ,employee,active,2021-01-01,\n")
	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", db, "--reconcile-interval", "0")
	url := srv.url
	expect(t, gh(t, url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")
	c := slapd.Conn(t)
	token := func(email string) string {
		r := gh(t, url, admin, "token", "create", "--for", email)
		expect(t, r, 0)
		return strings.TrimSpace(r.stdout)
	}
	emp, boss, owner, sec := token("emp@example.com"), token("boss@example.com"), token("owner@example.com"), token("sec@example.com")

	// Standard access: manager, then owner; the directory follows, and the request is fulfilled.
	expect(t, gh(t, url, emp, "request", "create", "--entitlement", "dir/finance", "--justification", "month-end close of the Q1 books"), 0,
		"REQ-000001 pending_approval")
	expect(t, gh(t, url, emp, "request", "approve", "REQ-000001"), 1, "no one decides")
	expect(t, gh(t, url, boss, "request", "approve", "REQ-000001", "--comment", "ok"), 0, "Next: the owner step")
	approved := time.Now()
	expect(t, gh(t, url, owner, "request", "approve", "REQ-000001", "--comment", "ok"), 0, "provisioning")
	in := waitMember(t, c, "finance", "emp", true, 10*time.Second)
	t.Logf("final approval → membership in slapd: %s", in.Sub(approved).Round(time.Millisecond))
	if d := in.Sub(approved); d > 2*time.Second {
		t.Errorf("membership appeared %s after the final approval, want under 2s", d)
	}
	deadline := time.Now().Add(10 * time.Second)
	var r result
	for {
		r = gh(t, url, emp, "request", "show", "REQ-000001")
		if strings.Contains(r.stdout, "fulfilled") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	expect(t, r, 0, "fulfilled", "Time to provision:")

	// SoD: finance holders may not get payments.
	expect(t, gh(t, url, emp, "request", "create", "--entitlement", "dir/payments", "--justification", "pay the Q1 vendor invoices"), 1,
		"blocked by SoD rule finance-vs-payments")

	// Privileged: a duration is required, security is always asked, and it ends on time.
	expect(t, gh(t, url, emp, "request", "create", "--entitlement", "dir/oncall", "--justification", "on-call for the payments release"), 1, "privileged")
	r = gh(t, url, emp, "request", "create", "--entitlement", "dir/oncall", "--duration", "3s", "--justification", "on-call for the payments release")
	expect(t, r, 0, "REQ-000002 pending_approval", "security", "sec@example.com")
	expect(t, gh(t, url, boss, "request", "approve", "REQ-000002"), 0, "Next: the security step")
	expect(t, gh(t, url, sec, "request", "approve", "REQ-000002", "--comment", "3 seconds is fine"), 0, "provisioning")
	waitMember(t, c, "oncall", "emp", true, 10*time.Second)
	waitMember(t, c, "oncall", "emp", false, 30*time.Second)
	expect(t, gh(t, url, admin, "audit", "verify"), 0)
	srv.stop(t)
}
