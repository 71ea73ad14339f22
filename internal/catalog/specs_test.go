package catalog

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector/connectors"
)

// specs are the connector types the binary knows, as gatehouse passes them to Parse and
// Validate; this package imports no connector, its tests do.
var specs = connectors.Specs

// TestConnectorSettingsComeFromTheSpecs: validation knows connector types only through the specs
// it is given, so a type declared elsewhere is validated by its own declaration.
func TestConnectorSettingsComeFromTheSpecs(t *testing.T) {
	t.Parallel()
	queue := &gatehouse.ConnectorSpec{Type: "queue", Settings: []gatehouse.SettingSpec{
		{Name: "endpoint", Kind: gatehouse.SettingURL, Required: true, Schemes: []string{"amqp", "amqps"}},
		{Name: "key", Kind: gatehouse.SettingSecret, Required: true},
		{Name: "mode", Kind: gatehouse.SettingString, Allowed: []string{"push", "pull"}},
	}, Check: func(s map[string]any) []gatehouse.SettingProblem {
		if s["mode"] == "push" {
			return []gatehouse.SettingProblem{{Setting: "mode", Message: "push needs a server"}}
		}
		return nil
	}}
	_, err := Parse([]File{{Name: "a.yaml", Content: []byte(`systems:
  - id: q
    name: Q
    owner: o@example.com
    tier: high
    connector: {type: queue, mode: push, endpoint: "http://q.example.com", url: "x"}
  - id: dir
    name: Dir
    owner: o@example.com
    tier: high
    connector: {type: ldap}
`)}}, gatehouse.ConnectorSpecs{queue})
	got := ""
	if err != nil {
		got = err.Error()
	}
	for _, want := range []string{
		"systems[q].connector.url: unknown setting for a queue connector (known: type, endpoint, key_env, key_file, mode)",
		"systems[q].connector: required: key_env or key_file (the secret by reference)",
		"systems[q].connector.mode: push needs a server",
		"systems[q].connector.endpoint: must be a amqp:// or amqps:// URL with a host",
		`systems[dir].connector.type: "ldap" is not one of queue`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Parse = %v\nwant a problem %q", got, want)
		}
	}
	if strings.Contains(got, "must be one of push, pull") || strings.Contains(got, "bind_dn") {
		t.Errorf("Parse = %v: checked what the spec does not declare", got)
	}
}
