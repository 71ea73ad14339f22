package connector_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/connector"
)

// TestSecretPolicyEnv: a catalog's *_env may never name Gatehouse's own settings
// (GATEHOUSE_BOOTSTRAP_TOKEN was sent to an admin's URL by `systems test`), nor a variable the
// server uses for its own secrets, nor (with an allow-list) anything the operator did not allow.
func TestSecretPolicyEnv(t *testing.T) {
	t.Parallel()
	open := &connector.SecretPolicy{}
	strict := &connector.SecretPolicy{EnvAllow: []string{"CORP_*", "WIKI_TOKEN"}, EnvDeny: []string{"SMTP_PASSWORD"}}
	tests := []struct {
		p       *connector.SecretPolicy
		name    string
		wantErr string
	}{
		{nil, "GATEHOUSE_BOOTSTRAP_TOKEN", "GATEHOUSE_*"},
		{open, "GATEHOUSE_BOOTSTRAP_TOKEN", "GATEHOUSE_*"},
		{open, "gatehouse_db", "GATEHOUSE_*"},
		{open, "PGPASSWORD", "database password"},
		{open, "CORP_LDAP_PASSWORD", ""},
		{strict, "CORP_LDAP_PASSWORD", ""},
		{strict, "WIKI_TOKEN", ""},
		{strict, "AWS_SECRET_ACCESS_KEY", "--secret-env-allow (CORP_*,WIKI_TOKEN)"},
		{strict, "SMTP_PASSWORD", "--smtp-password-env"},
		{strict, "GATEHOUSE_BOOTSTRAP_TOKEN", "GATEHOUSE_*"},
	}
	for _, tt := range tests {
		err := tt.p.CheckEnv(tt.name)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("CheckEnv(%s) = %v, want allowed", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !connector.IsPermanent(err)):
			t.Errorf("CheckEnv(%s) = %v, want a permanent error containing %q", tt.name, err, tt.wantErr)
		}
	}
}

// TestSecretPolicyFile: *_file references resolve into the secrets directory or are refused:
// none at all without --secrets-dir; /etc/… and ../ escapes, symbolic links out of the
// directory and the server's own secret files are refused; what is checked is what is read.
func TestSecretPolicyFile(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "secrets")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{dir, outside} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, content string) string {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return name
	}
	token := write(filepath.Join(dir, "wiki-token"), "wiki-secret\n")
	own := write(filepath.Join(dir, "smtp-password"), "server-secret\n")
	stolen := write(filepath.Join(outside, "bootstrap"), "bootstrap-secret\n")
	if err := os.Symlink(stolen, filepath.Join(dir, "link-out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(token, filepath.Join(outside, "link-in")); err != nil {
		t.Fatal(err)
	}
	p := &connector.SecretPolicy{Dir: dir, FileDeny: []string{own}}

	if _, err := (&connector.SecretPolicy{}).CheckFile(token); err == nil || !strings.Contains(err.Error(), "--secrets-dir") {
		t.Errorf("without a secrets dir: %v, want a refusal naming --secrets-dir", err)
	}
	for _, ref := range []string{token, "wiki-token", filepath.Join(dir, "not-yet-there"), filepath.Join(outside, "link-in")} {
		if _, err := p.CheckFile(ref); err != nil {
			t.Errorf("CheckFile(%s) = %v, want allowed", ref, err)
		}
	}
	for ref, want := range map[string]string{
		"/etc/passwd": "outside",
		stolen:        "outside",
		filepath.Join(dir, "..", "outside", "bootstrap"): "outside",
		"../outside/bootstrap":                           "outside",
		filepath.Join(dir, "link-out"):                   "outside",
		own:                                              "the Gatehouse server itself",
	} {
		if _, err := p.CheckFile(ref); err == nil || !strings.Contains(err.Error(), want) || !connector.IsPermanent(err) {
			t.Errorf("CheckFile(%s) = %v, want a permanent error containing %q", ref, err, want)
		}
	}

	// At use: the resolver enforces the same policy, and never shows a value.
	ctx := t.Context()
	t.Setenv("GATEHOUSE_BOOTSTRAP_TOKEN", "bootstrap-secret")
	r := connector.OSSecrets{Policy: p}
	if v, err := connector.Secret(ctx, r, map[string]any{"token_file": "wiki-token"}, "token", true); err != nil || v != "wiki-secret" {
		t.Errorf("relative reference inside the dir = %q, %v", v, err)
	}
	for _, settings := range []map[string]any{
		{"token_file": filepath.Join(dir, "link-out")},
		{"token_file": stolen},
		{"token_env": "GATEHOUSE_BOOTSTRAP_TOKEN"},
	} {
		v, err := connector.Secret(ctx, r, settings, "token", true)
		if err == nil || v != "" || strings.Contains(err.Error(), "secret\n") || strings.Contains(err.Error(), "bootstrap-secret") {
			t.Errorf("Secret(%v) = %q, %v; want refused", settings, v, err)
		}
	}
	// Even without a policy, GATEHOUSE_* is refused.
	if _, err := connector.Secret(ctx, connector.OSSecrets{}, map[string]any{"token_env": "GATEHOUSE_BOOTSTRAP_TOKEN"}, "token", true); err == nil {
		t.Error("GATEHOUSE_BOOTSTRAP_TOKEN resolved without a policy")
	}
}
