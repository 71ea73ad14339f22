package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestHRFileBoundEndToEnd: `serve --hr-max-mib` sets the largest HR file the API takes; a larger
// one is refused with 413 naming the bound, and nothing is imported.
func TestHRFileBoundEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(t.TempDir(), "gh.db"), "--reconcile-interval", "0", "--hr-max-mib", "1")
	var b strings.Builder
	b.WriteString("employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n")
	for i := 0; b.Len() < 3<<19; i++ { // 1.5 MiB
		fmt.Fprintf(&b, "E%d,p%d@example.com,P,%d,IT,Staff,,HQ,employee,active,2020-01-01,\n", i, i, i)
	}
	big := fileWriter(t, t.TempDir())("big.csv", b.String())
	expect(t, gh(t, srv.url, admin, "hr", "import", big), 1, "request body is larger than 1 MiB")
	r := gh(t, srv.url, admin, "identities", "list")
	if r.code != 0 || strings.Contains(r.stdout, "p1@example.com") {
		t.Errorf("a refused file imported people: %s", r)
	}
	srv.stop(t)
}
