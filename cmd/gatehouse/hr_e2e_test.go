package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/service"
)

// TestHRImportPagesEndToEnd: the server answers a dry run with a page of each class; the CLI
// shows --max of them and counts the rest, and with --max 0 fetches every page.
func TestHRImportPagesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	demo := start(t, nil, "Press Ctrl-C", "demo", "--db", "sqlite:"+filepath.Join(dir, "demo.db"))
	m := loginLine.FindAllStringSubmatch(demo.stdout.String(), -1)
	admin := ""
	for _, l := range m {
		if l[1] == "admin" {
			admin = l[3]
		}
	}
	if admin == "" {
		t.Fatal("no admin token in the demo output")
	}
	const n = 2500
	var b strings.Builder
	b.WriteString("employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n")
	for i := range n {
		fmt.Fprintf(&b, "P%05d,p%05d@example.com,P,N,Sales,Rep,,Berlin,employee,active,2024-01-02,\n", i, i)
	}
	file := filepath.Join(dir, "big.csv")
	writeFile(t, file, b.String())

	expect(t, gh(t, demo.url, admin, "hr", "import", file, "--dry-run", "--max", "3"), 0,
		"Joiners:", "P00002 p00002@example.com", fmt.Sprintf("… and %d more (--max 0 for all)", n-3))
	r := gh(t, demo.url, admin, "hr", "import", file, "--dry-run", "--max", "0", "-o", "json")
	expect(t, r, 0)
	var res service.HRImportResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	joiners := 0
	for _, it := range res.Plan.Items {
		if it.Class == jml.Joiner {
			joiners++
		}
	}
	if joiners != n || res.Plan.Summary.Joiners != n || res.Plan.Page == nil || res.Plan.Page.NextOffset != 0 {
		t.Fatalf("--max 0: %d joiners listed, summary %d, page %+v", joiners, res.Plan.Summary.Joiners, res.Plan.Page)
	}

	// The demo company exported and imported back: no changes.
	people := filepath.Join(dir, "people.csv")
	expect(t, gh(t, demo.url, admin, "hr", "export", "-o", people), 0, "Exported ")
	expect(t, gh(t, demo.url, admin, "hr", "import", people, "--dry-run"), 0,
		" rows; 0 joiners, 0 pre-hires, 0 movers, 0 leavers, 0 on leave, 0 rehires, 0 back from leave, 0 updated, 0 missing, 0 skipped, ")
}
