package scimtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Kind names a SCIM peer implementation.
type Kind string

const (
	// Scimmy is SCIMMY 1.3 with SCIMMY Routers on Express 4 over an in-memory store: broad
	// RFC 7644 support (any filter, sorting, ETags, PATCH by path filter, Groups).
	Scimmy Kind = "scimmy"
	// BetterAuth is Better Auth's @better-auth/scim 1.7 plugin over Better Auth's memory
	// adapter: strict and narrow (eq filters on a few attributes, count at most 100, no ETags).
	BetterAuth Kind = "better-auth"
)

// Kinds lists every peer, for tests that run against all of them.
var Kinds = []Kind{Scimmy, BetterAuth}

// InstallHint is the command that installs the peers' Node packages, from the module root.
const InstallHint = "npm ci --prefix connector/scim/scimtest/testdata/peers"

// startTimeout bounds how long a peer may take to print its ready line.
const startTimeout = 30 * time.Second

// PeersDir is the directory holding the peers' scripts and node_modules, found from this
// source file so tests of any package can start peers.
func PeersDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("testdata", "peers")
	}
	return filepath.Join(filepath.Dir(file), "testdata", "peers")
}

// Installed reports whether node is on PATH and the peers' node_modules are installed.
func Installed() bool {
	return missing() == ""
}

// missing says what is missing to run a peer, or "" when nothing is.
func missing() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not installed (apt-get install nodejs npm)"
	}
	for _, pkg := range []string{"scimmy", "scimmy-routers", "express", "better-auth", "@better-auth/scim"} {
		if _, err := os.Stat(filepath.Join(PeersDir(), "node_modules", pkg, "package.json")); err != nil {
			return "the SCIM test peers' Node packages are not installed; run: " + InstallHint
		}
	}
	return ""
}

// Require skips the test when node or the peers' packages are missing, or fails it under
// CI=true: CI must never pass by testing nothing.
func Require(t testing.TB) {
	t.Helper()
	msg := missing()
	if msg == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Server is a running peer.
type Server struct {
	Kind Kind
	// URL is the SCIM base URL, without a trailing slash, e.g.
	// http://127.0.0.1:40123/scim/v2.
	URL string
	// Token is the bearer token the SCIM and test-control endpoints require.
	Token string

	origin string // scheme://host:port, where /__test/ lives
	client *http.Client
	logs   *syncBuffer
}

// Start starts a fresh peer of the given kind on a free loopback port, waits until it is
// ready, and stops it (the whole process group) when the test ends. A peer takes about half a
// second to start (Better Auth about a second); share one per test function where isolation
// allows.
func Start(t testing.TB, kind Kind) *Server {
	t.Helper()
	Require(t)
	script := filepath.Join(PeersDir(), string(kind)+".mjs")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("scimtest: unknown peer kind %q: %v", kind, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("scimtest: %v", err)
	}
	cmd := exec.Command(node, script, "0")
	cmd.Dir = PeersDir()
	// The peer exits when its stdin closes, which happens when this process dies however it
	// dies: no orphans even after a SIGKILLed test binary.
	cmd.Env = append(os.Environ(), "SCIMTEST_WATCH_STDIN=1", "PORT=0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("scimtest: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("scimtest: %v", err)
	}
	logs := new(syncBuffer)
	cmd.Stderr = logs
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("scimtest: start %s: %v", kind, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
			stdin.Close()
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() && logs.Len() > 0 {
			t.Logf("scimtest: %s peer stderr:\n%s", kind, logs.String())
		}
	})

	type ready struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, err := r.ReadString('\n')
		if err == nil {
			lines <- line
		}
		close(lines)
		io.Copy(io.Discard, r) // keep draining so the peer never blocks on a full pipe
	}()
	var rd ready
	select {
	case line, ok := <-lines:
		if !ok {
			<-exited
			t.Fatalf("scimtest: %s peer exited before it was ready: %v\n%s", kind, cmd.ProcessState, logs.String())
		}
		if err := json.Unmarshal([]byte(line), &rd); err != nil || rd.URL == "" || rd.Token == "" {
			t.Fatalf("scimtest: %s peer printed %q, want {\"url\":...,\"token\":...} (%v)\n%s", kind, line, err, logs.String())
		}
	case <-time.After(startTimeout):
		stop()
		t.Fatalf("scimtest: %s peer not ready after %s\n%s", kind, startTimeout, logs.String())
	}
	u, err := url.Parse(rd.URL)
	if err != nil {
		t.Fatalf("scimtest: %s peer URL %q: %v", kind, rd.URL, err)
	}
	t.Logf("scimtest: %s peer at %s, ready in %s", kind, rd.URL, time.Since(began).Round(time.Millisecond))
	return &Server{
		Kind:   kind,
		URL:    strings.TrimSuffix(rd.URL, "/"),
		Token:  rd.Token,
		origin: u.Scheme + "://" + u.Host,
		client: &http.Client{Timeout: 2 * time.Minute},
		logs:   logs,
	}
}

