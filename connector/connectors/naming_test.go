package connectors_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/ldap"
)

// TestSystemNaming: a system's account naming rule gets its defaults and its limits from its
// connector's spec (Active Directory's sAMAccountName), and only a connector that
// NamesAccounts takes one.
func TestSystemNaming(t *testing.T) {
	ad := &gatehouse.System{Connector: gatehouse.Connector{Type: "ldap", Settings: map[string]any{"flavor": "ad"}}}
	if r := ad.Naming(ldap.Spec); r != (gatehouse.AccountNaming{Template: "{local}", MaxLength: 20, Charset: "ascii", Collision: "suffix"}) {
		t.Errorf("AD defaults: %+v", r)
	}
	ol := &gatehouse.System{Connector: gatehouse.Connector{Type: "ldap"}}
	if r := ol.Naming(ldap.Spec); r.MaxLength != 0 || r.Template != "{local}" {
		t.Errorf("OpenLDAP defaults: %+v", r)
	}
	ad.AccountName = &gatehouse.AccountNaming{Template: "{given.0}{nick}", MaxLength: 25, Charset: "latin1", Collision: "ask"}
	var got []string
	for _, p := range ad.NamingProblems(connectors.Specs) {
		got = append(got, p.Field+": "+p.Message)
	}
	want := []string{
		`template: "{given.0}{nick}": placeholder {given.0}: .N must be a number of characters from 1 to 64 after local, given or family`,
		"max_length: 25 is more than Active Directory allows (sAMAccountName holds at most 20 characters)",
		`charset: "latin1" is not one of ascii, unicode`,
		`collision: "ask" is not one of suffix, refuse`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ad.AccountName = &gatehouse.AccountNaming{Template: "administrator"}
	if ps := ad.NamingProblems(connectors.Specs); len(ps) != 1 || ps[0].Message != `"administrator" has no placeholder: a name must come from the person ({local}, {given}, {family}, {employee_id})` {
		t.Errorf("constant template: %+v", ps)
	}
	scim := &gatehouse.System{Connector: gatehouse.Connector{Type: "scim"}, AccountName: &gatehouse.AccountNaming{Template: "{local}"}}
	if ps := scim.NamingProblems(connectors.Specs); len(ps) != 1 || !strings.Contains(ps[0].Message, "only ldap systems") {
		t.Errorf("scim: %+v", ps)
	}
}
