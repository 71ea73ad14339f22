package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// TestSCIMGroupsEndToEnd reviews IdP groups with the CLI: `gatehouse serve`, people from an HR
// import, groups pushed as a SCIM client would (through the service, on the server's database,
// as a second process), then `scim-groups list` and `show`.
func TestSCIMGroupsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	hr := filepath.Join(dir, "hr.csv")
	writeFile(t, hr, "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"+
		"E0,p0@example.com,P,0,IT,Staff,,HQ,employee,active,2020-01-01,\n"+
		"E1,p1@example.com,P,1,Eng,Staff,,HQ,employee,active,2020-01-01,\n")
	db := "sqlite:" + filepath.Join(dir, "gh.db")
	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on", "serve", "--db", db, "--reconcile-interval", "0")
	expect(t, gh(t, srv.url, admin, "hr", "import", hr), 0)

	ctx := context.Background()
	st, err := sqlstore.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := service.New(st, service.Options{})
	sa, err := svc.CreateIdentity(ctx, service.SystemPrincipal("e2e"), &gatehouse.Identity{Email: "okta@example.com",
		Kind: gatehouse.KindService}, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	idp := &gatehouse.Principal{IdentityID: sa.ID, Email: sa.Email, Scopes: []string{gatehouse.ScopeSCIM}}
	p0, err := st.GetIdentity(ctx, "p0@example.com")
	if err != nil {
		t.Fatal(err)
	}
	p1, err := st.GetIdentity(ctx, "p1@example.com")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := svc.CreateSCIMGroup(ctx, idp, &gatehouse.SCIMGroup{DisplayName: "Engineering", ExternalID: "00g-eng", Members: []string{p1.ID, p0.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateSCIMGroup(ctx, idp, &gatehouse.SCIMGroup{DisplayName: "IT Admins", Members: []string{p0.ID}}); err != nil {
		t.Fatal(err)
	}

	r := gh(t, srv.url, admin, "scim-groups", "list")
	expect(t, r, 0, "Engineering", "IT Admins", "scim:okta@example.com", "00g-eng")
	t.Logf("scim-groups list:\n%s", r.stdout)
	r = gh(t, srv.url, admin, "scim-groups", "list", "--member", "p1@example.com")
	expect(t, r, 0, "Engineering")
	if strings.Contains(r.stdout, "IT Admins") {
		t.Fatalf("p1 is not in IT Admins:\n%s", r.stdout)
	}
	r = gh(t, srv.url, admin, "scim-groups", "list", "--member", "p1@example.com", "-o", "json")
	expect(t, r, 0)
	var page struct {
		Items []gatehouse.SCIMGroup `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || len(page.Items) != 1 || page.Items[0].ID != eng.ID {
		t.Fatalf("-o json: %v %+v\n%s", err, page, r.stdout)
	}
	r = gh(t, srv.url, admin, "scim-groups", "show", eng.ID)
	expect(t, r, 0, "Engineering", "p0@example.com", "p1@example.com", p1.ID)
	if !regexp.MustCompile(`Members:\s+2\n`).MatchString(r.stdout) {
		t.Fatalf("show does not count 2 members:\n%s", r.stdout)
	}
	t.Logf("scim-groups show:\n%s", r.stdout)
	expect(t, gh(t, srv.url, admin, "scim-groups", "show", "no-such-group"), 1, "not found")
	expect(t, gh(t, srv.url, admin, "scim-groups", "show"), 2)
	srv.stop(t)
}
