package audit

import (
	"bytes"
	"encoding/json"
	"testing"
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
