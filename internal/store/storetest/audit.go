package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// auditFixture returns n events with varied actors, actions, objects and times (one minute
// apart from base), some with before/after.
func auditFixture(n int, base time.Time) []*gatehouse.AuditEvent {
	actors := []string{"alice@example.com", "bob@example.com", "system:jml"}
	actions := []gatehouse.AuditAction{"grant.create", "grant.revoke", "identity.create", "grant", "grant-old.create", "catalog.apply"}
	var out []*gatehouse.AuditEvent
	for i := range n {
		ev := &gatehouse.AuditEvent{
			Time:       base.Add(time.Duration(i) * time.Minute),
			Actor:      actors[i%len(actors)],
			Action:     actions[i%len(actions)],
			ObjectType: actions[i%len(actions)].Area(),
			ObjectID:   fmt.Sprintf("obj-%d", i%4),
			Reason:     fmt.Sprintf("reason %d", i),
			Reference:  fmt.Sprintf("REQ-%d", i),
		}
		if i%2 == 0 {
			ev.After = json.RawMessage(fmt.Sprintf(`{"n": %d, "name": "x"}`, i))
		}
		if i%3 == 0 {
			ev.Before = json.RawMessage(`{"status":"active"}`)
		}
		out = append(out, ev)
	}
	return out
}

// appendEvents appends events, a few per transaction.
func appendEvents(t *testing.T, s store.Store, evs []*gatehouse.AuditEvent) {
	t.Helper()
	ctx := t.Context()
	for start := 0; start < len(evs); start += 3 {
		must(t, s.Update(ctx, func(tx store.Tx) error {
			for _, ev := range evs[start:min(start+3, len(evs))] {
				if err := tx.AppendAudit(ctx, ev); err != nil {
					return err
				}
			}
			return nil
		}))
	}
}

func scanAll(t *testing.T, r store.Reader) []*gatehouse.AuditEvent {
	t.Helper()
	var out []*gatehouse.AuditEvent
	must(t, r.ScanAuditEvents(t.Context(), func(ev *gatehouse.AuditEvent) error {
		out = append(out, ev)
		return nil
	}))
	return out
}

