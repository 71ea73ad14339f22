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
