package main

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
)

// TestSystemsTestEndToEnd is issue 4's "a system owner finds out what is wrong with a
// connector": `gatehouse systems test` against a real slapd, with the real binary, for a good
// system and three broken ones (wrong port, wrong password, a groups_dn that does not exist),
// then `systems status` after a reconcile.
func TestSystemsTestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	slapd := ldaptest.Start(t, ldaptest.Options{})
	set := slapd.Settings()
	dir := t.TempDir()
	write := fileWriter(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	wrongPW := write("wrong_password", "not-the-password\n")
	system := func(id, url, password, groups string) string {
		return fmt.Sprintf(`
  - id: %s
    name: %s
    owner: p0@example.com
    tier: standard
    connector: {type: ldap, url: %q, bind_dn: %q, bind_password_file: %q, users_dn: %q, groups_dn: %q,
                disabled_dn: %q, flavor: openldap, timeout: 2s}`, id, id, url, set["bind_dn"], password, set["users_dn"], groups, set["disabled_dn"])
	}
	pw := set["bind_password_file"].(string)
	cat := write("catalog.yaml", "systems:"+
		system("dir", slapd.URL, pw, ldaptest.GroupsDN)+
		system("dir-port", "ldap://"+closed, pw, ldaptest.GroupsDN)+
		system("dir-password", slapd.URL, wrongPW, ldaptest.GroupsDN)+
		system("dir-groups", slapd.URL, pw, "ou=groupz,"+ldaptest.BaseDN)+`
entitlements:
  - {id: dir/staff, system: dir, name: Staff, kind: group, risk: standard, external_id: "cn=staff,`+ldaptest.GroupsDN+`"}
roles:
  - {id: all-staff, name: All staff, entitlements: [dir/staff], birthright: 'identity.status == "active"'}
`)
	hr := write("hr.csv", "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"+
		"E0,p0@example.com,P,0,IT,Staff,,HQ,employee,active,2020-01-01,\n"+
		"E1,p1@example.com,P,1,Eng,Staff,,HQ,employee,active,2020-01-01,\n")

	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	url := srv.url
	expect(t, gh(t, url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)

	r := gh(t, url, admin, "systems", "test", "dir")
	expect(t, r, 0, "dir (ldap): OK in ", "ms — bind, users_dn, groups_dn, disabled_dn readable")
	t.Logf("systems test dir:\n%s", r.stdout)

	r = gh(t, url, admin, "systems", "test", "dir-port")
	expect(t, r, 1, "dir-port (ldap): FAILED at connect: unreachable", "Gatehouse cannot reach the server", "connection refused")
	t.Logf("systems test dir-port:\n%s", r.stdout)

	r = gh(t, url, admin, "systems", "test", "dir-password")
	expect(t, r, 1, "FAILED at bind: credentials", "The server refused the credentials", "Invalid Credentials")
	t.Logf("systems test dir-password:\n%s", r.stdout)

	r = gh(t, url, admin, "systems", "test", "dir-groups")
	expect(t, r, 1, "FAILED at read groups_dn: config", "A connector setting is wrong or missing", "ou=groupz")
	t.Logf("systems test dir-groups:\n%s", r.stdout)

	r = gh(t, url, admin, "systems", "test", "dir-password", "-o", "json")
	expect(t, r, 1)
	var res struct {
		OK          bool   `json:"ok"`
		Failure     string `json:"failure"`
		Step        string `json:"step"`
		Explanation string `json:"explanation"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("systems test -o json: %v\n%s", err, r.stdout)
	}
	if res.OK || res.Failure != "credentials" || res.Step != "bind" || res.Explanation == "" {
		t.Fatalf("systems test -o json = %+v", res)
	}
	expect(t, gh(t, url, admin, "systems", "test", "nope"), 1, "not found")

	// The status shows the evidence of the last reconcile. The catalog apply enqueued one
	// already, so the run --wait waits for may have nothing left to do: the operations are
	// those of both.
	expect(t, gh(t, url, admin, "reconcile", "--system", "dir", "--wait"), 0, "Converged.")
	// A second run reads the converged directory: its inventory is the last one shown.
	expect(t, gh(t, url, admin, "reconcile", "--system", "dir", "--wait"), 0, "Converged.")
	r = gh(t, url, admin, "systems", "status", "dir")
	expect(t, r, 0, "last inventory:", "inventory size:", "2 accounts, 1 group", "(converged, took ", "operations:", "applied, 0 failed", "drift:", "none",
		"recent operations (4)", "create_account", "add_member")
	t.Logf("systems status dir:\n%s", r.stdout)
	srv.stop(t)
}
