package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/client"
	"github.com/gatehouse/gatehouse/internal/service"
)

// fake answers every request with status and body, and records the last request.
type fake struct {
	status int
	body   string
	last   *http.Request
	sent   string
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.last, f.sent = r, string(b)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	io.WriteString(w, f.body)
}

func newClient(t *testing.T, f *fake) *client.Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL+"/", "gh_secret", client.Options{UserAgent: "gatehouse-cli/test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRequest(t *testing.T) {
	t.Parallel()
	f := &fake{status: 200, body: `{"id":"aws/prod-admin","system":"aws","risk":"privileged","max_duration":"8h0m0s"}`}
	c := newClient(t, f)
	e, err := c.GetEntitlement(context.Background(), "aws/prod-admin")
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "aws/prod-admin" || e.MaxDuration.String() != "8h0m0s" {
		t.Errorf("decoded %+v", e)
	}
	r := f.last
	// The slash of an entitlement id stays a path separator (the route is {id...}).
	if r.URL.EscapedPath() != "/api/v1/entitlements/aws/prod-admin" {
		t.Errorf("path %s", r.URL.EscapedPath())
	}
	if got := r.Header.Get("Authorization"); got != "Bearer gh_secret" {
		t.Errorf("Authorization %q", got)
	}
	if got := r.Header.Get("User-Agent"); got != "gatehouse-cli/test" {
		t.Errorf("User-Agent %q", got)
	}
}

func TestPathEscaping(t *testing.T) {
	t.Parallel()
	f := &fake{status: 200, body: `{}`}
	c := newClient(t, f)
	if _, err := c.GetIdentity(context.Background(), "a b/c@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := f.last.URL.EscapedPath(); got != "/api/v1/identities/a%20b%2Fc@example.com" {
		t.Errorf("path %s: a key must stay one segment", got)
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	f := &fake{status: 200, body: `{"items":[{"id":"g1"}],"next_cursor":"c2"}`}
	c := newClient(t, f)
	page, err := c.ListGrants(context.Background(), gatehouse.GrantQuery{GrantFilter: gatehouse.GrantFilter{
		IdentityID: "sam@example.com", Status: "active", Limit: 10, Cursor: "c1",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.NextCursor != "c2" {
		t.Errorf("page %+v", page)
	}
	q := f.last.URL.Query()
	if q.Get("identity") != "sam@example.com" || q.Get("status") != "active" || q.Get("limit") != "10" || q.Get("cursor") != "c1" {
		t.Errorf("query %v", q)
	}
	if q.Has("entitlement") || q.Has("source") {
		t.Errorf("empty filters must not be sent (the API refuses unknown and empty values): %v", q)
	}
}

func TestBody(t *testing.T) {
	t.Parallel()
	f := &fake{status: 201, body: `{"token":{"id":"t1"},"secret":"gh_new"}`}
	c := newClient(t, f)
	ct, err := c.CreateToken(context.Background(), service.TokenRequest{For: "sam@example.com", TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	if ct.Secret != "gh_new" || ct.Token.ID != "t1" {
		t.Errorf("decoded %+v", ct)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(f.sent), &sent); err != nil {
		t.Fatal(err)
	}
	if sent["for"] != "sam@example.com" || sent["ttl"] != "1h" || sent["description"] != nil {
		t.Errorf("sent %v", sent)
	}
	if ctype := f.last.Header.Get("Content-Type"); ctype != "application/json" {
		t.Errorf("Content-Type %q", ctype)
	}
}

func TestPageAcceptsBareArray(t *testing.T) {
	t.Parallel()
	f := &fake{status: 200, body: `[{"id":"wiki"}]`}
	c := newClient(t, f)
	list, err := c.ListSystems(context.Background())
	if err != nil || len(list) != 1 || list[0].ID != "wiki" {
		t.Fatalf("%v %v", list, err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		body    string
		code    string
		message string
		details []string
	}{
		{
			name: "gatehouse error", status: 403,
			body: `{"error":{"code":"forbidden","message":"this needs the admin role"}}`,
			code: "forbidden", message: "this needs the admin role",
		},
		{
			name: "catalog problems", status: 400,
			body: `{"error":{"code":"invalid","message":"catalog has 2 problem(s):\n...","details":[` +
				`{"file":"c.yaml","line":3,"field":"systems[x].tier","message":"\"gold\" is not one of critical, high, standard"},` +
				`{"message":"no file"}]}}`,
			code:    "invalid",
			message: "catalog has 2 problem(s):\n...",
			details: []string{`c.yaml:3: systems[x].tier: "gold" is not one of critical, high, standard`, "no file"},
		},
		{
			name: "proxy page", status: 502, body: "<html>Bad Gateway</html>",
			code: "unavailable", message: "the server answered 502 Bad Gateway: <html>Bad Gateway</html>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, &fake{status: tt.status, body: tt.body})
			_, err := c.Me(context.Background())
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v, want *client.Error", err, err)
			}
			if e.StatusCode != tt.status || e.Code != tt.code || e.Message != tt.message {
				t.Errorf("got %d %q %q", e.StatusCode, e.Code, e.Message)
			}
			var got []string
			for _, d := range e.Details {
				got = append(got, d.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.details, "\n") {
				t.Errorf("details %q, want %q", got, tt.details)
			}
			if !client.IsCode(err, tt.code) {
				t.Errorf("IsCode(%q) is false", tt.code)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := client.New(addr, "gh_x", client.Options{}) // no scheme: http
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Me(context.Background())
	var u *client.UnreachableError
	if !errors.As(err, &u) {
		t.Fatalf("error %T %v, want *client.UnreachableError", err, err)
	}
	if !strings.Contains(err.Error(), "http://"+addr) || strings.Contains(err.Error(), `Get "`) {
		t.Errorf("message %q should name the address once", err)
	}
}

func TestParseAddr(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"http://127.0.0.1:8080":              "http://127.0.0.1:8080",
		"127.0.0.1:8080":                     "http://127.0.0.1:8080",
		"https://gatehouse.example.com/":     "https://gatehouse.example.com",
		"https://example.com/gatehouse/":     "https://example.com/gatehouse",
		"  http://localhost:8080  ":          "http://localhost:8080",
		"https://example.com/gate%20house/x": "https://example.com/gate%20house/x",
	}
	for in, want := range good {
		u, err := client.ParseAddr(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://x", "http://", "http://x?y=1"} {
		if _, err := client.ParseAddr(bad); err == nil {
			t.Errorf("ParseAddr(%q) should fail", bad)
		}
	}
}
