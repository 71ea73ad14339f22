package catalog

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

const adSystemYAML = `systems:
  - id: corp-ad
    name: Active Directory
    owner: it-lead@example.com
    tier: critical
    connector:
      type: ldap
      flavor: ad
      url: ldaps://dc.example.com:636
      bind_dn: CN=gatehouse,CN=Users,DC=example,DC=com
      bind_password_env: AD_PASSWORD
      users_dn: OU=People,DC=example,DC=com
      groups_dn: OU=Groups,DC=example,DC=com
    account_name:
`

// TestAccountNameField: a system's account_name is parsed, validated with file and line per
// field, and written back by Format.
func TestAccountNameField(t *testing.T) {
	t.Parallel()
	doc, err := parseWith(adSystemYAML + `      template: "{given.1}{family}"
      max_length: 12
      charset: unicode
      collision: refuse
`)
	if err != nil {
		t.Fatal(err)
	}
	var sys *gatehouse.System
	for _, s := range doc.Catalog.Systems {
		if s.ID == "corp-ad" {
			sys = s
		}
	}
	want := gatehouse.AccountNaming{Template: "{given.1}{family}", MaxLength: 12, Charset: "unicode", Collision: "refuse"}
	if sys == nil || sys.AccountName == nil || *sys.AccountName != want {
		t.Fatalf("account_name = %+v", sys)
	}
	out, err := Format(doc.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse([]File{{Name: "export.yaml", Content: out}}, specs)
	if err != nil {
		t.Fatalf("Parse(Format(c)):\n%v\n%s", err, out)
	}
	if !reflect.DeepEqual(doc.Catalog, again.Catalog) {
		t.Errorf("round trip changed the catalog:\n%s", out)
	}

	tests := []struct {
		name, body string
		want       []string // "field:line: message" substrings, in order
	}{
		{"every field wrong", `      template: "{first}.{family"
      max_length: 21
      charset: latin1
      collision: ask
      case: lower
`, []string{
			"case.yaml:19: systems[corp-ad].account_name.case: unknown field",
			`case.yaml:15: systems[corp-ad].account_name.template: "{first}.{family": unknown placeholder {first}`,
			"case.yaml:16: systems[corp-ad].account_name.max_length: 21 is more than Active Directory allows",
			`case.yaml:17: systems[corp-ad].account_name.charset: "latin1" is not one of ascii, unicode`,
			`case.yaml:18: systems[corp-ad].account_name.collision: "ask" is not one of suffix, refuse`,
		}},
		{"wrong types", `      template: [a]
      max_length: twenty
`, []string{
			"case.yaml:15: systems[corp-ad].account_name.template: must be a string, got a list",
			"case.yaml:16: systems[corp-ad].account_name.max_length: must be a whole number, got a string",
		}},
		{"unbalanced brace", `      template: "{local"
`, []string{`case.yaml:15: systems[corp-ad].account_name.template: "{local": a { without its }`}},
		{"too short", `      max_length: 2
`, []string{"case.yaml:15: systems[corp-ad].account_name.max_length: must be at least 3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseWith(adSystemYAML + tc.body)
			if err == nil {
				t.Fatal("Parse succeeded; want problems")
			}
			ps := asProblems(t, err)
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			all := strings.Join(got, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("missing %q in:\n%s", w, all)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%s", len(got), len(tc.want), all)
			}
		})
	}

	_, err = parseWith(`systems:
  - id: hr-app
    name: HR
    owner: it-lead@example.com
    tier: standard
    connector: {type: manual, assignee: it-lead@example.com}
    account_name: {template: "{local}"}
`)
	if err == nil || !strings.Contains(err.Error(), "case.yaml:7: systems[hr-app].account_name: only ldap systems name") {
		t.Errorf("account_name on a manual system: %v", err)
	}
}
