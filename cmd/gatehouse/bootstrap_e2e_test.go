package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeRefusesShortBootstrapToken: the real binary refuses to start with a bootstrap token
// shorter than 32 characters (exit 2, a message saying why, never the secret), before it
// opens the database or listens.
func TestServeRefusesShortBootstrapToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const short = "bootstrap-31-characters-long-xx" // 31
	if len(short) != 31 {
		t.Fatalf("fixture is %d characters", len(short))
	}
	bin := binary(t)
	for _, cmdName := range []string{"serve", "demo"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		args := []string{cmdName, "--addr", freeAddr(t)}
		if cmdName == "serve" {
			args = append(args, "--db", "sqlite:"+filepath.Join(dir, "gh.db"))
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "GATEHOUSE_BOOTSTRAP_TOKEN="+short)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		cancel()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Fatalf("%s with a 31-character bootstrap token: %v, want exit 2\nstdout:\n%s\nstderr:\n%s", cmdName, err, &out, &errb)
		}
		if msg := errb.String(); !strings.Contains(msg, "GATEHOUSE_BOOTSTRAP_TOKEN is 31 characters long; it must be at least 32") ||
			strings.Contains(msg+out.String(), short) {
			t.Fatalf("%s: stderr %q: want the reason, without the secret", cmdName, msg)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "gh.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve created its database before refusing: %v", err)
	}
}

// TestBootstrapTokenUseIsLoggedAndAudited: with the real binary, a use of the bootstrap token
// is logged with the client's address (never the secret) and audited as "bootstrap", and serve
// warns at start while the token is set although an admin has a token of their own.
func TestBootstrapTokenUseIsLoggedAndAudited(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "gh.db")
	const bootstrap = "e2e-bootstrap-secret-at-least-32-chars"
	env := []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + bootstrap}
	srv := start(t, env, "listening on", "serve", "--db", db, "--reconcile-interval", "0")
	expect(t, gh(t, srv.url, bootstrap, "whoami"), 0, "bootstrap")
	expect(t, gh(t, srv.url, bootstrap, "identities", "create", "--email", "boss@example.com", "--employee-id", "E1",
		"--department", "IT", "--reason", "first admin"), 0)
	expect(t, gh(t, srv.url, bootstrap, "identities", "roles", "boss@example.com", "--set", "admin", "--reason", "first admin"), 0)
	r := gh(t, srv.url, bootstrap, "token", "create", "--for", "boss@example.com")
	expect(t, r, 0)
	admin := ""
	for _, f := range strings.Fields(r.stdout) {
		if strings.HasPrefix(f, "gh_") {
			admin = f
		}
	}
	if admin == "" {
		t.Fatalf("no token in %s", r)
	}
	expect(t, gh(t, srv.url, admin, "audit", "list", "--actor", "bootstrap"), 0, "bootstrap.use", "identity.roles")
	srv.stop(t)
	logs := srv.stderr.String()
	if !strings.Contains(logs, "bootstrap token used") || !strings.Contains(logs, "client=127.0.0.1:") {
		t.Errorf("serve log lacks the bootstrap use with the client address:\n%s", logs)
	}
	if strings.Contains(logs, bootstrap) {
		t.Errorf("serve log contains the bootstrap secret")
	}

	// Restarted with the token still set: serve warns that the admin's token makes it redundant.
	srv = start(t, env, "listening on", "serve", "--db", db, "--reconcile-interval", "0")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srv.stderr.String(), "GATEHOUSE_BOOTSTRAP_TOKEN is set although an admin has a token") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning at start:\n%s", srv.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(srv.stderr.String(), "admin=boss@example.com") {
		t.Errorf("the warning does not name the admin:\n%s", srv.stderr)
	}
	srv.stop(t)
}
