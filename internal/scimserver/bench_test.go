package scimserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/scimserver"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const benchUsers = 100_000

// benchServer seeds n SCIM users straight into the store (a manager for every 50 people, as
// an IdP would have pushed them) and returns the SCIM handler with a client token.
func benchServer(b *testing.B, n int) (http.Handler, string) {
	b.Helper()
	ctx := context.Background()
	st := storetest.OpenSQLite(b)
	const batch = 10_000
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		err := st.Update(ctx, func(tx store.Tx) error {
			for i := start; i < end; i++ {
				id := &gatehouse.Identity{
					EmployeeID: fmt.Sprintf("B%06d", i), Email: fmt.Sprintf("p%06d@example.com", i),
					FirstName: "First", LastName: fmt.Sprintf("Last%d", i%97), Department: fmt.Sprintf("Dept-%02d", i%20),
					Title: "Engineer", Location: "Berlin", EmploymentType: gatehouse.Employee, Status: gatehouse.StatusActive,
					StartDate: "2024-01-02", Kind: gatehouse.KindPerson, Source: "scim:okta-scim@example.com",
					Attributes: map[string]string{service.AttrSCIMExternalID: fmt.Sprintf("00u%06d", i)},
				}
				if i%50 != 0 {
					id.ManagerID = fmt.Sprintf("B%06d", i-i%50)
				}
				if err := tx.CreateIdentity(ctx, id); err != nil {
					return err
				}
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "system:bench", Action: "bench.seed",
				ObjectType: "identity", ObjectID: fmt.Sprintf("%d..%d", start, end-1)})
		})
		if err != nil {
			b.Fatalf("seed %d..%d: %v", start, end, err)
		}
	}
	svc := service.New(st, service.Options{Logger: slog.New(slog.DiscardHandler)})
	sys := service.SystemPrincipal("bench")
	if _, err := svc.CreateIdentity(ctx, sys, &gatehouse.Identity{Email: "okta-scim@example.com", Kind: gatehouse.KindService}, "bench"); err != nil {
		b.Fatal(err)
	}
	tok, err := svc.CreateToken(ctx, sys, service.NewToken{For: "okta-scim@example.com", Scopes: []string{gatehouse.ScopeSCIM}})
	if err != nil {
		b.Fatal(err)
	}
	return scimserver.New(svc, scimserver.Options{Logger: slog.New(slog.DiscardHandler)}), tok.Secret
}

func serve(b *testing.B, h http.Handler, token, target string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body.String())
	}
	return rec
}

// BenchmarkUserNameEq is the lookup every IdP makes before a create, over 100,000 users: it
// must be an indexed lookup (p99 target < 20 ms).
func BenchmarkUserNameEq(b *testing.B) {
	h, token := benchServer(b, benchUsers)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i = (i*7919 + 13) % benchUsers
		filter := url.QueryEscape(fmt.Sprintf(`userName eq "p%06d@example.com"`, i))
		start := time.Now()
		rec := serve(b, h, token, "/scim/v2/Users?filter="+filter+"&startIndex=1&count=100")
		lat = append(lat, time.Since(start))
		var lr struct{ TotalResults int }
		if err := json.Unmarshal(rec.Body.Bytes(), &lr); err != nil || lr.TotalResults != 1 {
			b.Fatalf("lookup of %d: %s", i, rec.Body.String())
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkListAll pages through all 100,000 users by startIndex, 1,000 at a time, as a full
// import by an IdP does (target > 20,000 resources/s).
func BenchmarkListAll(b *testing.B) {
	h, token := benchServer(b, benchUsers)
	total := 0
	var served time.Duration // the handler's time, not the test client's decoding
	for b.Loop() {
		seen := 0
		for idx := 1; ; idx += 1000 {
			start := time.Now()
			rec := serve(b, h, token, fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=1000", idx))
			served += time.Since(start)
			var lr struct {
				TotalResults int
				Resources    []json.RawMessage
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &lr); err != nil {
				b.Fatal(err)
			}
			if lr.TotalResults != benchUsers {
				b.Fatalf("totalResults %d", lr.TotalResults)
			}
			seen += len(lr.Resources)
			if len(lr.Resources) < 1000 {
				break
			}
		}
		if seen != benchUsers {
			b.Fatalf("listed %d users, want %d", seen, benchUsers)
		}
		total += seen
	}
	b.ReportMetric(float64(total)/served.Seconds(), "resources/s")
}
