package scim

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/connector"
)

func tokenFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOpenFailureKinds opens connectors on real local listeners that are not a working SCIM
// server and checks that the failure says why in terms a system owner understands.
func TestOpenFailureKinds(t *testing.T) {
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/scim/v2"
	l.Close()

	// Some other web server: an HTML page at every path.
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html><html><body>Welcome to nginx!</body></html>"))
	}))
	t.Cleanup(html.Close)
	// A web server where the SCIM base is not: 404 everywhere.
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	// TLS with a certificate nobody trusts here.
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	// Plain HTTP spoken to by an https:// URL.
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)

	token := tokenFile(t)
	tests := []struct {
		name     string
		settings map[string]any
		want     connector.Failure
	}{
		{"connection refused", map[string]any{"url": closed, "token_file": token, "timeout": "2s"}, connector.FailUnreachable},
		{"dns", map[string]any{"url": "http://scim.invalid/scim/v2", "token_file": token, "timeout": "2s"}, connector.FailUnreachable},
		{"html", map[string]any{"url": html.URL + "/scim/v2", "token_file": token}, connector.FailURL},
		{"404 everywhere", map[string]any{"url": notFound.URL + "/nope", "token_file": token}, connector.FailURL},
		{"untrusted certificate", map[string]any{"url": tlsSrv.URL + "/scim/v2", "token_file": token}, connector.FailTLS},
		{"not tls", map[string]any{"url": strings.Replace(plain.URL, "http://", "https://", 1), "token_file": token}, connector.FailTLS},
		{"secret not set", map[string]any{"url": html.URL, "token_env": "SCIM_TEST_TOKEN_UNSET"}, connector.FailConfig},
		{"bad setting", map[string]any{"url": html.URL, "token_file": token, "deprovision": "shred"}, connector.FailConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(t.Context(), tt.settings, nil)
			if got := connector.FailureOf(err); got != tt.want {
				t.Fatalf("Open = %v (kind %q), want kind %q", err, got, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret-token") {
				t.Fatalf("error shows the token: %v", err)
			}
		})
	}
}