func testAuditAppendAndList(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	base := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	evs := auditFixture(25, base)
	// JSON is stored compacted with sorted keys (by audit.Seal) and must come back byte for byte:
	// big numbers, escapes and non-ASCII included.
	evs[0].After = json.RawMessage(`{ "z": 1, "a": [1, 2.50, 12345678901234567890], "s": "<&> é \u2028 \"q\"" }`)
	evs[1].Before = json.RawMessage(`null`)
	appendEvents(t, s, evs)

	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d got seq %d", i, ev.Seq)
		}
		wantPrev := audit.GenesisHash
		if i > 0 {
			wantPrev = evs[i-1].Hash
		}
		if ev.PrevHash != wantPrev || ev.Hash != audit.Hash(ev) {
			t.Fatalf("event %d is not sealed into the chain", ev.Seq)
		}
	}
	if string(evs[0].After) != `{"a":[1,2.50,12345678901234567890],"s":"\u003c\u0026\u003e é \u2028 \"q\"","z":1}` {
		t.Fatalf("sealed after = %s", evs[0].After)
	}
	if evs[1].Before != nil {
		t.Fatalf("a null before must be stored as no before, got %s", evs[1].Before)
	}
	stored := scanAll(t, s)
	equal(t, "scanned events", stored, evs)
	seq, hash, err := s.AuditHead(ctx)
	must(t, err)
	if seq != 25 || hash != evs[24].Hash {
		t.Fatalf("AuditHead = %d %s, want 25 %s", seq, hash, evs[24].Hash)
	}

	tests := []struct {
		name   string
		filter gatehouse.AuditFilter
		match  func(*gatehouse.AuditEvent) bool
	}{
		{"all", gatehouse.AuditFilter{}, func(*gatehouse.AuditEvent) bool { return true }},
		{"actor", gatehouse.AuditFilter{Actor: "bob@example.com"}, func(e *gatehouse.AuditEvent) bool { return e.Actor == "bob@example.com" }},
		{"action exact", gatehouse.AuditFilter{Action: "grant"}, func(e *gatehouse.AuditEvent) bool { return e.Action == "grant" }},
		{"action prefix", gatehouse.AuditFilter{Action: "grant."}, func(e *gatehouse.AuditEvent) bool { return strings.HasPrefix(string(e.Action), "grant.") }},
		{"object type", gatehouse.AuditFilter{ObjectType: "identity"}, func(e *gatehouse.AuditEvent) bool { return e.ObjectType == "identity" }},
		{"object", gatehouse.AuditFilter{ObjectType: "grant", ObjectID: "obj-1"}, func(e *gatehouse.AuditEvent) bool {
			return e.ObjectType == "grant" && e.ObjectID == "obj-1"
		}},
		{"since", gatehouse.AuditFilter{Since: base.Add(20 * time.Minute)}, func(e *gatehouse.AuditEvent) bool { return !e.Time.Before(base.Add(20 * time.Minute)) }},
		{"until", gatehouse.AuditFilter{Until: base.Add(3 * time.Minute)}, func(e *gatehouse.AuditEvent) bool { return e.Time.Before(base.Add(3 * time.Minute)) }},
		{"window and actor", gatehouse.AuditFilter{Since: base.Add(5 * time.Minute), Until: base.Add(17 * time.Minute), Actor: "system:jml"},
			func(e *gatehouse.AuditEvent) bool {
				return e.Actor == "system:jml" && !e.Time.Before(base.Add(5*time.Minute)) && e.Time.Before(base.Add(17*time.Minute))
			}},
	}
	bySeq := func(e *gatehouse.AuditEvent) string { return fmt.Sprintf("%08d", e.Seq) }
	for _, tc := range tests {
		for _, asc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s ascending=%v", tc.name, asc), func(t *testing.T) {
				var want []*gatehouse.AuditEvent
				for _, e := range evs {
					if tc.match(e) {
						want = append(want, e)
					}
				}
				if len(want) == 0 {
					t.Fatal("the fixture gives this case no matches")
				}
				if !asc {
					for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
						want[i], want[j] = want[j], want[i]
					}
				}
				f := tc.filter
				f.Ascending, f.Limit = asc, 4
				got := pageAll(t, func(cursor string) (gatehouse.Page[*gatehouse.AuditEvent], error) {
					f.Cursor = cursor
					return s.ListAuditEvents(ctx, f)
				}, bySeq, 4)
				equal(t, "events in order", got, want)
			})
		}
	}

	// Bad JSON is refused and nothing is written.
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "t", Action: "x.y", ObjectType: "x", After: json.RawMessage(`{"a":`)})
	})
	wantCode(t, err, gatehouse.EINVALID)
	wantHead(t, s, 25)
	verifyChain(t, s, 25, nil)
}

func testAuditConcurrentAppends(t *testing.T, open func(t *testing.T) Harness) {
	h := open(t)
	stores := []store.Store{h.Store}
	if h.Reopen != nil {
		stores = append(stores, h.Reopen(t)) // a second process or replica on the same database
	}
	const workers, each = 8, 20
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%len(stores)]
			for i := range each {
				err := s.Update(ctx, func(tx store.Tx) error {
					a := &gatehouse.Account{SystemID: "sys", ExternalID: fmt.Sprintf("w%d-%d", w, i), Username: "u"}
					if err := tx.UpsertAccount(ctx, a); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: fmt.Sprintf("worker-%d", w), Action: "account.observe",
						ObjectType: "account", ObjectID: a.ID})
				})
				if err != nil {
					t.Errorf("worker %d append %d: %v", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	evs := scanAll(t, h.Store)
	if len(evs) != workers*each {
		t.Fatalf("%d events, want %d", len(evs), workers*each)
	}
	perActor := map[string]int{}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: the sequence has a gap or duplicate", i+1, ev.Seq)
		}
		perActor[ev.Actor]++
	}
	for w := range workers {
		if n := perActor[fmt.Sprintf("worker-%d", w)]; n != each {
			t.Fatalf("worker %d has %d events, want %d", w, n, each)
		}
	}
	wantHead(t, h.Store, workers*each)
	verifyChain(t, h.Store, workers*each, nil)
}

// auditColumns lists the stored event columns in the order the forged insert uses.
const forgedInsert = `INSERT INTO audit_events (seq, time, actor, action, object_type, object_id, "before", "after",
	reason, reference, prev_hash, hash)
	SELECT CAST($1 AS BIGINT), time, CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT), CAST($5 AS TEXT),
	CAST(NULL AS TEXT), CAST($6 AS TEXT), CAST($7 AS TEXT), CAST($8 AS TEXT), CAST($9 AS TEXT), CAST($10 AS TEXT)
	FROM audit_events WHERE seq = $11`

