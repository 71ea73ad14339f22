package service_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkAuditVerify1M verifies a SQLite audit log of 1,000,000 events (the size of a few
// years of a mid-sized company, or three large HR imports) against signed checkpoints, and
// compares it with the plain chain check over the same database and with the floor: re-hashing
// the same events already in memory, no database.
//
//	go test -run '^$' -bench BenchmarkAuditVerify1M -benchtime 3x ./internal/service/
//
// Besides wall time it reports cpu-s/op (user+system CPU of the process per run), which holds
// up better than wall time on a busy machine.
func BenchmarkAuditVerify1M(b *testing.B) {
	const batch = 50_000 // one transaction each, and a checkpoint after each: 20 checkpoints
	total := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_AUDIT_EVENTS")); err == nil && n >= batch {
		total = n / batch * batch // a smaller log, for profiling
	}
	ctx := context.Background()
	st := storetest.OpenSQLite(b)
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	begin := time.Now()
	var cps []*audit.Checkpoint
	var prev *audit.Checkpoint
	for n := 0; n < total; n += batch {
		evs := make([]*gatehouse.AuditEvent, batch)
		for i := range evs {
			id := fmt.Sprintf("id-%07d", n+i)
			evs[i] = &gatehouse.AuditEvent{Actor: "system:hr-import", Action: "identity.update", ObjectType: "identity", ObjectID: id,
				Before: json.RawMessage(`{"department":"Sales","title":"Engineer"}`),
				After:  json.RawMessage(`{"department":"Finance","title":"Engineer"}`), Reason: "HR import", Reference: "hr-import:1"}
		}
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.AppendAudits(ctx, evs) }); err != nil {
			b.Fatal(err)
		}
		seq, hash, err := st.AuditHead(ctx)
		if err != nil {
			b.Fatal(err)
		}
		c := audit.NextCheckpoint(prev, seq, hash, time.Now())
		c.Sign(key)
		cps = append(cps, c)
		prev = c
	}
	// Fold the write-ahead log into the database, as SQLite's automatic checkpoints do on a
	// server over time: otherwise the first run reads a WAL of the whole build.
	if db, ok := st.(interface{ DB() *sql.DB }); ok {
		if _, err := db.DB().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("built %d events and %d checkpoints in %s", total, len(cps), time.Since(begin).Round(time.Millisecond))

	b.Run("checkpoints", func(b *testing.B) {
		defer cpuMetric(b)()
		for b.Loop() {
			res, err := service.VerifyStoreCheckpoints(ctx, st, pub, cps)
			if err != nil || !res.OK || res.Events != int64(total) || res.Confirmed != int64(total) {
				b.Fatalf("%+v %v", res, err)
			}
		}
	})
	b.Run("chain-only", func(b *testing.B) {
		defer cpuMetric(b)()
		for b.Loop() {
			v, err := service.VerifyStore(ctx, st)
			if err != nil || !v.OK || v.Count != int64(total) {
				b.Fatalf("%+v %v", v, err)
			}
		}
	})
	b.Run("rehash-in-memory", func(b *testing.B) {
		evs := make([]*gatehouse.AuditEvent, 0, total)
		if err := st.ScanAuditEvents(ctx, func(ev *gatehouse.AuditEvent) error {
			evs = append(evs, ev)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		defer cpuMetric(b)()
		for b.Loop() {
			for _, ev := range evs {
				if audit.Hash(ev) != ev.Hash {
					b.Fatal("hash mismatch")
				}
			}
		}
	})
	b.Run("checkpoints-in-memory", func(b *testing.B) {
		evs := make([]*gatehouse.AuditEvent, 0, total)
		if err := st.ScanAuditEvents(ctx, func(ev *gatehouse.AuditEvent) error {
			evs = append(evs, ev)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		defer cpuMetric(b)()
		for b.Loop() {
			v := audit.NewCheckpointVerifier(pub, cps)
			for _, ev := range evs {
				v.Add(ev)
			}
			if res := v.Result(int64(total), ""); !res.OK {
				b.Fatal(res.Break)
			}
		}
	})
}

// cpuMetric reports the process's CPU time per iteration when the returned func runs.
func cpuMetric(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
