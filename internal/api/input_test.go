package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestBadBytes: a NUL byte or bytes that are not UTF-8 anywhere in a request (a JSON body
// field, escaped or raw; a query parameter; a path value) get 400 naming the field, on both
// databases, and nothing is stored. Before, PostgreSQL answered 500 and SQLite stored an email
// holding a NUL. Control characters and over-long values in an identity's fields are refused
// the same way, naming the limit.
func TestBadBytes(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			ctx := context.Background()
			count := func() int {
				n, err := f.st.CountIdentities(ctx, gatehouse.IdentityFilter{})
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := count()
			person := func(email, first string) string {
				return `{"employee_id":"E-sam","email":"` + email + `","first_name":"` + first + `","last_name":"Taylor","start_date":"2024-01-02"}`
			}
			for _, tc := range []struct {
				name, method, path, body, want string
			}{
				{"escaped NUL in email", "POST", "/api/v1/identities", person(`sam\u0000@example.com`, "Sam"), "email: contains a NUL byte"},
				{"escaped NUL in first_name", "POST", "/api/v1/identities", person("sam@example.com", `Sa\u0000m`), "first_name: contains a NUL byte"},
				{"raw NUL in first_name", "POST", "/api/v1/identities", person("sam@example.com", "Sa\x00m"), "first_name: contains a NUL byte"},
				{"invalid UTF-8 in first_name", "POST", "/api/v1/identities", person("sam@example.com", "S\xe9m"), "first_name: is not valid UTF-8"},
				{"invalid UTF-8 in an attribute", "POST", "/api/v1/identities",
					"{\"employee_id\":\"E-sam\",\"email\":\"sam@example.com\",\"attributes\":{\"cost_center\":\"C\xc3\"}}", "attributes.cost_center: is not valid UTF-8"},
				{"NUL in reason", "POST", "/api/v1/identities",
					`{"employee_id":"E-sam","email":"sam@example.com","reason":"x\u0000"}`, "reason: contains a NUL byte"},
				{"forged line in first_name", "POST", "/api/v1/identities", person("sam@example.com", `Sam\n    roles: admin`), "first_name: contains the control character U+000A"},
				{"ANSI escape in last name", "POST", "/api/v1/identities",
					`{"employee_id":"E-sam","email":"sam@example.com","last_name":"\u001b[2J"}`, "last_name: contains the control character U+001B"},
				{"bidi override in email", "POST", "/api/v1/identities", person("sam\u202e@example.com", "Sam"), "email: contains the control character U+202E"},
				{"over-long first_name", "POST", "/api/v1/identities", person("sam@example.com", strings.Repeat("é", 201)), "first_name: is 201 characters long; the limit is 200"},
				{"over-long email", "POST", "/api/v1/identities", person(strings.Repeat("s", 250)+"@example.com", "Sam"), "email: is 262 characters long; the limit is 254"},
				{"NUL in a patch", "PATCH", "/api/v1/identities/user@example.com", `{"title":"\u0000"}`, "title: contains a NUL byte"},
				{"NUL in a query parameter", "GET", "/api/v1/identities?q=a%00b", "", "q: contains a NUL byte"},
				{"invalid UTF-8 in a query parameter", "GET", "/api/v1/identities?department=%ff", "", "department: is not valid UTF-8"},
				{"invalid UTF-8 in a query parameter name", "GET", "/api/v1/identities?%ff=1", "", "query parameter name: is not valid UTF-8"},
				{"NUL in a path value", "GET", "/api/v1/identities/sam%00@example.com", "", "id: contains a NUL byte"},
				{"invalid UTF-8 in a path value", "GET", "/api/v1/identities/%c3", "", "id: is not valid UTF-8"},
				{"NUL in a grant's path value", "POST", "/api/v1/grants/g%00/revoke", `{"reason":"x"}`, "id: contains a NUL byte"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := must(t, f.as(t, "admin", tc.method, tc.path, tc.body), http.StatusBadRequest)
					if e := a.errorOf(t); e.Code != "invalid" || e.Message != tc.want {
						t.Errorf("error %q (%s), want %q", e.Message, e.Code, tc.want)
					}
				})
			}
			if n := count(); n != before {
				t.Errorf("%d identities stored from refused requests", n-before)
			}
			if id, err := f.st.GetIdentity(ctx, "user@example.com"); err != nil || id.Title != "Engineer" {
				t.Errorf("user after a refused patch: %+v, %v", id, err)
			}
			// The same person, clean, is stored (the refusals were about the bytes only).
			must(t, f.as(t, "admin", "POST", "/api/v1/identities", person("sam@example.com", "Zoë 山田")), http.StatusCreated)
		})
	}
}

