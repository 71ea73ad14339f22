package scimserver_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const patchOp = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`

// people creates a small directory for the filter and paging tests; it returns ids by
// userName.
func (f *fixture) people(t *testing.T) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, p := range []struct{ userName, given, family, dept, extra string }{
		{"bjensen@example.com", "Barbara", "Jensen", "Eng", `"title":"Tour Guide","userType":"Employee"`},
		{"jsmith@example.com", "John", "Smith", "Sales", `"title":"Sales rep","userType":"contractor"`},
		{"mjones@example.org", "Mary", "Jones", "Eng", `"userType":"intern"`},
	} {
		body := strings.Replace(user(p.userName, p.given, p.family, p.dept), `{`, `{`+p.extra+`,`, 1)
		ids[p.userName] = f.create(f.okta, body)
	}
	return ids
}

func names(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	for _, res := range r.body["Resources"].([]any) {
		out = append(out, str(res.(map[string]any), "userName"))
	}
	return out
}

// TestRFCFilters sends the filter examples of RFC 7644 section 3.4.2.2 that apply to users.
func TestRFCFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ids := f.people(t)
	all := []string{"bjensen@example.com", "jsmith@example.com", "mjones@example.org"}
	tests := []struct {
		filter string
		want   []string
	}{
		{`userName Eq "bjensen@example.com"`, []string{"bjensen@example.com"}},
		{`name.familyName co "O"`, []string{"mjones@example.org"}},
		{`userName sw "J"`, []string{"jsmith@example.com"}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, []string{"jsmith@example.com"}},
		{`title pr`, []string{"bjensen@example.com", "jsmith@example.com"}},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, all},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, all},
		{`meta.lastModified lt "2011-05-13T04:42:34Z"`, nil},
		{`meta.lastModified le "2011-05-13T04:42:34Z"`, nil},
		{`title pr and userType eq "Employee"`, []string{"bjensen@example.com"}},
		{`title pr or userType eq "Intern"`, all},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, all},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, []string{"bjensen@example.com"}},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, nil},
		{`userType eq "Employee" and (emails.type eq "work")`, []string{"bjensen@example.com"}},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`, []string{"bjensen@example.com"}},
		{`emails[type eq "work" and value co "@example.com"] or addresses[type eq "home" and locality co "x"]`,
			[]string{"bjensen@example.com", "jsmith@example.com"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "eng"`, []string{"bjensen@example.com", "mjones@example.org"}},
		{`emails eq "jsmith@example.com"`, []string{"jsmith@example.com"}},
		{`id eq "` + ids["mjones@example.org"] + `"`, []string{"mjones@example.org"}},
		{`active eq true`, all},
	}
	for _, tc := range tests {
		for _, method := range []string{"GET", "POST"} {
			var r response
			if method == "GET" {
				r = f.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(tc.filter), f.okta, "")
			} else {
				body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":%q,"sortBy":"userName"}`, tc.filter)
				r = f.do("POST", "/scim/v2/Users/.search", f.okta, body)
			}
			r.want(t, http.StatusOK)
			got := names(t, r)
			slices.Sort(got)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || r.body["totalResults"] != float64(len(tc.want)) {
				t.Errorf("%s %s: got %v (total %v), want %v", method, tc.filter, got, r.body["totalResults"], tc.want)
			}
		}
	}
	// A bad filter is a 400 invalidFilter.
	for _, bad := range []string{`userName eq`, `userName zz "x"`, `(userName eq "x"`, `emails[type eq "work"`} {
		f.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(bad), f.okta, "").wantError(t, http.StatusBadRequest, "invalidFilter", "")
	}
}

