package main

import (
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/connector/scim/scimtest"
)

// TestLDAPAndSCIMEndToEnd is issue 4's "done means", as a new user would try it: a catalog with
// one LDAP system and one SCIM system, an HR import, `reconcile --wait`; both targets hold
// exactly what the rules imply; a mover changes groups in both; a leaver is disabled in the
// directory and deactivated (active false, no groups) in the SCIM app. Real binary, real slapd,
// real SCIM server (SCIMMY).
func TestLDAPAndSCIMEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	scimtest.Require(t)
	slapd := ldaptest.Start(t, ldaptest.Options{})
	app := scimtest.Start(t, scimtest.Scimmy)
	set, sset := slapd.Settings(), app.Settings(t)
	dir := t.TempDir()
	write := fileWriter(t, dir)
	cat := write("catalog.yaml", fmt.Sprintf(`
settings:
  leaver_guard: {max_fraction: 0.9, min_count: 5}
systems:
  - id: dir
    name: Corporate Directory
    owner: p0@example.com
    tier: critical
    connector: {type: ldap, url: %q, bind_dn: %q, bind_password_file: %q, users_dn: %q, groups_dn: %q,
                disabled_dn: %q, flavor: openldap, timeout: 2s}
  - id: wiki
    name: Team Wiki
    owner: p0@example.com
    tier: standard
    connector: {type: scim, url: %q, token_file: %q, timeout: 5s}
entitlements:
  - {id: dir/staff, system: dir, name: Staff, kind: group, risk: standard, external_id: "cn=staff,%s"}
  - {id: dir/eng, system: dir, name: Engineering, kind: group, risk: standard, external_id: "cn=engineering,%s"}
  - {id: wiki/members, system: wiki, name: Wiki members, kind: group, risk: standard, external_id: wiki-members}
  - {id: wiki/eng, system: wiki, name: Wiki engineering space, kind: group, risk: standard, external_id: wiki-eng}
roles:
  - {id: all-staff, name: All staff, entitlements: [dir/staff, wiki/members], birthright: 'identity.status == "active"'}
  - {id: eng, name: Engineering, entitlements: [dir/eng, wiki/eng], birthright: 'identity.department == "Eng"'}
`, set["url"], set["bind_dn"], set["bind_password_file"], set["users_dn"], set["groups_dn"], set["disabled_dn"],
		sset["url"], sset["token_file"], ldaptest.GroupsDN, ldaptest.GroupsDN))
	row := func(n int, dept, status string) string {
		return fmt.Sprintf("E%d,p%d@example.com,P,%d,%s,Staff,,HQ,employee,%s,2020-01-01,\n", n, n, n, dept, status)
	}
	header := "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"
	hr1 := write("hr1.csv", header+row(0, "IT", "active")+row(1, "Eng", "active")+row(2, "Eng", "active")+row(3, "Sales", "active"))
	hr2 := write("hr2.csv", header+row(0, "IT", "active")+row(1, "Eng", "active")+row(2, "Sales", "active")+row(3, "Sales", "terminated"))

	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	url := srv.url
	expect(t, gh(t, url, admin, "hr", "import", hr1), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	expect(t, gh(t, url, admin, "systems", "test", "wiki"), 0, "OK")
	expect(t, gh(t, url, admin, "systems", "test", "dir"), 0, "OK")
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")
	wantDirectory(t, slapd, "enabled=[p0 p1 p2 p3] disabled=[] engineering=[p1 p2] staff=[p0 p1 p2 p3]")
	wantSCIM(t, app, "active=[p0 p1 p2 p3] inactive=[] wiki-eng=[p1 p2] wiki-members=[p0 p1 p2 p3]")

	// A mover (p2 to Sales) and a leaver (p3).
	expect(t, gh(t, url, admin, "hr", "import", hr2), 0)
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")
	wantDirectory(t, slapd, "enabled=[p0 p1 p2] disabled=[p3] engineering=[p1] staff=[p0 p1 p2]")
	wantSCIM(t, app, "active=[p0 p1 p2] inactive=[p3] wiki-eng=[p1] wiki-members=[p0 p1 p2]")
	expect(t, gh(t, url, admin, "ops", "list", "--system", "wiki"), 0, "disable", "remove_member", "applied")

	// A membership added by hand in the SCIM app is drift, removed by the next reconcile.
	p0 := scimUserID(t, app, "p0@example.com")
	gid := scimGroupID(t, app, "wiki-eng")
	if st, body := app.Do(t, "PATCH", "/Groups/"+gid, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "add", "path": "members", "value": []map[string]any{{"value": p0}}}},
	}); st/100 != 2 {
		t.Fatalf("out-of-band PATCH: %d %v", st, body)
	}
	expect(t, gh(t, url, admin, "reconcile", "--system", "wiki", "--wait"), 0, "Converged.")
	wantSCIM(t, app, "active=[p0 p1 p2] inactive=[p3] wiki-eng=[p1] wiki-members=[p0 p1 p2]")

	// A rotated token that Gatehouse was not told about: the check says so in plain words.
	tokenFile := fmt.Sprint(sset["token_file"])
	good, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte("not-the-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, gh(t, url, admin, "systems", "test", "wiki"), 1, "FAILED", "credentials", "refused the credentials")
	if err := os.WriteFile(tokenFile, good, 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, gh(t, url, admin, "systems", "test", "wiki"), 0, "OK")
	srv.stop(t)
}

