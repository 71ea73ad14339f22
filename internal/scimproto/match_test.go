package scimproto

import (
	"encoding/json"
	"testing"
)

// bjensen is the full User of RFC 7643 section 8.2 (abridged), with the enterprise extension.
const bjensen = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "externalId": "701984",
  "userName": "bjensen@example.com",
  "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
  "displayName": "Babs Jensen",
  "nickName": "",
  "title": "Tour Guide",
  "userType": "Employee",
  "active": true,
  "loginCount": 42,
  "emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],
  "ims": [{"value": "someaimhandle", "type": "aim"}],
  "x509Certificates": [],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984",
    "department": "Tour Operations",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
  },
  "meta": {
    "resourceType": "User",
    "created": "2010-01-23T04:56:22Z",
    "lastModified": "2011-05-13T04:42:34Z",
    "version": "W/\"3694e05e9dff591\""
  }
}`

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatch(t *testing.T) {
	user := decode(t, bjensen)
	tests := []struct {
		filter string
		want   bool
	}{
		{`userName eq "bjensen@example.com"`, true},
		{`USERNAME eq "BJensen@Example.com"`, true}, // names and userName are case-insensitive
		{`userName eq "bjensen"`, false},
		{`userName ne "bjensen"`, true},
		{`userName ne "bjensen@example.com"`, false},
		{`id eq "2819c223-7f76-453a-919d-413861904646"`, true},
		{`id eq "2819C223-7F76-453A-919D-413861904646"`, false}, // id is caseExact
		{`externalId eq "701984"`, true},
		{`meta.version eq "W/\"3694E05E9DFF591\""`, false}, // meta.version is caseExact
		{`name.familyName co "ENS"`, true},
		{`name.familyName co "x"`, false},
		{`userName sw "BJ"`, true},
		{`userName sw "example"`, false},
		{`userName ew ".COM"`, true},
		{`userName ew "bjensen"`, false},
		{`title pr`, true},
		{`nickName pr`, false},         // empty string is not present
		{`x509Certificates pr`, false}, // empty list is not present
		{`profileUrl pr`, false},       // absent
		{`emails pr`, true},
		{`meta.lastModified gt "2011-05-13T04:42:33Z"`, true},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, false},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, true},
		{`meta.lastModified lt "2011-05-13T06:42:34+02:00"`, false}, // same instant: times, not text
		{`meta.lastModified le "2011-05-13T06:42:34+02:00"`, true},
		{`meta.lastModified eq "2011-05-13T04:42:34.000Z"`, true},
		{`meta.created lt "2011-01-01T00:00:00Z"`, true},
		{`userName gt "a"`, true},
		{`userName gt "C"`, false}, // lexicographic, case-insensitive
		{`userName lt "C"`, true},
		{`userName le "bjensen@example.com"`, true},
		{`loginCount gt 9`, true}, // numeric, not lexicographic ("42" < "9")
		{`loginCount ge 42`, true},
		{`loginCount lt 42`, false},
		{`loginCount le 42.0`, true},
		{`loginCount eq 42`, true},
		{`loginCount eq "42"`, false},
		{`active eq true`, true},
		{`active eq false`, false},
		{`active ne false`, true},
		{`active gt false`, false}, // booleans compare with eq/ne only
		{`title eq null`, false},
		{`profileUrl eq null`, true},
		{`profileUrl ne "x"`, true},
		{`title ne null`, true},
		{`emails co "jensen.org"`, true},      // compares emails' value
		{`emails eq "babs@jensen.org"`, true}, // any value
		{`emails.value ew "@example.com"`, true},
		{`emails.type eq "home"`, true},
		{`emails.type eq "other"`, false},
		{`emails ne "babs@jensen.org"`, false}, // ne is not eq: one email is that
		{`emails[type eq "work" and value co "@example.com"]`, true},
		{`emails[type eq "home" and value co "@example.com"]`, false},
		{`emails[type eq "work" and primary eq true]`, true},
		{`emails[not (type eq "work")]`, true},
		{`ims[type eq "xmpp" and value co "@foo.com"]`, false},
		{`emails[type eq "home" and value co "@example.com"] or ims[type eq "aim"]`, true},
		{`name[givenName eq "barbara"]`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, true},
		{`URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:department eq "tour operations"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName eq "x"`, false},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj"`, true},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, true},
		{`title pr and userType eq "Employee"`, true},
		{`title pr and userType eq "Intern"`, false},
		{`title pr or userType eq "Intern"`, true},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, true},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, false},
		{`not (userName eq "x")`, true},
		{`userName eq "x" or userName eq "y" and title pr`, false},
		{`userName eq "bjensen@example.com" or userName eq "y" and title eq "no"`, true}, // and binds tighter
	}
	for _, tc := range tests {
		e, err := ParseFilter(tc.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.filter, err)
			continue
		}
		if got := Match(e, user); got != tc.want {
			t.Errorf("Match(%q) = %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestMatchSchemaCaseExact(t *testing.T) {
	res := map[string]any{"userName": "BJensen", "emails": []any{map[string]any{"value": "A@x.org"}}}
	e, _ := ParseFilter(`userName eq "bjensen"`)
	if !MatchSchema(e, res, UserSchema) {
		t.Error("userName must not be caseExact in UserSchema")
	}
	exact := Schema{CaseExact: set("username", "emails.value")}
	if MatchSchema(e, res, exact) {
		t.Error("a caseExact userName matched in another case")
	}
	sub, _ := ParseFilter(`emails[value eq "a@x.org"]`)
	if MatchSchema(sub, res, exact) || !MatchSchema(sub, res, UserSchema) {
		t.Error("emails.value caseExact inside a value filter not applied")
	}
}

func TestMatchGroupMembers(t *testing.T) {
	group := map[string]any{
		"displayName": "Tour Guides",
		"members": []any{
			map[string]any{"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen"},
			map[string]any{"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge"},
		},
	}
	for filter, want := range map[string]bool{
		`members[value eq "902c246b-6245-4190-8e05-00816be7344a"]`: true,
		`members eq "2819c223-7f76-453a-919d-413861904646"`:        true,
		`members.display sw "mandy"`:                               true,
		`members[value eq "nobody"]`:                               false,
		`displayName eq "tour guides"`:                             true,
	} {
		e, err := ParseFilter(filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := Match(e, group); got != want {
			t.Errorf("Match(%q) = %v, want %v", filter, got, want)
		}
	}
}

func BenchmarkParseFilter(b *testing.B) {
	for _, bc := range []struct{ name, filter string }{
		{"simple", `userName eq "bjensen@example.com"`},
		{"complex", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org") or emails[type eq "work" and value co "@example.com"]`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseFilter(bc.filter); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	user := decode(b, bjensen)
	for _, bc := range []struct{ name, filter string }{
		{"simple", `userName eq "BJENSEN@example.com"`},
		{"complex", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org") or emails[type eq "work" and value co "@example.com"]`},
	} {
		e, err := ParseFilter(bc.filter)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !Match(e, user) {
					b.Fatal("no match")
				}
			}
		})
	}
}

func TestMatchGoBuiltResource(t *testing.T) {
	res := map[string]any{
		"schemas": []string{SchemaUser},
		"emails":  []map[string]any{{"value": "a@example.com", "type": "work"}},
		"logins":  7, // an int, not a float64
	}
	for filter, want := range map[string]bool{
		`emails[type eq "work"]`:                                  true,
		`emails.value eq "a@example.com"`:                         true,
		`emails co "example"`:                                     true,
		`schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`: true,
		`logins gt 6.5`:                                           true,
	} {
		e, err := ParseFilter(filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := Match(e, res); got != want {
			t.Errorf("Match(%q) = %v, want %v", filter, got, want)
		}
	}
	err := ApplyPatch(res, []PatchOp{{Op: "add", Path: "emails", Value: map[string]any{"value": "b@example.com"}}}, UserSchema)
	if err != nil {
		t.Fatal(err)
	}
	if emails, _ := res["emails"].([]any); len(emails) != 2 {
		t.Errorf("emails after add = %#v", res["emails"])
	}
}
