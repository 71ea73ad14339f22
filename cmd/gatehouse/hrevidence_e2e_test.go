package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// TestHREvidenceEndToEnd, through the binary: a leaver imported three days after their end date
// is flagged late in the dry run's plan; after the import, `hr imports show` lists what it did
// to each person by name, with the late flag, and --late and --json narrow and shape it.
func TestHREvidenceEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, content)
		return p
	}
	expect(t, gh(t, srv.url, admin, "hr", "import", file("company.csv", e2eCompany)), 0, "Applied as import")

	end := time.Now().UTC().AddDate(0, 0, -3).Format(gatehouse.DateLayout)
	leaving := strings.Replace(e2eCompany, "E8,emp@example.com,Emil,Employee,Sales,Rep,E5,Paris,employee,active,2021-01-01,,C2,B8",
		"E8,emp@example.com,Emil,Employee,Sales,Rep,E5,Paris,employee,terminated,2021-01-01,"+end+",C2,B8", 1)
	leaving = strings.Replace(leaving, "E5,ana@example.com,Ana,Łukasiewicz,Sales,Rep", "E5,ana@example.com,Ana,Łukasiewicz,Sales,Lead", 1)
	f := file("leaving.csv", leaving)
	expect(t, gh(t, srv.url, admin, "hr", "import", f, "--dry-run"), 0,
		"E8 emp@example.com: LATE: terminated 3 days after end date", "Late leavers: 1 terminated after their end date.")
	r := gh(t, srv.url, admin, "hr", "import", f)
	expect(t, r, 0, "Applied as import")
	id := strings.Fields(r.stdout[strings.Index(r.stdout, "Applied as import ")+len("Applied as import "):])[0]

	expect(t, gh(t, srv.url, admin, "hr", "imports", "show", id), 0,
		"leaving.csv", "People:",
		"leaver   Emil Employee (E8): status active → terminated; end_date — → "+end+"; LATE: terminated 3 days after end date",
		"Late leavers: 1 terminated after their end date.",
		"mover    Ana Łukasiewicz (E5): title Rep → Lead")
	r = gh(t, srv.url, admin, "hr", "imports", "show", id, "--late")
	expect(t, r, 0, "Emil Employee (E8)")
	if strings.Contains(r.stdout, "Ana") {
		t.Fatalf("--late lists Ana:\n%s", r.stdout)
	}
	r = gh(t, srv.url, admin, "hr", "imports", "show", id, "-o", "json")
	expect(t, r, 0)
	var out struct {
		Import  gatehouse.HRImport                        `json:"import"`
		Changes gatehouse.Page[*gatehouse.HRImportChange] `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	// In the order applied: the file's (Ana's row comes before Emil's).
	if out.Import.ID != id || len(out.Changes.Items) != 2 || out.Changes.Items[1].LateDays != 3 || out.Changes.Items[1].Name != "Emil Employee" ||
		out.Changes.Items[0].Class != "mover" {
		t.Fatalf("json = %+v", out)
	}
}
