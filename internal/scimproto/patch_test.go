package scimproto

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const group = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
  "displayName": "Tour Guides",
  "members": [
    {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen"},
    {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge"}
  ],
  "meta": {"resourceType": "Group", "version": "W/\"3694e05e9dff592\""}
}`

const user = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "userName": "bjensen",
  "displayName": "Babs Jensen",
  "active": true,
  "name": {"givenName": "Barbara", "familyName": "Jensen"},
  "emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],
  "addresses": [
    {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "primary": true},
    {"type": "home", "streetAddress": "456 Hollywood Blvd"}
  ],
  "meta": {"resourceType": "User"}
}`

// edit returns doc with fn applied to its decoded form, to state an expected result as a
// change from the starting resource.
func edit(t *testing.T, doc string, fn func(m map[string]any)) map[string]any {
	t.Helper()
	m := decode(t, doc)
	fn(m)
	return m
}

func ops(t *testing.T, s string) []PatchOp {
	t.Helper()
	req, err := DecodePatchRequest(strings.NewReader(`{"schemas":["` + SchemaPatchOp + `"],"Operations":` + s + `}`))
	if err != nil {
		t.Fatalf("DecodePatchRequest: %v", err)
	}
	return req.Operations
}

func TestApplyPatch(t *testing.T) {
	babs := map[string]any{"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen"}
	mandy := map[string]any{"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge"}
	james := map[string]any{"value": "08e1d05d-121c-4561-8b96-473d93df9210", "display": "James Smith"}
	tests := []struct {
		name   string
		doc    string
		schema Schema
		ops    string
		want   func(m map[string]any)
	}{
		// RFC 7644 section 3.5.2.1.
		{"add members", group, GroupSchema,
			`[{"op":"add","path":"members","value":[{"display":"James Smith","value":"08e1d05d-121c-4561-8b96-473d93df9210"}]}]`,
			func(m map[string]any) { m["members"] = []any{babs, mandy, james} }},
		{"add an existing member does not duplicate it", group, GroupSchema,
			`[{"op":"add","path":"members","value":[{"value":"902c246b-6245-4190-8e05-00816be7344a"}]}]`,
			func(m map[string]any) {}},
		{"add without path", user, UserSchema,
			`[{"op":"add","value":{"emails":[{"value":"babs@example.net","type":"other"}],"nickName":"Babs"}}]`,
			func(m map[string]any) {
				m["nickName"] = "Babs"
				m["emails"] = append(m["emails"].([]any), map[string]any{"value": "babs@example.net", "type": "other"})
			}},
		{"add to a complex attribute keeps the other sub-attributes", user, UserSchema,
			`[{"op":"add","path":"name","value":{"middleName":"J"}}]`,
			func(m map[string]any) { m["name"].(map[string]any)["middleName"] = "J" }},
		{"add a primary email demotes the old one", user, UserSchema,
			`[{"op":"add","path":"emails","value":[{"value":"new@example.com","type":"work","primary":true}]}]`,
			func(m map[string]any) {
				m["emails"].([]any)[0].(map[string]any)["primary"] = false
				m["emails"] = append(m["emails"].([]any), map[string]any{"value": "new@example.com", "type": "work", "primary": true})
			}},
		// RFC 7644 section 3.5.2.2.
		{"remove a member by filter", group, GroupSchema,
			`[{"op":"remove","path":"members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]`,
			func(m map[string]any) { m["members"] = []any{mandy} }},
		{"remove a member that is not there", group, GroupSchema,
			`[{"op":"remove","path":"members[value eq \"00000000-0000-0000-0000-000000000000\"]"}]`,
			func(m map[string]any) {}},
		{"remove all members", group, GroupSchema,
			`[{"op":"remove","path":"members"}]`,
			func(m map[string]any) { delete(m, "members") }},
		{"remove emails by a complex filter", user, UserSchema,
			`[{"op":"remove","path":"emails[type eq \"work\" and value ew \"example.com\"]"}]`,
			func(m map[string]any) { m["emails"] = m["emails"].([]any)[1:] }},
		{"remove all members then add", group, GroupSchema,
			`[{"op":"remove","path":"members"},{"op":"add","path":"members","value":[{"display":"James Smith","value":"08e1d05d-121c-4561-8b96-473d93df9210"}]}]`,
			func(m map[string]any) { m["members"] = []any{james} }},
		{"remove a sub-attribute", user, UserSchema,
			`[{"op":"remove","path":"name.familyName"}]`,
			func(m map[string]any) { delete(m["name"].(map[string]any), "familyName") }},
		{"remove a sub-attribute of filtered values", user, UserSchema,
			`[{"op":"remove","path":"addresses[type eq \"work\"].locality"}]`,
			func(m map[string]any) { delete(m["addresses"].([]any)[0].(map[string]any), "locality") }},
		// RFC 7644 section 3.5.2.3.
		{"replace members", group, GroupSchema,
			`[{"op":"replace","path":"members","value":[{"display":"James Smith","value":"08e1d05d-121c-4561-8b96-473d93df9210"}]}]`,
			func(m map[string]any) { m["members"] = []any{james} }},
		{"replace the work address", user, UserSchema,
			`[{"op":"replace","path":"addresses[type eq \"work\"]","value":{"type":"work","streetAddress":"911 Universal City Plaza","primary":true}}]`,
			func(m map[string]any) {
				m["addresses"].([]any)[0] = map[string]any{"type": "work", "streetAddress": "911 Universal City Plaza", "primary": true}
			}},
		{"replace a sub-attribute of the work address", user, UserSchema,
			`[{"op":"replace","path":"addresses[type eq \"work\"].streetAddress","value":"1010 Broadway Ave"}]`,
			func(m map[string]any) {
				m["addresses"].([]any)[0].(map[string]any)["streetAddress"] = "1010 Broadway Ave"
			}},
		{"replace the work email value", user, UserSchema,
			`[{"op":"replace","path":"emails[type eq \"work\"].value","value":"barbara@example.com"}]`,
			func(m map[string]any) { m["emails"].([]any)[0].(map[string]any)["value"] = "barbara@example.com" }},
		{"replace without path", user, UserSchema,
			`[{"op":"replace","value":{"emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"nickName":"Babs"}}]`,
			func(m map[string]any) {
				m["nickName"] = "Babs"
				m["emails"] = m["emails"].([]any)[:1]
			}},
		{"replace a single value keeps the key's case", user, UserSchema,
			`[{"op":"replace","path":"DISPLAYNAME","value":"Barbara"}]`,
			func(m map[string]any) { m["displayName"] = "Barbara" }},
		{"replace with null unassigns", user, UserSchema,
			`[{"op":"replace","path":"displayName","value":null}]`,
			func(m map[string]any) { delete(m, "displayName") }},
		{"replace an unchanged id without path is allowed", user, UserSchema,
			`[{"op":"replace","value":{"id":"2819c223-7f76-453a-919d-413861904646","displayName":"B"}}]`,
			func(m map[string]any) { m["displayName"] = "B" }},
		// Entra ID shapes.
		{"entra: Replace active with a string boolean", user, UserSchema,
			`[{"op":"Replace","path":"active","value":"False"}]`,
			func(m map[string]any) { m["active"] = false }},
		{"entra: path-less replace with attribute paths as keys", user, UserSchema,
			`[{"op":"Replace","value":{"active":"True","name.givenName":"Babs","displayName":"Babs J",
			  "emails[type eq \"work\"].value":"babs@example.com",
			  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Tours"}}]`,
			func(m map[string]any) {
				m["name"].(map[string]any)["givenName"] = "Babs"
				m["displayName"] = "Babs J"
				m["emails"].([]any)[0].(map[string]any)["value"] = "babs@example.com"
				m[enterpriseURN] = map[string]any{"department": "Tours"}
				m["schemas"] = append(m["schemas"].([]any), enterpriseURN)
			}},
		{"entra: path-less replace creates a phone number the filter describes", user, UserSchema,
			`[{"op":"Replace","value":{"phoneNumbers[type eq \"work\"].value":"+1 555 0100"}}]`,
			func(m map[string]any) {
				m["phoneNumbers"] = []any{map[string]any{"type": "work", "value": "+1 555 0100"}}
			}},
		{"entra: Add through a filter that matches nothing creates the value", user, UserSchema,
			`[{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0199"}]`,
			func(m map[string]any) {
				m["phoneNumbers"] = []any{map[string]any{"type": "mobile", "value": "+1 555 0199"}}
			}},
		{"entra: path-less value under the extension URN", user, UserSchema,
			`[{"op":"Add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"42","manager":{"value":"m1"}}}}]`,
			func(m map[string]any) {
				m[enterpriseURN] = map[string]any{"employeeNumber": "42", "manager": map[string]any{"value": "m1"}}
				m["schemas"] = append(m["schemas"].([]any), enterpriseURN)
			}},
		{"entra: manager as a bare id", user, UserSchema,
			`[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m2"}]`,
			func(m map[string]any) {
				m[enterpriseURN] = map[string]any{"manager": map[string]any{"value": "m2"}}
				m["schemas"] = append(m["schemas"].([]any), enterpriseURN)
			}},
		{"entra: a single object for a multi-valued attribute", group, GroupSchema,
			`[{"op":"Add","path":"members","value":{"value":"08e1d05d-121c-4561-8b96-473d93df9210","display":"James Smith"}}]`,
			func(m map[string]any) { m["members"] = []any{babs, mandy, james} }},
		{"entra: Remove members listed in value", group, GroupSchema,
			`[{"op":"Remove","path":"members","value":[{"value":"2819c223-7f76-453a-919d-413861904646"}]}]`,
			func(m map[string]any) { m["members"] = []any{mandy} }},
		{"entra: string primary in a multi-valued value", user, UserSchema,
			`[{"op":"replace","path":"emails","value":[{"value":"x@example.com","primary":"True"}]}]`,
			func(m map[string]any) { m["emails"] = []any{map[string]any{"value": "x@example.com", "primary": true}} }},
		{"a core schema URN addresses the top level", user, UserSchema,
			`[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:userName","value":"babs"},
			  {"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User":{"displayName":"Babs"}}}]`,
			func(m map[string]any) { m["userName"] = "babs"; m["displayName"] = "Babs" }},
		{"making a filtered email primary demotes the others", user, UserSchema,
			`[{"op":"replace","path":"emails[type eq \"home\"].primary","value":"true"}]`,
			func(m map[string]any) {
				m["emails"].([]any)[0].(map[string]any)["primary"] = false
				m["emails"].([]any)[1].(map[string]any)["primary"] = true
			}},
		{"a path naming the extension schema", user, UserSchema,
			`[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"Tours"}}]`,
			func(m map[string]any) {
				m[enterpriseURN] = map[string]any{"department": "Tours"}
				m["schemas"] = append(m["schemas"].([]any), enterpriseURN)
			}},
		{"remove the extension schema", user, UserSchema,
			`[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Tours"},
			  {"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]`,
			func(m map[string]any) { m["schemas"] = append(m["schemas"].([]any), enterpriseURN) }},
		{"remove from an extension the user lacks", user, UserSchema,
			`[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`,
			func(m map[string]any) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := decode(t, tc.doc)
			if err := ApplyPatch(res, ops(t, tc.ops), tc.schema); err != nil {
				t.Fatalf("ApplyPatch: %v", err)
			}
			want := edit(t, tc.doc, tc.want)
			if !reflect.DeepEqual(res, want) {
				got, _ := json.Marshal(res)
				w, _ := json.Marshal(want)
				t.Errorf("got  %s\nwant %s", got, w)
			}
		})
	}
}

