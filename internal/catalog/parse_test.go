package catalog

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// baseYAML is a small valid catalog. Table cases add a second file to it, so each case also
// exercises merging.
const baseYAML = `settings:
  security_approvers: [sec-lead@example.com]
systems:
  - id: corp-ldap
    name: Corporate Directory
    owner: it-lead@example.com
    tier: critical
    connector:
      type: ldap
      url: ldap://127.0.0.1:3389
      bind_dn: cn=admin,dc=example,dc=com
      bind_password_env: CORP_LDAP_PASSWORD
      users_dn: ou=people,dc=example,dc=com
      groups_dn: ou=groups,dc=example,dc=com
  - id: wiki
    name: Team Wiki
    owner: it-lead@example.com
    tier: standard
    connector:
      type: scim
      url: http://127.0.0.1:8090/scim/v2
      token_env: WIKI_SCIM_TOKEN
entitlements:
  - id: corp-ldap/engineering
    system: corp-ldap
    name: Engineering
    kind: group
    risk: standard
  - id: wiki/members
    system: wiki
    name: Wiki members
    kind: group
    risk: standard
`

func parseWith(extra string) (*Document, error) {
	files := []File{{Name: "base.yaml", Content: []byte(baseYAML)}}
	if extra != "" {
		files = append(files, File{Name: "case.yaml", Content: []byte(extra)})
	}
	return Parse(files, specs)
}

func asProblems(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v (%T) is not Problems", err, err)
	}
	return ps
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	doc, err := parseWith("")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := len(doc.Catalog.Systems) + len(doc.Catalog.Entitlements); got != 4 {
		t.Errorf("got %d systems and entitlements, want 4", got)
	}
	if err := Validate(doc.Catalog, specs); err != nil {
		t.Errorf("Validate of a parsed catalog: %v", err)
	}
	if p := doc.Pos(KindSystem, "wiki", "tier"); p != (Pos{File: "base.yaml", Line: 18}) {
		t.Errorf("Pos(system wiki tier) = %v, want base.yaml:18", p)
	}
	if p := doc.Pos(KindEntitlement, "wiki/members", "owner"); p != (Pos{File: "base.yaml", Line: 29}) {
		t.Errorf("Pos of a defaulted field = %v, want the object's line base.yaml:29", p)
	}
	if p := doc.Pos(KindRole, "nope", ""); p != (Pos{}) {
		t.Errorf("Pos of an unknown object = %v, want zero", p)
	}
}

