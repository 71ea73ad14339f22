package api

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestOpenAPI checks that the served document is JSON, says OpenAPI 3.1.0, and describes every
// route registered on the mux with its method, parameters and responses.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	a := newAPI(service.New(storetest.OpenSQLite(t), service.Options{}), Options{Logger: slog.New(slog.DiscardHandler)})
	ans := httpDo(a, "GET", "/api/v1/openapi.json")
	if ans.status != 200 || !strings.HasPrefix(ans.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET openapi.json: %d %v", ans.status, ans.header)
	}
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Info       map[string]any                       `json:"info"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas         map[string]any `json:"schemas"`
			SecuritySchemes map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(ans.body, &doc); err != nil {
		t.Fatalf("document is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if _, ok := doc.Components.SecuritySchemes["bearer"]; !ok {
		t.Error("no bearer security scheme")
	}
	for _, name := range []string{"Identity", "Entitlement", "System", "Role", "SoDRule", "Grant", "Token",
		"AuditEvent", "Principal", "Error", "Plan", "ApplyResult", "CreatedToken", "Verification", "IdentityPage"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("no component schema %s", name)
		}
	}

	if len(a.patterns) != len(routeTable) {
		t.Errorf("%d patterns registered, %d routes in the table", len(a.patterns), len(routeTable))
	}
	count := 0
	for _, p := range doc.Paths {
		count += len(p)
	}
	if count != len(a.patterns) {
		t.Errorf("document has %d operations, mux has %d patterns", count, len(a.patterns))
	}
	for _, pattern := range a.patterns {
		method, path, _ := strings.Cut(pattern, " ")
		op, ok := doc.Paths[openAPIPath(path)][strings.ToLower(method)]
		if !ok {
			t.Errorf("registered route %s is not in the document", pattern)
			continue
		}
		rt := findRouteByPattern(pattern)
		if op["operationId"] != rt.name || op["summary"] == "" {
			t.Errorf("%s: operationId %v, summary %v", pattern, op["operationId"], op["summary"])
		}
		responses, _ := op["responses"].(map[string]any)
		if _, ok := responses["200"]; !ok {
			if _, ok := responses["201"]; !ok {
				t.Errorf("%s: no success response", pattern)
			}
		}
		if rt.access != accessPublic {
			if _, ok := responses["401"]; !ok {
				t.Errorf("%s: no 401 response", pattern)
			}
		} else if sec, ok := op["security"].([]any); !ok || len(sec) != 0 {
			t.Errorf("%s: public route without an empty security list", pattern)
		}
		params, _ := op["parameters"].([]any)
		var names []string
		for _, p := range params {
			names = append(names, p.(map[string]any)["name"].(string))
		}
		for _, want := range rt.pathParams() {
			if !slices.Contains(names, want) {
				t.Errorf("%s: path parameter %s undocumented", pattern, want)
			}
		}
		for _, q := range rt.query {
			if !slices.Contains(names, q.name) {
				t.Errorf("%s: query parameter %s undocumented", pattern, q.name)
			}
		}
	}

	// The schema of an identity follows the Go type's json tags.
	ident, _ := doc.Components.Schemas["Identity"].(map[string]any)
	props, _ := ident["properties"].(map[string]any)
	for _, field := range []string{"id", "email", "employee_id", "status", "roles", "attributes", "created_at"} {
		if _, ok := props[field]; !ok {
			t.Errorf("Identity schema lacks %s", field)
		}
	}
}

func findRouteByPattern(p string) *route {
	for i := range routeTable {
		if routeTable[i].pattern() == p {
			return &routeTable[i]
		}
	}
	return nil
}
