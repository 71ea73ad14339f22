package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const e2eHRHeader = "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date,cost_center,badge\n"

// e2eCompany has managers three levels deep, a contractor with an end date, a terminated
// person, a pre-hire, extra attributes (some cells empty) and names that are not ASCII or
// need quoting.
const e2eCompany = e2eHRHeader +
	"E1,ceo@example.com,Zoë,Ångström,Board,CEO,,Zürich,employee,active,2015-01-01,,C0,B1\n" +
	"E2,lei@example.com,雷,李,Engineering,VP,E1,東京,employee,active,2016-02-01,,C1,\n" +
	"E3,obrien@example.com,Seán,\"O'Brien, Jr.\",Engineering,\"Lead \"\"Platform\"\"\",E2,Dublin,employee,active,2018-03-01,,C1,B3\n" +
	"E4,kai@example.com,Kai,Nakamura,Engineering,Developer,E3,Berlin,contractor,active,2024-01-01,2099-12-31,,\n" +
	"E5,ana@example.com,Ana,Łukasiewicz,Sales,Rep,E1,Kraków,employee,active,2020-05-01,,C2,B5\n" +
	"E6,old@example.com,Olaf,Old,Sales,Rep,E5,Oslo,employee,terminated,2010-01-01,2020-01-01,C2,\n" +
	"E7,new@example.com,Nia,New,Sales,Rep,E5,Lagos,intern,active,2099-01-01,2099-06-30,C2,\n" +
	"E8,emp@example.com,Emil,Employee,Sales,Rep,E5,Paris,employee,active,2021-01-01,,C2,B8\n"

