package api

import (
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// TestHRImportChanges: an applied import's evidence is read over HTTP a page at a time,
// filtered by class and lateness, by readers only.
func TestHRImportChanges(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			var res service.HRImportResult
			feed := f.feed("E-zoe,zoe@example.com,Zoe,Zane,Sales,Rep,E-admin,Paris,employee,active,2024-01-02,",
				"E-yan,yan@example.com,Yan,Young,Sales,Rep,E-admin,Paris,employee,active,2024-01-02,",
				"E-xia,xia@example.com,Xia,Xu,Sales,Rep,E-admin,Paris,employee,terminated,2024-01-02,2024-06-30")
			created := must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports", token: f.secrets["operator"],
				body: feed, contentType: "text/csv"}), s201)
			created.json(t, &res)
			// The outcome is in the header too, for a client whose answer is cut short.
			if got := created.header.Get("X-Gatehouse-Import-Status"); got != "applied" ||
				created.header.Get("Location") != "/api/v1/hr/imports/"+res.Import.ID {
				t.Fatalf("headers %v", created.header)
			}
			base := "/api/v1/hr/imports/" + res.Import.ID + "/changes"

			var p1, p2 gatehouse.Page[*gatehouse.HRImportChange]
			must(t, f.as(t, "auditor", "GET", base+"?limit=2", ""), s200).json(t, &p1)
			if len(p1.Items) != 2 || p1.NextCursor == "" || p1.Items[0].Seq != 1 {
				t.Fatalf("page 1 = %+v", p1)
			}
			must(t, f.as(t, "auditor", "GET", base+"?limit=2&cursor="+p1.NextCursor, ""), s200).json(t, &p2)
			if len(p2.Items) != 1 || p2.NextCursor != "" || p2.Items[0].Seq != 3 {
				t.Fatalf("page 2 = %+v", p2)
			}
			var joiners gatehouse.Page[*gatehouse.HRImportChange]
			must(t, f.as(t, "auditor", "GET", base+"?class=joiner", ""), s200).json(t, &joiners)
			if len(joiners.Items) != 2 || joiners.Items[0].Name != "Zoe Zane" || len(joiners.Items[0].Gained) == 0 && joiners.Items[0].Class != "joiner" {
				t.Fatalf("joiners = %+v", joiners.Items)
			}
			var late gatehouse.Page[*gatehouse.HRImportChange]
			must(t, f.as(t, "auditor", "GET", base+"?late=true", ""), s200).json(t, &late)
			if len(late.Items) != 0 { // first seen already terminated: never had access, not late
				t.Fatalf("late = %+v", late.Items)
			}
			must(t, f.as(t, "auditor", "GET", base+"?class=boss", ""), http.StatusBadRequest)
			must(t, f.as(t, "user", "GET", base, ""), http.StatusForbidden)
			must(t, f.as(t, "none", "GET", base, ""), http.StatusUnauthorized)
			must(t, f.as(t, "auditor", "GET", "/api/v1/hr/imports/nope/changes", ""), http.StatusNotFound)
		})
	}
}