// TestCheckHTMLUsers: a server whose discovery endpoints look like SCIM but whose /Users
// answers an HTML page (a proxy's login page, say) fails with FailURL at GET /Users.
func TestCheckHTMLUsers(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/scim/v2/ServiceProviderConfig", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.Write([]byte(`{"patch":{"supported":true},"filter":{"supported":true}}`))
	})
	mux.HandleFunc("/scim/v2/ResourceTypes", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.Write([]byte(`{"Resources":[{"name":"User","endpoint":"/Users"}]}`))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>sign in</html>"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	_, err := Open(t.Context(), map[string]any{"url": srv.URL + "/scim/v2", "token_file": tokenFile(t)}, nil)
	if connector.FailureOf(err) != connector.FailURL || !strings.Contains(err.Error(), "GET /Users") {
		t.Fatalf("Check = %v, want a url failure at GET /Users", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
	tests := []struct {
		h       string
		attempt int
		want    time.Duration
	}{
		{"3", 0, 3 * time.Second},
		{"0", 2, 0},
		{"", 0, time.Second},
		{"", 2, 4 * time.Second},
		{"", 30, MaxRetryAfter},
		{"3600", 0, MaxRetryAfter},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 0, 7 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, 0},
		{"soon", 1, 2 * time.Second},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.h, now, tt.attempt); got != tt.want {
			t.Errorf("retryAfter(%q, %d) = %v, want %v", tt.h, tt.attempt, got, tt.want)
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		`ada@example.com`: `"ada@example.com"`,
		`a"b\c`:           `"a\"b\\c"`,
		`<R&D>`:           `"<R&D>"`,
		"tab\there":       `"tab\there"`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	ok := map[string]any{"url": "https://x.example.com/scim/v2", "token_env": "T"}
	c, err := ParseConfig(ok)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserName != UserNameEmail || c.Deprovision != DeprovisionDisable || c.PageSize != DefaultPageSize ||
		c.MaxRetries != DefaultMaxRetries || c.Timeout != DefaultTimeout || c.MatchBy != MatchAll || c.Concurrency != DefaultConcurrency {
		t.Fatalf("defaults = %+v", c)
	}
	bad := []map[string]any{
		{"token_env": "T"},
		{"url": "ldap://x", "token_env": "T"},
		{"url": "https://u:p@x/scim", "token_env": "T"},
		{"url": "https://x/scim"},
		{"url": "https://x/scim", "token_env": "T", "token_file": "/f"},
		{"url": "https://x/scim", "token_env": "T", "username": "u", "password_env": "P"},
		{"url": "https://x/scim", "username": "u"},
		{"url": "https://x/scim", "token_env": "T", "user_name": "uid"},
		{"url": "https://x/scim", "token_env": "T", "match_by": "id"},
		{"url": "https://x/scim", "token_env": "T", "page_size": "many"},
		{"url": "https://x/scim", "token_env": "T", "concurrency": MaxConcurrency + 1},
	}
	for _, s := range bad {
		if _, err := ParseConfig(s); !connector.IsPermanent(err) || connector.FailureOf(err) != connector.FailConfig {
			t.Errorf("ParseConfig(%v) = %v, want a permanent config failure", s, err)
		}
	}
}

// TestStatusError: the error classes of SCIM answers, with the server's detail and scimType.
func TestStatusError(t *testing.T) {
	c := &Connector{}
	body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"userName taken"}`)
	tests := []struct {
		status    int
		permanent bool
		notFound  bool
		kind      connector.Failure
	}{
		{400, true, false, ""},
		{401, true, false, connector.FailCredentials},
		{403, true, false, connector.FailPermission},
		{404, true, true, ""},
		{409, true, false, ""},
		{429, false, false, ""},
		{500, false, false, connector.FailServer},
		{502, false, false, connector.FailServer},
	}
	for _, tt := range tests {
		err := c.statusError("POST /Users", &response{status: tt.status, header: http.Header{}, body: body})
		if connector.IsPermanent(err) != tt.permanent || errors.Is(err, connector.ErrNotFound) != tt.notFound ||
			connector.FailureOf(err) != tt.kind {
			t.Errorf("%d: %v: permanent %v, not found %v, kind %q", tt.status, err, connector.IsPermanent(err),
				errors.Is(err, connector.ErrNotFound), connector.FailureOf(err))
		}
		if !strings.Contains(err.Error(), "userName taken") || !strings.Contains(err.Error(), "uniqueness") {
			t.Errorf("%d: %v: want the detail and scimType", tt.status, err)
		}
	}
}

// TestDiscoveryAdapts: what ServiceProviderConfig and ResourceTypes say switches PATCH,
// filtering and groups off.
func TestDiscoveryAdapts(t *testing.T) {
	mux := http.NewServeMux()
	js := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/scim+json")
			w.Write([]byte(body))
		}
	}
	mux.HandleFunc("/scim/ServiceProviderConfig", js(`{"patch":{"supported":false},"filter":{"supported":"false","maxResults":50}}`))
	mux.HandleFunc("/scim/ResourceTypes", js(`{"Resources":[{"name":"User","endpoint":"/Accounts"}]}`))
	mux.HandleFunc("/scim/Accounts", js(`{"totalResults":0,"Resources":[]}`))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := Open(t.Context(), map[string]any{"url": srv.URL + "/scim/", "token_file": tokenFile(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := c.(*Connector)
	if sc.Capabilities().Groups || sc.patch || sc.maxResults != 50 || sc.usersPath != "/Accounts" {
		t.Fatalf("discovered groups %v, patch %v, maxResults %d, users at %s; want false, false, 50, /Accounts",
			sc.Capabilities().Groups, sc.patch, sc.maxResults, sc.usersPath)
	}
}
