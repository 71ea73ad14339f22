package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/api"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestServer(t *testing.T) {
	t.Parallel()
	quiet := slog.New(slog.DiscardHandler)
	svc := service.New(storetest.OpenSQLite(t), service.Options{Logger: quiet})

	for _, tc := range []struct {
		name string
		ui   http.Handler
		path string
		want int
		body string // a substring of the answer
	}{
		{"api without token", nil, "/api/v1/me", 401, `"unauthorized"`},
		{"health", nil, "/healthz", 200, `"ok"`},
		{"ready", nil, "/readyz", 200, `"ready"`},
		{"metrics", nil, "/metrics", 200, "gatehouse_store_up 1"},
		{"openapi", nil, "/api/v1/openapi.json", 200, `"3.1.0"`},
		{"no ui", nil, "/", 404, ""},
		{"ui", uiStub(), "/", 200, "the ui"},
		{"ui page", uiStub(), "/identities/x", 200, "the ui"},
		{"api beside the ui", uiStub(), "/api/v1/nothing", 404, `"not_found"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := New(svc, Options{UI: tc.ui, Logger: quiet, API: api.Options{Version: "test"}})
			ts := httptest.NewServer(srv.Handler)
			defer ts.Close()
			resp, err := http.Get(ts.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want || !strings.Contains(string(body), tc.body) {
				t.Errorf("GET %s: %d %q, want %d with %q", tc.path, resp.StatusCode, body, tc.want, tc.body)
			}
			for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("GET %s: no %s header", tc.path, h)
				}
			}
		})
	}

	srv := New(svc, Options{Addr: "127.0.0.1:0"})
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.Addr != "127.0.0.1:0" {
		t.Errorf("server without timeouts or address: %+v", srv)
	}
}

func uiStub() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the ui") })
}
