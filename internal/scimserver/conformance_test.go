package scimserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The tests of this file replay what independent SCIM conformance suites found (issue 10,
// items 4 to 8): each request is one a suite or an RFC 7643/7644 probe sent.

// search runs a filter both ways a client can: GET ?filter= and POST /.search.
func (f *fixture) search(t *testing.T, endpoint, filter, extra string) []response {
	t.Helper()
	get := f.do("GET", "/scim/v2/"+endpoint+"?filter="+url.QueryEscape(filter)+extra, f.okta, "")
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":%q}`, filter)
	if extra != "" {
		body = fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":%q,"sortBy":"id","count":5}`, filter)
	}
	post := f.do("POST", "/scim/v2/"+endpoint+"/.search", f.okta, body)
	return []response{get, post}
}

// Item 4: every ListResponse says totalResults, itemsPerPage, startIndex and Resources, an
// empty page of a filtered or sorted list included (RFC 7644 section 3.4.2).
func TestListResponseIsAlwaysComplete(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.people(t)
	for _, q := range []string{
		"/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "nobody@example.com"`),
		"/scim/v2/Users?filter=" + url.QueryEscape(`title eq "Astronaut"`),
		"/scim/v2/Users?filter=" + url.QueryEscape(`title eq "Astronaut"`) + "&sortBy=userName",
		"/scim/v2/Users?sortBy=userName&sortOrder=descending&startIndex=50",
		"/scim/v2/Users?sortBy=userName&count=0",
		"/scim/v2/Users?startIndex=50",
		"/scim/v2/Users?count=0",
		"/scim/v2/Groups",
		"/scim/v2/Groups?filter=" + url.QueryEscape(`displayName eq "nobody"`),
		"/scim/v2/Groups?filter=" + url.QueryEscape(`displayName sw "x"`) + "&sortBy=displayName",
	} {
		r := f.do("GET", q, f.okta, "").want(t, http.StatusOK)
		for _, k := range []string{"schemas", "totalResults", "itemsPerPage", "startIndex", "Resources"} {
			if _, ok := r.body[k]; !ok {
				t.Errorf("%s: no %s in %s", q, k, r.raw)
			}
		}
		if res, ok := r.body["Resources"].([]any); !ok || len(res) != 0 || r.body["itemsPerPage"] != float64(0) {
			t.Errorf("%s: an empty page is Resources [] and itemsPerPage 0: %s", q, r.raw)
		}
	}
	r := f.do("POST", "/scim/v2/Users/.search", f.okta, `{"filter":"userName eq \"nobody@example.com\"","sortBy":"userName"}`).want(t, http.StatusOK)
	if r.body["itemsPerPage"] != float64(0) || r.body["startIndex"] != float64(1) {
		t.Errorf(".search: %s", r.raw)
	}
	// A page that is not empty says how many it holds.
	r = f.do("GET", "/scim/v2/Users?sortBy=userName&count=2", f.okta, "").want(t, http.StatusOK)
	if r.body["itemsPerPage"] != float64(2) || r.body["totalResults"] != float64(3) {
		t.Errorf("page of 2: %s", r.raw)
	}
}

// Item 5: a filter must name attributes the schema has and compare them as RFC 7644 section
// 3.4.2.2 allows; otherwise 400 invalidFilter naming the attribute, for GET, POST .search and
// PATCH path filters alike.
func TestFiltersAreCheckedAgainstTheSchema(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ids := f.people(t)
	gid := str(f.do("POST", "/scim/v2/Groups", f.okta, `{"displayName":"Guides","members":[{"value":"`+ids["bjensen@example.com"]+`"}]}`).
		want(t, http.StatusCreated).body, "id")
	bad := []struct{ endpoint, filter, detail string }{
		{"Users", `active gt true`, "active is a boolean: gt"},
		{"Users", `active ge false`, "ge does not apply"},
		{"Users", `active lt true`, "lt does not apply"},
		{"Users", `active le true`, "le does not apply"},
		{"Users", `emails[primary gt false]`, "primary is a boolean"},
		{"Users", `active sw "t"`, "sw does not apply"},
		{"Users", `userNme eq "bjensen@example.com"`, `"userNme" is not an attribute of the User schema`},
		{"Users", `userName eq "x" or titel pr`, `"titel"`},
		{"Users", `name.familyNam eq "Jensen"`, "name has no sub-attribute familyNam"},
		{"Users", `userName.value eq "x"`, "userName is not complex"},
		{"Users", enterprise + `:nonexistent eq "x"`, `"nonexistent" is not an attribute of the ` + enterprise + ` schema`},
		{"Users", enterprise + `:manager.nope eq "x"`, "manager has no sub-attribute nope"},
		{"Users", `urn:example:params:scim:schemas:extension:acme:2.0:User:badge eq "1"`, "Users has no schema urn:example"},
		{"Users", `emails.foo eq "bar"`, "emails has no sub-attribute foo"},
		{"Users", `emails[typo eq "work"]`, "emails has no sub-attribute typo"},
		{"Users", `emails[type eq "work" and name.givenName eq "x"]`, "inside emails[...]"},
		{"Users", `title[value eq "x"]`, "title is not a complex attribute"},
		{"Users", `name eq "Barbara"`, "name is a complex attribute"},
		{"Users", `meta eq "x"`, "meta is a complex attribute"},
		{"Users", `members[value eq "x"]`, `"members" is not an attribute of the User schema`},
		// RFC 7644's own example names ims, which Gatehouse does not serve or publish.
		{"Users", `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, `"ims"`},
		{"Users", `phoneNumbers pr`, `"phoneNumbers"`},
		{"Groups", `userName eq "x"`, `"userName" is not an attribute of the Group schema`},
		{"Groups", `displayNme eq "Guides"`, `"displayNme"`},
		{"Groups", `members[valu eq "x"]`, "members has no sub-attribute valu"},
		{"Groups", `members.display gt "3" and members.type co "x" and displayName eq "x" and members.nope pr`, "members has no sub-attribute nope"},
	}
	for _, tc := range bad {
		for _, r := range f.search(t, tc.endpoint, tc.filter, "") {
			r.wantError(t, http.StatusBadRequest, "invalidFilter", tc.detail)
		}
	}
	// What IdPs send keeps working, and so does pr on any published attribute; attribute names
	// are case-insensitive (RFC 7643 section 2.1).
	good := []struct {
		endpoint, filter string
		want             int
	}{
		{"Users", `userName eq "bjensen@example.com"`, 1},
		{"Users", `USERNAME EQ "BJENSEN@example.com"`, 1},
		{"Users", `externalId eq "nope"`, 0},
		{"Users", `emails[type eq "work"].value eq "x"`, -1}, // not a filter: a PATCH path; see below
		{"Users", `emails[type eq "work" and value eq "jsmith@example.com"]`, 1},
		{"Users", `Emails[Type eq "work" and Value eq "jsmith@example.com"]`, 1},
		{"Users", `emails eq "jsmith@example.com"`, 1},
		{"Users", `meta.lastModified gt "2011-05-13T04:42:34Z"`, 3},
		{"Users", `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "jensen"`, 1},
		{"Users", enterprise + `:department eq "Sales"`, 1},
		{"Users", enterprise + `:employeeNumber pr`, 3},
		{"Users", enterprise + `:manager pr`, 0},
		{"Users", `name pr and meta pr and emails pr and addresses pr`, 0},
		{"Users", `active eq true and active ne false`, 3},
		{"Users", `groups[display eq "Guides"]`, 1},
		{"Groups", `members[value eq "` + ids["bjensen@example.com"] + `"]`, 1},
		{"Groups", `displayName eq "guides" and externalId pr`, 0},
		{"Groups", `members pr`, 1},
	}
	for _, tc := range good {
		if tc.want < 0 {
			for _, r := range f.search(t, tc.endpoint, tc.filter, "") {
				r.wantError(t, http.StatusBadRequest, "invalidFilter", "")
			}
			continue
		}
		for _, r := range f.search(t, tc.endpoint, tc.filter, "") {
			r.want(t, http.StatusOK)
			if r.body["totalResults"] != float64(tc.want) {
				t.Errorf("%s %s: totalResults %v, want %d", tc.endpoint, tc.filter, r.body["totalResults"], tc.want)
			}
		}
	}
	// PATCH: an unknown attribute in a path is 400 invalidPath, a bad path filter 400
	// invalidFilter; nothing is changed.
	id := ids["bjensen@example.com"]
	patch := func(endpoint, ops string) response {
		return f.do("PATCH", "/scim/v2/"+endpoint, f.okta, `{`+patchOp+`,"Operations":`+ops+`}`)
	}
	patch("Users/"+id, `[{"op":"replace","path":"title","value":"ok"},{"op":"replace","path":"titel","value":"x"}]`).
		wantError(t, http.StatusBadRequest, "invalidPath", `"titel" is not an attribute of the User schema`)
	patch("Users/"+id, `[{"op":"replace","value":{"titel":"x"}}]`).wantError(t, http.StatusBadRequest, "invalidPath", "titel")
	patch("Users/"+id, `[{"op":"replace","path":"`+enterprise+`","value":{"departmnt":"x"}}]`).
		wantError(t, http.StatusBadRequest, "invalidPath", "departmnt")
	patch("Users/"+id, `[{"op":"add","path":"`+enterprise+`:nonexistent","value":"x"}]`).wantError(t, http.StatusBadRequest, "invalidPath", "nonexistent")
	patch("Users/"+id, `[{"op":"replace","path":"name.familyNam","value":"x"}]`).wantError(t, http.StatusBadRequest, "invalidPath", "familyNam")
	patch("Users/"+id, `[{"op":"replace","path":"emails[typo eq \"work\"].value","value":"x@example.com"}]`).
		wantError(t, http.StatusBadRequest, "invalidFilter", "typo")
	patch("Users/"+id, `[{"op":"replace","path":"emails[type eq \"work\"].valu","value":"x@example.com"}]`).
		wantError(t, http.StatusBadRequest, "invalidPath", "valu")
	patch("Groups/"+gid, `[{"op":"add","path":"memberz","value":[{"value":"`+id+`"}]}]`).wantError(t, http.StatusBadRequest, "invalidPath", "memberz")
	patch("Groups/"+gid, `[{"op":"remove","path":"members[valeu eq \"x\"]"}]`).wantError(t, http.StatusBadRequest, "invalidFilter", "valeu")
	if i := f.identity(id); i.Title != "Tour Guide" {
		t.Errorf("a refused PATCH changed the title to %q", i.Title)
	}
	// Attributes RFC 7643 defines that Gatehouse does not keep (Entra ID's default mapping
	// sends them) are accepted and dropped, as in a POST or PUT.
	patch("Users/"+id, `[{"op":"replace","path":"phoneNumbers[type eq \"work\"].value","value":"+1 555"},
		{"op":"add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main St"},
		{"op":"replace","value":{"preferredLanguage":"en-US","title":"Head Guide","name.middleName":"X"}}]`).want(t, http.StatusOK)
	if i := f.identity(id); i.Title != "Head Guide" {
		t.Errorf("title = %q after a PATCH with dropped attributes", i.Title)
	}
}

// Item 6: emails are kept as the schema publishes them.
func TestEmailsFollowTheSchema(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := user("ada@example.com", "Ada", "Lovelace", "Eng", "emails", `[
		{"value":"ada@example.com","Type":"Work","Primary":"True","foo":"bar"},
		{"Value":"ada@home.org","TYPE":"HOME","display":"Home","Bogus":{"x":1}},
		{"value":"ada@other.org","type":"office"},
		{"value":"","type":"home"}]`)
	r := f.do("POST", "/scim/v2/Users", f.okta, body).want(t, http.StatusCreated)
	id := str(r.body, "id")
	want := `[{"primary":true,"type":"work","value":"ada@example.com"},` +
		`{"display":"Home","primary":false,"type":"home","value":"ada@home.org"},` +
		`{"primary":false,"value":"ada@other.org"}]`
	for _, got := range []response{r, f.do("GET", "/scim/v2/Users/"+id, f.okta, "").want(t, http.StatusOK)} {
		if s := string(mustMarshal(got.body["emails"])); s != want {
			t.Errorf("emails = %s\nwant     %s", s, want)
		}
	}
	// Invented sub-attributes are not there to filter on, and the canonical ones are.
	for _, r := range f.search(t, "Users", `emails.foo eq "bar"`, "") {
		r.wantError(t, http.StatusBadRequest, "invalidFilter", "foo")
	}
	for _, r := range f.search(t, "Users", `emails[type eq "home" and display eq "home"]`, "") {
		if r.want(t, http.StatusOK).body["totalResults"] != float64(1) {
			t.Errorf("filter on a normalised email: %s", r.raw)
		}
	}
	// The listing renders the same.
	r = f.do("GET", "/scim/v2/Users", f.okta, "").want(t, http.StatusOK)
	if s := string(mustMarshal(r.body["Resources"].([]any)[0].(map[string]any)["emails"])); s != want {
		t.Errorf("listed emails = %s", s)
	}
	// Two primaries, an address that is not one, a value of the wrong type: 400 invalidValue,
	// nothing stored.
	for _, tc := range []struct{ emails, detail string }{
		{`[{"value":"ada@example.com","primary":true},{"value":"ada@home.org","primary":true}]`, "at most one"},
		{`[{"value":"not an address"}]`, "not an email address"},
		{`[{"value":"ada@example.com","primary":"maybe"}]`, "primary must be a boolean"},
		{`"ada@example.com"`, "emails must be a list"},
	} {
		f.do("PUT", "/scim/v2/Users/"+id, f.okta, user("ada@example.com", "Ada", "Lovelace", "Eng", "emails", tc.emails)).
			wantError(t, http.StatusBadRequest, "invalidValue", tc.detail)
	}
	// A PATCH is normalised the same way; a second primary through PATCH takes over (RFC 7644
	// section 3.5.2).
	f.do("PATCH", "/scim/v2/Users/"+id, f.okta, `{`+patchOp+`,"Operations":[{"op":"add","path":"emails",
		"value":[{"VALUE":"ada@work2.org","type":"Other","primary":true,"extra":1}]}]}`).want(t, http.StatusOK)
	r = f.do("GET", "/scim/v2/Users/"+id, f.okta, "").want(t, http.StatusOK)
	emails := r.body["emails"].([]any)
	last := emails[len(emails)-1].(map[string]any)
	if len(emails) != 4 || last["value"] != "ada@work2.org" || last["type"] != "other" || last["primary"] != true || last["extra"] != nil ||
		emails[0].(map[string]any)["primary"] != false {
		t.Errorf("emails after PATCH: %v", emails)
	}
	if i := f.identity(id); i.Email != "ada@example.com" {
		t.Errorf("the identity's email is userName, not %q", i.Email)
	}
}

// Item 7: /Me is 501 (RFC 7644 section 3.11), a filter on a discovery endpoint 403 (section 4).
func TestMeAndDiscoveryFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		body := ""
		if m != "GET" && m != "DELETE" {
			body = `{}`
		}
		f.do(m, "/scim/v2/Me", f.okta, body).wantError(t, http.StatusNotImplemented, "", "/Me")
	}
	f.do("GET", "/scim/v2/Me", "", "").want(t, http.StatusUnauthorized)
	for _, p := range []string{"ServiceProviderConfig", "Schemas", "ResourceTypes", "ResourceTypes/User",
		"Schemas/urn:ietf:params:scim:schemas:core:2.0:User"} {
		f.do("GET", "/scim/v2/"+p+"?filter="+url.QueryEscape(`id eq "User"`), f.okta, "").wantError(t, http.StatusForbidden, "", "filter")
		// Paging and sorting are ignored there.
		f.do("GET", "/scim/v2/"+p+"?sortBy=id&count=1", f.okta, "").want(t, http.StatusOK)
	}
}

// Item 8: a User's groups are served, read-only, from the stored SCIM groups.
func TestUserGroupsAreServed(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			var f *fixture
			if engine == "postgres" {
				f = newFixtureOn(t, storetest.OpenPostgres(t))
			} else {
				f = newFixture(t)
			}
			testUserGroups(t, f)
		})
	}
}

func testUserGroups(t *testing.T, f *fixture) {
	ids := f.people(t)
	a, b := ids["bjensen@example.com"], ids["jsmith@example.com"]
	group := func(name string, members ...string) string {
		var ms []string
		for _, m := range members {
			ms = append(ms, `{"value":"`+m+`"}`)
		}
		return str(f.do("POST", "/scim/v2/Groups", f.okta, `{"displayName":"`+name+`","members":[`+strings.Join(ms, ",")+`]}`).
			want(t, http.StatusCreated).body, "id")
	}
	guides, sales := group("Guides", a, b), group("Sales", a)
	r := f.do("GET", "/scim/v2/Users/"+a, f.okta, "").want(t, http.StatusOK)
	gs, _ := r.body["groups"].([]any)
	if len(gs) != 2 {
		t.Fatalf("groups of %s: %s", a, r.raw)
	}
	g0 := gs[0].(map[string]any)
	if g0["value"] != guides || g0["display"] != "Guides" || g0["type"] != "direct" || !strings.HasSuffix(fmt.Sprint(g0["$ref"]), "/scim/v2/Groups/"+guides) ||
		gs[1].(map[string]any)["value"] != sales {
		t.Errorf("groups = %v", gs)
	}
	ref := strings.TrimPrefix(fmt.Sprint(g0["$ref"]), f.srv.URL)
	f.do("GET", ref, f.okta, "").want(t, http.StatusOK)
	// A user in no group has no groups attribute (unassigned).
	if r := f.do("GET", "/scim/v2/Users/"+ids["mjones@example.org"], f.okta, "").want(t, http.StatusOK); r.body["groups"] != nil {
		t.Errorf("a user without groups: %v", r.body["groups"])
	}
	// Listings show them (plain, projected, filtered, sorted) unless left out.
	byName := func(r response) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, res := range r.body["Resources"].([]any) {
			out[str(res.(map[string]any), "userName")] = res.(map[string]any)
		}
		return out
	}
	for _, q := range []string{"", "?sortBy=userName", "?filter=" + url.QueryEscape(`userName eq "bjensen@example.com"`),
		"?attributes=userName,groups", "?attributes=groups.display,userName"} {
		r := f.do("GET", "/scim/v2/Users"+q, f.okta, "").want(t, http.StatusOK)
		if gs, _ := byName(r)["bjensen@example.com"]["groups"].([]any); len(gs) != 2 {
			t.Errorf("Users%s: groups of bjensen = %v", q, gs)
		}
	}
	for _, q := range []string{"?excludedAttributes=groups", "?attributes=userName", "?filter=" + url.QueryEscape(`userName eq "bjensen@example.com"`) + "&excludedAttributes=groups"} {
		r := f.do("GET", "/scim/v2/Users"+q, f.okta, "").want(t, http.StatusOK)
		if g := byName(r)["bjensen@example.com"]["groups"]; g != nil {
			t.Errorf("Users%s: groups returned: %v", q, g)
		}
	}
	f.do("GET", "/scim/v2/Users/"+a+"?excludedAttributes=groups", f.okta, "").want(t, http.StatusOK)
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`groups[display eq "sales"]`, []string{"bjensen@example.com"}},
		{`groups.value eq "` + guides + `"`, []string{"bjensen@example.com", "jsmith@example.com"}},
		{`not (groups pr)`, []string{"mjones@example.org"}},
	} {
		r := f.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(tc.filter), f.okta, "").want(t, http.StatusOK)
		got := names(t, r)
		slices.Sort(got)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: %v, want %v", tc.filter, got, tc.want)
		}
	}
	// Read-only: ignored on POST and PUT (RFC 7643 section 2.2), refused by PATCH with
	// mutability (RFC 7644 section 3.5.2); a path-less replace carrying them back unchanged is
	// no change to them.
	groups := `[{"value":"` + sales + `","display":"Sales"}]`
	nid := f.create(f.okta, user("new@example.com", "New", "Person", "Eng", "groups", groups))
	if r := f.do("GET", "/scim/v2/Users/"+nid, f.okta, "").want(t, http.StatusOK); r.body["groups"] != nil {
		t.Errorf("groups sent on POST were taken: %v", r.body["groups"])
	}
	f.do("PUT", "/scim/v2/Users/"+b, f.okta, user("jsmith@example.com", "John", "Smith", "Sales", "groups", groups)).want(t, http.StatusOK)
	if r := f.do("GET", "/scim/v2/Users/"+b, f.okta, "").want(t, http.StatusOK); len(r.body["groups"].([]any)) != 1 {
		t.Errorf("groups after a PUT sending others: %v", r.body["groups"])
	}
	f.do("PATCH", "/scim/v2/Users/"+b, f.okta, `{`+patchOp+`,"Operations":[{"op":"add","path":"groups","value":`+groups+`}]}`).
		wantError(t, http.StatusBadRequest, "mutability", "groups")
	cur := f.do("GET", "/scim/v2/Users/"+b, f.okta, "").want(t, http.StatusOK)
	f.do("PATCH", "/scim/v2/Users/"+b, f.okta, `{`+patchOp+`,"Operations":[{"op":"replace","value":{"title":"Lead","groups":`+
		string(mustMarshal(cur.body["groups"]))+`}}]}`).want(t, http.StatusOK)
	// Leaving a group shows at once.
	f.do("PATCH", "/scim/v2/Groups/"+guides, f.okta, `{`+patchOp+`,"Operations":[{"op":"remove","path":"members[value eq \"`+b+`\"]"}]}`).
		want(t, http.StatusOK)
	if r := f.do("GET", "/scim/v2/Users/"+b, f.okta, "").want(t, http.StatusOK); r.body["groups"] != nil {
		t.Errorf("groups after leaving: %v", r.body["groups"])
	}
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// schemaAttr is an attribute definition as /Schemas publishes it.
type schemaAttr struct {
	Name          string       `json:"name"`
	Type          string       `json:"type"`
	MultiValued   bool         `json:"multiValued"`
	Mutability    string       `json:"mutability"`
	Returned      string       `json:"returned"`
	SubAttributes []schemaAttr `json:"subAttributes"`
}

// Item 8, the other way round: every attribute a User or a Group is served with is published
// in /Schemas, with its type, its multiplicity and a returned that lets it be served; groups
// and what is derived are published read-only; and every published attribute can be named in
// a filter.
func TestSchemasDescribeWhatIsServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.do("GET", "/scim/v2/Schemas", f.okta, "").want(t, http.StatusOK)
	var list struct {
		Resources []struct {
			ID         string       `json:"id"`
			Attributes []schemaAttr `json:"attributes"`
		}
	}
	if err := json.Unmarshal([]byte(r.raw), &list); err != nil {
		t.Fatal(err)
	}
	schemas := map[string][]schemaAttr{}
	for _, s := range list.Resources {
		schemas[s.ID] = s.Attributes
	}
	const coreUser, coreGroup = "urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"
	// A user with every attribute Gatehouse keeps, and a group holding it.
	mgr := f.create(f.okta, user("boss@example.com", "Big", "Boss", "Eng", enterprise, `{"employeeNumber":"B1"}`))
	id := f.create(f.okta, user("full@example.com", "Full", "User", "Eng", "externalId", "ext-1", "title", "Dev", "userType", "contractor",
		"addresses", `[{"type":"work","locality":"Oslo","primary":true}]`,
		"emails", `[{"value":"full@example.com","type":"work","primary":true},{"value":"full@home.org","type":"home","display":"Home"}]`,
		enterprise, `{"employeeNumber":"F1","department":"Eng","organization":"Org","manager":{"value":"`+mgr+`"}}`))
	gid := str(f.do("POST", "/scim/v2/Groups", f.okta, `{"displayName":"Everyone","externalId":"g-1","members":[{"value":"`+id+`"}]}`).
		want(t, http.StatusCreated).body, "id")
	served := map[string]map[string]any{
		coreUser:  f.do("GET", "/scim/v2/Users/"+id, f.okta, "").want(t, http.StatusOK).body,
		coreGroup: f.do("GET", "/scim/v2/Groups/"+gid, f.okta, "").want(t, http.StatusOK).body,
	}
	listed := f.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "full@example.com"`), f.okta, "").want(t, http.StatusOK)
	if !reflectEqualJSON(listed.body["Resources"].([]any)[0], served[coreUser]) {
		t.Errorf("listed and read users differ:\n%v\n%v", listed.body["Resources"], served[coreUser])
	}
	var check func(where string, def schemaAttr, v any, multi bool)
	check = func(where string, def schemaAttr, v any, multi bool) {
		if def.Returned == "never" {
			t.Errorf("%s is served but published returned never", where)
		}
		if multi {
			els, ok := v.([]any)
			if !ok {
				t.Errorf("%s is published multi-valued, served %T", where, v)
				return
			}
			for _, el := range els {
				check(where, def, el, false)
			}
			return
		}
		switch def.Type {
		case "string", "reference", "dateTime", "binary":
			if _, ok := v.(string); !ok {
				t.Errorf("%s is published %s, served %T (%v)", where, def.Type, v, v)
			}
		case "boolean":
			if _, ok := v.(bool); !ok {
				t.Errorf("%s is published boolean, served %T", where, v)
			}
		case "complex":
			m, ok := v.(map[string]any)
			if !ok {
				t.Errorf("%s is published complex, served %T", where, v)
				return
			}
			for k, sv := range m {
				sub, ok := findAttr(def.SubAttributes, k)
				if !ok {
					t.Errorf("%s.%s is served but not published", where, k)
					continue
				}
				check(where+"."+k, sub, sv, sub.MultiValued)
			}
		default:
			t.Errorf("%s: published type %q", where, def.Type)
		}
	}
	for urn, res := range served {
		for k, v := range res {
			switch k {
			case "schemas", "id", "meta": // common attributes, not part of any schema
				continue
			}
			if defs, ok := schemas[k]; ok && k != urn {
				for ek, ev := range v.(map[string]any) {
					def, ok := findAttr(defs, ek)
					if !ok {
						t.Errorf("%s:%s is served but not published", k, ek)
						continue
					}
					check(k+":"+ek, def, ev, def.MultiValued)
				}
				continue
			}
			def, ok := findAttr(schemas[urn], k)
			if !ok {
				t.Errorf("%s: %s is served but not published", urn, k)
				continue
			}
			check(k, def, v, def.MultiValued)
		}
	}
	// Read-only as published: groups (all of it) and the derived attributes.
	groups, _ := findAttr(schemas[coreUser], "groups")
	if groups.Mutability != "readOnly" || groups.Returned != "default" || len(groups.SubAttributes) != 4 {
		t.Errorf("groups published as %+v", groups)
	}
	for _, s := range groups.SubAttributes {
		if s.Mutability != "readOnly" {
			t.Errorf("groups.%s published %s", s.Name, s.Mutability)
		}
	}
	for urn, name := range map[string]string{coreUser: "displayName", enterprise: "manager.displayName", coreGroup: "members.display"} {
		attr, sub, _ := strings.Cut(name, ".")
		def, _ := findAttr(schemas[urn], attr)
		if sub != "" {
			def, _ = findAttr(def.SubAttributes, sub)
		}
		if def.Mutability != "readOnly" {
			t.Errorf("%s is derived but published %q", name, def.Mutability)
		}
	}
	// Every published attribute and sub-attribute can be filtered on (pr).
	for urn, defs := range schemas {
		endpoint, prefix := "Users", ""
		switch urn {
		case coreGroup:
			endpoint = "Groups"
		case enterprise:
			prefix = enterprise + ":"
		}
		for _, d := range defs {
			paths := []string{prefix + d.Name}
			for _, s := range d.SubAttributes {
				paths = append(paths, prefix+d.Name+"."+s.Name)
			}
			for _, p := range paths {
				f.do("GET", "/scim/v2/"+endpoint+"?filter="+url.QueryEscape(p+" pr"), f.okta, "").want(t, http.StatusOK)
			}
		}
	}
}

func findAttr(defs []schemaAttr, name string) (schemaAttr, bool) {
	for _, d := range defs {
		if strings.EqualFold(d.Name, name) {
			return d, true
		}
	}
	return schemaAttr{}, false
}

func reflectEqualJSON(a, b any) bool {
	return string(mustMarshal(a)) == string(mustMarshal(b))
}
