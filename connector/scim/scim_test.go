package scim_test

import (
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/connectortest"
	"github.com/gatehouse/gatehouse/connector/scim/scimtest"
)

var peers = []struct {
	name string
	kind scimtest.Kind
}{
	{"scimmy", scimtest.Scimmy},
	{"better-auth", scimtest.BetterAuth},
}

// open opens a connector on srv through the registry, as the server will.
func open(t *testing.T, srv *scimtest.Server, change func(map[string]any)) connector.Connector {
	t.Helper()
	settings := srv.Settings(t)
	if change != nil {
		change(settings)
	}
	c, err := connectors.Open(t.Context(), gatehouse.Connector{Type: "scim", Settings: settings}, nil)
	if err != nil {
		t.Fatalf("open scim connector: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// unique is a name unique to the (sub)test: the subtests share one server per peer.
func unique(t *testing.T, prefix string) string {
	return fmt.Sprintf("%s-%08x", prefix, crc32.ChecksumIEEE([]byte(t.Name())))
}

// groupID looks a group up on the server directly, by displayName.
func groupID(t *testing.T, srv *scimtest.Server, name string) string {
	t.Helper()
	status, body := srv.Do(t, http.MethodGet, "/Groups?filter="+url.QueryEscape(`displayName eq "`+name+`"`), nil)
	if status != http.StatusOK {
		t.Fatalf("find group %s: %d %v", name, status, body)
	}
	rs, _ := body["Resources"].([]any)
	if len(rs) != 1 {
		t.Fatalf("find group %s: %d results", name, len(rs))
	}
	return rs[0].(map[string]any)["id"].(string)
}

func TestConformance(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			srv := scimtest.Start(t, p.kind)
			connectortest.Run(t, connectortest.Harness{
				New: func(t *testing.T) connectortest.Target {
					c, err := connectors.Open(t.Context(), gatehouse.Connector{Type: "scim", Settings: srv.Settings(t)}, nil)
					if err != nil {
						t.Fatalf("open: %v", err)
					}
					return connectortest.Target{
						Connector: c,
						Groups:    []string{unique(t, "eng"), unique(t, "finance")},
						Missing:   unique(t, "never"),
						AddOutOfBand: func(t *testing.T, group string, account connector.AccountRef) {
							status, body := srv.Do(t, http.MethodPatch, "/Groups/"+groupID(t, srv, group), map[string]any{
								"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
								"Operations": []map[string]any{{"op": "add", "path": "members",
									"value": []map[string]any{{"value": account.ID}}}},
							})
							if status != http.StatusOK && status != http.StatusNoContent {
								t.Fatalf("add member by hand: %d %v", status, body)
							}
						},
					}
				},
			})
		})
	}
}

func spec(t *testing.T, name, emp string) connector.AccountSpec {
	first, last, _ := strings.Cut(name, " ")
	return connector.AccountSpec{
		Email:     strings.ToLower(first+"."+last) + "-" + unique(t, "x") + "@example.com",
		FirstName: first, LastName: last, EmployeeID: emp + unique(t, ""),
	}
}

// TestAdoption: a user created by hand (out of band) is adopted by CreateAccount, with
// its id; the same userName for another employee is refused permanently.
func TestAdoption(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			srv := scimtest.Start(t, p.kind)
			c := open(t, srv, nil)
			s := spec(t, "Ada Lovelace", "E1")
			status, body := srv.Do(t, http.MethodPost, "/Users", map[string]any{
				"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
				"userName":   s.Email,
				"externalId": s.EmployeeID,
				"active":     false,
			})
			if status != http.StatusCreated {
				t.Fatalf("create by hand: %d %v", status, body)
			}
			ref, err := c.CreateAccount(t.Context(), s)
			if err != nil || ref.ID != body["id"] {
				t.Fatalf("CreateAccount = %+v, %v; want the hand-made user %v adopted", ref, err, body["id"])
			}
			inv, err := c.Inventory(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range inv.Accounts {
				if a.Ref.ID == ref.ID && a.Enabled {
					t.Fatalf("adopting enabled a disabled account: %+v", a)
				}
			}
			other := s
			other.EmployeeID = "E-someone-else"
			_, err = c.CreateAccount(t.Context(), other)
			if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "another employee") {
				t.Fatalf("CreateAccount for another employee = %v, want a permanent error", err)
			}
		})
	}
}