func TestParseProblems(t *testing.T) {
	t.Parallel()
	type want struct {
		field, msg string
		line       int // 0: not checked
	}
	tests := []struct {
		name  string
		extra string
		want  []want
	}{
		{"unknown top-level field", "sytems: []\n",
			[]want{{"sytems", "unknown field; did you mean systems?", 1}}},
		{"unknown object field", `entitlements:
  - id: wiki/editors
    system: wiki
    name: Editors
    kind: group
    riks: sensitive
    risk: sensitive
`, []want{{"entitlements[wiki/editors].riks", "did you mean risk?", 6}}},
		{"list expected", "systems: {id: x}\n", []want{{"systems", "must be a list, got a mapping", 1}}},
		{"mapping expected", "systems:\n  - corp-ldap\n", []want{{"systems[0]", "must be a mapping", 2}}},
		{"wrong scalar types", `entitlements:
  - id: wiki/editors
    system: wiki
    name: [Editors]
    kind: group
    risk: standard
    requestable: "yes"
    approval: manager
`, []want{
			{"entitlements[wiki/editors].name", "must be a string, got a list", 4},
			{"entitlements[wiki/editors].requestable", "must be true or false, got a string", 7},
			{"entitlements[wiki/editors].approval", "must be a list", 8},
		}},
		{"bool where a string belongs", `roles:
  - id: r
    name: true
    entitlements: [wiki/members]
`, []want{{"roles[r].name", "got a bool; quote it", 3}}},
		{"required system fields", `systems:
  - id: hr
    connector: {}
`, []want{
			{"systems[hr].name", "required", 2},
			{"systems[hr].owner", "required", 2},
			{"systems[hr].tier", "required", 2},
			{"systems[hr].connector.type", "required: ldap, scim, manual", 3},
		}},
		{"required entitlement fields", "entitlements:\n  - description: nothing else\n", []want{
			{"entitlements[0].id", "required", 2},
			{"entitlements[0].system", "required", 2},
			{"entitlements[0].name", "required", 2},
			{"entitlements[0].kind", "required", 2},
			{"entitlements[0].risk", "required", 2},
		}},
		{"required role and sod fields", "roles:\n  - id: r\nsod:\n  - id: s\n", []want{
			{"roles[r].name", "required", 2},
			{"roles[r].entitlements", "required: name at least one entitlement", 2},
			{"sod[s].left", "required", 4},
			{"sod[s].right", "required", 4},
		}},
		{"slugs", `systems:
  - id: HR_App
    name: HR
    owner: hr@example.com
    tier: high
    connector: {type: manual}
roles:
  - id: Role One
    name: R
    entitlements: [wiki/members]
`, []want{
			{"systems[HR_App].id", "not a valid id", 2},
			{"roles[Role One].id", "not a valid id", 8},
		}},
		{"entitlement id form", `entitlements:
  - id: engineering
    system: corp-ldap
    name: E
    kind: group
    risk: standard
  - id: wiki/admins
    system: corp-ldap
    name: A
    kind: group
    risk: standard
  - id: corp-ldap/Admins
    system: corp-ldap
    name: A
    kind: group
    risk: standard
`, []want{
			{"entitlements[engineering].id", "is not <system>/<slug>", 2},
			{"entitlements[wiki/admins].id", "starts with wiki/ but its system is corp-ldap", 7},
			{"entitlements[corp-ldap/Admins].id", "is not <system>/<slug>", 12},
		}},
		{"duplicate ids across files", `systems:
  - id: wiki
    name: Wiki again
    owner: it-lead@example.com
    tier: standard
    connector: {type: manual}
`, []want{{"systems[wiki].id", "duplicate id wiki, first defined at base.yaml:15", 2}}},
		{"enums", `entitlements:
  - id: wiki/editors
    system: wiki
    name: Editors
    kind: groop
    risk: high
    approval: [manager, onwer, boss]
sod:
  - id: s
    left: [wiki/members]
    right: [wiki/editors]
    severity: severe
    on_violation: warn
`, []want{
			{"entitlements[wiki/editors].kind", `"groop" is not one of group, role, license, permission-set; did you mean group?`, 5},
			{"entitlements[wiki/editors].risk", "is not one of standard, sensitive, privileged", 6},
			{"entitlements[wiki/editors].approval[1]", `"onwer" is not manager, owner, security or an email; did you mean owner?`, 7},
			{"entitlements[wiki/editors].approval[2]", `"boss" is not manager, owner, security or an email`, 7},
			{"sod[s].severity", "is not one of low, medium, high, critical", 12},
			{"sod[s].on_violation", "is not one of block, exception, record", 13},
		}},
		{"tier and connector type", `systems:
  - id: hr
    name: HR
    owner: hr@example.com
    tier: gold
    connector: {type: ftp}
`, []want{
			{"systems[hr].tier", `"gold" is not one of critical, high, standard`, 5},
			{"systems[hr].connector.type", `"ftp" is not one of ldap, scim, manual`, 6},
		}},
		{"durations", `entitlements:
  - id: wiki/editors
    system: wiki
    name: Editors
    kind: group
    risk: sensitive
    max_duration: 3 weeks
  - id: wiki/admins
    system: wiki
    name: Admins
    kind: role
    risk: privileged
`, []want{
			{"entitlements[wiki/editors].max_duration", `"3 weeks" is not a duration`, 7},
			{"entitlements[wiki/admins].max_duration", "privileged access is always time-bound", 8},
		}},
		{"emails", `settings:
  security_approvers: [sec-lead@example.com, "not an email"]
systems:
  - id: hr
    name: HR
    owner: hr-team
    tier: high
    connector: {type: manual}
entitlements:
  - id: hr/viewers
    system: hr
    name: Viewers
    kind: group
    risk: standard
    owner: "a@b"
    approval: [manager, x@@example.com]
`, []want{
			{"settings", "settings are already defined at base.yaml:1", 1},
			{"systems[hr].owner", `"hr-team" is not an email address`, 6},
			{"entitlements[hr/viewers].owner", `"a@b" is not an email address`, 15},
			{"entitlements[hr/viewers].approval[1]", `"x@@example.com" is not an email address`, 16},
		}},
		{"inline secrets never echoed", `systems:
  - id: hr
    name: HR
    owner: hr@example.com
    tier: high
    connector:
      type: scim
      url: https://hr.example.com/scim
      token: s3cr3t-value
      oauth: {client_secret: s3cr3t-value, client_id: gatehouse}
  - id: dir
    name: Dir
    owner: hr@example.com
    tier: high
    connector:
      type: ldap
      url: ldap://admin:s3cr3t-value@dir.example.com
      bind_dn: cn=admin
      bind_password: s3cr3t-value
      users_dn: ou=people
      groups_dn: ou=groups
`, []want{
			{"systems[hr].connector.oauth", "unknown setting for a scim connector", 10},
			{"systems[hr].connector.oauth.client_secret", "inline secret: use client_secret_env or client_secret_file", 10},
			{"systems[hr].connector.token", "inline secret: use token_env or token_file", 9},
			{"systems[dir].connector.url", "inline secret: the URL holds a password", 17},
			{"systems[dir].connector.bind_password", "inline secret: use bind_password_env or bind_password_file", 19},
		}},
		{"Gatehouse's own secrets are never a connector's", `systems:
  - id: hr
    name: HR
    owner: hr@example.com
    tier: high
    connector: {type: scim, url: "https://attacker.example.net/scim", token_env: GATEHOUSE_BOOTSTRAP_TOKEN}
  - id: dir
    name: Dir
    owner: hr@example.com
    tier: high
    connector: {type: ldap, url: "ldap://dir.example.com", bind_dn: cn=admin, bind_password_env: PGPASSWORD,
                users_dn: ou=people, groups_dn: ou=groups}
`, []want{
			{"systems[hr].connector.token_env", "GATEHOUSE_BOOTSTRAP_TOKEN: GATEHOUSE_* variables are Gatehouse's own settings and secrets, never a connector's", 6},
			{"systems[dir].connector.bind_password_env", "PGPASSWORD: the database password (libpq, pgx), never a connector's", 11},
		}},
		{"connector requirements", `systems:
  - id: dir
    name: Dir
    owner: hr@example.com
    tier: high
    connector:
      type: ldap
      url: http://dir.example.com
      bind_nd: cn=admin
      flavor: samba
      bind_password_env: A
      bind_password_file: /run/secrets/a
  - id: app
    name: App
    owner: hr@example.com
    tier: standard
    connector:
      type: scim
      url: https://app.example.com/scim
      token_env: 1-not-a-name
  - id: app2
    name: App 2
    owner: hr@example.com
    tier: standard
    connector:
      type: scim
      url: https://app2.example.com/scim
`, []want{
			{"systems[dir].connector", "required: bind_dn for a ldap connector", 6},
			{"systems[dir].connector", "required: users_dn for a ldap connector", 6},
			{"systems[dir].connector", "required: groups_dn for a ldap connector", 6},
			{"systems[dir].connector.bind_nd", "unknown setting for a ldap connector; did you mean bind_dn?", 9},
			{"systems[dir].connector.flavor", `"samba" is not one of openldap, ad`, 10},
			{"systems[dir].connector.bind_password_file", "set one of bind_password_env and bind_password_file, not both", 12},
			{"systems[dir].connector.url", "must be a ldap:// or ldaps:// URL", 8},
			{"systems[app].connector.token_env", "must name an environment variable", 20},
			{"systems[app2].connector", "required: token_env or token_file", 25},
		}},
		{"references", `entitlements:
  - id: erp/payments
    system: erp
    name: Payments
    kind: role
    risk: sensitive
roles:
  - id: r
    name: R
    entitlements: [wiki/members, wiki/member, wiki/members]
sod:
  - id: s
    left: [wiki/members, corp-ldap/engineering]
    right: [corp-ldap/engineering, corp-ldap/nope]
`, []want{
			{"entitlements[erp/payments].system", "unknown system erp", 3},
			{"roles[r].entitlements[1]", "unknown entitlement wiki/member; did you mean wiki/members?", 10},
			{"roles[r].entitlements[2]", "wiki/members is listed twice", 10},
			{"sod[s].right[0]", "corp-ldap/engineering is on both sides", 14},
			{"sod[s].right[1]", "unknown entitlement corp-ldap/nope", 14},
		}},
		{"birthright rules", `roles:
  - id: a
    name: A
    entitlements: [wiki/members]
    birthright: identity.departmnt == "Engineering"
  - id: b
    name: B
    entitlements: [wiki/members]
    birthright: identity.department
`, []want{
			{"roles[a].birthright", "undefined field 'departmnt'; did you mean 'department'?", 5},
			{"roles[b].birthright", "must return a bool, returns string", 9},
		}},
		{"leaver guard", "", nil}, // replaced below: needs its own settings
		{"yaml syntax", "systems:\n  - id: x\n   name: y\n", []want{{"", "YAML syntax", 3}}},
		{"aliases refused", `roles:
  - id: a
    name: A
    entitlements: &ents [wiki/members]
  - id: b
    name: B
    entitlements: *ents
`, []want{{"roles[b].entitlements", "YAML aliases (*name) are not supported", 7}}},
		{"merge keys refused", `roles:
  - id: a
    name: A
    entitlements: [wiki/members]
    <<: {description: x}
`, []want{{"roles[a]", "YAML merge keys (<<) are not supported", 5}}},
		{"duplicate keys", `roles:
  - id: a
    name: A
    name: B
    entitlements: [wiki/members]
`, []want{{"roles[a].name", "duplicate field (first at line 3)", 4}}},
		{"one document per file", "roles: []\n---\nsod: []\n", []want{{"", "one YAML document", 2}}},
		{"top level not a mapping", "- a\n- b\n", []want{{"", "the top level must be a mapping", 1}}},
	}
	for _, tt := range tests {
		if tt.name == "leaver guard" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseWith(tt.extra)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Parse succeeded; want problems")
			}
			ps := asProblems(t, err)
			if strings.Contains(err.Error(), "s3cr3t-value") {
				t.Errorf("a problem message reveals a secret value:\n%v", err)
			}
			var unmatched []string
			for _, w := range tt.want {
				i := slices.IndexFunc(ps, func(p Problem) bool {
					return p.Field == w.field && strings.Contains(p.Message, w.msg) && (w.line == 0 || p.Line == w.line)
				})
				if i < 0 {
					unmatched = append(unmatched, w.field+": "+w.msg)
					continue
				}
				ps = slices.Delete(ps, i, i+1)
			}
			if len(unmatched) > 0 || len(ps) > 0 {
				t.Errorf("problems did not match.\nmissing:\n  %s\nunexpected:\n  %v\nall:\n%v",
					strings.Join(unmatched, "\n  "), ps, err)
			}
		})
	}
}

func TestSyntaxErrorLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		yaml string
		line int
		msg  string
	}{
		{"systems:\n  - id: x\n   name: y\n", 3, "did not find expected '-' indicator"},
		{"sod: []\nroles:\n  - id: a\n    name: b\n  entitlements: [x]\n", 5, "did not find expected '-' indicator"},
		{"a: 1\nb: [1, 2\nc: 3\n", 2, "did not find expected ',' or ']'"},
		{"a: 1\nb: 2\n\tc: 3\n", 3, "found a tab character"},
		{"a: 1\nb: x: y\n", 2, "mapping values are not allowed"},
		{"a:\n  b: 1\n  c: 2\n d: 3\n", 4, "did not find expected key"},
		{"roles: []\n---\nsod: [\n", 3, "did not find expected node content"},
	}
	// An indentation mistake deep in a long list: the YAML library points at the list's start.
	lines := strings.Split(string(genCatalog(20, 3000, 100)), "\n")
	at := slices.Index(lines, "    name: Entitlement 2500")
	lines[at] = "     name: Entitlement 2500"
	tests = append(tests, struct {
		yaml string
		line int
		msg  string
	}{strings.Join(lines, "\n"), at + 1, "mapping values are not allowed in this context"})
	lines[at] = "    name: Entitlement 2500"
	at = slices.Index(lines, "    risk: standard") + 5000
	lines[at] = "   risk: standard"
	tests = append(tests, struct {
		yaml string
		line int
		msg  string
	}{strings.Join(lines, "\n"), at + 1, "did not find expected '-' indicator"})

	for _, tt := range tests {
		_, err := Parse([]File{{Name: "a.yaml", Content: []byte(tt.yaml)}}, specs)
		ps := asProblems(t, err)
		if len(ps) != 1 || ps[0].Line != tt.line || !strings.Contains(ps[0].Message, tt.msg) {
			t.Errorf("Parse(%.200q) = %v; want one problem at line %d containing %q", tt.yaml, err, tt.line, tt.msg)
		}
	}
}

func TestParseSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		want    gatehouse.Settings
		wantErr []string
	}{
		{"absent: defaults", "systems: []\n", gatehouse.DefaultSettings(), nil},
		{"partial: defaults per field", "settings:\n  leaver_guard: {min_count: 5}\n",
			gatehouse.Settings{SecurityApprovers: []string{}, LeaverGuard: gatehouse.LeaverGuard{MaxFraction: 0.05, MinCount: 5}}, nil},
		{"full", "settings:\n  security_approvers: [a@example.com]\n  leaver_guard: {max_fraction: 1, min_count: 0}\n",
			gatehouse.Settings{SecurityApprovers: []string{"a@example.com"}, LeaverGuard: gatehouse.LeaverGuard{MaxFraction: 1, MinCount: 0}}, nil},
		{"bad guard", "settings:\n  leaver_guard:\n    max_fraction: 0\n    min_count: -1\n    max_count: 3\n", gatehouse.Settings{}, []string{
			"a.yaml:3: settings.leaver_guard.max_fraction: must be more than 0 and at most 1",
			"a.yaml:4: settings.leaver_guard.min_count: must not be negative",
			"a.yaml:5: settings.leaver_guard.max_count: unknown field",
		}},
		{"guard types", "settings:\n  leaver_guard: {max_fraction: lots, min_count: 1.5}\n", gatehouse.Settings{}, []string{
			"a.yaml:2: settings.leaver_guard.max_fraction: must be a number, got a string",
			"a.yaml:2: settings.leaver_guard.min_count: must be a whole number, got a number",
		}},
		{"security needs approvers", `systems:
  - id: s
    name: S
    owner: o@example.com
    tier: high
    connector: {type: manual}
entitlements:
  - id: s/admin
    system: s
    name: Admin
    kind: role
    risk: privileged
    max_duration: 8h
`, gatehouse.Settings{}, []string{"a.yaml:8: entitlements[s/admin].approval: needs security approval, but settings.security_approvers is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := Parse([]File{{Name: "a.yaml", Content: []byte(tt.yaml)}}, specs)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("Parse succeeded; want problems")
				}
				ps := asProblems(t, err)
				if len(ps) != len(tt.wantErr) {
					t.Errorf("got %d problems, want %d:\n%v", len(ps), len(tt.wantErr), err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("problems lack %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(doc.Catalog.Settings, tt.want) {
				t.Errorf("settings = %+v, want %+v", doc.Catalog.Settings, tt.want)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	doc, err := parseWith(`entitlements:
  - id: corp-ldap/admins
    system: corp-ldap
    name: Admins
    kind: group
    risk: privileged
    max_duration: 30d
    approval: [owner]
  - id: wiki/editors
    system: wiki
    name: Editors
    kind: group
    risk: standard
    owner: editor-in-chief@example.com
    requestable: false
    approval: []
sod:
  - id: s
    left: [wiki/members]
    right: [wiki/editors]
roles:
  - id: r
    name: R
    entitlements: [wiki/members]
    birthright: |
      identity.status == "active"
`)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	ents := map[string]*gatehouse.Entitlement{}
	for _, e := range doc.Catalog.Entitlements {
		ents[e.ID] = e
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"owner defaults to the system owner", ents["wiki/members"].Owner, "it-lead@example.com"},
		{"written owner kept", ents["wiki/editors"].Owner, "editor-in-chief@example.com"},
		{"default approval", ents["wiki/members"].Approval, []string{"manager", "owner"}},
		{"privileged gets security", ents["corp-ldap/admins"].Approval, []string{"owner", "security"}},
		{"empty approval kept", ents["wiki/editors"].Approval, []string{}},
		{"requestable default", ents["wiki/members"].Requestable, true},
		{"requestable written", ents["wiki/editors"].Requestable, false},
		{"days", ents["corp-ldap/admins"].MaxDuration, gatehouse.Duration(30 * 24 * time.Hour)},
		{"sod severity", doc.Catalog.SoD[0].Severity, "high"},
		{"sod on_violation", doc.Catalog.SoD[0].OnViolation, "block"},
		{"birthright trimmed", doc.Catalog.Roles[0].Birthright, `identity.status == "active"`},
		{"sorted by id", []string{doc.Catalog.Entitlements[0].ID, doc.Catalog.Entitlements[3].ID}, []string{"corp-ldap/admins", "wiki/members"}},
		{"connector settings keep YAML types", doc.Catalog.Systems[0].Connector.Settings["url"], "ldap://127.0.0.1:3389"},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
}

func TestConnectorValueTypes(t *testing.T) {
	t.Parallel()
	doc, err := Parse([]File{{Name: "a.yaml", Content: []byte(`systems:
  - id: dir
    name: Dir
    owner: o@example.com
    tier: high
    connector:
      type: ldap
      url: ldaps://dir.example.com
      bind_dn: cn=admin
      bind_password_file: /run/secrets/ldap
      users_dn: ou=people
      groups_dn: ou=groups
      start_tls: true
      page_size: 500
      timeout: 10s
      disabled_dn:
`)}}, specs)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := doc.Catalog.Systems[0].Connector
	want := gatehouse.Connector{Type: "ldap", Settings: map[string]any{
		"url": "ldaps://dir.example.com", "bind_dn": "cn=admin", "bind_password_file": "/run/secrets/ldap",
		"users_dn": "ou=people", "groups_dn": "ou=groups", "start_tls": true, "page_size": 500, "timeout": "10s",
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("connector = %#v\nwant        %#v", got, want)
	}
}

// TestPlantedMistakes parses a catalog directory with ten planted mistakes of different kinds,
// each marked "# mistake: <n>" on the line where it must be reported.
