package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to tamper with the audit log behind Gatehouse's back
)

// The end-to-end test runs the real binary: `gatehouse demo` as a server, client commands
// against it, then tampers with the database and checks that `gatehouse serve` on it reports
// the broken audit chain.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the gatehouse binary once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gatehouse-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "gatehouse")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, bin := range []string{binPath, failpointPath} {
		if bin != "" {
			os.RemoveAll(filepath.Dir(bin))
		}
	}
	os.Exit(code)
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running `gatehouse demo` or `gatehouse serve`.
type proc struct {
	cmd    *exec.Cmd
	url    string
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs the binary with args and waits until /readyz answers and stdout contains ready.
func start(t *testing.T, env []string, ready string, args ...string) *proc {
	t.Helper()
	return startBinary(t, binary(t), env, ready, args...)
}

// startBinary is start with another build of the binary (failpointBinary).
func startBinary(t *testing.T, bin string, env []string, ready string, args ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	if len(args) > 0 && args[0] == "serve" && !slices.Contains(args, "--secrets-dir") {
		// The connectors' secret files (slapd's password, a SCIM peer's token) are written in
		// test temporary directories: serve refuses *_file references outside --secrets-dir.
		args = append(args, "--secrets-dir", os.TempDir())
	}
	if len(args) > 0 && args[0] == "demo" {
		// The demo writes its tokens to ./gatehouse-demo.env and its audit key to a new
		// temporary directory: both belong in the test's directory, not the package's or /tmp.
		tmp := t.TempDir()
		if !slices.Contains(args, "--env-file") {
			args = append(args, "--env-file", filepath.Join(tmp, "gatehouse-demo.env"))
		}
		if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "TMPDIR=") }) {
			env = append(env, "TMPDIR="+tmp)
		}
	}
	s := &proc{
		cmd:    exec.Command(bin, append(args, "--addr", addr)...),
		url:    "http://" + addr,
		stdout: &syncBuffer{},
		stderr: &syncBuffer{},
		done:   make(chan error, 1),
	}
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	begin := time.Now()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-s.done:
			t.Fatalf("%v exited early: %v\nstdout:\n%s\nstderr:\n%s", args, err, s.stdout, s.stderr)
		default:
		}
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(s.stdout.String(), ready) {
				t.Logf("%s ready after %s", args[0], time.Since(begin).Round(time.Millisecond))
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v not ready after 30s\nstdout:\n%s\nstderr:\n%s", args, s.stdout, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGINT and expects a graceful exit 0.
func (s *proc) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("server exited with %v after SIGINT\nstderr:\n%s", err, s.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop within 20s of SIGINT")
	}
}

// result is one finished CLI run.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// gh runs the binary as a client with GATEHOUSE_ADDR and GATEHOUSE_TOKEN set to addr and token
// (unset when empty).
func gh(t *testing.T, addr, token string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			env = append(env, kv)
		}
	}
	if addr != "" {
		env = append(env, "GATEHOUSE_ADDR="+addr)
	}
	if token != "" {
		env = append(env, "GATEHOUSE_TOKEN="+token)
	}
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// expect checks an exit code and that stdout+stderr contain every want.
func expect(t *testing.T, r result, code int, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got %s", code, r)
	}
	for _, w := range wants {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Fatalf("output lacks %q: %s", w, r)
		}
	}
}