// insertForged stores ev with the time of the stored event timeFrom: raw SQL cannot write a
// time portably, so a forger copies one.
func insertForged(ctx context.Context, h Harness, ev *gatehouse.AuditEvent, timeFrom int64) error {
	return h.Exec(ctx, forgedInsert, ev.Seq, ev.Actor, ev.Action, ev.ObjectType, ev.ObjectID, string(ev.After),
		ev.Reason, ev.Reference, ev.PrevHash, ev.Hash, timeFrom)
}

// shiftUp moves events k.. up by one seq, in two steps so that no statement collides with an
// existing key on either engine.
func shiftUp(ctx context.Context, h Harness, k int64) error {
	if err := h.Exec(ctx, `UPDATE audit_events SET seq = -seq WHERE seq >= $1`, k); err != nil {
		return err
	}
	return h.Exec(ctx, `UPDATE audit_events SET seq = 1 - seq WHERE seq < 0`)
}

// swap exchanges the contents of events i and j (every column but seq): the same as swapping
// their seqs.
func swap(ctx context.Context, h Harness, i, j int64) error {
	return joinErr(
		h.Exec(ctx, `UPDATE audit_events SET seq = -1 WHERE seq = $1`, i),
		h.Exec(ctx, `UPDATE audit_events SET seq = $1 WHERE seq = $2`, i, j),
		h.Exec(ctx, `UPDATE audit_events SET seq = $1 WHERE seq = -1`, j),
	)
}

// testAuditTamper changes the stored log the way someone with database access would, and checks
// that verification names the first bad sequence exactly.
func testAuditTamper(t *testing.T, open func(t *testing.T) Harness) {
	const n = 10
	forged := func(evs []*gatehouse.AuditEvent, after int) *gatehouse.AuditEvent {
		prev := evs[after-1]
		ev := &gatehouse.AuditEvent{Time: prev.Time, Actor: "mallory@example.com", Action: "grant.create", ObjectType: "grant",
			ObjectID: "obj-9", After: json.RawMessage(`{"entitlement":"erp/admin"}`), Reason: "looks legit"}
		if err := audit.Seal(ev, prev.Seq, prev.Hash); err != nil {
			panic(err)
		}
		return ev
	}
	tests := []struct {
		name   string
		tamper func(ctx context.Context, h Harness, evs []*gatehouse.AuditEvent) error
		want   int64 // first bad seq; 0 for an intact chain
	}{
		{"intact", func(context.Context, Harness, []*gatehouse.AuditEvent) error { return nil }, 0},
		{"altered actor", func(ctx context.Context, h Harness, _ []*gatehouse.AuditEvent) error {
			return h.Exec(ctx, `UPDATE audit_events SET actor = $1 WHERE seq = $2`, "someone-else@example.com", 4)
		}, 4},
		{"altered after", func(ctx context.Context, h Harness, _ []*gatehouse.AuditEvent) error {
			return h.Exec(ctx, `UPDATE audit_events SET "after" = $1 WHERE seq = $2`, `{"n":6,"name":"y"}`, 7)
		}, 7},
		{"altered time", func(ctx context.Context, h Harness, _ []*gatehouse.AuditEvent) error {
			return h.Exec(ctx, `UPDATE audit_events SET time = (SELECT time FROM audit_events WHERE seq = 1) WHERE seq = $1`, 6)
		}, 6},
		{"altered and re-hashed", func(ctx context.Context, h Harness, evs []*gatehouse.AuditEvent) error {
			// A forger who recomputes the altered event's hash still breaks the next link.
			ev := *evs[3]
			ev.Actor = "someone-else@example.com"
			ev.Hash = audit.Hash(&ev)
			return h.Exec(ctx, `UPDATE audit_events SET actor = $1, hash = $2 WHERE seq = $3`, ev.Actor, ev.Hash, 4)
		}, 5},
		{"deleted middle", func(ctx context.Context, h Harness, _ []*gatehouse.AuditEvent) error {
			return h.Exec(ctx, `DELETE FROM audit_events WHERE seq = $1`, 5)
		}, 5},
		{"deleted first", func(ctx context.Context, h Harness, _ []*gatehouse.AuditEvent) error {
			return h.Exec(ctx, `DELETE FROM audit_events WHERE seq = $1`, 1)
		}, 1},
		{"deleted last", func(ctx context.Context, h Harness, _ []*gatehouse.AuditEvent) error {
			return h.Exec(ctx, `DELETE FROM audit_events WHERE seq = $1`, n)
		}, n},
		{"inserted, sealed, seqs shifted", func(ctx context.Context, h Harness, evs []*gatehouse.AuditEvent) error {
			// The forged event links correctly to event 3; the original event 4, now at 5, does not
			// link to it (and its hash covers its old seq).
			if err := shiftUp(ctx, h, 4); err != nil {
				return err
			}
			return insertForged(ctx, h, forged(evs, 3), 3)
		}, 5},
		{"inserted, unsealed, seqs shifted", func(ctx context.Context, h Harness, evs []*gatehouse.AuditEvent) error {
			if err := shiftUp(ctx, h, 4); err != nil {
				return err
			}
			ev := forged(evs, 3)
			ev.Hash = strings.Repeat("f", 64)
			return insertForged(ctx, h, ev, 3)
		}, 4},
		{"appended past the head", func(ctx context.Context, h Harness, evs []*gatehouse.AuditEvent) error {
			return insertForged(ctx, h, forged(evs, n), n)
		}, n + 1},
		{"reordered", func(ctx context.Context, h Harness, _ []*gatehouse.AuditEvent) error { return swap(ctx, h, 3, 7) }, 3},
		{"reordered neighbours", func(ctx context.Context, h Harness, _ []*gatehouse.AuditEvent) error { return swap(ctx, h, 5, 6) }, 5},
		{"head moved back", func(ctx context.Context, h Harness, evs []*gatehouse.AuditEvent) error {
			return h.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, n-1, evs[n-2].Hash)
		}, n},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := open(t)
			evs := auditFixture(n, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
			appendEvents(t, h.Store, evs)
			verifyChain(t, h.Store, n, nil)
			if err := tc.tamper(t.Context(), h, evs); err != nil {
				t.Fatalf("tamper: %v", err)
			}
			if tc.want == 0 {
				verifyChain(t, h.Store, n, nil)
				return
			}
			verifyChain(t, h.Store, 0, &tc.want)
		})
	}
}

