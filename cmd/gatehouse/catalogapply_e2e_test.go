package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCatalogApplyConfirmsRevocations runs `catalog apply` of the real binary against the demo:
// an apply that revokes nothing needs no confirmation; one that revokes grants (birthright
// grants a changed role no longer gives, or grants of entitlements removed with --prune) is
// refused with exit 2 where no one can answer, asks at a terminal, and goes through with --yes;
// the catalog.apply audit event records what was confirmed.
func TestCatalogApplyConfirmsRevocations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	demo := start(t, nil, "Press Ctrl-C", "demo", "--db", "sqlite:"+filepath.Join(dir, "demo.db"))
	var admin string
	for _, m := range loginLine.FindAllStringSubmatch(demo.stdout.String(), -1) {
		if m[1] == "admin" {
			admin = m[3]
		}
	}
	if admin == "" {
		t.Fatalf("demo printed no admin token:\n%s", demo.stdout)
	}
	url := demo.url
	cat := filepath.Join(dir, "catalog")
	if err := os.CopyFS(cat, os.DirFS("../../examples/catalog")); err != nil {
		t.Fatal(err)
	}
	ents, roles := filepath.Join(cat, "20-entitlements.yaml"), filepath.Join(cat, "30-roles.yaml")

	// 1. Nothing revoked: no question, no --yes.
	editFile(t, ents, "entitlements:\n", "entitlements:\n  - id: vpn/guests\n    system: vpn\n    name: VPN guests\n    kind: group\n    risk: standard\n")
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0, "+ entitlement vpn/guests", "Applied: 1 added, 0 changed, 0 removed.")

	// 2. A birthright role gives less: its holders lose a grant.
	editFile(t, roles, "entitlements: [corp-ldap/engineering, github/members, jira/engineering, aws/dev-readonly]",
		"entitlements: [corp-ldap/engineering, github/members, jira/engineering]")
	r := gh(t, url, admin, "catalog", "plan", cat, "-o", "json")
	expect(t, r, 0)
	var plan struct {
		Revocations struct {
			Grants, People, Pruned, Birthright int
			Confirmation                       string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatal(err)
	}
	rv := plan.Revocations
	if rv.Grants == 0 || rv.Birthright != rv.Grants || rv.Pruned != 0 || rv.People != rv.Grants || !strings.HasPrefix(rv.Confirmation, "rv1-") {
		t.Fatalf("plan revocations: %+v", rv)
	}
	expect(t, gh(t, url, admin, "catalog", "plan", cat), 0, "! apply revokes ", "birthright grants the rules no longer give); it asks for confirmation first")
	// Standard input is not a terminal here: refused, nothing applied.
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 2,
		"error: this apply would revoke ", " birthright grants the rules no longer give", "nothing applied", "re-run with --yes")
	expect(t, gh(t, url, admin, "catalog", "plan", cat), 0, "~ role engineering-baseline (entitlements)")

	// At a terminal it asks; "n" (or just Enter) applies nothing, "y" applies.
	env := map[string]string{"GATEHOUSE_ADDR": url, "GATEHOUSE_TOKEN": admin}
	answer := func(s string) { promptInput = func() (io.Reader, bool) { return strings.NewReader(s), true } }
	defer func() { promptInput = func() (io.Reader, bool) { return os.Stdin, isTerminal(os.Stdin.Fd()) } }()
	answer("\n")
	out, errOut, code := runCLI(t, env, "catalog", "apply", cat, "--reason", "e2e")
	if code != 1 || !strings.Contains(errOut, "Apply and revoke them? [y/N]") || !strings.Contains(errOut, "nothing applied") ||
		!strings.Contains(out, "~ role engineering-baseline (entitlements)") {
		t.Fatalf("answer no: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	expect(t, gh(t, url, admin, "catalog", "plan", cat), 0, "~ role engineering-baseline (entitlements)")
	answer("y\n")
	out, errOut, code = runCLI(t, env, "catalog", "apply", cat, "--reason", "e2e")
	if code != 0 || !strings.Contains(out, "birthright grants no longer given by the rules revoked") {
		t.Fatalf("answer yes: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	expect(t, gh(t, url, admin, "catalog", "plan", cat), 0, "No changes.")

	// 3. --prune removes an entitlement people hold: refused without --yes, applied with it.
	editFile(t, roles, "entitlements: [corp-ldap/legal, corp-ad/file-share-legal]", "entitlements: [corp-ldap/legal]")
	removeEntitlement(t, ents, "corp-ad/file-share-legal")
	expect(t, gh(t, url, admin, "catalog", "apply", cat), 1, "--prune") // the server's own refusal comes first
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--prune"), 2,
		"this apply would revoke ", " of removed entitlements", "remove 1 object (entitlement corp-ad/file-share-legal [", "re-run with --yes")
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--prune", "--yes", "--reason", "CHG-7"), 0,
		"- entitlement corp-ad/file-share-legal", "grants revoked")
	expect(t, gh(t, url, admin, "catalog", "plan", cat), 0, "No changes.")

	// The apply's audit event says what was confirmed.
	req, _ := http.NewRequest("GET", url+"/api/v1/audit/events?action=catalog.apply&limit=5", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Items []struct {
			Reason string          `json:"reason"`
			After  json.RawMessage `json:"after"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || len(page.Items) == 0 {
		t.Fatalf("audit events: %v, %+v", err, page)
	}
	var confirmed struct {
		Revocations *struct {
			Grants, People, Pruned int
			Confirmation           string
		} `json:"revocations"`
	}
	for _, ev := range page.Items {
		if ev.Reason == "CHG-7" {
			if err := json.Unmarshal(ev.After, &confirmed); err != nil {
				t.Fatal(err)
			}
		}
	}
	if c := confirmed.Revocations; c == nil || c.Grants == 0 || c.Pruned != c.Grants || c.People == 0 || !strings.HasPrefix(c.Confirmation, "rv1-") {
		t.Fatalf("catalog.apply event of the prune: %+v", confirmed.Revocations)
	}
}
