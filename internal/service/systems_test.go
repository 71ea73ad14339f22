package service_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestSystemTestAndStatus tests systems against a real slapd: a good one passes, a broken one
// fails with the kind that says what to fix; only operators may test (it uses the system's
// credentials), readers see the status, and the status shows the last reconcile's evidence.
func TestSystemTestAndStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	slapd := ldaptest.Start(t, ldaptest.Options{})
	set := slapd.Settings()
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ldapSystem := func(id, url, password, groups string) string {
		return fmt.Sprintf(`
  - id: %s
    name: %s
    owner: owner@example.com
    tier: standard
    connector: {type: ldap, url: %q, bind_dn: %q, bind_password_file: %q, users_dn: %q, groups_dn: %q,
                disabled_dn: %q, flavor: openldap, timeout: 2s}`, id, id, url, set["bind_dn"], password, set["users_dn"], groups, set["disabled_dn"])
	}
	pw := set["bind_password_file"].(string)
	cat := "systems:" +
		ldapSystem("dir", slapd.URL, pw, ldaptest.GroupsDN) +
		ldapSystem("badpw", slapd.URL, wrong, ldaptest.GroupsDN) +
		ldapSystem("down", "ldap://"+closedAddr(t), pw, ldaptest.GroupsDN) +
		ldapSystem("nogroups", slapd.URL, pw, "ou=groupz,"+ldaptest.BaseDN) + `
  - id: desk
    name: Badge desk
    owner: owner@example.com
    tier: standard
    connector: {type: manual, assignee: desk@example.com}
entitlements:
  - {id: dir/staff, system: dir, name: Staff, kind: group, risk: standard, external_id: "cn=staff,` + ldaptest.GroupsDN + `"}
  - {id: desk/badge, system: desk, name: Badge, kind: group, risk: standard, external_id: Badge}
roles:
  - {id: all-staff, name: All staff, entitlements: [dir/staff, desk/badge], birthright: 'identity.status == "active"'}
`
	st := storetest.OpenSQLite(t)
	open := func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		return connectors.OpenSystem(ctx, sys, provision.Tasks{Store: st}, nil)
	}
	// The secret files live in test temporary directories: that is the secrets directory here.
	svc := service.New(st, service.Options{Open: open, Secrets: &connector.SecretPolicy{Dir: os.TempDir()}})
	sys := service.SystemPrincipal("test")
	for _, id := range []*gatehouse.Identity{
		{EmployeeID: "E1", Email: "owner@example.com", FirstName: "Olive", LastName: "Owner"},
		{EmployeeID: "E2", Email: "ann@example.com", FirstName: "Ann", LastName: "Able"},
	} {
		if _, err := svc.CreateIdentity(ctx, sys, id, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.ApplyCatalog(ctx, sys, []catalog.File{{Name: "c.yaml", Content: []byte(cat)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	operator := &gatehouse.Principal{Email: "op@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}
	auditor := &gatehouse.Principal{Email: "au@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAuditor}}
	employee := &gatehouse.Principal{Email: "ann@example.com"}

	for _, p := range []*gatehouse.Principal{auditor, employee} {
		if _, err := svc.TestSystem(ctx, p, "dir"); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
			t.Errorf("TestSystem as %s: err = %v, want forbidden", p.Email, err)
		}
	}
	if _, err := svc.TestSystem(ctx, nil, "dir"); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHORIZED {
		t.Errorf("TestSystem signed out: err = %v, want unauthorized", err)
	}
	if _, err := svc.TestSystem(ctx, operator, "nope"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("TestSystem of an unknown system: err = %v, want not found", err)
	}

	tests := []struct {
		system  string
		ok      bool
		failure connector.Failure
		step    string
		detail  string
	}{
		{"dir", true, "", "", ""},
		{"badpw", false, connector.FailCredentials, "bind", "Invalid Credentials"},
		{"down", false, connector.FailUnreachable, "connect", "connection refused"},
		{"nogroups", false, connector.FailConfig, "read groups_dn", "ou=groupz"},
		{"desk", true, "", "", ""},
	}
	for _, tt := range tests {
		res, err := svc.TestSystem(ctx, operator, tt.system)
		if err != nil {
			t.Fatalf("TestSystem(%s): %v", tt.system, err)
		}
		if res.OK != tt.ok || res.Failure != tt.failure || res.Step != tt.step || !strings.Contains(res.Detail, tt.detail) {
			t.Errorf("TestSystem(%s) = ok %v, failure %q, step %q, detail %q; want %v, %q, %q, detail with %q",
				tt.system, res.OK, res.Failure, res.Step, res.Detail, tt.ok, tt.failure, tt.step, tt.detail)
		}
		if !tt.ok && res.Explanation != tt.failure.Explain() {
			t.Errorf("TestSystem(%s) explanation = %q", tt.system, res.Explanation)
		}
		if strings.Contains(res.Detail, ldaptest.AdminPassword) {
			t.Errorf("TestSystem(%s) detail shows the password: %s", tt.system, res.Detail)
		}
	}
	if res, _ := svc.TestSystem(ctx, operator, "dir"); !strings.Contains(res.Checked, "groups_dn") || len(res.Capabilities) == 0 {
		t.Errorf("passing test says %q, capabilities %v", res.Checked, res.Capabilities)
	}
	if res, _ := svc.TestSystem(ctx, operator, "desk"); !strings.Contains(res.Checked, "desk@example.com") {
		t.Errorf("manual system test says %q, want the assignee", res.Checked)
	}

	// Status: nothing before the first reconcile; the evidence of one after it.
	if _, err := svc.SystemStatus(ctx, employee, "dir"); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Errorf("SystemStatus as an employee: err = %v, want forbidden", err)
	}
	s0, err := svc.SystemStatus(ctx, auditor, "dir")
	if err != nil || s0.LastRun != nil || len(s0.Operations) != 0 {
		t.Fatalf("status before any reconcile = %+v, %v", s0, err)
	}
	rec := &provision.Reconciler{Store: st, Open: open}
	if _, err := rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: "test"}); err != nil {
		t.Fatal(err)
	}
	s1, err := svc.SystemStatus(ctx, auditor, "dir")
	if err != nil {
		t.Fatal(err)
	}
	if s1.LastRun == nil || s1.LastRun.Status != gatehouse.ReconcileConverged || s1.LastRun.Applied != 4 || len(s1.Runs) != 1 {
		t.Fatalf("last run = %+v, runs %d; want converged with 4 applied (2 accounts, 2 memberships)", s1.LastRun, len(s1.Runs))
	}
	if len(s1.Operations) != 4 || s1.Operations[0].Status != gatehouse.OpApplied {
		t.Fatalf("operations = %d, first %+v", len(s1.Operations), s1.Operations[0])
	}
	// A manual system counts the tasks waiting for its people.
	if _, err := rec.Reconcile(ctx, "desk", provision.RunOptions{Cause: "test"}); err != nil {
		t.Fatal(err)
	}
	desk, err := svc.SystemStatus(ctx, auditor, "desk")
	if err != nil {
		t.Fatal(err)
	}
	if desk.OpenTasks == 0 || desk.OverdueTasks != 0 || len(desk.Operations) == 0 {
		t.Errorf("desk status: %d open tasks, %d overdue, %d operations; want open tasks, none overdue",
			desk.OpenTasks, desk.OverdueTasks, len(desk.Operations))
	}
}

func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
