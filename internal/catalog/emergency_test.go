package catalog

import (
	"strings"
	"testing"
	"time"
)

const emergencyBase = `settings:
  security_approvers: [sec@example.com]
  emergency_operators: [oncall@example.com]
%s
systems:
  - {id: db, name: DB, owner: dba@example.com, tier: high, connector: {type: manual}}
entitlements:
  - id: db/root
    system: db
    name: Root
    kind: group
    risk: standard
    emergency: true
%s
`

func emergencyCatalog(settings, ent string) []File {
	y := strings.Replace(strings.Replace(emergencyBase, "%s", settings, 1), "%s", ent, 1)
	return []File{{Name: "e.yaml", Content: []byte(y)}}
}

func TestParseEmergency(t *testing.T) {
	t.Parallel()
	doc, err := Parse(emergencyCatalog("", "    max_duration: 2h"), specs)
	if err != nil {
		t.Fatal(err)
	}
	c := doc.Catalog
	if got := c.Settings.EmergencyOperators; len(got) != 1 || got[0] != "oncall@example.com" {
		t.Errorf("emergency_operators = %v", got)
	}
	if c.Settings.EmergencyLimit() != 4*time.Hour {
		t.Errorf("emergency limit by default = %s, want 4h", c.Settings.EmergencyLimit())
	}
	if !c.Entitlements[0].Emergency {
		t.Error("emergency: true not parsed")
	}
	// Round trip through Format keeps both.
	out, err := Format(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse([]File{{Name: "f.yaml", Content: out}}, specs)
	if err != nil {
		t.Fatalf("Parse(Format): %v\n%s", err, out)
	}
	if !back.Catalog.Entitlements[0].Emergency || back.Catalog.Settings.EmergencyOperators[0] != "oncall@example.com" {
		t.Errorf("round trip lost emergency fields:\n%s", out)
	}

	tests := []struct {
		name, settings, ent, field, msg string
		line                            int
	}{
		{"no max_duration", "", "", "entitlements[db/root].max_duration", "emergency access is always time-bound", 8},
		{"longer than the default", "", "    max_duration: 8h", "entitlements[db/root].max_duration", "at most 4h0m0s", 14},
		{"longer than the setting", "  emergency_max_duration: 1h", "    max_duration: 2h", "entitlements[db/root].max_duration", "at most 1h0m0s", 14},
		{"bad setting", "  emergency_max_duration: soon", "    max_duration: 1h", "settings.emergency_max_duration", "not a duration", 4},
		{"operator not an email", "  emergency_max_duration: 4h\n  emergency_operators: [oncall]", "    max_duration: 1h", "settings.emergency_operators", "", 0},
	}
	for _, tt := range tests {
		_, err := Parse(emergencyCatalog(tt.settings, tt.ent), specs)
		if err == nil {
			t.Errorf("%s: Parse succeeded; want a problem", tt.name)
			continue
		}
		ps := asProblems(t, err)
		found := false
		for _, p := range ps {
			if strings.HasPrefix(p.Field, tt.field) && strings.Contains(p.Message, tt.msg) && (tt.line == 0 || p.Line == tt.line) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: problems %v; want %s at e.yaml:%d containing %q", tt.name, err, tt.field, tt.line, tt.msg)
		}
	}
}
