package scim

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/scim/scimtest"
	"github.com/gatehouse/gatehouse/internal/scimproto"
)

func TestAccountMatchBy(t *testing.T) {
	active := flexBool(false)
	u := &user{ID: "1", UserName: "ada@example.com", ExternalID: "E1", Active: &active,
		Emails: []email{{Value: "home@example.org", Type: "home"}, {Value: "ada.l@example.com", Type: "work", Primary: true}}}
	tests := []struct {
		by   MatchBy
		want connector.Account
	}{
		{MatchAll, connector.Account{Username: "ada@example.com", Email: "ada.l@example.com", EmployeeID: "E1"}},
		{MatchUserName, connector.Account{Username: "ada@example.com", Email: "ada@example.com"}},
		{MatchExternalID, connector.Account{EmployeeID: "E1"}},
		{MatchEmail, connector.Account{Email: "ada.l@example.com"}},
	}
	for _, tt := range tests {
		c := &Connector{cfg: Config{MatchBy: tt.by}}
		tt.want.Ref = connector.AccountRef{ID: "1"}
		if got := c.account(u); got != tt.want {
			t.Errorf("match_by %q: %+v, want %+v", tt.by, got, tt.want)
		}
	}
	// No emails: a userName that is an email stands in; no active: enabled.
	c := &Connector{}
	if got := c.account(&user{ID: "2", UserName: "bob@example.com"}); got.Email != "bob@example.com" || !got.Enabled {
		t.Errorf("account without emails or active = %+v", got)
	}
}

// fakeList serves users u0…u(n-1) at /Users the way a careless server does: it ignores count
// and startIndex and answers everything with totalResults total.
func fakeList(t *testing.T, n, total int) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/ServiceProviderConfig", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/ResourceTypes", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"Resources":[{"name":"User","endpoint":"/Users"}]}`)
	})
	mux.HandleFunc("/Users", func(w http.ResponseWriter, r *http.Request) {
		var rs []string
		for i := range n {
			rs = append(rs, fmt.Sprintf(`{"id":"u%d","userName":"u%d@example.com"}`, i, i))
		}
		fmt.Fprintf(w, `{"totalResults":%d,"Resources":[%s]}`, total, strings.Join(rs, ","))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestListGuards: a server that ignores count and startIndex is read once, not forever.
func TestListGuards(t *testing.T) {
	for _, total := range []int{5, 0} {
		srv := fakeList(t, 5, total)
		c, err := Open(t.Context(), map[string]any{"url": srv.URL, "token_file": tokenFile(t), "page_size": 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := c.Inventory(t.Context(), nil)
		if err != nil || len(inv.Accounts) != 5 {
			t.Fatalf("totalResults %d: inventory = %+v, %v; want the 5 users once", total, inv, err)
		}
	}
	// It claims 10 but keeps sending the same 5: an error, not a loop or a short inventory.
	srv := fakeList(t, 5, 10)
	c, err := Open(t.Context(), map[string]any{"url": srv.URL, "token_file": tokenFile(t), "page_size": 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Inventory(t.Context(), nil); !connector.IsPermanent(err) || !strings.Contains(err.Error(), "ignores startIndex") {
		t.Fatalf("inventory = %v, want a permanent error", err)
	}
}

// TestBasicAuth: username and password_file send HTTP basic auth; a wrong password is a
// credentials failure. (Neither test peer supports basic auth: this server only checks it.)
func TestBasicAuth(t *testing.T) {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("gatehouse:pa55"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"bad credentials"}`)
			return
		}
		fmt.Fprint(w, `{"totalResults":0,"Resources":[]}`)
	}))
	t.Cleanup(srv.Close)
	pw := filepath.Join(t.TempDir(), "pw")
	for _, tt := range []struct {
		password string
		kind     connector.Failure
	}{{"pa55", ""}, {"wrong", connector.FailCredentials}} {
		if err := os.WriteFile(pw, []byte(tt.password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(t.Context(), map[string]any{"url": srv.URL, "username": "gatehouse", "password_file": pw}, nil)
		if connector.FailureOf(err) != tt.kind || (err != nil && (!connector.IsPermanent(err) || strings.Contains(err.Error(), tt.password))) {
			t.Fatalf("password %s: Open = %v, want kind %q", tt.password, err, tt.kind)
		}
	}
}

// TestStale: a write with the If-Match of a read the user has changed since is refused by
// scimmy with 412, which the connector reports as stale (SetEnabled then reads again).
func TestStale(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	srv := scimtest.Start(t, scimtest.Scimmy)
	c, err := Open(t.Context(), srv.Settings(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := c.(*Connector)
	ctx := t.Context()
	ref, err := c.CreateAccount(ctx, connector.AccountSpec{Email: "ada@example.com", EmployeeID: "E1"})
	if err != nil {
		t.Fatal(err)
	}
	path := "/Users/" + ref.ID
	cur, err := sc.get(ctx, path, nil)
	if err != nil || cur.version == "" {
		t.Fatalf("read = %+v, %v; want a version", cur, err)
	}
	// Changed behind the connector's back.
	if status, body := srv.Do(t, http.MethodPatch, path, map[string]any{"schemas": []string{scimproto.SchemaPatchOp},
		"Operations": []map[string]any{{"op": "replace", "path": "displayName", "value": "Ada"}}}); status != http.StatusOK {
		t.Fatalf("change by hand: %d %v", status, body)
	}
	err = sc.write(ctx, path, cur, []scimproto.PatchOp{{Op: "replace", Path: "active", Value: false}}, nil)
	if !errors.Is(err, errStale) {
		t.Fatalf("write with a stale version = %v, want errStale", err)
	}
	if err := c.SetEnabled(ctx, ref, false); err != nil {
		t.Fatalf("SetEnabled after the change: %v", err)
	}
}