func TestApplyPatchExtensionRoundTrip(t *testing.T) {
	res := decode(t, user)
	err := ApplyPatch(res, ops(t, `[
	  {"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Tours"},
	  {"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"m3"}]`), UserSchema)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := ParseFilter(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m3" and ` +
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tours"`)
	if !Match(e, res) {
		t.Fatalf("patched extension does not match: %v", res[enterpriseURN])
	}
	if err := ApplyPatch(res, ops(t, `[
	  {"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
	  {"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`), UserSchema); err != nil {
		t.Fatal(err)
	}
	if _, ok := res[enterpriseURN]; ok {
		t.Errorf("empty extension object left behind: %v", res[enterpriseURN])
	}
}

func TestApplyPatchErrors(t *testing.T) {
	tests := []struct {
		name, doc, ops, scimType, detail string
		schema                           Schema
	}{
		{"remove without path", group, `[{"op":"remove"}]`, ScimTypeNoTarget, "remove needs a path", GroupSchema},
		{"replace through a filter matching nothing", user, `[{"op":"replace","path":"emails[type eq \"other\"].value","value":"x"}]`,
			ScimTypeNoTarget, `no value of emails matches type eq "other"`, UserSchema},
		{"replace a read-only id", user, `[{"op":"replace","path":"id","value":"x"}]`, ScimTypeMutability, "id is read-only", UserSchema},
		{"replace meta", user, `[{"op":"replace","path":"meta.lastModified","value":"x"}]`, ScimTypeMutability, "read-only", UserSchema},
		{"add groups", user, `[{"op":"add","path":"groups","value":[{"value":"g"}]}]`, ScimTypeMutability, "groups is read-only", UserSchema},
		{"change id without path", user, `[{"op":"replace","value":{"id":"other"}}]`, ScimTypeMutability, "read-only", UserSchema},
		{"bad path", user, `[{"op":"add","path":"name..x","value":"x"}]`, ScimTypeInvalidPath, "position 6", UserSchema},
		{"bad key without path", user, `[{"op":"add","value":{"emails[type eq":"x"}}]`, ScimTypeInvalidPath, "", UserSchema},
		{"path-less value not an object", user, `[{"op":"add","value":"x"}]`, ScimTypeInvalidValue, "needs an object", UserSchema},
		{"add without value", user, `[{"op":"add","path":"title"}]`, ScimTypeInvalidValue, "add needs a value", UserSchema},
		{"sub-attribute of a simple attribute", user, `[{"op":"add","path":"userName.x","value":"x"}]`, ScimTypeInvalidPath, "not a complex attribute", UserSchema},
		{"filter on a single-valued attribute", user, `[{"op":"replace","path":"userName[value eq \"x\"]","value":{}}]`, ScimTypeInvalidPath, "not multi-valued", UserSchema},
		{"filtered value not an object", user, `[{"op":"replace","path":"emails[type eq \"work\"]","value":"x"}]`, ScimTypeInvalidValue, "must be an object", UserSchema},
		{"add through an or filter matching nothing", user, `[{"op":"add","path":"ims[type eq \"a\" or type eq \"b\"].value","value":"x"}]`, ScimTypeNoTarget, "does not describe a new one", UserSchema},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := decode(t, tc.doc)
			err := ApplyPatch(res, ops(t, tc.ops), tc.schema)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("ApplyPatch error = %v, want *Error", err)
			}
			if se.Status != 400 || se.ScimType != tc.scimType || !strings.Contains(se.Detail, tc.detail) {
				t.Errorf("got %d %s %q, want 400 %s containing %q", se.Status, se.ScimType, se.Detail, tc.scimType, tc.detail)
			}
			if !reflect.DeepEqual(res, decode(t, tc.doc)) {
				t.Errorf("failed patch changed the resource: %v", res)
			}
		})
	}
}

