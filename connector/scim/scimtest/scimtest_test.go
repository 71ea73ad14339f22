package scimtest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/connector/scim/scimtest"
)

const (
	userSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
	patchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
)

func newUser(name string) map[string]any {
	return map[string]any{
		"schemas":    []string{userSchema},
		"userName":   name,
		"externalId": "X-" + name,
		"name":       map[string]any{"givenName": "Test", "familyName": name},
		"emails":     []any{map[string]any{"value": name, "type": "work", "primary": true}},
		"active":     true,
	}
}

func filterPath(resource, filter string) string {
	return "/" + resource + "?filter=" + url.QueryEscape(filter)
}

// raw sends a request with headers Do does not set and returns the response, body read.
func raw(t *testing.T, s *scimtest.Server, method, path, token string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func resources(t *testing.T, resp map[string]any) []map[string]any {
	t.Helper()
	list, _ := resp["Resources"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, r := range list {
		out = append(out, r.(map[string]any))
	}
	return out
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// TestPeers checks each peer does what the SCIM connector relies on: create, find by
// userName, page, PATCH, uniqueness, groups with members, faults, the request log and auth.
func TestPeers(t *testing.T) {
	for _, kind := range scimtest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := scimtest.Start(t, kind)
			if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || strings.HasSuffix(s.URL, "/") {
				t.Fatalf("URL = %q, want http://127.0.0.1:PORT/... without trailing slash", s.URL)
			}

			// Create.
			status, alice := s.Do(t, http.MethodPost, "/Users", newUser("alice@example.com"))
			if status != http.StatusCreated {
				t.Fatalf("POST /Users = %d %v, want 201", status, alice)
			}
			id, _ := alice["id"].(string)
			if id == "" || alice["userName"] != "alice@example.com" || alice["active"] != true {
				t.Fatalf("created user = %v", alice)
			}
			if meta, _ := alice["meta"].(map[string]any); meta["resourceType"] != "User" || meta["created"] == nil {
				t.Errorf("created user meta = %v", alice["meta"])
			}

			// Uniqueness: userName is caseExact=false, so a case variant collides too.
			status, dup := s.Do(t, http.MethodPost, "/Users", newUser("ALICE@example.com"))
			if status != http.StatusConflict || dup["scimType"] != "uniqueness" || !slices.Contains(anySlice(dup["schemas"]), errorSchema) {
				t.Errorf("duplicate POST /Users = %d %v, want 409 uniqueness SCIM error", status, dup)
			}

			// Read back by filter, and by id.
			status, list := s.Do(t, http.MethodGet, filterPath("Users", `userName eq "alice@example.com"`), nil)
			if got := resources(t, list); status != 200 || num(list["totalResults"]) != 1 || len(got) != 1 || got[0]["id"] != id {
				t.Fatalf("filter userName eq = %d %v, want alice", status, list)
			}
			if status, got := s.Do(t, http.MethodGet, "/Users/"+id, nil); status != 200 || got["id"] != id {
				t.Fatalf("GET /Users/id = %d %v", status, got)
			}
			if status, got := s.Do(t, http.MethodGet, "/Users/does-not-exist", nil); status != 404 || got["status"] != "404" {
				t.Errorf("GET missing user = %d %v, want a 404 SCIM error", status, got)
			}

			// Page through 5 users, 2 at a time.
			for _, n := range []string{"bob", "carol", "dave", "erin"} {
				if status, got := s.Do(t, http.MethodPost, "/Users", newUser(n+"@example.com")); status != 201 {
					t.Fatalf("POST %s = %d %v", n, status, got)
				}
			}
			var seen []string
			for start := 1; start <= 5; start += 2 {
				status, page := s.Do(t, http.MethodGet, fmt.Sprintf("/Users?startIndex=%d&count=2", start), nil)
				if status != 200 || num(page["totalResults"]) != 5 || num(page["startIndex"]) != start {
					t.Fatalf("page %d = %d %v", start, status, page)
				}
				rs := resources(t, page)
				if want := min(2, 5-start+1); len(rs) != want {
					t.Fatalf("page %d has %d resources, want %d", start, len(rs), want)
				}
				for _, r := range rs {
					seen = append(seen, r["userName"].(string))
				}
			}
			slices.Sort(seen)
			if want := []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com"}; !slices.Equal(seen, want) {
				t.Errorf("paged users = %v, want %v", seen, want)
			}

			// PATCH active false.
			status, patched := s.Do(t, http.MethodPatch, "/Users/"+id, map[string]any{
				"schemas":    []string{patchSchema},
				"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}},
			})
			if status != 200 || patched["active"] != false {
				t.Fatalf("PATCH active=false = %d %v", status, patched)
			}
			if _, got := s.Do(t, http.MethodGet, "/Users/"+id, nil); got["active"] != false {
				t.Errorf("after PATCH, active = %v", got["active"])
			}

			// A group with a member, then a member removed by PATCH.
			_, bob := s.Do(t, http.MethodGet, filterPath("Users", `userName eq "bob@example.com"`), nil)
			bobID := resources(t, bob)[0]["id"].(string)
			status, group := s.Do(t, http.MethodPost, "/Groups", map[string]any{
				"schemas": []string{groupSchema}, "displayName": "engineering",
				"members": []any{map[string]any{"value": id}, map[string]any{"value": bobID}},
			})
			if status != 201 {
				t.Fatalf("POST /Groups = %d %v", status, group)
			}
			gid := group["id"].(string)
			if got := memberValues(group); !slices.Equal(got, sorted(id, bobID)) {
				t.Errorf("group members = %v, want alice and bob", got)
			}
			if status, got := s.Do(t, http.MethodPost, "/Groups", map[string]any{"schemas": []string{groupSchema}, "displayName": "Engineering"}); status != 409 {
				t.Errorf("duplicate group displayName = %d %v, want 409", status, got)
			}
			status, group = s.Do(t, http.MethodPatch, "/Groups/"+gid, map[string]any{
				"schemas":    []string{patchSchema},
				"Operations": []any{map[string]any{"op": "remove", "path": fmt.Sprintf("members[value eq %q]", bobID)}},
			})
			if status != 200 {
				t.Fatalf("PATCH remove member = %d %v", status, group)
			}
			if _, got := s.Do(t, http.MethodGet, "/Groups/"+gid, nil); !slices.Equal(memberValues(got), []string{id}) {
				t.Errorf("members after removing bob = %v, want alice only", memberValues(got))
			}

			// A forced 429 with Retry-After, then normal service again.
			s.Fail(t, http.StatusTooManyRequests, 1, time.Second)
			res, body := raw(t, s, http.MethodGet, "/Users?count=1", s.Token, nil)
			if res.StatusCode != 429 || res.Header.Get("Retry-After") != "1" || !strings.Contains(body, errorSchema) {
				t.Errorf("forced fault = %d Retry-After %q %s, want 429, 1 and a SCIM error", res.StatusCode, res.Header.Get("Retry-After"), body)
			}
			if status, _ := s.Do(t, http.MethodGet, "/Users?count=1", nil); status != 200 {
				t.Errorf("after the fault ran out: %d, want 200", status)
			}

			// Auth: a wrong or missing token is a 401 SCIM error.
			for _, token := range []string{"", "wrong"} {
				if res, body := raw(t, s, http.MethodGet, "/Users", token, nil); res.StatusCode != 401 || !strings.Contains(body, errorSchema) {
					t.Errorf("token %q: %d %s, want a 401 SCIM error", token, res.StatusCode, body)
				}
			}

			// The request log: method, relative path with query, If-Match, auth scheme, status.
			s.ClearRequests(t)
			raw(t, s, http.MethodGet, "/Users/"+id, s.Token, map[string]string{"If-Match": `W/"x"`})
			raw(t, s, http.MethodGet, "/Users?count=1", "", nil)
			got := s.Requests(t)
			want := []scimtest.Request{
				{Method: "GET", Path: "/Users/" + id, IfMatch: `W/"x"`, Auth: "Bearer", Status: 200},
				{Method: "GET", Path: "/Users?count=1", Status: 401},
			}
			if !slices.Equal(got, want) {
				t.Errorf("request log = %+v, want %+v", got, want)
			}

			// Delete.
			if status, _ := s.Do(t, http.MethodDelete, "/Users/"+bobID, nil); status != 204 {
				t.Errorf("DELETE user = %d, want 204", status)
			}
			if status, _ := s.Do(t, http.MethodGet, "/Users/"+bobID, nil); status != 404 {
				t.Errorf("deleted user = %d, want 404", status)
			}
		})
	}
}

