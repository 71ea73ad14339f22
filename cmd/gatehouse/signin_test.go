package main

import (
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// TestSessionCookieSecureFromPublicURL: serve marks the session cookie Secure whenever
// --public-url is https, and checks the sign-in flags.
func TestSessionCookieSecureFromPublicURL(t *testing.T) {
	t.Parallel()
	ok := signInFlags{sessionIdle: 30 * time.Minute, sessionMax: 12 * time.Hour, authFailures: 20, authWindow: time.Minute}
	for url, want := range map[string]bool{
		"https://gatehouse.example.com": true, "HTTPS://gatehouse.example.com/": true,
		"http://gatehouse.example.com": false, "": false,
	} {
		si, err := ok.settings(&cobra.Command{}, url)
		if err != nil {
			t.Fatal(err)
		}
		if si.secure != want || si.limiter == nil || si.sessions.Idle != 30*time.Minute {
			t.Errorf("--public-url %q: secure %v, want %v", url, si.secure, want)
		}
	}
	for name, bad := range map[string]signInFlags{
		"idle above max": {sessionIdle: 13 * time.Hour, sessionMax: 12 * time.Hour, authFailures: 20, authWindow: time.Minute},
		"no failures":    {sessionIdle: time.Minute, sessionMax: time.Hour, authFailures: 0, authWindow: time.Minute},
		"bad proxy":      {sessionIdle: time.Minute, sessionMax: time.Hour, authFailures: 5, authWindow: time.Minute, trustedProxies: []string{"10.0.0.0/33"}},
	} {
		if _, err := bad.settings(&cobra.Command{}, ""); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