// wantSCIM compares the SCIM app's users (by the local part of userName, split by active) and
// the members of wiki-eng and wiki-members with want.
func wantSCIM(t *testing.T, app *scimtest.Server, want string) {
	t.Helper()
	st, body := app.Do(t, "GET", "/Users?startIndex=1&count=1000", nil)
	if st != 200 {
		t.Fatalf("list users: %d %v", st, body)
	}
	var active, inactive []string
	local := map[string]string{}
	res, _ := body["Resources"].([]any)
	for _, r := range res {
		u := r.(map[string]any)
		name, _, _ := strings.Cut(fmt.Sprint(u["userName"]), "@")
		local[fmt.Sprint(u["id"])] = name
		if a, ok := u["active"].(bool); ok && !a {
			inactive = append(inactive, name)
		} else {
			active = append(active, name)
		}
	}
	slices.Sort(active)
	slices.Sort(inactive)
	got := fmt.Sprintf("active=%v inactive=%v", active, inactive)
	for _, g := range []string{"wiki-eng", "wiki-members"} {
		st, body := app.Do(t, "GET", "/Groups?filter="+neturl.QueryEscape(`displayName eq "`+g+`"`), nil)
		if st != 200 {
			t.Fatalf("group %s: %d %v", g, st, body)
		}
		var ms []string
		res, _ := body["Resources"].([]any)
		if len(res) == 1 {
			members, _ := res[0].(map[string]any)["members"].([]any)
			for _, m := range members {
				ms = append(ms, local[fmt.Sprint(m.(map[string]any)["value"])])
			}
		}
		slices.Sort(ms)
		got += fmt.Sprintf(" %s=%v", g, ms)
	}
	if got != want {
		t.Fatalf("SCIM app:\n got  %s\n want %s", got, want)
	}
}

func scimUserID(t *testing.T, app *scimtest.Server, userName string) string {
	t.Helper()
	st, body := app.Do(t, "GET", "/Users?filter="+neturl.QueryEscape(`userName eq "`+userName+`"`), nil)
	res, _ := body["Resources"].([]any)
	if st != 200 || len(res) != 1 {
		t.Fatalf("find user %s: %d %v", userName, st, body)
	}
	return fmt.Sprint(res[0].(map[string]any)["id"])
}

func scimGroupID(t *testing.T, app *scimtest.Server, name string) string {
	t.Helper()
	st, body := app.Do(t, "GET", "/Groups?filter="+neturl.QueryEscape(`displayName eq "`+name+`"`), nil)
	res, _ := body["Resources"].([]any)
	if st != 200 || len(res) != 1 {
		t.Fatalf("find group %s: %d %v", name, st, body)
	}
	return fmt.Sprint(res[0].(map[string]any)["id"])
}