// Logs returns what the peer wrote to stderr so far.
func (s *Server) Logs() string { return s.logs.String() }

// Settings returns catalog connector settings for a `type: scim` system talking to this peer:
// the URL, a token file in t.TempDir() holding the token, and a 5s timeout.
func (s *Server) Settings(t testing.TB) map[string]any {
	t.Helper()
	file := filepath.Join(t.TempDir(), "scim-token")
	if err := os.WriteFile(file, []byte(s.Token+"\n"), 0o600); err != nil {
		t.Fatalf("scimtest: write token file: %v", err)
	}
	return map[string]any{"url": s.URL, "token_file": file, "timeout": "5s"}
}

// Fail makes the next count SCIM requests answer status with a SCIM error body, and with a
// Retry-After header (whole seconds, rounded up) when retryAfter is positive. Test-control
// requests are not counted.
func (s *Server) Fail(t testing.TB, status, count int, retryAfter time.Duration) {
	t.Helper()
	s.control(t, http.MethodPost, "/__test/faults", map[string]any{
		"status": status, "count": count, "retry_after": retryAfter.Seconds(),
	}, nil)
}

// Request is one SCIM request the peer received, in arrival order.
type Request struct {
	Method string `json:"method"`
	// Path is relative to URL and includes the query, like Do's path: "/Users?filter=...".
	Path string `json:"path"`
	// IfMatch is the If-Match header, "" when absent.
	IfMatch string `json:"if_match"`
	// Auth is the Authorization scheme ("Bearer"), never the credentials; "" when absent.
	Auth string `json:"auth"`
	// Status is the status answered, 0 while the request is still being served.
	Status int `json:"status"`
}

// Requests returns the SCIM requests received since the start or the last ClearRequests.
func (s *Server) Requests(t testing.TB) []Request {
	t.Helper()
	var out []Request
	s.control(t, http.MethodGet, "/__test/requests", nil, &out)
	return out
}

// ClearRequests empties the request log.
func (s *Server) ClearRequests(t testing.TB) {
	t.Helper()
	s.control(t, http.MethodDelete, "/__test/requests", nil, nil)
}

// Seed fills the peer with users user000001@example.com… (externalId E000001…, name,
// displayName, a primary work email, active) and groups group00001… with membersPerGroup
// members each, spread evenly over the seeded users. Numbering continues across calls.
// Scimmy writes its store directly (20,000 users and 1,000 groups in well under a second);
// BetterAuth goes through its own SCIM endpoints and slows quadratically (200 users in
// about 3 s): keep it to a few hundred.
func (s *Server) Seed(t testing.TB, users, groups, membersPerGroup int) {
	t.Helper()
	s.control(t, http.MethodPost, "/__test/seed", map[string]any{
		"users": users, "groups": groups, "members_per_group": membersPerGroup,
	}, nil)
}

// Do sends a SCIM request with the token, bypassing the connector (for tests that change the
// target behind its back). path is relative to URL, e.g. "/Users?filter=...". body, when not
// nil, is sent as application/scim+json. resp is the decoded JSON object answered, nil when
// the response has no body.
func (s *Server) Do(t testing.TB, method, path string, body any) (status int, resp map[string]any) {
	t.Helper()
	res, data := s.send(t, method, s.URL+path, body)
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &resp); err != nil {
			t.Fatalf("scimtest: %s %s: %d with a body that is not a JSON object: %v\n%s", method, path, res.StatusCode, err, data)
		}
	}
	return res.StatusCode, resp
}

// control calls a test-control endpoint and decodes its JSON answer into out.
func (s *Server) control(t testing.TB, method, path string, body, out any) {
	t.Helper()
	res, data := s.send(t, method, s.origin+path, body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("scimtest: %s %s: %s: %s", method, path, res.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("scimtest: %s %s: %v", method, path, err)
		}
	}
}

func (s *Server) send(t testing.TB, method, u string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("scimtest: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatalf("scimtest: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("scimtest: %s %s: %v\npeer stderr:\n%s", method, u, err, s.Logs())
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("scimtest: %s %s: read body: %v", method, u, err)
	}
	return res, data
}

// syncBuffer collects a peer's stderr; exec writes it from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
}