// TestDeprovisionDelete: with deprovision: delete, disabling deletes the user (and its
// memberships); enabling it again is a permanent ErrNotFound, so the engine creates it anew.
func TestDeprovisionDelete(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			srv := scimtest.Start(t, p.kind)
			c := open(t, srv, func(s map[string]any) { s["deprovision"] = "delete" })
			if !c.Capabilities().DisableRemovesMemberships {
				t.Fatal("deprovision delete: Capabilities().DisableRemovesMemberships = false")
			}
			ctx := t.Context()
			ref, err := c.CreateAccount(ctx, spec(t, "Grace Hopper", "E2"))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.SetEnabled(ctx, ref, false); err != nil {
				t.Fatalf("SetEnabled(false): %v", err)
			}
			if status, _ := srv.Do(t, http.MethodGet, "/Users/"+ref.ID, nil); status != http.StatusNotFound {
				t.Fatalf("after deprovision: GET user = %d, want 404", status)
			}
			err = c.SetEnabled(ctx, ref, true)
			if !connector.IsPermanent(err) || !errors.Is(err, connector.ErrNotFound) {
				t.Fatalf("enabling a deleted user = %v, want a permanent ErrNotFound", err)
			}
		})
	}
}

// TestIfMatch: scimmy returns ETags; the connector sends them back on PATCH.
func TestIfMatch(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	srv := scimtest.Start(t, scimtest.Scimmy)
	c := open(t, srv, nil)
	ctx := t.Context()
	ref, err := c.CreateAccount(ctx, spec(t, "Alan Turing", "E3"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetEnabled(ctx, ref, false); err != nil {
		t.Fatal(err)
	}
	var patched bool
	for _, r := range srv.Requests(t) {
		if r.Method == http.MethodPatch && strings.HasPrefix(r.Path, "/Users/"+ref.ID) {
			patched = true
			if r.IfMatch == "" {
				t.Fatalf("PATCH %s without If-Match", r.Path)
			}
		}
	}
	if !patched {
		t.Fatal("no PATCH of the user in the request log")
	}
}

// TestErrors: a refusal carries the server's detail and its failure kind; a wrong token is a
// credentials failure; an exhausted 503 is retryable.
func TestErrors(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			srv := scimtest.Start(t, p.kind)
			c := open(t, srv, func(s map[string]any) { s["max_retries"] = 1 })
			ctx := t.Context()

			srv.Fail(t, http.StatusForbidden, 1, 0)
			_, err := c.CreateAccount(ctx, spec(t, "Ada Lovelace", "E1"))
			if !connector.IsPermanent(err) || connector.FailureOf(err) != connector.FailPermission ||
				!strings.Contains(err.Error(), "fault injected by the test") {
				t.Fatalf("403: %v (kind %q), want a permanent permission failure with the server's detail", err, connector.FailureOf(err))
			}

			srv.Fail(t, http.StatusServiceUnavailable, 5, 0)
			_, err = c.Inventory(ctx, nil)
			if !connector.IsRetryable(err) || !strings.Contains(err.Error(), "fault injected") {
				t.Fatalf("503 beyond max_retries: %v, want a retryable error with the detail", err)
			}
			srv.Fail(t, http.StatusServiceUnavailable, 0, 0) // no more faults

			bad := srv.Settings(t)
			wrong := filepath.Join(t.TempDir(), "wrong-token")
			if err := os.WriteFile(wrong, []byte("wrong"), 0o600); err != nil {
				t.Fatal(err)
			}
			bad["token_file"] = wrong
			_, err = connectors.Open(ctx, gatehouse.Connector{Type: "scim", Settings: bad}, nil)
			if !connector.IsPermanent(err) || connector.FailureOf(err) != connector.FailCredentials {
				t.Fatalf("wrong token: %v (kind %q), want a permanent credentials failure", err, connector.FailureOf(err))
			}
			if err := c.(connector.Checker).Check(ctx); err != nil {
				t.Fatalf("Check: %v", err)
			}
		})
	}
}

