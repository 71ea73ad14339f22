package api

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// joinerRow is an HR row of a synthetic person; terminated or not.
func joinerRow(i int, terminated bool) string {
	status := "active"
	if terminated {
		status = "terminated"
	}
	return fmt.Sprintf("J%05d,j%05d@example.com,J,N%d,Sales,Rep,,,employee,%s,2024-01-02,", i, i, i, status)
}

// TestHRImportOneAtATime: while an import runs (here: still reading its body), a second one —
// dry run or not — gets 409 naming the running import's id and changes nothing; the running
// one then finishes as that id. A lease left by an import whose process died runs out.
func TestHRImportOneAtATime(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			feed := f.feed("J00001,j00001@example.com,J,One,Sales,Rep,,,employee,active,2024-01-02,")
			pr, pw := io.Pipe()
			r := httptest.NewRequest("POST", "/api/v1/hr/imports", pr)
			r.Header.Set("Content-Type", "text/csv")
			r.Header.Set("Authorization", "Bearer "+f.secrets["operator"])
			w := httptest.NewRecorder()
			done := make(chan struct{})
			go func() {
				defer close(done)
				f.api.ServeHTTP(w, r)
			}()
			// The service reads the body only once it holds the lease: when this write returns,
			// the first import is running.
			if _, err := io.WriteString(pw, feed[:40]); err != nil {
				t.Fatal(err)
			}
			second := f.feed("J00002,j00002@example.com,J,Two,Sales,Rep,,,employee,active,2024-01-02,")
			for _, path := range []string{"/api/v1/hr/imports", "/api/v1/hr/imports?dry_run=true"} {
				a := f.do(t, request{method: "POST", path: path, token: f.secrets["admin"], body: second, contentType: "text/csv"})
				must(t, a, http.StatusConflict)
				if e := a.errorOf(t); !strings.Contains(e.Message, "another HR import is running") {
					t.Fatalf("409 message: %s", e.Message)
				}
			}
			a := f.do(t, request{method: "POST", path: "/api/v1/hr/imports", token: f.secrets["admin"], body: second, contentType: "text/csv"})
			msg := a.errorOf(t).Message
			if _, err := io.WriteString(pw, feed[40:]); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			<-done
			var res service.HRImportResult
			must(t, answer{status: w.Code, body: w.Body.Bytes()}, http.StatusCreated).json(t, &res)
			if !strings.Contains(msg, res.Import.ID) {
				t.Fatalf("409 %q does not name the running import %s", msg, res.Import.ID)
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/identities/j00001@example.com", ""), http.StatusOK)
			must(t, f.as(t, "auditor", "GET", "/api/v1/identities/j00002@example.com", ""), http.StatusNotFound)
			// Done: the next import runs.
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports", token: f.secrets["admin"], body: second, contentType: "text/csv"}), http.StatusCreated)

			// An import on a replica that died left its lease: refused until it runs out.
			now := f.svc.Now()
			if _, ok, err := f.st.AcquireLease(t.Context(), store.Lease{Name: "hr-import", Holder: "crashed-import", Note: "import of x.csv", ExpiresAt: now.Add(2 * time.Minute)}, now); err != nil || !ok {
				t.Fatalf("plant lease: %v %v", ok, err)
			}
			a = f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: f.secrets["operator"], body: second, contentType: "text/csv"})
			if must(t, a, http.StatusConflict); !strings.Contains(a.errorOf(t).Message, "crashed-import") {
				t.Fatalf("409 does not name the running import: %s", a.body)
			}
			// Approving a held import is an import too.
			a = f.as(t, "admin", "POST", "/api/v1/hr/imports/"+f.heldImport("busy")+"/approve", "")
			if must(t, a, http.StatusConflict); !strings.Contains(a.errorOf(t).Message, "crashed-import") {
				t.Fatalf("approve during an import: %s", a.body)
			}
			f.clock.shift(3 * time.Minute)
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: f.secrets["operator"], body: second, contentType: "text/csv"}), http.StatusOK)
		})
	}
}

// TestHRLeaverGuardRollingWindow: a mass termination split into imports each below the leaver
// guard is held once the imports of the window together exceed it.
func TestHRLeaverGuardRollingWindow(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			base := f.feed() // the fixture's people, unchanged
			snapshot := func(terminated int) string {
				var b strings.Builder
				b.WriteString(base)
				for i := range 30 {
					b.WriteString(joinerRow(i, i < terminated) + "\n")
				}
				return b.String()
			}
			post := func(body string) service.HRImportResult {
				var res service.HRImportResult
				must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports", token: f.secrets["operator"], body: body, contentType: "text/csv"}), http.StatusCreated).json(t, &res)
				return res
			}
			if res := post(snapshot(0)); res.Import.Status != gatehouse.ImportApplied || res.Plan.Summary.Joiners != 30 {
				t.Fatalf("joiners: %+v", res.Plan.Summary)
			}
			// The default guard allows max(min_count 20, 5% of 35) = 20 removals. Eight at a time:
			for k, want := range []gatehouse.HRImportStatus{gatehouse.ImportApplied, gatehouse.ImportApplied, gatehouse.ImportHeld} {
				res := post(snapshot(8 * (k + 1)))
				if res.Plan.Summary.Removals != 8 || res.Import.Status != want {
					t.Fatalf("import %d: %s (%s), removals %d", k+1, res.Import.Status, res.Plan.HeldReason, res.Plan.Summary.Removals)
				}
				if want == gatehouse.ImportHeld && (res.Plan.Summary.RecentRemovals != 16 || !strings.Contains(res.Plan.HeldReason, "24 with the 16 that HR imports did within the last 24h")) {
					t.Fatalf("held reason: %q (recent %d)", res.Plan.HeldReason, res.Plan.Summary.RecentRemovals)
				}
			}
			// The held third changed nobody.
			var id gatehouse.Identity
			must(t, f.as(t, "auditor", "GET", "/api/v1/identities/j00020@example.com", ""), http.StatusOK).json(t, &id)
			if id.Status != gatehouse.StatusActive {
				t.Fatalf("held import terminated %s", id.Email)
			}
			// A dry run says so too; a day later the window has moved on.
			var dry service.HRImportResult
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: f.secrets["operator"], body: snapshot(24), contentType: "text/csv"}), http.StatusOK).json(t, &dry)
			if !dry.Plan.Held {
				t.Fatalf("dry run not held: %+v", dry.Plan.Summary)
			}
			f.clock.shift(25 * time.Hour)
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: f.secrets["operator"], body: snapshot(24), contentType: "text/csv"}), http.StatusOK).json(t, &dry)
			if dry.Plan.Held || dry.Plan.Summary.RecentRemovals != 0 {
				t.Fatalf("after the window: %+v %s", dry.Plan.Summary, dry.Plan.HeldReason)
			}
		})
	}
}

