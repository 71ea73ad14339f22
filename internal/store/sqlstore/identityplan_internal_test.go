package sqlstore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestIdentityFilterPlansSQLite: the identity filters a request's routing and the identities
// page send most are answered from the index that fits them, not by reading the table (a lookup
// by employee id) or eight times the page (a department's active people).
func TestIdentityFilterPlansSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := st.(*sqlStore)
	for _, tc := range []struct {
		name  string
		f     gatehouse.IdentityFilter
		index string
	}{
		{"employee id", gatehouse.IdentityFilter{EmployeeID: "E0000012"}, "identities_employee_id_key"},
		{"department and status", gatehouse.IdentityFilter{Department: "Sales", Status: gatehouse.StatusActive}, "identities_department_idx"},
		{"status", gatehouse.IdentityFilter{Status: gatehouse.StatusActive}, "identities_status_idx"},
	} {
		c := s.reader.identityConds(tc.f)
		rows, err := s.read.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT `+identityColumns+` FROM identities`+c.String()+` ORDER BY id LIMIT 51`, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(plan, "; "); !strings.Contains(got, "USING INDEX "+tc.index) && !strings.Contains(got, "USING COVERING INDEX "+tc.index) {
			t.Errorf("%s: plan %q, want a search using %s", tc.name, got, tc.index)
		}
	}
}
