package scimserver_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func memberIDs(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	ms, _ := r.body["members"].([]any)
	for _, m := range ms {
		out = append(out, str(m.(map[string]any), "value"))
	}
	slices.Sort(out)
	return out
}

func (f *fixture) storedMembers(t *testing.T, id string) []string {
	t.Helper()
	g, err := f.st.GetSCIMGroup(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return g.Members
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestGroups sends the group examples of RFC 7644 section 3.5.2 and the requests Entra ID
// makes (members add and remove, op names capitalised).
func TestGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.create(f.okta, user("a@example.com", "Ann", "A", "Eng"))
	b := f.create(f.okta, user("b@example.com", "Ben", "B", "Eng"))
	c := f.create(f.okta, user("c@example.com", "Cy", "C", "Eng"))

	r := f.do("POST", "/scim/v2/Groups", f.okta, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
		"displayName":"Tour Guides","externalId":"g-1","members":[{"value":"`+a+`"}]}`).want(t, http.StatusCreated)
	gid := str(r.body, "id")
	m := r.body["members"].([]any)[0].(map[string]any)
	if m["display"] != "Ann A" || !strings.HasSuffix(m["$ref"].(string), "/Users/"+a) || r.header.Get("ETag") != `W/"1"` {
		t.Errorf("created group: %s (ETag %s)", r.raw, r.header.Get("ETag"))
	}
	// Add a member (3.5.2.1).
	f.do("PATCH", "/scim/v2/Groups/"+gid, f.okta, `{`+patchOp+`,"Operations":[{"op":"add","path":"members",
		"value":[{"display":"Ben","$ref":"https://example.com/v2/Users/`+b+`","value":"`+b+`"}]}]}`).want(t, http.StatusOK)
	if got := f.storedMembers(t, gid); !slices.Equal(got, sorted(a, b)) {
		t.Errorf("after add: %v", got)
	}
	// Entra's Add with the op capitalised, adding a member already there: no duplicate.
	f.do("PATCH", "/scim/v2/Groups/"+gid, f.okta, `{`+patchOp+`,"Operations":[{"op":"Add","path":"members","value":[{"value":"`+b+`"},{"value":"`+c+`"}]}]}`).
		want(t, http.StatusOK)
	if got := f.storedMembers(t, gid); !slices.Equal(got, sorted(a, b, c)) {
		t.Errorf("after Entra add: %v", got)
	}
	// Remove one member by filter (3.5.2.2), as both RFC and Entra send it.
	f.do("PATCH", "/scim/v2/Groups/"+gid, f.okta, `{`+patchOp+`,"Operations":[{"op":"remove","path":"members[value eq \"`+b+`\"]"}]}`).
		want(t, http.StatusOK)
	if got := f.storedMembers(t, gid); !slices.Equal(got, sorted(a, c)) {
		t.Errorf("after remove by filter: %v", got)
	}
	// Entra's Remove with a value list.
	f.do("PATCH", "/scim/v2/Groups/"+gid, f.okta, `{`+patchOp+`,"Operations":[{"op":"Remove","path":"members","value":[{"value":"`+c+`"}]}]}`).
		want(t, http.StatusOK)
	if got := f.storedMembers(t, gid); !slices.Equal(got, []string{a}) {
		t.Errorf("after Entra remove: %v", got)
	}
	// Replace all members (3.5.2.3) and rename.
	r = f.do("PATCH", "/scim/v2/Groups/"+gid, f.okta, `{`+patchOp+`,"Operations":[
		{"op":"replace","path":"members","value":[{"value":"`+b+`"},{"value":"`+c+`"}]},
		{"op":"replace","path":"displayName","value":"Guides"}]}`).want(t, http.StatusOK)
	if got := memberIDs(t, r); !slices.Equal(got, sorted(b, c)) || str(r.body, "displayName") != "Guides" {
		t.Errorf("after replace: %s", r.raw)
	}
	// Remove all members.
	f.do("PATCH", "/scim/v2/Groups/"+gid, f.okta, `{`+patchOp+`,"Operations":[{"op":"remove","path":"members"}]}`).want(t, http.StatusOK)
	if got := f.storedMembers(t, gid); len(got) != 0 {
		t.Errorf("after remove all: %v", got)
	}
	// PUT replaces the group.
	r = f.do("PUT", "/scim/v2/Groups/"+gid, f.okta, `{"displayName":"Guides","members":[{"value":"`+a+`"}]}`).want(t, http.StatusOK)
	if got := memberIDs(t, r); !slices.Equal(got, []string{a}) || r.body["externalId"] != nil {
		t.Errorf("after PUT: %s", r.raw)
	}
	etag := r.header.Get("ETag")
	// Lookups IdPs make: by displayName, by member; excludedAttributes=members.
	r = f.do("GET", "/scim/v2/Groups?filter="+url.QueryEscape(`displayName eq "guides"`)+"&excludedAttributes=members", f.okta, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(1) || strings.Contains(r.raw, `"members"`) {
		t.Errorf("by displayName: %s", r.raw)
	}
	r = f.do("GET", "/scim/v2/Groups?filter="+url.QueryEscape(`members[value eq "`+a+`"]`), f.okta, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(1) {
		t.Errorf("by member: %s", r.raw)
	}
	r = f.do("GET", "/scim/v2/Groups?filter="+url.QueryEscape(`displayName sw "G"`), f.okta, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(1) {
		t.Errorf("scan filter: %s", r.raw)
	}
	// Errors: an unknown member, a name taken, a stale version, another source's group.
	f.do("PATCH", "/scim/v2/Groups/"+gid, f.okta, `{`+patchOp+`,"Operations":[{"op":"add","path":"members","value":[{"value":"nobody"}]}]}`).
		wantError(t, http.StatusBadRequest, "invalidValue", "nobody")
	f.do("POST", "/scim/v2/Groups", f.okta, `{"displayName":"GUIDES"}`).wantError(t, http.StatusConflict, "uniqueness", "")
	f.do("PATCH", "/scim/v2/Groups/"+gid, f.okta, `{`+patchOp+`,"Operations":[{"op":"replace","path":"displayName","value":"X"}]}`, "If-Match", `W/"1"`).
		wantError(t, http.StatusPreconditionFailed, "", "")
	f.do("GET", "/scim/v2/Groups/"+gid, f.okta, "", "If-None-Match", etag).want(t, http.StatusNotModified)
	f.do("DELETE", "/scim/v2/Groups/"+gid, f.entra, "").wantError(t, http.StatusForbidden, "", "scim:okta-scim@example.com")
	f.do("DELETE", "/scim/v2/Groups/"+gid, f.okta, "").want(t, http.StatusNoContent)
	f.do("GET", "/scim/v2/Groups/"+gid, f.okta, "").wantError(t, http.StatusNotFound, "", "")
}