// TestHRDryRunIsPaged: the dry run of a large file answers the totals and a page of items per
// class, and the next page on asking; never the whole company.
func TestHRDryRunIsPaged(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			const n = 5000
			var b strings.Builder
			b.WriteString(f.feed())
			for i := range n {
				b.WriteString(joinerRow(i, false) + "\n")
			}
			a := f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: f.secrets["operator"], body: b.String(), contentType: "text/csv"})
			must(t, a, http.StatusOK)
			if len(a.body) > 64<<10 {
				t.Fatalf("dry-run answer of %d people is %d bytes", n, len(a.body))
			}
			var res service.HRImportResult
			a.json(t, &res)
			p := res.Plan
			if p.Summary.Joiners != n || p.Summary.Rows != n+5 || len(p.Items) != 100 || p.Page == nil ||
				p.Page.Total != n || p.Page.Returned != 100 || p.Page.NextOffset != 100 || p.Items[0].EmployeeID != "J00000" {
				t.Fatalf("summary %+v, %d items, page %+v", p.Summary, len(p.Items), p.Page)
			}
			a = f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true&class=joiner&offset=4990&limit=50", token: f.secrets["operator"], body: b.String(), contentType: "text/csv"})
			var last service.HRImportResult
			must(t, a, http.StatusOK).json(t, &last)
			if len(last.Plan.Items) != 10 || last.Plan.Items[0].EmployeeID != "J04990" || last.Plan.Page.NextOffset != 0 || last.Plan.Summary.Joiners != n {
				t.Fatalf("last page: %d items, page %+v", len(last.Plan.Items), last.Plan.Page)
			}
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true&limit=5000", token: f.secrets["operator"], body: b.String(), contentType: "text/csv"}), http.StatusBadRequest)
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true&class=nobody", token: f.secrets["operator"], body: b.String(), contentType: "text/csv"}), http.StatusBadRequest)
			// The JSON shape clients read is unchanged: plan.items and plan.summary.
			var raw struct{ Plan map[string]json.RawMessage }
			a.json(t, &raw)
			for _, k := range []string{"items", "summary", "page"} {
				if _, ok := raw.Plan[k]; !ok {
					t.Errorf("plan lacks %q", k)
				}
			}
			if last.Plan.Page.Class != jml.Joiner {
				t.Errorf("page class = %q", last.Plan.Page.Class)
			}
		})
	}
}

// TestHRImportTooLarge: a body over the HR limit is refused with 413 and changes nothing.
func TestHRImportTooLarge(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			small := newAPI(f.svc, Options{Logger: slog.New(slog.DiscardHandler), HRLimit: 4 << 10})
			var b strings.Builder
			b.WriteString(f.feed())
			for i := 0; b.Len() <= 4<<10; i++ {
				b.WriteString(joinerRow(i, false) + "\n")
			}
			for _, path := range []string{"/api/v1/hr/imports", "/api/v1/hr/imports?dry_run=true"} {
				r := httptest.NewRequest("POST", path, strings.NewReader(b.String()))
				r.Header.Set("Content-Type", "text/csv")
				r.Header.Set("Authorization", "Bearer "+f.secrets["operator"])
				w := httptest.NewRecorder()
				small.ServeHTTP(w, r)
				a := answer{status: w.Code, body: w.Body.Bytes()}
				must(t, a, http.StatusRequestEntityTooLarge)
				if e := a.errorOf(t); !strings.Contains(e.Message, "4 KiB") {
					t.Errorf("413 message: %s", e.Message)
				}
			}
			must(t, f.as(t, "auditor", "GET", "/api/v1/identities/j00000@example.com", ""), http.StatusNotFound)
			var page gatehouse.Page[*gatehouse.HRImport]
			must(t, f.as(t, "auditor", "GET", "/api/v1/hr/imports", ""), http.StatusOK).json(t, &page)
			if len(page.Items) != 0 {
				t.Fatalf("imports after a refused upload: %+v", page.Items)
			}
			// The lease was released: the next import runs.
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: f.secrets["operator"], body: f.feed(), contentType: "text/csv"}), http.StatusOK)
		})
	}
}
