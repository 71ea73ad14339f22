package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// slowCompact is compact without the fast path: the definition of canonical.
func slowCompact(raw []byte) ([]byte, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

var canonicalSeeds = []string{
	`{}`, `[]`, `{"b":1,"a":2}`, ` { "z" : [ 1 , 2.50, -0.1e+10 ], "a" : { "y": null, "x": true } } `,
	`{"id":"0195","email":"ann@example.com","attributes":{"cost_center":"C1","b":"x"},"roles":[]}`,
	`"plain"`, `"é ü"`, `"a<b"`, `"a\"b"`, `"\u00e9"`, "\"\u2028\"", "\"\xff\"", `{"a":1,"a":2}`,
	`{"a":1}x`, `{"a":1} {"b":2}`, `01`, `-`, `1.`, `1e`, `[1,]`, `{"a"}`, `{"a":}`, `tru`, `nul`,
	`{"k\u0041":1}`, `{"B":1,"a":2,"_":3,"é":4}`, `[{"b":{"d":1,"c":2},"a":[{"y":1,"x":2}]}]`, "\t\"x\"\n",
	`123456789012345678901234567890`, `{"a":"x\ty"}`, "{\"a\":\"x\ty\"}", `null `, ` null`,
}

// TestCanonicalFast checks the fast path answers exactly what decode-and-marshal answers, or
// steps aside.
func TestCanonicalFast(t *testing.T) {
	for _, in := range canonicalSeeds {
		checkCanonical(t, []byte(in))
	}
	// The objects the service encodes take the fast path.
	for _, in := range []string{`{"b":1,"a":{"d":[1,2],"c":"x y"}}`, `{"id":"g1","identity_id":"i1","granted_at":"2026-03-02T09:00:00Z"}`} {
		if _, ok := canonicalFast([]byte(in)); !ok {
			t.Errorf("fast path refused %s", in)
		}
	}
}

func FuzzCanonicalFast(f *testing.F) {
	for _, in := range canonicalSeeds {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkCanonical(t, in) })
}

func checkCanonical(t *testing.T, in []byte) {
	t.Helper()
	fast, ok := canonicalFast(in)
	if !ok {
		return
	}
	slow, err := slowCompact(in)
	if err != nil {
		t.Fatalf("fast path accepted %q, which does not decode: %v", in, err)
	}
	if !bytes.Equal(fast, slow) {
		t.Fatalf("%q: fast %q, slow %q", in, fast, slow)
	}
}

// referenceHash is Hash as first written (a dozen writes per event): the chain's definition,
// which existing logs were sealed with. Hash must answer exactly the same.
func referenceHash(ev *gatehouse.AuditEvent) string {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	field("gatehouse-audit-v1")
	field(strconv.FormatInt(ev.Seq, 10))
	field(ev.Time.UTC().Truncate(TimePrecision).Format(time.RFC3339Nano))
	field(ev.Actor)
	field(string(ev.Action))
	field(ev.ObjectType)
	field(ev.ObjectID)
	field(string(ev.Before))
	field(string(ev.After))
	field(ev.Reason)
	field(ev.Reference)
	field(ev.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

func TestHashMatchesReference(t *testing.T) {
	evs := []*gatehouse.AuditEvent{
		{},
		{Seq: 1, Time: time.Date(2026, 3, 2, 9, 0, 0, 123_456_789, time.FixedZone("CET", 3600)), Actor: "ops@example.com",
			Action: "grant.create", ObjectType: "grant", ObjectID: "g1", After: []byte(`{"a":1}`), Reason: "r\nx", Reference: "hr-import:1",
			PrevHash: GenesisHash},
		{Seq: -5, Time: time.Unix(0, 0), Actor: strings.Repeat("é", 300), Before: []byte(`{}`), After: []byte(strings.Repeat("x", 5000))},
	}
	for i, ev := range evs {
		if got, want := Hash(ev), referenceHash(ev); got != want {
			t.Errorf("event %d: Hash %s, reference %s", i, got, want)
		}
	}
}

func FuzzHashMatchesReference(f *testing.F) {
	f.Add(int64(7), int64(1_700_000_000_123_456), "a", "b", "c", "d", []byte(`{"x":1}`), []byte(nil), "r", "ref", "prev")
	f.Fuzz(func(t *testing.T, seq, micros int64, actor, action, otype, oid string, before, after []byte, reason, ref, prev string) {
		ev := &gatehouse.AuditEvent{Seq: seq, Time: time.UnixMicro(micros), Actor: actor, Action: gatehouse.AuditAction(action), ObjectType: otype,
			ObjectID: oid, Before: before, After: after, Reason: reason, Reference: ref, PrevHash: prev}
		if got, want := Hash(ev), referenceHash(ev); got != want {
			t.Fatalf("Hash %s, reference %s", got, want)
		}
	})
}
