package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

const hrHeader = "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"

// feed is an HR feed of every person of the fixture as they are, plus extra rows: importing it
// changes nobody's status, so the callers' tokens keep working.
func (f *fixture) feed(extra ...string) string {
	f.t.Helper()
	page, err := f.st.ListIdentities(context.Background(), gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit})
	if err != nil {
		f.t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(hrHeader)
	for _, id := range page.Items {
		if id.Kind != gatehouse.KindPerson || id.EmployeeID == "" || id.Status != gatehouse.StatusActive {
			continue
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,,employee,active,2024-01-02,\n",
			id.EmployeeID, id.Email, id.FirstName, id.LastName, id.Department, id.Title, id.ManagerID)
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// heldImport returns the id of a held HR import made for purpose (once per fixture). It is
// written to the store directly: making the leaver guard trip through the API would need a
// company larger than the fixture.
func (f *fixture) heldImport(purpose string) string {
	f.t.Helper()
	if id, ok := f.held[purpose]; ok {
		return id
	}
	imp := &gatehouse.HRImport{CreatedBy: "test", FileName: purpose + ".csv", SHA256: "0", Status: gatehouse.ImportHeld,
		Reason: "test", Content: f.feed("E-new-" + purpose + ",new-" + purpose + "@example.com,New,Person,Sales,Rep,,,employee,active,2024-01-02,")}
	err := f.st.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.CreateHRImport(context.Background(), imp); err != nil {
			return err
		}
		return tx.AppendAudit(context.Background(), &gatehouse.AuditEvent{Actor: "test", Action: "hr.import", ObjectType: "hr_import", ObjectID: imp.ID})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if f.held == nil {
		f.held = map[string]string{}
	}
	f.held[purpose] = imp.ID
	return imp.ID
}

func TestHRImportHandlers(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			joiner := "E-zoe,zoe@example.com,Zoe,Z,Sales,Rep,E-admin,Paris,employee,active,2024-01-02,"

			// A dry run answers the plan and changes nothing.
			var dry service.HRImportResult
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: f.secrets["operator"],
				body: f.feed(joiner), contentType: "text/csv"}), s200).json(t, &dry)
			if !dry.DryRun || dry.Import != nil || dry.Plan.Summary.Joiners != 1 {
				t.Fatalf("dry run = %+v", dry.Plan.Summary)
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/identities/zoe@example.com", ""), http.StatusNotFound)

			// Every bad row is listed; nothing is imported.
			bad := f.feed(joiner, "E-bad,not-an-email,B,B,Sales,Rep,E-nobody,,worker,active,2024-02-30,")
			a := f.do(t, request{method: "POST", path: "/api/v1/hr/imports", token: f.secrets["operator"], body: bad,
				contentType: "text/csv", header: map[string]string{"X-HR-File": "feed.csv"}})
			must(t, a, http.StatusBadRequest)
			e := a.errorOf(t)
			for _, want := range []string{"feed.csv: line 8: email:", "feed.csv: line 8: employment_type:", "feed.csv: line 8: start_date:", "feed.csv: line 8: manager_id:"} {
				if !strings.Contains(e.Message, want) {
					t.Errorf("error lacks %q: %s", want, e.Message)
				}
			}
			// A CSV needs its content type.
			must(t, f.as(t, "operator", "POST", "/api/v1/hr/imports", f.feed()), http.StatusBadRequest)

			// The real import: 201 with the stored record.
			var res service.HRImportResult
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports", token: f.secrets["operator"],
				body: f.feed(joiner), contentType: "text/csv"}), s201).json(t, &res)
			if res.Import == nil || res.Import.Status != gatehouse.ImportApplied || res.Import.RowCount != 6 || len(res.Import.SHA256) != 64 {
				t.Fatalf("import = %+v", res.Import)
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/identities/zoe@example.com", ""), s200)

			// The JSON form.
			body := `[{"employee_id":"E-yan","email":"yan@example.com","status":"active","employment_type":"intern","start_date":"2025-01-01","end_date":"2025-06-30"}]`
			a = f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: f.secrets["admin"], body: body})
			must(t, a, s200).json(t, &dry)
			if dry.Plan.Summary.NewTerminated != 1 { // end date passed before the fixture's clock
				t.Fatalf("json dry run = %+v", dry.Plan.Summary)
			}

			// List, get, approve and reject.
			held := f.heldImport("approve")
			var page gatehouse.Page[*gatehouse.HRImport]
			must(t, f.as(t, "auditor", "GET", "/api/v1/hr/imports?status=held", ""), s200).json(t, &page)
			if len(page.Items) != 1 || page.Items[0].ID != held {
				t.Fatalf("held imports = %+v", page.Items)
			}
			var got gatehouse.HRImport
			must(t, f.as(t, "auditor", "GET", "/api/v1/hr/imports/"+res.Import.ID, ""), s200).json(t, &got)
			if got.SHA256 != res.Import.SHA256 || len(got.Summary) == 0 {
				t.Fatalf("get = %+v", got)
			}
			must(t, f.as(t, "admin", "POST", "/api/v1/hr/imports/"+held+"/approve", ""), s200)
			must(t, f.as(t, "auditor", "GET", "/api/v1/identities/new-approve@example.com", ""), s200)
			must(t, f.as(t, "admin", "POST", "/api/v1/hr/imports/"+held+"/reject", `{"reason":"late"}`), http.StatusConflict)
			must(t, f.as(t, "admin", "GET", "/api/v1/hr/imports/nope", ""), http.StatusNotFound)
		})
	}
}
