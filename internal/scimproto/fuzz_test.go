package scimproto

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzParseFilter checks that ParseFilter never panics, that every failure is an *Error 400
// invalidFilter, and that a parsed filter rendered back to text parses to an equal tree.
func FuzzParseFilter(f *testing.F) {
	for _, tc := range rfcFilters {
		f.Add(tc.in)
	}
	f.Add(`emails[type eq "work"] and not (x ge 1e3)`)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseFilter(s)
		if err != nil {
			se, ok := err.(*Error)
			if !ok || se.Status != 400 || se.ScimType != ScimTypeInvalidFilter {
				t.Fatalf("ParseFilter(%q) error %v is not 400 invalidFilter", s, err)
			}
			return
		}
		text := exprString(e)
		again, err := ParseFilter(text)
		if err != nil {
			t.Fatalf("ParseFilter(%q) rendered as %q, which does not parse: %v", s, text, err)
		}
		if !reflect.DeepEqual(e, again) {
			t.Fatalf("ParseFilter(%q) rendered as %q parses to %s", s, text, exprString(again))
		}
		_ = Match(e, map[string]any{"userName": "x", "emails": []any{map[string]any{"value": "x"}}})
	})
}

// FuzzParsePath checks that ParsePath never panics and that a path renders back to itself.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		`members`, `name.givenName`, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
		`emails[type eq "work"].value`, enterpriseURN + `:manager`, enterpriseURN + `:manager.value`,
		`addresses[type eq "work" and primary eq true].streetAddress`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			if se, ok := err.(*Error); !ok || se.Status != 400 || se.ScimType != ScimTypeInvalidPath {
				t.Fatalf("ParsePath(%q) error %v is not 400 invalidPath", s, err)
			}
			return
		}
		again, err := ParsePath(p.String())
		if err != nil || !reflect.DeepEqual(p, again) {
			t.Fatalf("ParsePath(%q) rendered as %q: %v", s, p.String(), err)
		}
	})
}

// FuzzApplyPatch checks that no request, however odd, makes ApplyPatch panic, and that a
// failing request leaves the resource as it was.
func FuzzApplyPatch(f *testing.F) {
	f.Add("add", "members", `[{"value":"x"}]`)
	f.Add("remove", `members[value eq "2819c223-7f76-453a-919d-413861904646"]`, ``)
	f.Add("Replace", "", `{"name.givenName":"a","emails[type eq \"work\"].value":"b","active":"False"}`)
	f.Add("replace", `emails[type eq "work"].value`, `"x"`)
	f.Add("add", enterpriseURN+":manager", `"m"`)
	f.Add("replace", `addresses[type eq "work"]`, `{"type":"work"}`)
	f.Fuzz(func(t *testing.T, op, path, value string) {
		var v any
		if value != "" {
			var ok bool
			if v, ok = decodeAny(value); !ok {
				return
			}
		}
		res := fixture(t, user)
		before := fixture(t, user)
		err := ApplyPatch(res, []PatchOp{{Op: op, Path: path, Value: v}}, UserSchema)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v is not an *Error", err)
			}
			if !reflect.DeepEqual(res, before) {
				t.Fatalf("failed patch changed the resource")
			}
		}
	})
}

func decodeAny(s string) (any, bool) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, false
	}
	return v, true
}

func fixture(t *testing.T, s string) map[string]any {
	v, ok := decodeAny(s)
	if !ok {
		t.Fatal("bad fixture")
	}
	return v.(map[string]any)
}