var loginLine = regexp.MustCompile(`(?m)^\s+(admin|operator|auditor|employee)\s+(\S+@\S+)\s+(gh_[a-z0-9]+)\s*$`)

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	demo := start(t, nil, "Press Ctrl-C", "demo", "--db", "sqlite:"+db)
	out := demo.stdout.String()
	t.Logf("demo output:\n%s", out)
	if !strings.Contains(out, "export GATEHOUSE_ADDR="+demo.url+" GATEHOUSE_TOKEN=gh_") {
		t.Fatalf("demo output has no ready-to-paste export line")
	}
	tokens := map[string]string{}
	emails := map[string]string{}
	for _, m := range loginLine.FindAllStringSubmatch(out, -1) {
		emails[m[1]], tokens[m[1]] = m[2], m[3]
	}
	for _, role := range []string{"admin", "auditor", "employee"} {
		if tokens[role] == "" {
			t.Fatalf("demo output has no %s token", role)
		}
	}
	url, admin := demo.url, tokens["admin"]

	t.Run("whoami", func(t *testing.T) {
		expect(t, gh(t, url, admin, "whoami"), 0, emails["admin"], "admin")
		r := gh(t, url, tokens["auditor"], "whoami", "-o", "json")
		expect(t, r, 0)
		var me struct {
			Principal struct{ Email string } `json:"principal"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &me); err != nil || me.Principal.Email != emails["auditor"] {
			t.Fatalf("whoami -o json: %v, %s", err, r)
		}
	})

	t.Run("identities", func(t *testing.T) {
		r := gh(t, url, admin, "identities", "list", "-o", "json")
		expect(t, r, 0)
		var page struct {
			Items      []struct{ Email string } `json:"items"`
			NextCursor string                   `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &page); err != nil {
			t.Fatalf("identities list -o json: %v\n%s", err, r)
		}
		if len(page.Items) != 50 || page.NextCursor == "" {
			t.Fatalf("first page: %d items, next_cursor %q; want 50 and more", len(page.Items), page.NextCursor)
		}
		r = gh(t, url, admin, "identities", "list", "--all", "-o", "json")
		var all struct {
			Items      []struct{ Email string } `json:"items"`
			NextCursor string                   `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &all); err != nil || len(all.Items) < 200 || all.NextCursor != "" {
			t.Fatalf("identities list --all: %d items, next_cursor %q, %v", len(all.Items), all.NextCursor, err)
		}
		expect(t, gh(t, url, admin, "identities", "list", "--department", "Finance"), 0, "EMPLOYEE_ID", "Finance")
		expect(t, gh(t, url, admin, "identities", "show", emails["employee"]), 0, "active grants", "engineering-baseline")
	})

	t.Run("catalog", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		writeFile(t, bad, badCatalog)
		r := gh(t, "", "", "catalog", "validate", bad)
		expect(t, r, 1, bad+":2: systems[Bad_ID].id: ", bad+":9: systems[Bad_ID].connector.bind_password: ", " problems")

		// The server finds the same problems, and lists them one per line.
		expect(t, gh(t, url, admin, "catalog", "plan", bad), 1, "bad.yaml:5: systems[Bad_ID].tier: ", "error: catalog has")

		expect(t, gh(t, url, admin, "catalog", "plan", "../../examples/catalog"), 0, "No changes.")
		expect(t, gh(t, url, admin, "catalog", "apply", "../../examples/catalog"), 0, "No changes: the catalog is already applied.")

		// A changed catalog: one entitlement added, one (held by people) removed.
		changed := filepath.Join(dir, "catalog")
		if err := os.CopyFS(changed, os.DirFS("../../examples/catalog")); err != nil {
			t.Fatal(err)
		}
		editFile(t, filepath.Join(changed, "30-roles.yaml"), "entitlements: [corp-ldap/legal, corp-ad/file-share-legal]", "entitlements: [corp-ldap/legal]")
		editFile(t, filepath.Join(changed, "20-entitlements.yaml"), "entitlements:\n", `entitlements:
  - id: vpn/guests
    system: vpn
    name: VPN guests
    kind: group
    risk: standard
`)
		removeEntitlement(t, filepath.Join(changed, "20-entitlements.yaml"), "corp-ad/file-share-legal")
		expect(t, gh(t, url, admin, "catalog", "plan", changed), 0,
			"+ entitlement vpn/guests", "~ role legal-baseline (entitlements)", "- entitlement corp-ad/file-share-legal [", "--prune", "Plan: 1 to add, 1 to change, 1 to remove.")
		expect(t, gh(t, url, admin, "catalog", "apply", changed), 1, "--prune")
		expect(t, gh(t, url, admin, "catalog", "apply", changed, "--prune", "--yes", "--reason", "e2e"), 0, "+ entitlement vpn/guests", "Applied: 1 added, 1 changed, 1 removed;")
		expect(t, gh(t, url, admin, "catalog", "apply", changed), 0, "No changes: the catalog is already applied.")
		expect(t, gh(t, url, admin, "catalog", "export"), 0, "vpn/guests", "security_approvers:")
		expect(t, gh(t, url, admin, "entitlements", "show", "vpn/guests"), 0, "VPN guests")
	})

	t.Run("hr", func(t *testing.T) {
		header := "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"
		bad := filepath.Join(dir, "bad.csv")
		writeFile(t, bad, header+
			"X1,x1@example.com,X,One,Engineering,Dev,X9,Berlin,employee,active,2024-01-01,\n"+
			"X2,not-an-email,X,Two,Engineering,Dev,,Berlin,worker,active,2024-02-30,\n")
		expect(t, gh(t, url, admin, "hr", "import", bad), 1, "bad.csv: line 2: manager_id:",
			"bad.csv: line 3: email:", "bad.csv: line 3: employment_type:", "bad.csv: line 3: start_date:")

		// A feed of one person: everyone else of the demo company would leave, so the leaver
		// guard holds it. The dry run shows it; the import is held, then rejected.
		one := filepath.Join(dir, "one.csv")
		writeFile(t, one, header+"X1,x1@example.com,X,One,Engineering,Dev,,Berlin,employee,active,2024-01-01,\n")
		expect(t, gh(t, url, admin, "hr", "import", one, "--dry-run", "--max", "2"), 0, "Joiners:", "X1 x1@example.com",
			"Leavers:", "… and ", "Dry run: nothing changed. Applying this file would be held")
		r := gh(t, url, admin, "hr", "import", one)
		expect(t, r, 1, "Held as import ", "Nothing was applied")
		id := regexp.MustCompile(`Held as import (\S+):`).FindStringSubmatch(r.stdout)[1]
		expect(t, gh(t, url, tokens["auditor"], "hr", "imports", "list", "--status", "held"), 0, id, "one.csv", "held")
		expect(t, gh(t, url, tokens["auditor"], "hr", "imports", "reject", id), 1, "error: this needs the admin role")
		expect(t, gh(t, url, admin, "hr", "imports", "reject", id, "--reason", "test"), 0, "Rejected import "+id)
		expect(t, gh(t, url, admin, "hr", "imports", "approve", id), 1, "is rejected, not held")

		// Mover confirmations (the flow itself is in the service's tests): the commands reach
		// the API, and a missing one is an error.
		expect(t, gh(t, url, tokens["auditor"], "confirmations", "list", "--status", "open"), 0, "ENTITLEMENT", "MANAGER")
		expect(t, gh(t, url, admin, "confirmations", "list", "--mine", "-o", "json"), 0, `"items": []`)
		expect(t, gh(t, url, admin, "confirmations", "confirm", "nope", "--comment", "e2e"), 1, `confirmation "nope" not found`)
	})

	t.Run("tokens", func(t *testing.T) {
		r := gh(t, url, admin, "token", "create", "--for", emails["employee"], "--ttl", "1h", "--description", "e2e")
		expect(t, r, 0, "expires")
		secret := strings.TrimSpace(r.stdout)
		if !strings.HasPrefix(secret, "gh_") || strings.Contains(secret, "\n") {
			t.Fatalf("token create should print the secret alone on stdout: %s", r)
		}
		expect(t, gh(t, url, secret, "whoami"), 0, emails["employee"])
		// A SCIM token (admins only) works at /scim/v2 alone; an unknown scope is named.
		r = gh(t, url, admin, "token", "create", "--for", emails["employee"], "--scope", "scim", "--ttl", "1h")
		expect(t, r, 0, "expires")
		expect(t, gh(t, url, strings.TrimSpace(r.stdout), "whoami"), 1, "this token may only be used for SCIM")
		expect(t, gh(t, url, admin, "token", "create", "--for", emails["employee"], "--scope", "root"), 1, `"root" is not one of scim`)
		r = gh(t, url, admin, "token", "list", "--for", emails["employee"], "-o", "json")
		var list struct {
			Items []struct {
				ID          string `json:"id"`
				Description string `json:"description"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
			t.Fatalf("token list -o json: %v\n%s", err, r)
		}
		id := ""
		for _, tok := range list.Items {
			if tok.Description == "e2e" {
				id = tok.ID
			}
		}
		if id == "" {
			t.Fatalf("new token not listed: %s", r)
		}
		expect(t, gh(t, url, admin, "token", "revoke", id), 0, "Revoked token "+id)
		expect(t, gh(t, url, secret, "whoami"), 1, "error: ")
	})

	t.Run("grants", func(t *testing.T) {
		r := gh(t, url, admin, "grants", "create", "--identity", emails["employee"], "--entitlement", "aws/prod-readonly",
			"--reference", "EXC-E2E", "--reason", "e2e", "--duration", "72h", "-o", "json")
		expect(t, r, 0)
		var g struct{ ID string }
		if err := json.Unmarshal([]byte(r.stdout), &g); err != nil || g.ID == "" {
			t.Fatalf("grants create -o json: %v %s", err, r)
		}
		expect(t, gh(t, url, tokens["employee"], "grants", "list"), 0, "aws/prod-readonly", "EXC-E2E")
		expect(t, gh(t, url, admin, "grants", "revoke", g.ID, "--reason", "e2e done"), 0, "Revoked grant")
		expect(t, gh(t, url, admin, "grants", "revoke", g.ID, "--reason", "again"), 1, "already revoked")
	})

	t.Run("read commands", func(t *testing.T) {
		expect(t, gh(t, url, tokens["employee"], "systems", "list"), 0, "corp-ldap")
		expect(t, gh(t, url, tokens["employee"], "roles", "show", "engineering-baseline"), 0, "identity.department")
		expect(t, gh(t, url, tokens["employee"], "sod", "list"), 0, "payments-maker-checker")
		expect(t, gh(t, url, tokens["auditor"], "accounts", "list"), 0)
	})

	t.Run("audit", func(t *testing.T) {
		expect(t, gh(t, url, tokens["auditor"], "audit", "list", "--since", "1h", "--action", "token."), 0, "token.revoke")
		expect(t, gh(t, url, tokens["auditor"], "audit", "verify"), 0, "audit chain intact: ")
	})

	t.Run("errors", func(t *testing.T) {
		expect(t, gh(t, url, admin, "identities", "show"), 2, "error: ", "--help")
		expect(t, gh(t, url, admin, "frobnicate"), 2, `unknown command "frobnicate"`)
		expect(t, gh(t, url, "", "whoami"), 2, "GATEHOUSE_TOKEN")
		expect(t, gh(t, url, tokens["employee"], "identities", "list"), 1, "error: this needs the auditor, operator or admin role")
		expect(t, gh(t, url, tokens["employee"], "catalog", "apply", "../../examples/catalog"), 1, "error: ")
		expect(t, gh(t, url, admin, "identities", "show", "nobody@example.com"), 1, "error: ")
	})

	t.Run("demo refuses a database with data", func(t *testing.T) {
		r := gh(t, "", "", "demo", "--db", "sqlite:"+db, "--addr", "127.0.0.1:0")
		expect(t, r, 1, "already holds data")
	})

	demo.stop(t)

	// Tamper with one event behind Gatehouse's back, then ask a fresh server to verify.
	const tampered = 100
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	res, err := raw.Exec(`UPDATE audit_events SET reason = 'nothing to see here' WHERE seq = ?`, tampered)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tampered with %d events, want 1", n)
	}
	raw.Close()

	const bootstrap = "e2e-bootstrap-secret-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + bootstrap}, "listening on", "serve", "--db", "sqlite:"+db)
	expect(t, gh(t, srv.url, bootstrap, "whoami"), 0, "bootstrap admin")
	expect(t, gh(t, srv.url, bootstrap, "audit", "verify"), 1, fmt.Sprintf("audit chain BROKEN at sequence %d: ", tampered))
	srv.stop(t)
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	writeFile(t, path, strings.Replace(string(b), old, new, 1))
}

// removeEntitlement deletes one entitlement's block from a catalog file.
func removeEntitlement(t *testing.T, path, id string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	skip := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "  - id: ") || strings.HasPrefix(line, "  #") {
			skip = line == "  - id: "+id
		}
		if !skip {
			out.WriteString(line + "\n")
		}
	}
	writeFile(t, path, out.String())
}

// fileWriter returns a function that writes a file in dir (mode 0600: catalogs and HR feeds
// are sensitive) and returns its path, failing the test on an error.
func fileWriter(t *testing.T, dir string) func(name, content string) string {
	return func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
}
