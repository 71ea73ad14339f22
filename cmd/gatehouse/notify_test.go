package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeNotificationFlags checks that a bad notification setting stops serve at start with
// a usage error, and that a password put in the URL by mistake is not echoed.
func TestServeNotificationFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"password in the URL", nil, []string{"--smtp-url", "smtp://gatehouse:hunter2-secret@mail.example.com", "--smtp-from", "g@example.com"},
			"do not put the password in the URL"},
		{"user without password source", nil, []string{"--smtp-url", "smtp://gatehouse@mail.example.com", "--smtp-from", "g@example.com"},
			"name the password"},
		{"from without server", nil, []string{"--smtp-from", "g@example.com"}, "need --smtp-url"},
		{"no from", nil, []string{"--smtp-url", "smtps://mail.example.com"}, "from address"},
		{"empty webhook secret", nil, []string{"--webhook-url", "https://hooks.example.com/x", "--webhook-secret-env", "HOOK_KEY"},
			"HOOK_KEY: the variable is empty"},
		{"relative public URL", nil, []string{"--public-url", "gatehouse.example.com"}, "absolute URL"},
		{"no notice interval", nil, []string{"--notice-interval", "0s"}, "--notice-interval and --request-expiry must be above zero"},
		{"negative request expiry", nil, []string{"--request-expiry", "-1h"}, "--notice-interval and --request-expiry must be above zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"serve", "--db", "sqlite:" + filepath.Join(t.TempDir(), "g.db"), "--addr", "127.0.0.1:0"}, tt.args...)
			_, stderr, code := runCLI(t, tt.env, args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
			if strings.Contains(stderr, "hunter2") {
				t.Errorf("stderr echoes the password: %s", stderr)
			}
		})
	}
}
