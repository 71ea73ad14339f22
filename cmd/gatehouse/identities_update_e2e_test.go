package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestIdentitiesUpdateEndToEnd terminates a person by hand through the CLI, as an operator would
// before the HR feed catches up, and checks what a demanding user checks: the person's token
// stops working at once and stays dead after a status correction, their grants are revoked,
// the demo prints who may do what, and the operator cannot change their own status.
func TestIdentitiesUpdateEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	demo := start(t, nil, "Press Ctrl-C", "demo", "--db", "sqlite:"+filepath.Join(dir, "demo.db"))
	out := demo.stdout.String()
	for _, want := range []string{"Who may do what:", "security approvers", "One person decides at most one step"} {
		if !strings.Contains(out, want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out)
		}
	}
	tokens, emails := map[string]string{}, map[string]string{}
	for _, m := range loginLine.FindAllStringSubmatch(out, -1) {
		emails[m[1]], tokens[m[1]] = m[2], m[3]
	}
	url, op, emp := demo.url, tokens["operator"], tokens["employee"]
	if op == "" || emp == "" {
		t.Fatalf("demo printed no operator or employee token:\n%s", out)
	}

	expect(t, gh(t, url, emp, "whoami"), 0, emails["employee"])
	// Usage errors first: no reason, nothing to change.
	expect(t, gh(t, url, op, "identities", "update", emails["employee"], "--status", "terminated"), 2, "--reason is required")
	expect(t, gh(t, url, op, "identities", "update", emails["employee"], "--reason", "x"), 2, "nothing to change")

	// An operator may not change their own status.
	r := gh(t, url, op, "identities", "update", emails["operator"], "--status", "leave", "--reason", "Going on leave, CHG-7")
	if r.code != 1 || !strings.Contains(strings.ToLower(r.stderr), "own") {
		t.Fatalf("operator changing their own status: want exit 1 naming it as their own, got %s", r)
	}

	expect(t, gh(t, url, op, "identities", "update", emails["employee"], "--status", "terminated",
		"--end-date", "2026-12-07", "--reason", "HR-5521: terminated today, feed catches up tonight"), 0, "status terminated")
	if r := gh(t, url, emp, "whoami"); r.code != 1 {
		t.Fatalf("terminated person's token still works: %s", r)
	}
	// A status correction does not bring the old token back.
	expect(t, gh(t, url, op, "identities", "update", emails["employee"], "--status", "active", "--reason", "HR-5521 was the wrong person"), 0, "status active")
	if r := gh(t, url, emp, "whoami"); r.code != 1 {
		t.Fatalf("old token works again after a status correction: %s", r)
	}
	r = gh(t, url, op, "grants", "list", "--identity", emails["employee"], "-o", "json")
	expect(t, r, 0)
	if strings.Contains(r.stdout, `"revoked_at"`) == false && strings.Contains(r.stdout, `"items":[]`) == false &&
		strings.Contains(r.stdout, `"items": []`) == false {
		t.Fatalf("grants of a terminated person are neither revoked nor gone: %s", r.stdout)
	}
	expect(t, gh(t, url, op, "audit", "list", "--action", "token.revoke", "-o", "json"), 0, "token.revoke")
}
