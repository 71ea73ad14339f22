package catalog

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocsNameEveryField keeps docs/catalog.md a complete contract: every field the parser
// accepts, every connector setting a connector declares and every enumerated value must be written (as `name`) in
// the section that documents its object. A field added to the parser without its documentation
// fails here.
func TestDocsNameEveryField(t *testing.T) {
	b, err := os.ReadFile("../../docs/catalog.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	// The drift policy is a connector setting read by the provisioning engine
	// (provision.ParseDriftPolicy), which this package cannot import.
	driftKeys := []string{"unknown_memberships", "unknown_accounts", "leaver_accounts", "enforce", "report"}
	tests := []struct {
		section string // a heading of docs/catalog.md
		names   []string
	}{
		{"## Files and the document", topFields},
		{"## settings", settingsFields},
		{"## settings", leaverGuardFields},
		{"## settings", exceptionsFields},
		{"## settings", []string{"revoke", "review"}},
		{"## systems", systemFields},
		{"## systems", tiers},
		{"### account_name", namingFields},
		{"### connector", append([]string{"type"}, specs.Types()...)},
		{"#### drift", driftKeys},
		{"## entitlements", entitlementFields},
		{"## entitlements", kinds},
		{"## entitlements", risks},
		{"## entitlements", approvalSteps},
		{"## roles", roleFields},
		{"## sod", sodFields},
		{"## sod", severities},
		{"## sod", onViolations},
	}
	// Each connector's settings and their values, as the connector declares them.
	for _, spec := range specs {
		var allowed []string
		for _, st := range spec.Settings {
			allowed = append(allowed, st.Allowed...)
		}
		tests = append(tests, struct {
			section string
			names   []string
		}{"#### type: " + spec.Type, append(spec.Keys(), allowed...)})
	}
	for _, tt := range tests {
		text := section(doc, tt.section)
		if text == "" {
			t.Errorf("docs/catalog.md has no section %q", tt.section)
			continue
		}
		for _, name := range tt.names {
			// `name`, or within a path: `leaver_guard.max_fraction`, `token_env` / `token_file`.
			mention := regexp.MustCompile("`([a-z_]+\\.)?" + regexp.QuoteMeta(name) + "`")
			if !mention.MatchString(text) {
				t.Errorf("docs/catalog.md, section %q, does not mention `%s`", tt.section, name)
			}
		}
	}
}

// section returns the text under heading (or a heading that starts with it and goes on after a
// space: "#### type: ldap (OpenLDAP, Active Directory)") up to the next heading of the same or a higher level.
func section(doc, heading string) string {
	level := strings.IndexByte(heading, ' ')
	var out []string
	in := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "#") {
			l := strings.IndexByte(line, ' ')
			switch {
			case line == heading || strings.HasPrefix(line, heading+" "):
				in = true
				continue
			case in && l > 0 && l <= level:
				in = false
			}
		}
		if in {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