func anySlice(v any) []string {
	var out []string
	for _, x := range asList(v) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func memberValues(group map[string]any) []string {
	var out []string
	for _, m := range asList(group["members"]) {
		out = append(out, m.(map[string]any)["value"].(string))
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

// TestSettings checks the catalog settings point at the peer and the token file holds the
// token, readable only by its owner.
func TestSettings(t *testing.T) {
	s := scimtest.Start(t, scimtest.Scimmy)
	st := s.Settings(t)
	if st["url"] != s.URL || st["timeout"] != "5s" {
		t.Errorf("settings = %v", st)
	}
	file := st["token_file"].(string)
	b, err := os.ReadFile(file)
	if err != nil || strings.TrimSpace(string(b)) != s.Token {
		t.Errorf("token file = %q, %v", b, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, %v; want 0600", fi.Mode(), err)
	}
}

// TestScimmyETag checks SCIMMY's ETags: the ETag header is meta.version and a stale If-Match
// fails with 412 while the current one succeeds.
func TestScimmyETag(t *testing.T) {
	s := scimtest.Start(t, scimtest.Scimmy)
	_, u := s.Do(t, http.MethodPost, "/Users", newUser("etag@example.com"))
	id := u["id"].(string)
	v1 := u["meta"].(map[string]any)["version"].(string)
	res, _ := raw(t, s, http.MethodGet, "/Users/"+id, s.Token, nil)
	if res.Header.Get("ETag") != v1 {
		t.Fatalf("ETag = %q, want meta.version %q", res.Header.Get("ETag"), v1)
	}
	_, u = s.Do(t, http.MethodPatch, "/Users/"+id, map[string]any{
		"schemas": []string{patchSchema}, "Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "E"}},
	})
	v2 := u["meta"].(map[string]any)["version"].(string)
	if v2 == v1 {
		t.Fatalf("version unchanged by PATCH: %s", v2)
	}
	if res, body := raw(t, s, http.MethodDelete, "/Users/"+id, s.Token, map[string]string{"If-Match": v1}); res.StatusCode != 412 {
		t.Errorf("DELETE with stale If-Match = %d %s, want 412", res.StatusCode, body)
	}
	if res, body := raw(t, s, http.MethodDelete, "/Users/"+id, s.Token, map[string]string{"If-Match": v2}); res.StatusCode != 204 {
		t.Errorf("DELETE with current If-Match = %d %s, want 204", res.StatusCode, body)
	}
}

// TestScimmySeed seeds the benchmark size and pages the result: the seed must be fast, the
// generated names as documented, and paging exact at the edges.
func TestScimmySeed(t *testing.T) {
	s := scimtest.Start(t, scimtest.Scimmy)
	began := time.Now()
	s.Seed(t, 20000, 1000, 20)
	took := time.Since(began)
	t.Logf("seeded 20,000 users and 1,000 groups in %s", took.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Errorf("seed took %s, want a few seconds at most", took)
	}
	_, page := s.Do(t, http.MethodGet, "/Users?startIndex=19999&count=5", nil)
	var names []string
	for _, r := range resources(t, page) {
		names = append(names, r["userName"].(string))
	}
	if num(page["totalResults"]) != 20000 || !slices.Equal(names, []string{"user019999@example.com", "user020000@example.com"}) {
		t.Errorf("last page = total %v, %v", page["totalResults"], names)
	}
	_, list := s.Do(t, http.MethodGet, filterPath("Users", `externalId eq "E000001"`), nil)
	if rs := resources(t, list); len(rs) != 1 || rs[0]["userName"] != "user000001@example.com" || rs[0]["active"] != true {
		t.Errorf("E000001 = %v", list)
	}
	_, list = s.Do(t, http.MethodGet, filterPath("Groups", `displayName eq "group01000"`), nil)
	if rs := resources(t, list); len(rs) != 1 || len(asList(rs[0]["members"])) != 20 {
		t.Errorf("group01000 = %v", list)
	}
	// Page boundaries near the front, where SCIMMY's own list slicing is most fragile.
	for _, tc := range []struct{ start, count int }{{1, 3}, {2, 3}, {3, 2}, {4, 5}, {2, 1}} {
		_, page := s.Do(t, http.MethodGet, fmt.Sprintf("/Users?startIndex=%d&count=%d", tc.start, tc.count), nil)
		var got []string
		for _, r := range resources(t, page) {
			got = append(got, r["userName"].(string))
		}
		var want []string
		for i := tc.start; i < tc.start+tc.count; i++ {
			want = append(want, fmt.Sprintf("user%06d@example.com", i))
		}
		if !slices.Equal(got, want) {
			t.Errorf("startIndex=%d count=%d: %v, want %v", tc.start, tc.count, got, want)
		}
	}
	began = time.Now()
	status, _ := s.Do(t, http.MethodGet, "/Users?startIndex=10001&count=100", nil)
	t.Logf("one page of 100 out of 20,000 in %s", time.Since(began).Round(time.Millisecond))
	if status != 200 {
		t.Errorf("page = %d", status)
	}
}

// TestDeviations pins each peer's known departures from RFC 7644 that the connector must cope
// with (see the package documentation). A failure here means a peer changed: update the doc.
func TestDeviations(t *testing.T) {
	t.Run("scimmy", func(t *testing.T) {
		t.Parallel()
		s := scimtest.Start(t, scimtest.Scimmy)
		s.Do(t, http.MethodPost, "/Users", newUser("Mixed@example.com"))
		// userName is caseExact=false, but SCIMMY's eq filter compares exactly.
		_, list := s.Do(t, http.MethodGet, filterPath("Users", `userName eq "mixed@example.com"`), nil)
		if num(list["totalResults"]) != 0 {
			t.Errorf("case-insensitive userName eq matched: %v", list)
		}
		// itemsPerPage echoes count, not the number of resources in the page.
		for _, n := range []string{"a", "b"} {
			s.Do(t, http.MethodPost, "/Users", newUser(n+"@example.com"))
		}
		_, page := s.Do(t, http.MethodGet, "/Users?count=10", nil)
		if num(page["itemsPerPage"]) != 10 || len(resources(t, page)) != 3 {
			t.Errorf("itemsPerPage = %v with %d resources", page["itemsPerPage"], len(resources(t, page)))
		}
	})
	t.Run("better-auth", func(t *testing.T) {
		t.Parallel()
		s := scimtest.Start(t, scimtest.BetterAuth)
		s.Do(t, http.MethodPost, "/Users", newUser("mixed@example.com"))
		for _, f := range []string{`active eq true`, `userName sw "m"`, `userName eq "a" or userName eq "b"`, `displayName eq "x"`} {
			status, resp := s.Do(t, http.MethodGet, filterPath("Users", f), nil)
			if status != 400 || resp["scimType"] != "invalidFilter" {
				t.Errorf("filter %s = %d %v, want 400 invalidFilter", f, status, resp)
			}
		}
		// count is capped at 100.
		_, page := s.Do(t, http.MethodGet, "/Users?count=500", nil)
		if num(page["itemsPerPage"]) != 1 {
			t.Errorf("itemsPerPage = %v, want the page size 1", page["itemsPerPage"])
		}
		// No ETags, and If-Match is ignored.
		id := resources(t, page)[0]["id"].(string)
		res, _ := raw(t, s, http.MethodGet, "/Users/"+id, s.Token, nil)
		if res.Header.Get("ETag") != "" {
			t.Errorf("ETag = %q, want none", res.Header.Get("ETag"))
		}
		if res, body := raw(t, s, http.MethodDelete, "/Users/"+id, s.Token, map[string]string{"If-Match": `W/"stale"`}); res.StatusCode != 204 {
			t.Errorf("DELETE with a stale If-Match = %d %s, want 204 (ignored)", res.StatusCode, body)
		}
		// A user without emails gets one made from userName.
		_, u := s.Do(t, http.MethodPost, "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "noemail@example.com"})
		if emails := asList(u["emails"]); len(emails) != 1 || emails[0].(map[string]any)["value"] != "noemail@example.com" {
			t.Errorf("emails = %v", u["emails"])
		}
		if status, _ := s.Do(t, http.MethodPost, "/Bulk", map[string]any{}); status != 404 {
			t.Errorf("POST /Bulk = %d, want 404", status)
		}
	})
}

// TestSeedSmall checks both peers seed the documented names and memberships.
func TestSeedSmall(t *testing.T) {
	for _, kind := range scimtest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := scimtest.Start(t, kind)
			s.Seed(t, 3, 2, 2)
			_, list := s.Do(t, http.MethodGet, filterPath("Users", `userName eq "user000003@example.com"`), nil)
			rs := resources(t, list)
			if len(rs) != 1 || rs[0]["externalId"] != "E000003" || rs[0]["active"] != true {
				t.Fatalf("user000003 = %v", list)
			}
			_, list = s.Do(t, http.MethodGet, filterPath("Groups", `displayName eq "group00002"`), nil)
			gs := resources(t, list)
			if len(gs) != 1 || len(asList(gs[0]["members"])) != 2 {
				t.Fatalf("group00002 = %v", list)
			}
			if _, all := s.Do(t, http.MethodGet, "/Users", nil); num(all["totalResults"]) != 3 {
				t.Errorf("totalResults = %v, want 3", all["totalResults"])
			}
		})
	}
}
