package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/connector/scim"
	"github.com/gatehouse/gatehouse/connector/scim/scimtest"
)

// TestFirstLoadSCIMFigures is TestFirstLoadLDAPFigures against a SCIM app (SCIMMY, empty at
// the start of each run; bench/first-load-scim.sh): the same company, the groups by
// displayName. The floor is a plain client creating the same users: POST /Users for each
// person with the body the connector sends, as many at once as the connector's default
// concurrency. It then makes the groups, one POST /Groups per group carrying all its members,
// and that total is printed too (SCIMMY checks each member of a new group, so it is not
// necessarily faster than the connector's PATCHes of 100).
func TestFirstLoadSCIMFigures(t *testing.T) {
	users, bins, runs := firstLoadParams(t)
	scimtest.Require(t)
	dir := t.TempDir()
	write := fileWriter(t, dir)
	hr := write("hr.csv", firstLoadFeed(users))

	var floors, totals []time.Duration
	for range runs {
		app := scimtest.Start(t, scimtest.Scimmy)
		created, total := plainSCIMLoad(t, app, users, scim.DefaultConcurrency)
		floors, totals = append(floors, created), append(totals, total)
		checkSCIMLoad(t, app, users)
	}
	figures := map[string][]firstLoadRun{}
	for r := range runs {
		for _, b := range bins {
			app := scimtest.Start(t, scimtest.Scimmy)
			set := app.Settings(t)
			var cat strings.Builder
			fmt.Fprintf(&cat, `systems:
  - id: dir
    name: SCIM app
    owner: p0@example.com
    tier: standard
    connector: {type: scim, url: %q, token_file: %q, timeout: 30s}
entitlements:
`, set["url"], set["token_file"])
			firstLoadEntitlements(&cat, func(cn string) string { return cn })
			catFile := write(fmt.Sprintf("catalog-%s-%d.yaml", b.name, r), cat.String())
			run := firstLoadOnce(t, b.path, filepath.Join(dir, fmt.Sprintf("%s-%d.db", b.name, r)), hr, catFile)
			checkSCIMLoad(t, app, users)
			figures[b.name] = append(figures[b.name], run)
		}
	}
	fmt.Printf("first-load-scim: %d people, 10 groups each (%d memberships), SCIMMY on loopback, SQLite\n", users, 10*users)
	floor, total := medianDuration(floors), medianDuration(totals)
	fmt.Printf("first-load-scim: plain client, the users (%d POST /Users at once; the floor): %8.0f ms (runs: %s)\n",
		scim.DefaultConcurrency, ms(floor), durations(floors))
	fmt.Printf("first-load-scim: plain client, users and groups (then one POST /Groups per group): %8.0f ms (runs: %s)\n",
		ms(total), durations(totals))
	for _, b := range bins {
		var recs, walls []time.Duration
		for _, f := range figures[b.name] {
			recs, walls = append(recs, f.run), append(walls, f.wall)
		}
		rec := medianDuration(recs)
		fmt.Printf("first-load-scim: %-8s reconcile run %8.0f ms = %.2fx the floor (%.2fx users and groups); catalog apply to converged %8.0f ms (runs: %s / %s)\n",
			b.name, ms(rec), float64(rec)/float64(floor), float64(rec)/float64(total), ms(medianDuration(walls)), durations(recs), durations(walls))
	}
}

// scimCall sends one authorized SCIM request and decodes the answer into out (when not nil).
func scimCall(app *scimtest.Server, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, app.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+app.Token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// plainSCIMLoad creates the company as a plain client would, conc users at once, and returns
// how long the users took and how long everything took.
func plainSCIMLoad(t *testing.T, app *scimtest.Server, users, conc int) (created, total time.Duration) {
	ids := make([]string, users)
	errs := make(chan error, conc)
	next := make(chan int)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				var u struct{ ID string }
				err := scimCall(app, "POST", "/Users", map[string]any{
					"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
					"userName": fmt.Sprintf("p%d@example.com", n), "active": true, "externalId": fmt.Sprintf("E%d", n),
					"name":        map[string]any{"formatted": fmt.Sprintf("P %d", n), "givenName": "P", "familyName": fmt.Sprint(n)},
					"displayName": fmt.Sprintf("P %d", n),
					"emails":      []map[string]any{{"value": fmt.Sprintf("p%d@example.com", n), "type": "work", "primary": true}},
				}, &u)
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				ids[n] = u.ID
			}
		}()
	}
	for n := range users {
		next <- n
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	created = time.Since(t0)
	group := func(name string, member func(n int) bool) {
		var ms []map[string]any
		for n := range users {
			if member(n) {
				ms = append(ms, map[string]any{"value": ids[n]})
			}
		}
		if err := scimCall(app, "POST", "/Groups", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "members": ms}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for g := 1; g <= 9; g++ {
		group(fmt.Sprintf("s%d", g), func(int) bool { return true })
	}
	for i, d := range firstLoadDepts {
		group(d, func(n int) bool { return n%len(firstLoadDepts) == i })
	}
	return created, time.Since(t0)
}

// checkSCIMLoad checks that the app holds everybody with their memberships.
func checkSCIMLoad(t *testing.T, app *scimtest.Server, users int) {
	var u struct{ TotalResults int }
	if err := scimCall(app, "GET", "/Users?count=1", nil, &u); err != nil {
		t.Fatal(err)
	}
	var g struct {
		Resources []struct{ Members []any }
	}
	if err := scimCall(app, "GET", "/Groups?count=100", nil, &g); err != nil {
		t.Fatal(err)
	}
	members := 0
	for _, r := range g.Resources {
		members += len(r.Members)
	}
	if u.TotalResults != users || members != 10*users {
		t.Fatalf("the app holds %d users and %d memberships, want %d and %d", u.TotalResults, members, users, 10*users)
	}
}