// TestTextLimits: free-text fields have documented limits (docs/api.md, "Limits"), enforced by
// the service with a 400 naming the field and the limit.
func TestTextLimits(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			long := func(n int) string { return strings.Repeat("x", n) }
			for _, tc := range []struct {
				name, caller, method, path, body, want string
			}{
				{"justification", "user", "POST", "/api/v1/requests",
					jsonBody(map[string]any{"entitlement": "wiki/members", "justification": long(4001)}), "justification: is 4001 characters long; the limit is 4000"},
				{"grant reason", "operator", "POST", "/api/v1/grants",
					jsonBody(map[string]any{"identity": "auditor@example.com", "entitlement": "wiki/members", "reference": "CHG-1", "reason": long(4001)}), "reason: is 4001 characters long; the limit is 4000"},
				{"token description", "user", "POST", "/api/v1/tokens",
					jsonBody(map[string]any{"description": long(2001)}), "description: is 2001 characters long; the limit is 2000"},
				{"identity reason", "operator", "PATCH", "/api/v1/identities/user@example.com",
					jsonBody(map[string]any{"title": "Lead", "reason": long(4001)}), "reason: is 4001 characters long; the limit is 4000"},
				{"ANSI escape in a justification", "user", "POST", "/api/v1/requests",
					jsonBody(map[string]any{"entitlement": "wiki/members", "justification": "Need it for PLAT-1 \x1b]0;owned\x07 now"}), "justification: contains the control character U+001B"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := must(t, f.as(t, tc.caller, tc.method, tc.path, tc.body), http.StatusBadRequest)
					if e := a.errorOf(t); e.Message != tc.want {
						t.Errorf("error %q, want %q", e.Message, tc.want)
					}
				})
			}
			// At the limit is fine.
			must(t, f.as(t, "user", "POST", "/api/v1/tokens", jsonBody(map[string]any{"description": long(2000)})), http.StatusCreated)
		})
	}
}

// TestHRBadBytes: an HR feed with a NUL, a forged line or bytes that are not UTF-8 is refused
// with 400 naming the line and the field, on both databases, and nothing is imported.
func TestHRBadBytes(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			before, err := f.st.CountIdentities(context.Background(), gatehouse.IdentityFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name, row, want string
			}{
				{"NUL in email", "E-sam,sam\x00@example.com,Sam,Taylor,Eng,Dev,,,employee,active,2024-01-02,", "email: contains a NUL byte"},
				{"forged line in first name", "E-sam,sam@example.com,\"Sam\n    roles: admin\",Taylor,Eng,Dev,,,employee,active,2024-01-02,", "first_name: contains the control character U+000A"},
				{"over-long title", "E-sam,sam@example.com,Sam,Taylor,Eng," + strings.Repeat("t", 201) + ",,,employee,active,2024-01-02,", "title: is 201 characters long; the limit is 200"},
				{"invalid UTF-8", "E-sam,sam@example.com,S\xe9m,Taylor,Eng,Dev,,,employee,active,2024-01-02,", "not valid UTF-8"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					feed := f.feed(tc.row)
					line := strings.Count(feed[:strings.Index(feed, "E-sam")], "\n") + 1
					for _, dry := range []string{"?dry_run=true", ""} {
						a := must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports" + dry, token: f.secrets["operator"],
							body: feed, contentType: "text/csv"}), http.StatusBadRequest)
						e := a.errorOf(t)
						if want := "line " + itoa(line) + ": "; !strings.Contains(e.Message, want) || !strings.Contains(e.Message, tc.want) {
							t.Errorf("error %q, want %q and %q", e.Message, want, tc.want)
						}
					}
				})
			}
			a := must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports", token: f.secrets["operator"], contentType: "application/json",
				body: `[{"employee_id":"E-sam","email":"sam@example.com","first_name":"S` + "\xff" + `m","last_name":"T","department":"Eng","title":"Dev","manager_id":"","location":"","employment_type":"employee","status":"active","start_date":"2024-01-02","end_date":""}]`}),
				http.StatusBadRequest)
			if e := a.errorOf(t); !strings.Contains(e.Message, "not valid UTF-8") {
				t.Errorf("JSON feed with bad bytes: %q", e.Message)
			}
			if after, _ := f.st.CountIdentities(context.Background(), gatehouse.IdentityFilter{}); after != before {
				t.Errorf("%d identities imported from refused feeds", after-before)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestHRColumnNamesBadBytes: a column of an HR feed (a CSV header, a key of the JSON form) is
// an attribute name; one holding a NUL byte or a control character was stored, with an empty
// value, on SQLite (and is no attribute PostgreSQL can hold). The file is refused whole, the
// column named.
func TestHRColumnNamesBadBytes(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		// Everyone of the fixture as they are, with one more column: were it accepted, nobody
		// would leave.
		withColumn := func(col string) string {
			lines := strings.Split(strings.TrimSuffix(f.feed("E9001,e9001@example.com,E,N,Ops,T,,,employee,active,2024-01-02,"), "\n"), "\n")
			lines[0] += "," + col
			for i := 1; i < len(lines); i++ {
				lines[i] += ","
			}
			return strings.Join(lines, "\n") + "\n"
		}
		for name, c := range map[string]struct{ body, ctype string }{
			"csv nul":    {withColumn("x\x00y"), "text/csv"},
			"csv escape": {withColumn("x\x1b[2Jy"), "text/csv"},
			"json nul":   {`[{"employee_id":"E9001","email":"e9001@example.com","first_name":"E","last_name":"N","department":"Ops","title":"T","manager_id":"","location":"","employment_type":"employee","status":"active","start_date":"2024-01-02","end_date":"","x\u0000y":""}]`, "application/json"},
		} {
			for _, path := range []string{"/api/v1/hr/imports?dry_run=true", "/api/v1/hr/imports"} {
				a := f.do(t, request{method: "POST", path: path, token: f.secrets["operator"], body: c.body, contentType: c.ctype})
				if e := must(t, a, http.StatusBadRequest).errorOf(t); !strings.Contains(e.Message, "column name") {
					t.Fatalf("%s %s: %+v", name, path, e)
				}
			}
		}
		must(t, f.as(t, "auditor", "GET", "/api/v1/identities/e9001@example.com", ""), http.StatusNotFound)
	})
}
