package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var (
	benchFirst = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tony"}
	benchLast  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
		"Perlman", "Hoare", "Anderson", "Nakamura", "Okafor", "Schmidt", "Rossi", "Dubois", "Kowalski", "Silva",
		"Jensen", "Larsen"}
)

// seedIdentities writes n identities straight into the store, in transactions of batch, each
// with the one audit event the store requires of a transaction that writes.
func seedIdentities(tb testing.TB, st store.Store, n, batch int) {
	tb.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		err := st.Update(ctx, func(tx store.Tx) error {
			for i := start; i < end; i++ {
				id := &gatehouse.Identity{
					EmployeeID: fmt.Sprintf("B%06d", i), Email: fmt.Sprintf("p%06d@example.com", i),
					// i%20 picks the department, so names vary with i/20: every
					// department holds every name.
					FirstName: benchFirst[(i/400)%len(benchFirst)], LastName: benchLast[(i/20)%len(benchLast)],
					Department: fmt.Sprintf("Dept-%02d", i%20), Title: "Engineer", Location: "Berlin",
					EmploymentType: gatehouse.Employee, Status: gatehouse.StatusActive, StartDate: "2024-01-02",
					Kind: gatehouse.KindPerson, Source: "bench",
				}
				if err := tx.CreateIdentity(ctx, id); err != nil {
					return err
				}
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "system:bench", Action: "bench.seed",
				ObjectType: "identity", ObjectID: fmt.Sprintf("%d..%d", start, end-1)})
		})
		if err != nil {
			tb.Fatalf("seed identities %d..%d: %v", start, end, err)
		}
	}
}

// BenchmarkListIdentitiesAPI lists a page of identities through the whole handler (auth,
// query validation, service, SQLite, JSON) over 100,000 identities.
func BenchmarkListIdentitiesAPI(b *testing.B) {
	st := storetest.OpenSQLite(b)
	seedIdentities(b, st, 100_000, 10_000)
	svc := service.New(st, service.Options{Logger: slog.New(slog.DiscardHandler)})
	sys := service.SystemPrincipal("bench")
	ctx := context.Background()
	auditor, err := svc.CreateIdentity(ctx, sys, &gatehouse.Identity{EmployeeID: "AUD", Email: "auditor@example.com"}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.SetRoles(ctx, sys, auditor.ID, []gatehouse.AccessRole{gatehouse.RoleAuditor}, "bench"); err != nil {
		b.Fatal(err)
	}
	tok, err := svc.CreateToken(ctx, sys, service.NewToken{For: auditor.ID})
	if err != nil {
		b.Fatal(err)
	}
	h := New(svc, Options{Logger: slog.New(slog.DiscardHandler)})

	for _, bc := range []struct{ name, query string }{
		{"department+q", "department=Dept-07&q=ander&limit=50"},
		{"department", "department=Dept-07&limit=50"},
		{"q-only", "q=nakamura&limit=50"},
		// Nothing matches: the whole department is scanned, the worst case of a search.
		{"department+q-no-match", "department=Dept-07&q=zzz&limit=50"},
		// A search with no other filter and no match reads every identity.
		{"q-only-no-match", "q=zzz&limit=50"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			items := 0
			for b.Loop() {
				r := httptest.NewRequest("GET", "/api/v1/identities?"+bc.query, nil)
				r.Header.Set("Authorization", "Bearer "+tok.Secret)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
				items = w.Body.Len()
			}
			b.ReportMetric(float64(items), "bytes/page")
		})
	}

	// The same worst case on the store alone, to tell the API's share from the database's.
	b.Run("store-only/department+q-no-match", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.ListIdentities(ctx, gatehouse.IdentityFilter{Department: "Dept-07", Query: "zzz", Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
