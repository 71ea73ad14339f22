package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditCheckpointUsage: the flag combinations of the checkpoint commands that cannot work
// are usage errors (exit 2) saying what to do; an unreachable server is a failure that points
// at --offline.
func TestAuditCheckpointUsage(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	server := map[string]string{"GATEHOUSE_ADDR": closed, "GATEHOUSE_TOKEN": "gh_x"}
	dir := t.TempDir()
	if _, _, code := runCLI(t, nil, "audit", "keygen", "--out", dir); code != 0 {
		t.Fatalf("keygen: exit %d", code)
	}
	pub := filepath.Join(dir, "audit.pub")
	cps := t.TempDir()

	for _, tt := range []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string
	}{
		{"checkpoints without pubkey", server, []string{"audit", "verify", "--checkpoints", cps}, 2, "--checkpoints needs --pubkey"},
		{"pubkey without checkpoints", server, []string{"audit", "verify", "--pubkey", pub}, 2, "--pubkey needs --checkpoints"},
		{"offline with db", nil, []string{"audit", "verify", "--pubkey", pub, "--checkpoints", cps, "--offline", "--db", "sqlite:x.db"}, 2, "--offline reads no events"},
		{"private key as pubkey", nil, []string{"audit", "verify", "--pubkey", filepath.Join(dir, "audit.key"), "--checkpoints", cps}, 2, "never the private key"},
		{"no checkpoints", nil, []string{"audit", "verify", "--pubkey", pub, "--checkpoints", cps}, 1, ""},
		{"unreachable server", server, []string{"audit", "verify", "--pubkey", pub, "--checkpoints", cps}, 1, "--offline"},
		{"keygen without out", nil, []string{"audit", "keygen"}, 2, "--out DIR is required"},
		{"serve dir without key", nil, []string{"serve", "--audit-checkpoint-dir", cps}, 2, "needs --audit-key"},
		{"serve negative interval", nil, []string{"serve", "--audit-key", filepath.Join(dir, "audit.key"), "--audit-checkpoint-dir", cps,
			"--audit-checkpoint-interval", "-1h"}, 2, "0 or more"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := runCLI(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.stderr)
			}
		})
	}
}
