package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/bench/hrgen"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkHRImportMemory measures the peak Go heap of one dry-run HR import of a 64 MiB feed
// through the API handler (body read, parse, plan, answer), on SQLite:
//
//	go test -run '^$' -bench BenchmarkHRImportMemory -benchtime 1x ./internal/api
//
// It reports peak-heap-MB (HeapInuse sampled every 5 ms, above what the fixture held before)
// and file-MB, the floor a parser that kept the whole file would start from.
func BenchmarkHRImportMemory(b *testing.B) {
	var buf bytes.Buffer
	// About 130 bytes a row: the file is cut at the last whole row under 64 MiB, the API's
	// limit (a manager always comes before their reports, so every cut is a valid feed).
	if err := hrgen.Write(&buf, 530_000, hrgen.Options{Seed: 1}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	if len(data) > DefaultHRLimit {
		data = data[:bytes.LastIndexByte(data[:DefaultHRLimit], '\n')+1]
	}
	feed := bytes.NewBuffer(data)
	f := newFixture(b, storetest.OpenSQLite(b))
	for b.Loop() {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		})
		r := httptest.NewRequest("POST", "/api/v1/hr/imports?dry_run=true", bytes.NewReader(feed.Bytes()))
		r.Header.Set("Content-Type", "text/csv")
		r.Header.Set("Authorization", "Bearer "+f.secrets["operator"])
		w := &discardWriter{h: http.Header{}}
		f.api.ServeHTTP(w, r.WithContext(context.Background()))
		close(stop)
		wg.Wait()
		if w.status != http.StatusOK {
			b.Fatalf("status %d: %s", w.status, w.head)
		}
		b.ReportMetric(float64(peak.Load()-base)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(feed.Len())/(1<<20), "file-MB")
		b.ReportMetric(float64(w.n)/(1<<20), "answer-MB")
	}
}

// discardWriter counts an answer without keeping it, so the benchmark measures the server.
type discardWriter struct {
	h      http.Header
	status int
	n      int
	head   []byte // the answer's start, for a failure message
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if len(w.head) < 1024 {
		w.head = append(w.head, p[:min(len(p), 1024-len(w.head))]...)
	}
	w.n += len(p)
	return len(p), nil
}
