package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/service"
)

// TestHRDeltaAndExportOverHTTP, on both engines: ?delta=true imports a joiner under a stored
// manager and leaves everyone else, the record says delta; GET /api/v1/hr/export answers the
// CSV to readers, which imported back changes nothing, and a JSON 403 to an employee.
func TestHRDeltaAndExportOverHTTP(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			admin := f.secrets["admin"]
			row := hrHeader + "E-new,new@example.com,New,Person,Engineering,Engineer," + f.ids["other"].EmployeeID + ",,employee,active,2024-01-02,\n"
			// As a snapshot the stored manager is unknown, and the rule is stated.
			a := must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: admin, body: row, contentType: "text/csv"}), http.StatusBadRequest)
			if e := a.errorOf(t); !strings.Contains(e.Message, "an HR file is a full snapshot of everyone; to send only changes use `gatehouse hr import --delta`") {
				t.Fatalf("snapshot error: %s", e.Message)
			}
			var res service.HRImportResult
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports?delta=true", token: admin, body: row, contentType: "text/csv"}), http.StatusCreated).json(t, &res)
			if !res.Import.Delta || res.Plan.Summary.Joiners != 1 || res.Plan.Summary.Leavers != 0 || res.Plan.Summary.Missing != 0 {
				t.Fatalf("delta = %+v %+v", res.Import, res.Plan.Summary)
			}
			var got struct {
				Delta bool `json:"delta"`
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/hr/imports/"+res.Import.ID, ""), http.StatusOK).json(t, &got)
			if !got.Delta {
				t.Fatal("the import record does not say delta")
			}

			must(t, f.as(t, "user", "GET", "/api/v1/hr/export", ""), http.StatusForbidden)
			a = must(t, f.as(t, "auditor", "GET", "/api/v1/hr/export", ""), http.StatusOK)
			if ct := a.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || a.header.Get("Cache-Control") != "no-store" || a.header.Get("X-Gatehouse-People") == "" {
				t.Fatalf("headers = %v", a.header)
			}
			body := string(a.body)
			if !strings.HasPrefix(body, "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n") ||
				!strings.Contains(body, "E-new,new@example.com,New,Person,Engineering,Engineer,E-other,,employee,active,2024-01-02,\n") {
				t.Fatalf("export =\n%s", body)
			}
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: admin, body: body, contentType: "text/csv"}), http.StatusOK).json(t, &res)
			if len(res.Plan.Items) != 0 || res.Plan.Summary.Unchanged != res.Plan.Summary.Rows {
				t.Fatalf("round trip = %+v %+v", res.Plan.Summary, res.Plan.Items)
			}
		})
	}
}