// TestHRDeltaAndExportEndToEnd, through the binary: a file of changes sent as a snapshot is
// refused with the snapshot rule stated once and every line named; the same file with --delta
// applies its joiners, mover and leaver and leaves everyone else; a snapshot that would remove
// most people says it looks partial; the import list tells a delta from a snapshot; the export
// imported back changes nothing; an employee may not export; the export is audited.
func TestHRDeltaAndExportEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	url := srv.url
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, content)
		return p
	}
	expect(t, gh(t, url, admin, "hr", "import", file("company.csv", e2eCompany)), 0, "Applied as import")

	// Two joiners, a mover and a leaver, whose managers are stored people.
	changes := file("changes.csv", e2eHRHeader+
		"E9,jo@example.com,Jo,Joiner,Engineering,Developer,E3,Berlin,employee,active,2024-06-01,,C1,\n"+
		"E10,jin@example.com,Jin,Joiner,Sales,Rep,E5,Seoul,employee,active,2024-06-01,,C2,\n"+
		"E4,kai@example.com,Kai,Nakamura,Sales,Developer,E5,Berlin,contractor,active,2024-01-01,2099-12-31,,\n"+
		"E8,emp@example.com,Emil,Employee,Sales,Rep,E5,Paris,employee,terminated,2021-01-01,2024-05-31,C2,B8\n")
	r := gh(t, url, admin, "hr", "import", changes, "--dry-run")
	expect(t, r, 1,
		`changes.csv: line 2: manager_id: "E3" is not the employee_id of any row: an HR file is a full snapshot of everyone; to send only changes use `+"`gatehouse hr import --delta`",
		`changes.csv: line 3: manager_id: "E5" is not the employee_id of any row`,
		`changes.csv: line 4: manager_id: "E5" is not the employee_id of any row`,
		`changes.csv: line 5: manager_id: "E5" is not the employee_id of any row`)
	if n := strings.Count(r.stdout+r.stderr, "full snapshot"); n != 1 {
		t.Fatalf("the snapshot rule is said %d times:\n%s", n, r)
	}
	expect(t, gh(t, url, admin, "hr", "import", changes, "--delta", "--dry-run"), 0,
		"Leavers:", "E8 emp@example.com", "Movers:", "E4 kai@example.com", "department Engineering → Sales",
		"Joiners:", "E10 jin@example.com", "E9 jo@example.com", "Dry run: nothing changed.")
	r = gh(t, url, admin, "hr", "import", changes, "--delta")
	expect(t, r, 0, "Applied as import")
	deltaID := strings.Fields(r.stdout[strings.Index(r.stdout, "Applied as import ")+len("Applied as import "):])[0]
	expect(t, gh(t, url, admin, "identities", "show", "emp@example.com"), 0, "terminated")
	expect(t, gh(t, url, admin, "identities", "show", "ana@example.com"), 0, "active")
	expect(t, gh(t, url, admin, "hr", "imports", "show", deltaID), 0, "changes.csv (csv, delta)")
	r = gh(t, url, admin, "hr", "imports", "list")
	expect(t, r, 0, "delta", "snapshot")
	// An unknown manager in a delta: file, line, field.
	expect(t, gh(t, url, admin, "hr", "import", file("bad.csv", e2eHRHeader+
		"E11,x@example.com,X,Y,Sales,Rep,E404,Paris,employee,active,2024-06-01,,,\n"), "--delta"), 1,
		`bad.csv: line 2: manager_id: "E404" is neither the employee_id of a row nor of a stored person`)

	// A snapshot of two people: most of the company would go.
	expect(t, gh(t, url, admin, "hr", "import", file("two.csv", e2eHRHeader+
		"E1,ceo@example.com,Zoë,Ångström,Board,CEO,,Zürich,employee,active,2015-01-01,,C0,B1\n"+
		"E2,lei@example.com,雷,李,Engineering,VP,E1,東京,employee,active,2016-02-01,,C1,\n"), "--dry-run"), 0,
		"this looks like a partial file; an HR file is a full snapshot of everyone; to send only changes use `gatehouse hr import --delta`")

	// Export, import back: no changes.
	emp := gh(t, url, admin, "token", "create", "--for", "ana@example.com")
	expect(t, emp, 0)
	expect(t, gh(t, url, strings.TrimSpace(emp.stdout), "hr", "export"), 1, "auditor, operator or admin")
	out := filepath.Join(dir, "people.csv")
	expect(t, gh(t, url, admin, "hr", "export", "-o", out), 0, "Exported 10 people to "+out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("export file mode %v, %v", st.Mode(), err)
	}
	got := string(data)
	for _, want := range []string{
		"employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date,badge,cost_center\n",
		"E3,obrien@example.com,Seán,\"O'Brien, Jr.\",Engineering,\"Lead \"\"Platform\"\"\",E2,Dublin,employee,active,2018-03-01,,B3,C1\n",
		"E4,kai@example.com,Kai,Nakamura,Sales,Developer,E5,Berlin,contractor,active,2024-01-01,2099-12-31,,\n",
		"E7,new@example.com,Nia,New,Sales,Rep,E5,Lagos,intern,active,2099-01-01,2099-06-30,,C2\n", // a pre-hire: no lifecycle column
		"E8,emp@example.com,Emil,Employee,Sales,Rep,E5,Paris,employee,terminated,2021-01-01,2024-05-31,B8,C2\n",
	} {
		if !strings.Contains(got, want) {
			t.Fatalf("export lacks %q:\n%s", want, got)
		}
	}
	stdout := gh(t, url, admin, "hr", "export")
	expect(t, stdout, 0)
	if stdout.stdout != got {
		t.Fatalf("export to stdout differs from -o:\n%s\n---\n%s", stdout.stdout, got)
	}
	expect(t, gh(t, url, admin, "hr", "import", out, "--dry-run"), 0,
		"Summary: 10 rows; 0 joiners, 0 pre-hires, 0 movers, 0 leavers, 0 on leave, 0 rehires, 0 back from leave, 0 updated, 0 missing, 0 skipped, 10 unchanged")
	expect(t, gh(t, url, admin, "audit", "list", "--action", "identities.export"), 0, "identities.export")
}
