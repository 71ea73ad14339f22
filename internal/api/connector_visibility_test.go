package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
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

// TestEmployeesDoNotSeeProvisioningErrors: a request whose provisioning failed carries the
// connector's error, which names the server, its DNs or where its secret is read from. Its
// requester sees that it failed, not the connector's words; readers see them whole.
func TestEmployeesDoNotSeeProvisioningErrors(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		const why = `add_member cn=wiki in hr-dir failed: ldap add uid=user,ou=people,dc=example,dc=com: LDAP Result Code 200 "Network Error": dial tcp dir.internal.example.com:636: connection refused; secret bind_password_env=HR_DIR_PASSWORD`
		now := time.Now()
		r := &gatehouse.AccessRequest{RequesterID: f.ids["user"].ID, BeneficiaryID: f.ids["user"].ID, Action: gatehouse.ActionAdd,
			Entitlements: []string{"wiki/members"}, Justification: "to edit the wiki", State: gatehouse.RequestFailed, Error: why,
			Priority: gatehouse.PriorityNormal, DueAt: now.Add(time.Hour), SubmittedAt: now,
			Events: []gatehouse.RequestEvent{{At: now, Actor: "system", Kind: "failed", Comment: why}}}
		if err := f.st.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateRequest(ctx, r); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.request", ObjectType: "request", ObjectID: r.ID})
		}); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/v1/requests/" + r.ID, "/api/v1/requests?view=mine"} {
			body := string(must(t, f.as(t, "user", "GET", path, ""), s200).body)
			for _, s := range []string{"dir.internal.example.com", "ou=people", "HR_DIR_PASSWORD"} {
				if strings.Contains(body, s) {
					t.Errorf("%s shows the requester %q: %s", path, s, body)
				}
			}
			if !strings.Contains(body, "failed") {
				t.Errorf("%s no longer says it failed: %s", path, body)
			}
		}
		for _, path := range []string{"/api/v1/requests/" + r.ID, "/api/v1/requests?view=all"} {
			if body := string(must(t, f.as(t, "auditor", "GET", path, ""), s200).body); !strings.Contains(body, "dir.internal.example.com") {
				t.Errorf("%s: an auditor lost the error: %s", path, body)
			}
		}
	})
}
