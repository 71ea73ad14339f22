package api

import (
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/urlquery"
)

// TestListRoutesDecodeTheirDocumentedParams: a list route's query parameters, as the route
// table documents (OpenAPI) and enforces them (checkQuery), are exactly the query-tagged fields
// of the filter its handler decodes with urlquery, which the client encodes with. A parameter
// added to one side only fails here.
func TestListRoutesDecodeTheirDocumentedParams(t *testing.T) {
	decoded := map[string]any{
		"listIdentities":       gatehouse.IdentityFilter{},
		"listEntitlements":     gatehouse.EntitlementFilter{},
		"listGrants":           gatehouse.GrantQuery{},
		"listAccounts":         gatehouse.AccountFilter{},
		"importHR":             gatehouse.HRImportQuery{},
		"listHRImports":        gatehouse.HRImportFilter{},
		"listHRImportChanges":  gatehouse.HRImportChangeFilter{},
		"listConfirmations":    gatehouse.ConfirmationQuery{},
		"listRequests":         gatehouse.RequestQuery{},
		"listExceptions":       service.ExceptionQuery{},
		"listEmergencyReviews": gatehouse.EmergencyReviewFilter{},
		"listOperations":       gatehouse.OperationFilter{},
		"listTasks":            service.TaskQuery{},
		"listSCIMGroups":       gatehouse.SCIMGroupFilter{},
		"listAuditEvents":      gatehouse.AuditFilter{},
		"listTokens":           gatehouse.TokenFilter{},
		"listSoDViolations":    service.SoDViolationFilter{},
	}
	seen := 0
	for _, rt := range routeTable {
		f, ok := decoded[rt.name]
		if !ok {
			continue
		}
		seen++
		var documented []string
		for _, p := range rt.query {
			documented = append(documented, p.name)
		}
		fields := urlquery.Names(f)
		slices.Sort(documented)
		slices.Sort(fields)
		if !slices.Equal(documented, fields) {
			t.Errorf("%s: the route documents %v, its filter %T decodes %v", rt.name, documented, f, fields)
		}
	}
	if seen != len(decoded) {
		t.Errorf("%d of %d list routes found in the route table", seen, len(decoded))
	}
}
