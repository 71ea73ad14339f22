package scim_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/scim/scimtest"
)

// TestInventoryOf: the chosen people's users are found (by userName, by externalId after a
// rename, by id when known), nobody else's, and the asked group comes with its members; against
// SCIMMY, which takes `or` filters, and @better-auth/scim, which refuses them (one lookup a
// term).
func TestInventoryOf(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			srv := scimtest.Start(t, p.kind)
			c := open(t, srv, nil)
			ctx := t.Context()
			grp := unique(t, "eng")
			people := []connector.AccountSpec{spec(t, "Ada Lovelace", "E1"), spec(t, "Alan Turing", "E2"),
				spec(t, "Grace Hopper", "E3"), spec(t, "Edsger Dijkstra", "E4")}
			refs := make([]connector.AccountRef, len(people))
			for i, s := range people {
				ref, err := c.CreateAccount(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				refs[i] = ref
				if err := c.AddMember(ctx, grp, ref); err != nil {
					t.Fatal(err)
				}
			}
			// Turing's userName changed by hand: found by externalId. Hopper's by id only.
			renamed := map[int]string{1: "alan-renamed@example.com", 2: "grace-renamed@example.com"}
			for i, name := range renamed {
				body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
					"Operations": []map[string]any{{"op": "replace", "path": "userName", "value": name}}}
				if i == 2 {
					body["Operations"] = append(body["Operations"].([]map[string]any),
						map[string]any{"op": "replace", "path": "externalId", "value": "E3-other"})
				}
				if status, resp := srv.Do(t, http.MethodPatch, "/Users/"+refs[i].ID, body); status != http.StatusOK && status != http.StatusNoContent {
					t.Fatalf("rename by hand: %d %v", status, resp)
				}
			}
			srv.ClearRequests(t)

			f := c.(connector.Finder)
			// Ada and Turing looked up, Hopper known (with a stale id too), Dijkstra not asked.
			asked := []connector.Person{{Spec: people[0]}, {Spec: people[1], Known: []connector.AccountRef{{ID: "no-such-user"}}},
				{Spec: people[2], Known: []connector.AccountRef{refs[2], {ID: "no-such-user"}}}}
			inv, err := f.InventoryOf(ctx, asked, []string{grp, unique(t, "never")})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range inv.Accounts {
				got = append(got, a.Ref.ID)
			}
			slices.Sort(got)
			want := []string{refs[0].ID, refs[1].ID, refs[2].ID}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("accounts = %v, want %v (not Dijkstra's %s)", got, want, refs[3].ID)
			}
			g := inv.Groups[grp]
			if g == nil || len(g.Members) != 4 {
				t.Fatalf("group %s = %+v, want its 4 members", grp, g)
			}
			if _, ok := inv.Groups[unique(t, "never")]; ok {
				t.Errorf("a missing group is present: %+v", inv.Groups)
			}
			// Nothing was listed in full: every /Users request is a lookup or a read by id.
			for _, r := range srv.Requests(t) {
				path, query, _ := strings.Cut(r.Path, "?")
				if r.Method == http.MethodGet && path == "/Users" && !strings.Contains(query, "filter=") {
					t.Errorf("full listing: %s %s", r.Method, r.Path)
				}
			}
		})
	}
}
