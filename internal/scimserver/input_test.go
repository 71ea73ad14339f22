package scimserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestSCIMBadBytes: an IdP that pushes a NUL, bytes that are not UTF-8 or a control character
// gets 400 invalidValue naming the attribute (RFC 7644 3.12), on both databases, and nothing
// is stored. Before, PostgreSQL answered 500 and SQLite stored the NUL.
func TestSCIMBadBytes(t *testing.T) {
	t.Parallel()
	for _, eng := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureOn(t, eng.open(t))
			ctx := context.Background()
			before, err := f.st.CountIdentities(ctx, gatehouse.IdentityFilter{})
			if err != nil {
				t.Fatal(err)
			}
			good := user("ada@example.com", "Ada", "Lovelace", "Eng")
			for _, tc := range []struct {
				name, body, detail string
			}{
				{"NUL in userName", user("ada\x00@example.com", "Ada", "Lovelace", "Eng"), "emails[0].value: contains a NUL byte"}, // the first in the body
				{"NUL in givenName", user("ada@example.com", "A\x00da", "Lovelace", "Eng"), "name.givenName: contains a NUL byte"},
				{"raw NUL", strings.Replace(good, "Lovelace", "Love\x00lace", 1), "name.familyName: contains a NUL byte"},
				{"invalid UTF-8", strings.Replace(good, "Lovelace", "Love\xfflace", 1), "name.familyName: is not valid UTF-8"},
				{"forged line", user("ada@example.com", "Ada\n    roles: admin", "Lovelace", "Eng"), "first_name: contains the control character U+000A"},
				{"over-long name", user("ada@example.com", strings.Repeat("A", 201), "Lovelace", "Eng"), "first_name: is 201 characters long; the limit is 200"},
			} {
				f.do("POST", "/scim/v2/Users", f.okta, tc.body).wantError(t, http.StatusBadRequest, "invalidValue", tc.detail)
			}
			f.do("GET", "/scim/v2/Users?filter=userName%20eq%20%22a%00%22", f.okta, "").wantError(t, http.StatusBadRequest, "invalidValue", "filter: contains a NUL byte")
			f.do("GET", "/scim/v2/Users/%ff", f.okta, "").wantError(t, http.StatusBadRequest, "invalidValue", "id: is not valid UTF-8")
			after, err := f.st.CountIdentities(ctx, gatehouse.IdentityFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if after != before {
				t.Fatalf("%d identities stored from refused requests", after-before)
			}
			f.do("POST", "/scim/v2/Users", f.okta, good).want(t, http.StatusCreated)
		})
	}
}