// testAuditAppendBatch checks that AppendAudits writes exactly what AppendAudit one by one
// would: the same sealed events, in order, in one chain with events appended singly around them.
func testAuditAppendBatch(t *testing.T, open func(t *testing.T) Harness) {
	single, batched := open(t).Store, open(t).Store
	ctx := t.Context()
	base := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	one, two := auditFixture(250, base), auditFixture(250, base)
	appendEvents(t, single, one)
	// 1 single, 247 batched (enough for the parallel canonicalization), 2 single, in one transaction.
	must(t, batched.Update(ctx, func(tx store.Tx) error {
		if err := tx.AppendAudit(ctx, two[0]); err != nil {
			return err
		}
		if err := tx.AppendAudits(ctx, two[1:248]); err != nil {
			return err
		}
		if err := tx.AppendAudits(ctx, nil); err != nil {
			return err
		}
		for _, ev := range two[248:] {
			if err := tx.AppendAudit(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	}))
	a, b := scanAll(t, single), scanAll(t, batched)
	if len(a) != 250 || len(b) != 250 {
		t.Fatalf("stored %d and %d events, want 250", len(a), len(b))
	}
	for i := range a {
		equal(t, fmt.Sprintf("event %d", i+1), b[i], a[i])
	}
	seq, hash, err := batched.AuditHead(ctx)
	must(t, err)
	if seq != 250 || hash != a[249].Hash {
		t.Fatalf("head = %d %s, want 250 %s", seq, hash, a[249].Hash)
	}
	v := audit.NewVerifier()
	for _, ev := range b {
		v.Add(ev)
	}
	if _, brk := v.Result(seq); brk != nil {
		t.Fatalf("batched chain breaks: %v", brk)
	}
	// Bad JSON fails the whole transaction.
	bad := auditFixture(1, base)
	bad[0].After = json.RawMessage(`{"x":`)
	err = batched.Update(ctx, func(tx store.Tx) error { return tx.AppendAudits(ctx, bad) })
	wantCode(t, err, gatehouse.EINVALID)
}
