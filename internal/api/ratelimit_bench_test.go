package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/ratelimit"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkAuthenticatedRequestLimiter measures what the failed-authentication limiter adds to
// an authenticated request: the same GET /api/v1/me through the whole handler (SQLite), with
// and without the limiter, interleaved in one run so both see the same machine. The limiter
// holds 10,000 addresses that failed recently (a guessing attack in progress). Run with
//
//	go test ./internal/api -run '^$' -bench AuthenticatedRequestLimiter -benchtime 20000x
//
// and read p50/p99 of both, in microseconds.
func BenchmarkAuthenticatedRequestLimiter(b *testing.B) {
	st := storetest.OpenSQLite(b)
	f := newFixture(b, st)
	quiet := slog.New(slog.DiscardHandler)
	svc := service.New(st, service.Options{Logger: quiet})
	lim := ratelimit.New(ratelimit.Options{})
	for i := range 10_000 {
		lim.Fail(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	with := newAPI(svc, Options{Logger: quiet, Limiter: lim})
	without := newAPI(svc, Options{Logger: quiet})
	without.opts.Limiter = nil // a nil limiter checks nothing
	token := f.secrets["user"]
	call := func(a *api) time.Duration {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
		r.RemoteAddr = "198.51.100.7:5555"
		r.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		start := time.Now()
		a.ServeHTTP(rec, r)
		d := time.Since(start)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return d
	}
	for range 200 { // warm caches and prepared statements
		call(with)
		call(without)
	}
	// The limiter's own step, timed alone: on a loaded machine the p99 of whole requests is
	// mostly the scheduler's, and this says what the limiter itself costs.
	probe := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
	probe.RemoteAddr = "198.51.100.7:5555"
	var on, off, check []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		key, err := lim.Check(probe, token)
		if err != nil {
			b.Fatal(err)
		}
		lim.Succeeded(key, token)
		check = append(check, time.Since(start))
		if i%2 == 0 {
			on = append(on, call(with))
			off = append(off, call(without))
		} else {
			off = append(off, call(without))
			on = append(on, call(with))
		}
		i++
	}
	pct := func(ds []time.Duration, p float64) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return float64(s[min(len(s)-1, int(float64(len(s))*p))].Nanoseconds()) / 1000
	}
	b.ReportMetric(pct(on, 0.50), "p50-with-µs")
	b.ReportMetric(pct(on, 0.99), "p99-with-µs")
	b.ReportMetric(pct(off, 0.50), "p50-without-µs")
	b.ReportMetric(pct(off, 0.99), "p99-without-µs")
	b.ReportMetric(pct(check, 0.99), "p99-check-µs")
	if testing.Verbose() {
		fmt.Printf("with limiter p50 %.1f µs p99 %.1f µs; without p50 %.1f µs p99 %.1f µs; the check alone p99 %.2f µs (n=%d each)\n",
			pct(on, 0.5), pct(on, 0.99), pct(off, 0.5), pct(off, 0.99), pct(check, 0.99), len(on))
	}
}
