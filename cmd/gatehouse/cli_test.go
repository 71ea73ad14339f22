package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runCLI runs the CLI in-process with the given environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = run(ctx, args, &out, &errb, func(k string) string { return env[k] })
	return out.String(), errb.String(), code
}

// TestExitCodes checks the exit-code contract for what needs no server: usage errors are 2,
// failures 1, success 0, and every error is printed once, as "error: …".
func TestExitCodes(t *testing.T) {
	t.Parallel()
	// A port nothing listens on: take a free one and close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	server := map[string]string{"GATEHOUSE_ADDR": closed, "GATEHOUSE_TOKEN": "gh_x"}

	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string // substring
	}{
		{"version", nil, []string{"version"}, 0, ""},
		{"help", nil, []string{"--help"}, 0, ""},
		{"group without subcommand shows help", nil, []string{"identities"}, 0, ""},
		{"unknown command", nil, []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown subcommand suggests", nil, []string{"identities", "lst"}, 2, "did you mean list?"},
		{"unknown flag", server, []string{"whoami", "--frob"}, 2, "unknown flag: --frob"},
		{"missing argument", server, []string{"identities", "show"}, 2, "needs 1 argument"},
		{"extra argument", server, []string{"whoami", "extra"}, 2, "takes no arguments"},
		{"bad output format", server, []string{"whoami", "-o", "yaml"}, 2, "table or json"},
		{"no address", map[string]string{"GATEHOUSE_TOKEN": "gh_x"}, []string{"whoami"}, 2, "GATEHOUSE_ADDR"},
		{"no token", map[string]string{"GATEHOUSE_ADDR": closed}, []string{"whoami"}, 2, "GATEHOUSE_TOKEN"},
		{"bad address", map[string]string{"GATEHOUSE_ADDR": "ftp://x", "GATEHOUSE_TOKEN": "gh_x"}, []string{"whoami"}, 2, "http or https"},
		{"flags beat the environment", nil, []string{"whoami", "--addr", closed, "--token", "gh_x"}, 1, "cannot reach"},
		{"unreachable server", server, []string{"whoami"}, 1, "cannot reach the Gatehouse server"},
		{"grant revoke needs a reason", server, []string{"grants", "revoke", "g1"}, 2, "--reason is required"},
		{"grant create needs a reference", server, []string{"grants", "create", "--identity", "a@b.c", "--entitlement", "x/y", "--reason", "r"}, 2, "--reference is required"},
		{"bad status", server, []string{"grants", "list", "--status", "gone"}, 2, "active, revoked or all"},
		{"bad since", server, []string{"audit", "list", "--since", "yesterday"}, 2, "is not a time"},
		{"bad roles", server, []string{"identities", "roles", "a@b.c", "--set", "root"}, 2, "not one of admin"},
		{"serve bad log format", nil, []string{"serve", "--log-format", "xml"}, 2, "text or json"},
		{"serve bad HR missing policy", nil, []string{"serve", "--hr-missing", "ignore"}, 2, "use leaver or hold"},
		{"serve negative HR lead time", nil, []string{"serve", "--hr-lead-time", "-1h"}, 2, "0 or more"},
		{"serve missing secrets dir", nil, []string{"serve", "--secrets-dir", "/nonexistent/gatehouse-secrets"}, 2, "--secrets-dir /nonexistent/gatehouse-secrets"},
		{"serve bad secret env pattern", nil, []string{"serve", "--secret-env-allow", "CORP_[*"}, 2, "not a pattern"},
		{"serve zero HR guard window", nil, []string{"serve", "--hr-guard-window", "0s"}, 2, "above 0"},
		{"serve HR file bound", nil, []string{"serve", "--hr-max-mib", "0"}, 2, "use 1 to 1024"},
		{"confirmations decide needs an ID", server, []string{"confirmations", "confirm"}, 2, "ID"},
		{"missing catalog", nil, []string{"catalog", "validate", filepath.Join(t.TempDir(), "none")}, 1, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, code := runCLI(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.stderr)
			}
			if tt.code != 0 && strings.Count(stderr, "error: ") != 1 {
				t.Errorf("stderr should hold exactly one error line:\n%s", stderr)
			}
		})
	}
}

func TestCatalogValidate(t *testing.T) {
	t.Parallel()
	t.Run("demo catalog is valid", func(t *testing.T) {
		t.Parallel()
		out, stderr, code := runCLI(t, nil, "catalog", "validate", "../../examples/catalog")
		if code != 0 || !strings.HasPrefix(out, "catalog OK: 13 systems, ") {
			t.Fatalf("exit %d, out %q, stderr %q", code, out, stderr)
		}
	})
	t.Run("every problem is listed", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "bad.yaml")
		writeFile(t, path, badCatalog)
		out, _, code := runCLI(t, nil, "catalog", "validate", path)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		last := lines[len(lines)-1]
		if !strings.HasSuffix(last, " problems") {
			t.Errorf("last line %q should count the problems", last)
		}
		for _, want := range []string{
			path + ":2: systems[Bad_ID].id: ",
			path + ":5: systems[Bad_ID].tier: ",
			path + ":9: systems[Bad_ID].connector.bind_password: inline secret",
			path + ":11: entitlements[wiki/x].max_duration: ",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		for _, l := range lines[:len(lines)-1] {
			if !strings.HasPrefix(l, path+":") {
				t.Errorf("problem line %q is not file:line: field: message", l)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "bad.yaml")
		writeFile(t, path, badCatalog)
		out, _, code := runCLI(t, nil, "catalog", "validate", path, "-o", "json")
		if code != 1 || !strings.Contains(out, `"ok": false`) || !strings.Contains(out, `"line": 9`) {
			t.Fatalf("exit %d, out:\n%s", code, out)
		}
	})
}

// badCatalog has several problems at known lines.
const badCatalog = `systems:
  - id: Bad_ID
    name: x
    owner: nobody
    tier: gold
    connector:
      type: ldap
      url: ldap://x
      bind_password: hunter2
entitlements:
  - id: wiki/x
    system: wiki
    name: X
    kind: group
    risk: privileged
`

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestParseWhen(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Time{
		"2026-01-31T09:00:00Z": time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC),
		"2026-01-31":           time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
		"24h":                  now.Add(-24 * time.Hour),
		"7d":                   now.Add(-7 * 24 * time.Hour),
		"90m":                  now.Add(-90 * time.Minute),
	}
	for in, want := range tests {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseWhen("last week", now); err == nil {
		t.Error("parseWhen(\"last week\") should fail")
	}
}
