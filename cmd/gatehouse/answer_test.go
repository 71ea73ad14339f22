package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDoneButAnswerUnreadable: when the server applied an HR import (201) but its answer cannot
// be read (cut short by a proxy, say), `gatehouse hr import` exits 0 with a warning that says
// it is done, so that nobody imports the file a second time; a read whose answer is cut short
// still fails.
func TestDoneButAnswerUnreadable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"items": [{"id": "a`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"import": {"id": "imp-1", "status": "applied"}, "plan": {"summary": {"rows": 3`)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"GATEHOUSE_ADDR": srv.URL, "GATEHOUSE_TOKEN": "gh_x"}
	file := filepath.Join(t.TempDir(), "hr.csv")
	if err := os.WriteFile(file, []byte("employee_id,email\nE1,a@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, env, "hr", "import", file)
	if code != 0 || !strings.Contains(stderr, "warning: the server carried out POST /api/v1/hr/imports (HTTP 201 Created)") ||
		!strings.Contains(stderr, "do not run the command again") {
		t.Errorf("hr import: exit %d, stderr:\n%s", code, stderr)
	}
	_, stderr, code = runCLI(t, env, "identities", "list")
	if code != 1 || !strings.Contains(stderr, "error: ") {
		t.Errorf("identities list: exit %d, stderr:\n%s", code, stderr)
	}
}