// TestRetryAfter: the server answers 429 with Retry-After: 1 three times; the operation still
// succeeds, and the retries are spaced by the server's wish.
func TestRetryAfter(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			srv := scimtest.Start(t, p.kind)
			c := open(t, srv, nil)
			srv.Fail(t, http.StatusTooManyRequests, 3, time.Second)
			start := time.Now()
			ref, err := c.CreateAccount(t.Context(), spec(t, "Ada Lovelace", "E1"))
			if err != nil {
				t.Fatalf("CreateAccount through 429s: %v", err)
			}
			if d := time.Since(start); d < 3*time.Second {
				t.Fatalf("three 429s with Retry-After: 1 were waited out in %v, want ≥ 3s", d)
			}
			var n429 int
			for _, r := range srv.Requests(t) {
				if r.Status == http.StatusTooManyRequests {
					n429++
				}
			}
			if n429 != 3 {
				t.Fatalf("%d requests answered 429, want 3", n429)
			}
			inv, err := c.Inventory(t.Context(), nil)
			if err != nil || len(inv.Accounts) == 0 || inv.Accounts[0].Ref.ID != ref.ID {
				t.Fatalf("inventory = %+v, %v", inv, err)
			}
		})
	}
}

// TestUserNameAndForeign: user_name local_part names accounts by the email's local part (and
// employee_id by the employee id); a nested group in a managed group is reported as Foreign.
func TestUserNameAndForeign(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	srv := scimtest.Start(t, scimtest.Scimmy)
	ctx := t.Context()
	for _, un := range []string{"local_part", "employee_id"} {
		c := open(t, srv, func(s map[string]any) { s["user_name"] = un })
		sp := spec(t, "Ada "+un, "E-"+un)
		ref, err := c.CreateAccount(ctx, sp)
		if err != nil {
			t.Fatal(err)
		}
		want := sp.EmployeeID
		if un == "local_part" {
			want, _, _ = strings.Cut(sp.Email, "@")
		}
		status, body := srv.Do(t, http.MethodGet, "/Users/"+ref.ID, nil)
		if status != http.StatusOK || body["userName"] != want {
			t.Fatalf("user_name %s: userName = %v (%d), want %s", un, body["userName"], status, want)
		}
	}

	c := open(t, srv, nil)
	ref, err := c.CreateAccount(ctx, spec(t, "Grace Hopper", "E9"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddMember(ctx, "outer", ref); err != nil {
		t.Fatal(err)
	}
	status, inner := srv.Do(t, http.MethodPost, "/Groups", map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "inner"})
	if status != http.StatusCreated {
		t.Fatalf("create inner group: %d %v", status, inner)
	}
	if status, body := srv.Do(t, http.MethodPatch, "/Groups/"+groupID(t, srv, "outer"), map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "add", "path": "members", "value": []map[string]any{{"value": inner["id"]}}}},
	}); status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("nest inner in outer: %d %v", status, body)
	}
	inv, err := c.Inventory(ctx, []string{"outer", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	g := inv.Groups["outer"]
	if g == nil || len(g.Members) != 1 || g.Members[0].ID != ref.ID || len(g.Foreign) != 1 || g.Foreign[0] != inner["id"] {
		t.Fatalf("outer = %+v, want the user as member and the inner group as foreign", g)
	}
	if _, ok := inv.Groups["absent"]; ok {
		t.Fatal("a group that does not exist is in the inventory")
	}
	all, err := c.Inventory(ctx, nil)
	if err != nil || all.Groups["outer"] == nil || all.Groups["inner"] == nil {
		t.Fatalf("inventory of every group = %+v, %v", all, err)
	}
}
