package connectors_test

import (
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
)

func TestOpenChecksSettingsBeforeDialling(t *testing.T) {
	_, err := connectors.Open(t.Context(), gatehouse.Connector{Type: "ldap", Settings: map[string]any{"url": "ldap://127.0.0.1:1"}}, nil)
	if !connector.IsPermanent(err) {
		t.Fatalf("Open(incomplete ldap settings) = %v, want a permanent error", err)
	}
	if _, err := connectors.Open(t.Context(), gatehouse.Connector{Type: "scim"}, nil); !connector.IsPermanent(err) {
		t.Fatalf("Open(scim) = %v, want a permanent error until the scim connector exists", err)
	}
}

// TestSpecsAreConsistent: every registered type declares its settings, every declared type can
// be opened, and each declaration decodes: defaults parse, allowed values are on strings, and no
// key is declared twice (catalog validation and the connector would disagree).
func TestSpecsAreConsistent(t *testing.T) {
	if got, want := connectors.Specs.Types(), connectors.Registry.Types(); len(got) != len(want) {
		t.Fatalf("specs %v, registry %v: want the same types", got, want)
	}
	for _, spec := range connectors.Specs {
		if connectors.Registry[spec.Type] == nil {
			t.Errorf("%s: declared but not registered", spec.Type)
		}
		seen := map[string]bool{}
		for _, k := range spec.Keys() {
			if seen[k] {
				t.Errorf("%s: %s declared twice", spec.Type, k)
			}
			seen[k] = true
		}
		for _, st := range spec.Settings {
			if len(st.Allowed) > 0 && st.Kind != gatehouse.SettingString {
				t.Errorf("%s.%s: allowed values on a %s setting", spec.Type, st.Name, st.Kind)
			}
			if st.Description == "" {
				t.Errorf("%s.%s: no description", spec.Type, st.Name)
			}
		}
		if _, errs := connector.Decode(spec, nil); len(errs) > 0 {
			t.Errorf("%s: decoding no settings: %v", spec.Type, errs)
		}
	}
}
