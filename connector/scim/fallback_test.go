package scim

import (
	"fmt"
	"hash/crc32"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/connector/connectortest"
	"github.com/gatehouse/gatehouse/connector/scim/scimtest"
)

// TestConformanceWithoutPatchOrFilter runs the conformance suite against the real peers with
// PATCH and filtering switched off, as if ServiceProviderConfig had said so: memberships and
// active change by read-modify-write (GET, PUT with If-Match), lookups list everything, and
// CreateAccount adopts through the create's 409.
func TestConformanceWithoutPatchOrFilter(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	for _, kind := range scimtest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := scimtest.Start(t, kind)
			connectortest.Run(t, connectortest.Harness{New: func(t *testing.T) connectortest.Target {
				c, err := Open(t.Context(), srv.Settings(t), nil)
				if err != nil {
					t.Fatal(err)
				}
				sc := c.(*Connector)
				sc.patch, sc.filter = false, false
				n := fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(t.Name())))
				return connectortest.Target{Connector: c, Groups: []string{"eng-" + n, "finance-" + n}, Missing: "never-" + n}
			}})
			var puts int
			t.Cleanup(func() { // after the parallel subtests
				for _, r := range srv.Requests(t) {
					if r.Method == http.MethodPatch || strings.Contains(r.Path, "filter=") {
						t.Errorf("%s %s: PATCH or a filter while switched off", r.Method, r.Path)
					}
					if r.Method == http.MethodPut {
						puts++
						if kind == scimtest.Scimmy && r.IfMatch == "" {
							t.Errorf("PUT %s without If-Match, though scimmy sends ETags", r.Path)
						}
					}
				}
				if puts == 0 {
					t.Error("no PUT: read-modify-write was not used")
				}
			})
		})
	}
}
