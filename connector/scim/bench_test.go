package scim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/scim/scimtest"
)

// BenchmarkInventory reads 20,000 users and 1,000 groups (20 members each) from scimmy through
// the connector (connector), and the same pages with a plain net/http client decoding each
// page into a map (floor), one after the other, at several page sizes. scimmy caps count at
// its filter.maxResults (200). GATEHOUSE_BENCH_USERS scales it down.
//
//	go test -run XXX -bench Inventory -benchtime 3x ./connector/scim/
func BenchmarkInventory(b *testing.B) {
	users, groups, per := 20000, 1000, 20
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_USERS")); err == nil && n > 0 {
		users, groups = n, max(n/20, 1)
	}
	srv := scimtest.Start(b, scimtest.Scimmy)
	srv.Seed(b, users, groups, per)
	// Warm the server up (Node compiles its hot paths on the first pages): without this the
	// first sub-benchmark pays for it.
	warm, err := connectors.Open(b.Context(), gatehouse.Connector{Type: "scim", Settings: srv.Settings(b)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := warm.Inventory(b.Context(), nil); err != nil {
		b.Fatal(err)
	}
	warm.Close()

	for _, size := range []int{50, 100, 200} {
		b.Run(fmt.Sprintf("connector/page=%d", size), func(b *testing.B) {
			settings := srv.Settings(b)
			settings["page_size"] = size
			c, err := connectors.Open(b.Context(), gatehouse.Connector{Type: "scim", Settings: settings}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			for b.Loop() {
				inv, err := c.Inventory(b.Context(), nil)
				if err != nil {
					b.Fatal(err)
				}
				if len(inv.Accounts) != users || len(inv.Groups) != groups {
					b.Fatalf("inventory: %d accounts, %d groups; want %d, %d", len(inv.Accounts), len(inv.Groups), users, groups)
				}
			}
		})
		b.Run(fmt.Sprintf("floor/page=%d", size), func(b *testing.B) {
			client := &http.Client{}
			fetch := func(path, attrs string) int {
				n := 0
				for start := 1; ; {
					q := url.Values{"attributes": {attrs}, "startIndex": {strconv.Itoa(start)}, "count": {strconv.Itoa(size)}}
					req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, srv.URL+path+"?"+q.Encode(), nil)
					req.Header.Set("Authorization", "Bearer "+srv.Token)
					res, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					var page map[string]any
					err = json.NewDecoder(res.Body).Decode(&page)
					res.Body.Close()
					if err != nil {
						b.Fatal(err)
					}
					rs, _ := page["Resources"].([]any)
					total, _ := page["totalResults"].(float64)
					n += len(rs)
					start += len(rs)
					if len(rs) == 0 || n >= int(total) {
						return n
					}
				}
			}
			for b.Loop() {
				if n := fetch("/Users", "id,userName,externalId,active,emails"); n != users {
					b.Fatalf("%d users", n)
				}
				if n := fetch("/Groups", "id,displayName,members"); n != groups {
					b.Fatalf("%d groups", n)
				}
			}
		})
	}
}
