package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestSystemHandlers: the test answers 200 with its result (the fixture's systems are manual:
// nothing to connect to), 404 for an unknown system, 503 for a connector the server cannot open
// (the fixture, like gatehouse demo, opens none); the status answers with empty evidence before
// any reconcile. Connection failures are tested against slapd in the service and the e2e tests.
func TestSystemHandlers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.OpenSQLite(t))

	var res service.SystemTest
	must(t, f.as(t, "operator", "POST", "/api/v1/systems/corp-ldap/test", ""), s200).json(t, &res)
	if !res.OK || res.Type != "manual" || res.SystemID != "corp-ldap" || !strings.Contains(res.Checked, "nothing to connect to") {
		t.Fatalf("test of a manual system = %+v", res)
	}
	must(t, f.as(t, "operator", "POST", "/api/v1/systems/nope/test", ""), http.StatusNotFound)
	must(t, f.as(t, "auditor", "POST", "/api/v1/systems/corp-ldap/test", ""), s403)

	f.apply(strings.Replace(seedCatalog, `  - id: wiki
    name: Team Wiki
    owner: admin@example.com
    tier: standard
    connector:
      type: manual`, `  - id: wiki
    name: Team Wiki
    owner: admin@example.com
    tier: standard
    connector: {type: ldap, url: "ldap://127.0.0.1:1", bind_dn: "cn=a,dc=x", bind_password_env: X,
                users_dn: "ou=p,dc=x", groups_dn: "ou=g,dc=x"}`, 1))
	if e := must(t, f.as(t, "operator", "POST", "/api/v1/systems/wiki/test", ""), http.StatusServiceUnavailable).errorOf(t); !strings.Contains(e.Message, "opens no connectors") {
		t.Fatalf("test without connectors: %+v", e)
	}

	var st service.SystemStatus
	must(t, f.as(t, "auditor", "GET", "/api/v1/systems/corp-ldap/status", ""), s200).json(t, &st)
	if st.System == nil || st.System.ID != "corp-ldap" || st.LastRun != nil || st.Operations == nil || st.Runs == nil {
		t.Fatalf("status before any reconcile = %+v", st)
	}
	must(t, f.as(t, "user", "GET", "/api/v1/systems/corp-ldap/status", ""), s403)
	must(t, f.as(t, "auditor", "GET", "/api/v1/systems/nope/status", ""), http.StatusNotFound)
}
