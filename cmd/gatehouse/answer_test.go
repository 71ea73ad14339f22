package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDoneButAnswerUnreadable: when the server carried out an HR import (201) but its answer
// cannot be read (cut short by a proxy, say), `gatehouse hr import` reports what the status
// header the server sent first says: applied exits 0 with a warning that it is done, so that
// nobody imports the file a second time; held exits 1 as a held import does; without the header
// it cannot say, and exits 1 saying it was carried out. A read whose answer is cut short fails.
func TestDoneButAnswerUnreadable(t *testing.T) {
	t.Parallel()
	var status atomic.Value // the X-Gatehouse-Import-Status the fake server sends
	status.Store("applied")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"items": [{"id": "a`)
			return
		}
		if st := status.Load().(string); st != "" {
			w.Header().Set("Location", "/api/v1/hr/imports/imp-1")
			w.Header().Set("X-Gatehouse-Import-Status", st)
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
	if code != 0 || !strings.Contains(stderr, "warning: the server carried out POST /api/v1/hr/imports (/api/v1/hr/imports/imp-1) (HTTP 201 Created)") ||
		!strings.Contains(stderr, "do not run the command again") {
		t.Errorf("hr import, applied: exit %d, stderr:\n%s", code, stderr)
	}
	status.Store("held")
	_, stderr, code = runCLI(t, env, "hr", "import", file)
	if code != 1 || !strings.Contains(stderr, "error: the import was held for an admin, nothing applied (/api/v1/hr/imports/imp-1)") {
		t.Errorf("hr import, held: exit %d, stderr:\n%s", code, stderr)
	}
	status.Store("")
	_, stderr, code = runCLI(t, env, "hr", "import", file)
	if code != 1 || !strings.Contains(stderr, "error: the server carried out POST /api/v1/hr/imports (HTTP 201 Created)") ||
		!strings.Contains(stderr, "do not run the command again") {
		t.Errorf("hr import, no status: exit %d, stderr:\n%s", code, stderr)
	}
	_, stderr, code = runCLI(t, env, "identities", "list")
	if code != 1 || !strings.Contains(stderr, "error: ") {
		t.Errorf("identities list: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestAnswerUnreadableExitCode: a command whose exit code says what the server answered (a
// held import, a dry run, a failed system test, a reconcile that did not converge) cannot
// exit 0 when that answer could not be read: nothing says the import was applied, the test
// passed or the run converged. A change it made is still said to be made, so that it is not
// sent again.
func TestAnswerUnreadableExitCode(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/reconcile":
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"jobs": [{"id": 7, "state": "avail`)
		default:
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"held": true, "ok": fal`)
		}
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"GATEHOUSE_ADDR": srv.URL, "GATEHOUSE_TOKEN": "gh_x"}
	file := filepath.Join(t.TempDir(), "hr.csv")
	if err := os.WriteFile(file, []byte("employee_id,email\nE1,a@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args    []string
		changed bool // the request changes something: the message says not to send it again
	}{
		{[]string{"hr", "import", file}, true}, // held or applied: unknown
		{[]string{"hr", "import", "--dry-run", file}, false},
		{[]string{"hr", "dates"}, true},
		{[]string{"systems", "test", "corp-ldap"}, false},
		{[]string{"reconcile", "--system", "corp-ldap", "--wait"}, true},
	} {
		_, stderr, code := runCLI(t, env, tc.args...)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1; stderr:\n%s", strings.Join(tc.args, " "), code, stderr)
		}
		if again := strings.Contains(stderr, "do not run the command again"); again != tc.changed {
			t.Errorf("%s: says not to run it again: %v, want %v; stderr:\n%s", strings.Join(tc.args, " "), again, tc.changed, stderr)
		}
	}
}

// TestNotCarriedOutExitCode: a 2xx answer that is not the server's (a sign-in page an
// authenticating proxy redirected the request to, answered 200 to the GET the redirect made of
// the POST) says nothing was carried out: the revocation did not happen, and the command fails
// rather than telling its caller it is done.
func TestNotCarriedOutExitCode(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch {
		case r.URL.Path == "/sign-in":
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html><body>Sign in</body></html>")
		case r.URL.Path == "/api/v1/grants/g2/revoke":
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html><body>Session expired</body></html>")
		default:
			http.Redirect(w, r, "/sign-in", http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"GATEHOUSE_ADDR": srv.URL, "GATEHOUSE_TOKEN": "gh_x"}
	for _, id := range []string{"g1", "g2"} {
		_, stderr, code := runCLI(t, env, "grants", "revoke", id, "--reason", "left")
		if code != 1 || strings.Contains(stderr, "the server carried out") || strings.Contains(stderr, "It is done") {
			t.Errorf("grants revoke %s: exit %d, stderr:\n%s", id, code, stderr)
		}
	}
}