func TestListingPagingSortingProjection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var want []string
	for n := range 25 {
		name := fmt.Sprintf("u%02d@example.com", n)
		f.create(f.okta, user(name, "U", fmt.Sprint(n), "Eng"))
		want = append(want, name)
	}
	// Paging by startIndex and count, as IdPs do; the cursor cache and the offset fallback
	// must agree, so page 2 is asked for twice (once after page 1, once cold).
	var got []string
	for _, start := range []int{1, 11, 21} {
		r := f.do("GET", fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=10", start), f.okta, "").want(t, http.StatusOK)
		if r.body["totalResults"] != float64(25) || r.body["startIndex"] != float64(start) {
			t.Fatalf("page at %d: %s", start, r.raw)
		}
		got = append(got, names(t, r)...)
	}
	cold := f.do("GET", "/scim/v2/Users?startIndex=12&count=3", f.okta, "").want(t, http.StatusOK)
	all := slices.Clone(got)
	slices.Sort(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("paged listing = %v", got)
	}
	if c := names(t, cold); strings.Join(c, ",") != strings.Join(all[11:14], ",") {
		t.Errorf("startIndex 12 = %v, want %v", c, all[11:14])
	}
	// count=0 gives the total only; a startIndex past the end an empty page.
	r := f.do("GET", "/scim/v2/Users?count=0", f.okta, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(25) || len(r.body["Resources"].([]any)) != 0 {
		t.Errorf("count=0: %s", r.raw)
	}
	r = f.do("GET", "/scim/v2/Users?startIndex=100", f.okta, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(25) || len(r.body["Resources"].([]any)) != 0 {
		t.Errorf("past the end: %s", r.raw)
	}
	// Sorting.
	r = f.do("GET", "/scim/v2/Users?sortBy=userName&sortOrder=descending&count=2", f.okta, "").want(t, http.StatusOK)
	if n := names(t, r); strings.Join(n, ",") != "u24@example.com,u23@example.com" {
		t.Errorf("sorted descending: %v", n)
	}
	// attributes and excludedAttributes.
	r = f.do("GET", "/scim/v2/Users?count=1&attributes=userName,name.familyName", f.okta, "").want(t, http.StatusOK)
	res := r.body["Resources"].([]any)[0].(map[string]any)
	if res["id"] == nil || res["userName"] == nil || str(res, "name", "familyName") == "" || res["emails"] != nil || res["meta"] != nil ||
		str(res, "name", "givenName") != "" {
		t.Errorf("attributes projection: %v", res)
	}
	r = f.do("GET", "/scim/v2/Users?count=1&excludedAttributes=emails,"+enterprise+":department", f.okta, "").want(t, http.StatusOK)
	res = r.body["Resources"].([]any)[0].(map[string]any)
	if res["emails"] != nil || res["userName"] == nil || str(res, enterprise, "department") != "" || str(res, enterprise, "employeeNumber") == "" {
		t.Errorf("excludedAttributes projection: %v", res)
	}
	// count is capped at 1000; bad numbers are refused.
	f.do("GET", "/scim/v2/Users?count=x", f.okta, "").wantError(t, http.StatusBadRequest, "invalidValue", "count")
}

// TestRFCPatchUsers sends the user examples of RFC 7644 section 3.5.2.
func TestRFCPatchUsers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.create(f.okta, user("bjensen@example.com", "Barbara", "Jensen", "Eng"))
	// Add an email (3.5.2.1): the list grows, userName stays.
	r := f.do("PATCH", "/scim/v2/Users/"+id, f.okta, `{`+patchOp+`,"Operations":[{"op":"add","path":"emails",
		"value":[{"value":"babs@jensen.org","type":"home"}]}]}`).want(t, http.StatusOK)
	emails := r.body["emails"].([]any)
	if len(emails) != 2 || str(r.body, "userName") != "bjensen@example.com" {
		t.Errorf("emails after add: %v", emails)
	}
	// And it is stored: a fresh GET shows both.
	r = f.do("GET", "/scim/v2/Users/"+id, f.okta, "").want(t, http.StatusOK)
	if len(r.body["emails"].([]any)) != 2 {
		t.Errorf("stored emails: %v", r.body["emails"])
	}
	// Replace a sub-attribute through a filter (3.5.2.3).
	f.do("PATCH", "/scim/v2/Users/"+id, f.okta, `{`+patchOp+`,"Operations":[{"op":"replace",
		"path":"emails[type eq \"home\"].value","value":"barbara@jensen.org"}]}`).want(t, http.StatusOK)
	r = f.do("GET", "/scim/v2/Users/"+id+"?filter=x", f.okta, "").want(t, http.StatusOK)
	if !strings.Contains(r.raw, "barbara@jensen.org") || strings.Contains(r.raw, "babs@jensen.org") {
		t.Errorf("emails after replace: %v", r.body["emails"])
	}
	// Replace name, and a whole-resource replace without a path (3.5.2.3).
	f.do("PATCH", "/scim/v2/Users/"+id, f.okta, `{`+patchOp+`,"Operations":[
		{"op":"replace","path":"name","value":{"givenName":"Babs","familyName":"Jensen-Smith"}},
		{"op":"replace","value":{"title":"Tour Lead","userType":"contractor"}}]}`).want(t, http.StatusOK)
	i := f.identity(id)
	if i.FirstName != "Babs" || i.LastName != "Jensen-Smith" || i.Title != "Tour Lead" || i.EmploymentType != "contractor" {
		t.Errorf("after replace: %+v", i)
	}
	// Remove an attribute (3.5.2.2): the title goes; removing without a path is refused.
	f.do("PATCH", "/scim/v2/Users/"+id, f.okta, `{`+patchOp+`,"Operations":[{"op":"remove","path":"title"}]}`).want(t, http.StatusOK)
	if i := f.identity(id); i.Title != "" {
		t.Errorf("title after remove: %q", i.Title)
	}
	f.do("PATCH", "/scim/v2/Users/"+id, f.okta, `{`+patchOp+`,"Operations":[{"op":"remove"}]}`).
		wantError(t, http.StatusBadRequest, "noTarget", "")
	// Read-only attributes are refused with mutability; an unknown op with invalidSyntax.
	f.do("PATCH", "/scim/v2/Users/"+id, f.okta, `{`+patchOp+`,"Operations":[{"op":"replace","path":"id","value":"x"}]}`).
		wantError(t, http.StatusBadRequest, "mutability", "")
	f.do("PATCH", "/scim/v2/Users/"+id, f.okta, `{`+patchOp+`,"Operations":[{"op":"move","path":"title","value":"x"}]}`).
		wantError(t, http.StatusBadRequest, "invalidSyntax", "move")
	// userName must stay an email address.
	f.do("PATCH", "/scim/v2/Users/"+id, f.okta, `{`+patchOp+`,"Operations":[{"op":"replace","path":"userName","value":"bjensen"}]}`).
		wantError(t, http.StatusBadRequest, "invalidValue", "email")
}

// TestRFCErrors covers the error cases of RFC 7644 section 3.12 and the conditional requests
// of section 3.14.
func TestRFCErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.create(f.okta, user("a@example.com", "A", "B", "Eng"))
	f.do("GET", "/scim/v2/Users/nope", f.okta, "").wantError(t, http.StatusNotFound, "", "nope")
	f.do("GET", "/scim/v2/Widgets", f.okta, "").wantError(t, http.StatusNotFound, "", "/scim/v2/Widgets")
	f.do("DELETE", "/scim/v2/Users", f.okta, "").wantError(t, http.StatusMethodNotAllowed, "", "DELETE")
	f.do("POST", "/scim/v2/Bulk", f.okta, `{}`).wantError(t, http.StatusNotImplemented, "", "bulk")
	f.do("POST", "/scim/v2/Users", f.okta, `{"userName":`).wantError(t, http.StatusBadRequest, "invalidSyntax", "")
	f.do("POST", "/scim/v2/Users", f.okta, `{"name":{"givenName":"X"}}`).wantError(t, http.StatusBadRequest, "invalidValue", "userName")
	f.do("POST", "/scim/v2/Users", f.okta, user("b@example.com", "X", "Y", "Eng", "active", `"maybe"`)).
		wantError(t, http.StatusBadRequest, "invalidValue", "active")
	f.do("POST", "/scim/v2/Users", f.okta, user("a@example.com", "A", "B", "Eng")).wantError(t, http.StatusConflict, "uniqueness", "a@example.com")
	big := `{"userName":"c@example.com","title":"` + strings.Repeat("x", 1<<20) + `"}`
	f.do("POST", "/scim/v2/Users", f.okta, big).wantError(t, http.StatusRequestEntityTooLarge, "", "larger")
	r := f.do("POST", "/scim/v2/Users", f.okta, user("d@example.com", "X", "Y", "Eng"), "Content-Type", "text/plain")
	r.wantError(t, http.StatusUnsupportedMediaType, "invalidSyntax", "Content-Type")
	// application/json is accepted as well.
	f.do("POST", "/scim/v2/Users", f.okta, user("e@example.com", "X", "Y", "Eng"), "Content-Type", "application/json").want(t, http.StatusCreated)
	// ETags: a stale If-Match is a 412, a current If-None-Match a 304.
	r = f.do("GET", "/scim/v2/Users/"+id, f.okta, "").want(t, http.StatusOK)
	etag := r.header.Get("ETag")
	f.do("GET", "/scim/v2/Users/"+id, f.okta, "", "If-None-Match", etag).want(t, http.StatusNotModified)
	f.do("PUT", "/scim/v2/Users/"+id, f.okta, user("a@example.com", "A", "C", "Eng"), "If-Match", etag).want(t, http.StatusOK)
	f.do("PUT", "/scim/v2/Users/"+id, f.okta, user("a@example.com", "A", "D", "Eng"), "If-Match", etag).
		wantError(t, http.StatusPreconditionFailed, "", "version")
	f.do("PATCH", "/scim/v2/Users/"+id, f.okta, `{`+patchOp+`,"Operations":[{"op":"replace","path":"title","value":"x"}]}`, "If-Match", etag).
		wantError(t, http.StatusPreconditionFailed, "", "")
	f.do("DELETE", "/scim/v2/Users/"+id, f.okta, "", "If-Match", etag).wantError(t, http.StatusPreconditionFailed, "", "")
	if i := f.identity(id); i.LastName != "C" || i.Title != "" {
		t.Errorf("a refused conditional request changed the user: %+v", i)
	}
	f.do("GET", "/scim/v2/Users/"+id, f.okta, "", "If-None-Match", etag).want(t, http.StatusOK)
	// A manager that does not exist.
	f.do("POST", "/scim/v2/Users", f.okta, user("f@example.com", "X", "Y", "Eng", enterprise, `{"manager":{"value":"nobody"}}`)).
		wantError(t, http.StatusBadRequest, "invalidValue", "manager")
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.do("GET", "/scim/v2/ServiceProviderConfig", f.okta, "").want(t, http.StatusOK)
	for path, want := range map[string]any{"patch": true, "filter": true, "etag": true, "sort": true, "bulk": false, "changePassword": false} {
		if r.body[path].(map[string]any)["supported"] != want {
			t.Errorf("%s.supported = %v", path, r.body[path])
		}
	}
	if r.body["filter"].(map[string]any)["maxResults"] != float64(1000) || !strings.Contains(r.raw, `"oauthbearertoken"`) {
		t.Errorf("config: %s", r.raw)
	}
	r = f.do("GET", "/scim/v2/ResourceTypes", f.okta, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(2) {
		t.Errorf("resource types: %s", r.raw)
	}
	r = f.do("GET", "/scim/v2/ResourceTypes/User", f.okta, "").want(t, http.StatusOK)
	if str(r.body, "endpoint") != "/Users" || !strings.Contains(r.raw, enterprise) {
		t.Errorf("User type: %s", r.raw)
	}
	r = f.do("GET", "/scim/v2/Schemas", f.okta, "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(3) {
		t.Errorf("schemas: %s", r.raw)
	}
	r = f.do("GET", "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", f.okta, "").want(t, http.StatusOK)
	var userName map[string]any
	for _, a := range r.body["attributes"].([]any) {
		if a.(map[string]any)["name"] == "userName" {
			userName = a.(map[string]any)
		}
	}
	if userName["required"] != true || userName["uniqueness"] != "server" || userName["type"] != "string" {
		t.Errorf("userName definition: %v", userName)
	}
	f.do("GET", "/scim/v2/Schemas/"+enterprise, f.okta, "").want(t, http.StatusOK)
	f.do("GET", "/scim/v2/Schemas/urn:nope", f.okta, "").wantError(t, http.StatusNotFound, "", "urn:nope")
	// Discovery needs the token too.
	f.do("GET", "/scim/v2/ServiceProviderConfig", "", "").want(t, http.StatusUnauthorized)
}
