package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// chain builds n sealed events, as a store would.
func chain(t *testing.T, n int) []*gatehouse.AuditEvent {
	t.Helper()
	var evs []*gatehouse.AuditEvent
	prevSeq, prevHash := int64(0), GenesisHash
	for i := range n {
		ev := &gatehouse.AuditEvent{
			Time: time.Date(2026, 1, 1, 0, 0, i, 123456789, time.UTC), Actor: "a@example.com",
			Action: "identity.update", ObjectType: "identity", ObjectID: "id-1",
			Before: json.RawMessage(`{"b": 1, "a": [1, 2]}`), After: json.RawMessage(`{"a":[1,2],"b":2}`),
		}
		if err := Seal(ev, prevSeq, prevHash); err != nil {
			t.Fatal(err)
		}
		prevSeq, prevHash = ev.Seq, ev.Hash
		evs = append(evs, ev)
	}
	return evs
}

func verify(evs []*gatehouse.AuditEvent, head int64) (int64, *Break) {
	v := NewVerifier()
	for _, ev := range evs {
		v.Add(ev)
	}
	return v.Result(head)
}

func TestSealNormalizes(t *testing.T) {
	ev := chain(t, 1)[0]
	if got := string(ev.Before); got != `{"a":[1,2],"b":1}` {
		t.Errorf("before not canonical: %s", got)
	}
	if ev.Time.Nanosecond()%1000 != 0 {
		t.Errorf("time keeps sub-microsecond precision: %v", ev.Time)
	}
	if ev.Seq != 1 || ev.PrevHash != GenesisHash || len(ev.Hash) != 64 {
		t.Errorf("bad seal: seq %d prev %s hash %s", ev.Seq, ev.PrevHash, ev.Hash)
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func([]*gatehouse.AuditEvent) ([]*gatehouse.AuditEvent, int64)
		wantSeq int64 // 0: intact
		reason  string
	}{
		{"intact", func(e []*gatehouse.AuditEvent) ([]*gatehouse.AuditEvent, int64) { return e, 10 }, 0, ""},
		{"altered actor", func(e []*gatehouse.AuditEvent) ([]*gatehouse.AuditEvent, int64) {
			e[4].Actor = "mallory@example.com"
			return e, 10
		}, 5, "altered"},
		{"altered after JSON", func(e []*gatehouse.AuditEvent) ([]*gatehouse.AuditEvent, int64) {
			e[6].After = json.RawMessage(`{"a":[1,2],"b":3}`)
			return e, 10
		}, 7, "altered"},
		{"deleted middle", func(e []*gatehouse.AuditEvent) ([]*gatehouse.AuditEvent, int64) {
			return append(e[:3:3], e[4:]...), 10
		}, 4, "missing"},
		{"deleted last", func(e []*gatehouse.AuditEvent) ([]*gatehouse.AuditEvent, int64) { return e[:9], 10 }, 10, "missing"},
		{"inserted and renumbered", func(e []*gatehouse.AuditEvent) ([]*gatehouse.AuditEvent, int64) {
			forged := *e[2]
			forged.Actor = "mallory@example.com"
			forged.Hash = Hash(&forged) // the forger can compute hashes; the link to the next event breaks
			out := append([]*gatehouse.AuditEvent{}, e[:3]...)
			out = append(out, &forged)
			for _, ev := range e[3:] {
				c := *ev
				c.Seq++
				out = append(out, &c)
			}
			out[3].Seq = 4
			out[3].PrevHash = e[2].Hash
			out[3].Hash = Hash(out[3])
			return out, 11
		}, 5, "previous-hash"},
		{"appended past head", func(e []*gatehouse.AuditEvent) ([]*gatehouse.AuditEvent, int64) {
			forged := &gatehouse.AuditEvent{Time: time.Now(), Actor: "x", Action: "y"}
			if err := Seal(forged, e[9].Seq, e[9].Hash); err != nil {
				panic(err)
			}
			return append(e, forged), 10
		}, 11, "past the chain head"},
		{"reordered", func(e []*gatehouse.AuditEvent) ([]*gatehouse.AuditEvent, int64) {
			// Swap the contents but keep the sequence numbers, as an UPDATE of two rows would.
			a, b := *e[2], *e[5]
			a.Seq, b.Seq = 6, 3
			e[2], e[5] = &b, &a
			return e, 10
		}, 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, head := tt.tamper(chain(t, 10))
			_, brk := verify(evs, head)
			if tt.wantSeq == 0 {
				if brk != nil {
					t.Fatalf("intact chain reported broken: %v", brk)
				}
				return
			}
			if brk == nil {
				t.Fatalf("tampering not detected")
			}
			if brk.Seq != tt.wantSeq || !strings.Contains(brk.Reason, tt.reason) {
				t.Fatalf("break = %d %q, want seq %d with %q", brk.Seq, brk.Reason, tt.wantSeq, tt.reason)
			}
		})
	}
}

func TestHashCoversEveryField(t *testing.T) {
	base := chain(t, 1)[0]
	mutations := map[string]func(*gatehouse.AuditEvent){
		"seq":         func(e *gatehouse.AuditEvent) { e.Seq++ },
		"time":        func(e *gatehouse.AuditEvent) { e.Time = e.Time.Add(time.Microsecond) },
		"actor":       func(e *gatehouse.AuditEvent) { e.Actor += "x" },
		"action":      func(e *gatehouse.AuditEvent) { e.Action += "x" },
		"object_type": func(e *gatehouse.AuditEvent) { e.ObjectType += "x" },
		"object_id":   func(e *gatehouse.AuditEvent) { e.ObjectID += "x" },
		"before":      func(e *gatehouse.AuditEvent) { e.Before = json.RawMessage(`{}`) },
		"after":       func(e *gatehouse.AuditEvent) { e.After = nil },
		"reason":      func(e *gatehouse.AuditEvent) { e.Reason = "r" },
		"reference":   func(e *gatehouse.AuditEvent) { e.Reference = "x" },
		"prev_hash":   func(e *gatehouse.AuditEvent) { e.PrevHash = strings.Repeat("1", 64) },
		// Field boundaries: moving text from one field to the next must change the hash.
		"boundary": func(e *gatehouse.AuditEvent) { e.Actor, e.Action = e.Actor+string(e.Action[:1]), e.Action[1:] },
	}
	for name, mutate := range mutations {
		c := *base
		mutate(&c)
		if Hash(&c) == base.Hash {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
}
