package ldap_test

import (
	"errors"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
)

// TestCheckFailures: each way a system owner gets the settings wrong is reported with the kind
// that tells them what to fix, at the step that failed, whether the connector fails to open
// (it binds when opened) or its Check fails afterwards. Permanence is unchanged: a refused
// password is permanent, a server that is not there is retryable.
func TestCheckFailures(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, ldaptest.Options{TLS: true})
	closed := closedPort(t)
	// Settings rewrites the password file: call it once, not from parallel subtests.
	base := srv.Settings()
	tests := []struct {
		name      string
		change    func(t *testing.T, s map[string]any)
		kind      connector.Failure
		step      string
		permanent bool
		detail    string
	}{
		{"ok", func(*testing.T, map[string]any) {}, "", "", false, ""},
		{"wrong port", func(_ *testing.T, s map[string]any) { s["url"] = "ldap://" + closed },
			connector.FailUnreachable, "connect", false, "connection refused"},
		{"unknown host", func(_ *testing.T, s map[string]any) { s["url"] = "ldap://no-such-host.invalid:389" },
			connector.FailUnreachable, "connect", false, "no-such-host.invalid"},
		{"wrong password", func(t *testing.T, s map[string]any) { s["bind_password_file"] = writeFile(t, "wrong\n") },
			connector.FailCredentials, "bind", true, "Invalid Credentials"},
		{"missing password file", func(t *testing.T, s map[string]any) {
			s["bind_password_file"] = filepath.Join(t.TempDir(), "absent")
		}, connector.FailConfig, "read bind_password", true, "absent"},
		{"unknown bind dn", func(_ *testing.T, s map[string]any) { s["bind_dn"] = "cn=nobody," + ldaptest.BaseDN },
			connector.FailCredentials, "bind", true, "cn=nobody"},
		{"missing groups_dn", func(_ *testing.T, s map[string]any) { s["groups_dn"] = "ou=groupz," + ldaptest.BaseDN },
			connector.FailConfig, "read groups_dn", true, "groups_dn ou=groupz"},
		{"missing disabled_dn", func(_ *testing.T, s map[string]any) { s["disabled_dn"] = "ou=gone," + ldaptest.BaseDN },
			connector.FailConfig, "read disabled_dn", true, "disabled_dn"},
		{"untrusted certificate", func(_ *testing.T, s map[string]any) { s["url"] = srv.LDAPSURL },
			connector.FailTLS, "connect", true, "certificate"},
		{"starttls, untrusted certificate", func(_ *testing.T, s map[string]any) { s["start_tls"] = true },
			connector.FailTLS, "starttls", true, "certificate"},
		{"ldaps on the plain port", func(_ *testing.T, s map[string]any) {
			s["url"] = strings.Replace(srv.URL, "ldap://", "ldaps://", 1)
			s["insecure_skip_verify"] = true
		}, connector.FailTLS, "connect", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			settings := maps.Clone(base)
			settings["timeout"] = "2s"
			tt.change(t, settings)
			c, err := connectors.Open(t.Context(), gatehouse.Connector{Type: "ldap", Settings: settings}, nil)
			if err == nil {
				defer c.Close()
				err = c.(connector.Checker).Check(t.Context())
			}
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var ce *connector.CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a CheckError of kind %s", err, tt.kind)
			}
			if ce.Kind != tt.kind || ce.Step != tt.step {
				t.Fatalf("kind, step = %s, %s, want %s, %s (err: %v)", ce.Kind, ce.Step, tt.kind, tt.step, err)
			}
			if connector.IsPermanent(err) != tt.permanent {
				t.Fatalf("permanent = %v, want %v (err: %v)", connector.IsPermanent(err), tt.permanent, err)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.detail)
			}
			if strings.Contains(err.Error(), ldaptest.AdminPassword) {
				t.Fatalf("err = %v shows the password", err)
			}
		})
	}
}

// closedPort returns a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
