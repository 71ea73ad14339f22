package main

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/client"
)

// TestHRProblemsArriveWhole: a rejected HR file's problems cross the real HTTP API as
// structured problems — the client gets each one's file, line, field and reason as the server
// found them, not a block of text — and the CLI prints each once, one per line, in the HR
// wording, followed by the one-line summary.
func TestHRProblemsArriveWhole(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0")
	people := filepath.Join(dir, "people.csv")
	content := e2eHRHeader +
		"E1,ceo@example.com,Ada,One,Board,CEO,,Zürich,employee,active,2015-01-01,,,\n" +
		"E2,not-an-address,Bo,Two,Sales,Rep,E1,Oslo,worker,active,2020-01-01,,,\n"
	writeFile(t, people, content)

	// Through the client, as any Go program would call the API.
	c, err := client.New(srv.url, admin, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ImportHR(context.Background(), people, []byte(content), gatehouse.HRImportQuery{DryRun: true})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Code != gatehouse.EINVALID || apiErr.StatusCode != 400 {
		t.Fatalf("import of a bad file: %v", err)
	}
	want := []gatehouse.Problem{
		{File: "people.csv", Line: 3, Field: "email"},
		{File: "people.csv", Line: 3, Field: "employment_type"},
	}
	if len(apiErr.Details) != len(want) {
		t.Fatalf("details %+v, want %d problems", apiErr.Details, len(want))
	}
	for i, w := range want {
		d := apiErr.Details[i]
		if d.File != w.File || d.Line != w.Line || d.Field != w.Field || d.Message == "" {
			t.Errorf("problem %d = %+v, want %s:%d %s with a reason", i, d, w.File, w.Line, w.Field)
		}
	}

	// Through the CLI: every problem once, on its own line, as the server located it.
	r := gh(t, srv.url, admin, "hr", "import", people, "--dry-run")
	if r.code != 1 {
		t.Fatalf("want exit 1: %s", r)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	for _, d := range apiErr.Details {
		line := "people.csv: line 3: " + d.Field + ": " + d.Message
		if n := strings.Count(r.stderr, line); n != 1 || !slices.Contains(lines, line) {
			t.Errorf("stderr has %q %d times, want once on its own line:\n%s", line, n, r.stderr)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "error: HR file has 2 problem(s)") {
		t.Errorf("last line %q, want the summary", last)
	}
}