func TestApplyPatchAtomic(t *testing.T) {
	res := decode(t, group)
	members := res["members"].([]any)
	err := ApplyPatch(res, ops(t, `[
	  {"op":"add","path":"members","value":[{"value":"08e1d05d-121c-4561-8b96-473d93df9210"}]},
	  {"op":"replace","path":"displayName","value":"Renamed"},
	  {"op":"remove","path":"members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"},
	  {"op":"replace","path":"id","value":"stolen"}]`), GroupSchema)
	if err == nil {
		t.Fatal("patch replacing id succeeded")
	}
	if !strings.Contains(err.Error(), "operation 4") {
		t.Errorf("error does not name the failing operation: %v", err)
	}
	if !reflect.DeepEqual(res, decode(t, group)) {
		t.Errorf("resource changed by a failed patch: %v", res)
	}
	if len(members) != 2 || members[0].(map[string]any)["display"] != "Babs Jensen" {
		t.Errorf("the caller's nested values were modified: %v", members)
	}
}

func TestApplyPatchDoesNotAliasValues(t *testing.T) {
	res := decode(t, group)
	value := []any{map[string]any{"value": "08e1d05d-121c-4561-8b96-473d93df9210"}}
	if err := ApplyPatch(res, []PatchOp{{Op: "add", Path: "members", Value: value}}, GroupSchema); err != nil {
		t.Fatal(err)
	}
	value[0].(map[string]any)["value"] = "changed"
	e, _ := ParseFilter(`members[value eq "08e1d05d-121c-4561-8b96-473d93df9210"]`)
	if !Match(e, res) {
		t.Error("the patched resource shares maps with the request's value")
	}
}

func TestDecodePatchRequest(t *testing.T) {
	req, err := DecodePatchRequest(strings.NewReader(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"Replace","path":"active","value":false},{"op":"ADD","path":"members","value":[{"value":"x"}]},{"op":"remove","path":"title"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range req.Operations {
		got = append(got, op.Op)
	}
	if strings.Join(got, ",") != "replace,add,remove" {
		t.Errorf("ops = %v", got)
	}
	for _, bad := range []string{
		`{`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"Operations":[{"op":"add","value":{}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"move","path":"a"}]}`,
	} {
		_, err := DecodePatchRequest(strings.NewReader(bad))
		var se *Error
		if !errors.As(err, &se) || se.Status != 400 || se.ScimType != ScimTypeInvalidSyntax {
			t.Errorf("DecodePatchRequest(%s) error = %v, want 400 invalidSyntax", bad, err)
		}
	}
}
