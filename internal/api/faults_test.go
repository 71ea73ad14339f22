package api

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestWriteFaults: a full disk or a read-only database is a clear 503 ("database is full",
// "database is read-only"), never a 500, and /readyz answers 503 from the first failed write
// until writes succeed again; reads keep working meanwhile.
func TestWriteFaults(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		n := 0
		create := func() answer {
			n++
			body := fmt.Sprintf(`{"employee_id":"F-%d","email":"fault%d@example.com","first_name":"Fault","department":"Ops","reason":"test"}`, n, n)
			return f.as(t, "operator", "POST", "/api/v1/identities", body)
		}
		must(t, create(), s201)
		for _, fault := range []string{storetest.FaultFull, storetest.FaultReadOnly} {
			storetest.SetFault(t, f.st, fault)
			// A full database refuses the write that needs a page it cannot get: some small
			// writes still fit in the pages it has.
			var a answer
			for range 200 {
				if a = create(); a.status != http.StatusCreated {
					break
				}
			}
			must(t, a, http.StatusServiceUnavailable)
			want := "database is " + fault + ": nothing was changed; try again when it takes writes"
			if e := a.errorOf(t); e.Code != "unavailable" || e.Message != want {
				t.Fatalf("%s: error %+v, want unavailable %q", fault, e, want)
			}
			r := must(t, f.do(t, request{method: "GET", path: "/readyz"}), http.StatusServiceUnavailable)
			if e := r.errorOf(t); e.Message != want {
				t.Fatalf("readyz while %s: %+v", fault, e)
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/identities?limit=1", ""), s200) // reads still work
			storetest.SetFault(t, f.st, storetest.FaultNone)
			must(t, f.do(t, request{method: "GET", path: "/readyz"}), s200)
			must(t, create(), s201)
		}
	})
}

// TestWriteFaultsHRImport: an HR import (a dry run too) first takes the import lease, a write
// outside any audited transaction; on a full or read-only database it is the same clear 503
// as any write, and /readyz turns not ready, never a 500.
func TestWriteFaultsHRImport(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		feed := f.feed(joinerRow(1, false))
		for _, fault := range []string{storetest.FaultFull, storetest.FaultReadOnly} {
			storetest.SetFault(t, f.st, fault)
			want := "database is " + fault + ": nothing was changed; try again when it takes writes"
			for _, path := range []string{"/api/v1/hr/imports?dry_run=true", "/api/v1/hr/imports"} {
				a := f.do(t, request{method: "POST", path: path, token: f.secrets["operator"], body: feed, contentType: "text/csv"})
				if fault == storetest.FaultFull && a.status != http.StatusServiceUnavailable {
					continue // a full database may still have room for the lease row
				}
				if e := must(t, a, http.StatusServiceUnavailable).errorOf(t); e.Message != want {
					t.Fatalf("%s %s: %+v", fault, path, e)
				}
				if e := must(t, f.do(t, request{method: "GET", path: "/readyz"}), http.StatusServiceUnavailable).errorOf(t); e.Message != want {
					t.Fatalf("readyz while %s: %+v", fault, e)
				}
			}
			storetest.SetFault(t, f.st, storetest.FaultNone)
			must(t, f.do(t, request{method: "GET", path: "/readyz"}), s200)
		}
		must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: f.secrets["operator"], body: feed, contentType: "text/csv"}), s200)
	})
}
