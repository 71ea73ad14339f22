package api

import (
	"net/http"
	"strings"
	"testing"
)

// directorySystem is a directory whose connector settings name a server, a bind DN and where
// its password is read from.
const directorySystem = `
  - id: hr-dir
    name: HR directory
    owner: admin@example.com
    tier: high
    connector:
      type: ldap
      url: ldaps://dir.internal.example.com:636
      bind_dn: cn=gatehouse,ou=svc,dc=example,dc=com
      bind_password_env: HR_DIR_PASSWORD
      users_dn: ou=people,dc=example,dc=com
      groups_dn: ou=groups,dc=example,dc=com`

// TestEmployeesDoNotSeeConnectorSettings: someone without a reader role sees each system's
// connector type, but not its settings (server URLs, bind DNs, secret names), in the systems
// list, one system and the catalog export; readers still see them.
func TestEmployeesDoNotSeeConnectorSettings(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, e.open(t))
			f.apply(strings.Replace(seedCatalog, "\nentitlements:", directorySystem+"\nentitlements:", 1))
			secrets := []string{"dir.internal.example.com", "cn=gatehouse", "HR_DIR_PASSWORD", "ou=people", "bind_dn"}
			for _, path := range []string{"/api/v1/systems", "/api/v1/systems/hr-dir", "/api/v1/catalog"} {
				ans := f.do(t, request{method: http.MethodGet, path: path, token: f.secrets["user"]})
				if ans.status != http.StatusOK {
					t.Fatalf("%s as an employee: %d %s", path, ans.status, ans.body)
				}
				body := string(ans.body)
				for _, s := range secrets {
					if strings.Contains(body, s) {
						t.Errorf("%s shows an employee %q: %s", path, s, body)
					}
				}
				if !strings.Contains(body, `"type":"ldap"`) {
					t.Errorf("%s lost the connector type: %s", path, body)
				}
				ans = f.do(t, request{method: http.MethodGet, path: path, token: f.secrets["auditor"]})
				if ans.status != http.StatusOK || !strings.Contains(string(ans.body), "HR_DIR_PASSWORD") ||
					!strings.Contains(string(ans.body), "dir.internal.example.com") {
					t.Errorf("%s as an auditor: %d, want the settings: %s", path, ans.status, ans.body)
				}
			}
		})
	}
}
