package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// checkpointsAt signs a checkpoint of evs at each of seqs, in order.
func checkpointsAt(key ed25519.PrivateKey, evs []*gatehouse.AuditEvent, seqs ...int64) []*Checkpoint {
	var out []*Checkpoint
	var prev *Checkpoint
	for _, s := range seqs {
		hash := GenesisHash
		if s > 0 {
			hash = evs[s-1].Hash
		}
		c := NextCheckpoint(prev, s, hash, time.Date(2026, 1, 1, 0, 0, int(s), 0, time.UTC))
		c.Sign(key)
		out = append(out, c)
		prev = c
	}
	return out
}

// reseal recomputes the chain from index i on, as an attacker who owns the database does.
func reseal(evs []*gatehouse.AuditEvent, i int) {
	for ; i < len(evs); i++ {
		prevSeq, prevHash := int64(0), GenesisHash
		if i > 0 {
			prevSeq, prevHash = evs[i-1].Seq, evs[i-1].Hash
		}
		SealCanonical(evs[i], prevSeq, prevHash)
	}
}

func copyEvents(evs []*gatehouse.AuditEvent) []*gatehouse.AuditEvent {
	out := make([]*gatehouse.AuditEvent, len(evs))
	for i, ev := range evs {
		c := *ev
		out[i] = &c
	}
	return out
}

func TestCheckpointVerify(t *testing.T) {
	key := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	tests := []struct {
		name string
		// tamper returns the stored events and head, and the checkpoints the verifier is given.
		tamper    func(evs []*gatehouse.AuditEvent, cps []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint)
		pub       ed25519.PublicKey
		wantSeq   int64 // 0: intact
		wantThru  int64
		reason    string
		plainSeen bool // whether the chain alone (no checkpoints, as before) finds it
	}{
		{name: "intact", tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
			return e, 10, e[9].Hash, c
		}},
		{name: "edited, not re-sealed", plainSeen: true, wantSeq: 5, reason: "altered",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				e[4].Reason = "nothing to see"
				return e, 10, e[9].Hash, c
			}},
		{name: "edited and re-sealed", wantSeq: 4, wantThru: 6, reason: "re-sealed",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				e[4].Reason = "nothing to see"
				reseal(e, 4)
				return e, 10, e[9].Hash, c
			}},
		{name: "checkpointed event re-sealed", wantSeq: 4, wantThru: 6, reason: "re-sealed",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				e[5].Actor = "mallory@example.com"
				reseal(e, 5)
				return e, 10, e[9].Hash, c
			}},
		{name: "middle deleted and re-sealed", wantSeq: 10, wantThru: 10, reason: "not confirmed either",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				e = append(e[:7:7], e[8:]...)
				reseal(e, 7)
				return e, 9, e[8].Hash, c
			}},
		{name: "tail truncated, head moved back", wantSeq: 9, wantThru: 10, reason: "missing",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				return e[:8], 8, e[7].Hash, c
			}},
		{name: "single checkpointed event re-sealed", wantSeq: 10, reason: "event 10 was altered",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				c = append(c[:2:2], checkpointsAt(key, e, 9)[0])
				c[2].Number, c[2].Prev = 3, c[1].Digest()
				c[2].Sign(key)
				c = append(c, NextCheckpoint(c[2], 10, e[9].Hash, c[2].Time))
				c[3].Sign(key)
				e[9].Reason = "rewritten"
				reseal(e, 9)
				return e, 10, e[9].Hash, c
			}},
		{name: "head moved to another hash", wantSeq: 10, reason: "head was moved",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				return e, 10, e[8].Hash, c
			}},
		{name: "events reordered and re-sealed", wantSeq: 1, wantThru: 3, reason: "re-sealed",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				e[0], e[1] = e[1], e[0]
				reseal(e, 0)
				return e, 10, e[9].Hash, c
			}},
		{name: "forged checkpoint", wantSeq: 3, reason: "signature does not verify",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				c[0].HeadHash = e[1].Hash // any edit of a signed field
				return e, 10, e[9].Hash, c
			}},
		{name: "checkpoint re-signed with another key", wantSeq: 6, reason: "names key",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				c[1].Sign(newKey(t))
				return e, 10, e[9].Hash, c
			}},
		{name: "checkpoints reordered", wantSeq: 3, reason: "follows checkpoint 2",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				c[0], c[1] = c[1], c[0]
				return e, 10, e[9].Hash, c
			}},
		{name: "checkpoint removed", wantSeq: 10, reason: "missing (removed)",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				return e, 10, e[9].Hash, []*Checkpoint{c[0], c[2]}
			}},
		{name: "wrong public key", pub: newKey(t).Public().(ed25519.PublicKey), wantSeq: 3, reason: "not the given public key",
			tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
				return e, 10, e[9].Hash, c
			}},
		{name: "earlier checkpoints archived elsewhere", tamper: func(e []*gatehouse.AuditEvent, c []*Checkpoint) ([]*gatehouse.AuditEvent, int64, string, []*Checkpoint) {
			return e, 10, e[9].Hash, c[1:]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := chain(t, 10)
			cps := checkpointsAt(key, evs, 3, 6, 10)
			stored, headSeq, headHash, given := tt.tamper(copyEvents(evs), cps)
			p := pub
			if tt.pub != nil {
				p = tt.pub
			}
			v := NewCheckpointVerifier(p, given)
			for _, ev := range stored {
				v.Add(ev)
			}
			res := v.Result(headSeq, headHash)
			// In batches, hashed in parallel: the same answer.
			vb := NewCheckpointVerifier(p, given)
			for i := 0; i < len(stored); i += 3 {
				vb.AddBatch(stored[i:min(i+3, len(stored))])
			}
			if rb := vb.Result(headSeq, headHash); (rb.Break == nil) != (res.Break == nil) || (rb.Break != nil && *rb.Break != *res.Break) {
				t.Errorf("AddBatch: %+v, Add: %+v", rb.Break, res.Break)
			}
			_, plain := verify(stored, headSeq)
			// Without checkpoints, only an edit that was not re-sealed shows.
			if (plain != nil) != tt.plainSeen {
				t.Errorf("the chain alone (no checkpoints) says %v; want found=%v", plain, tt.plainSeen)
			}
			if tt.wantSeq == 0 {
				if !res.OK || res.Break != nil {
					t.Fatalf("intact log reported broken: %+v", res.Break)
				}
				if res.Confirmed != 10 || res.Events != 10 {
					t.Errorf("confirmed %d of %d events, want 10 of 10", res.Confirmed, res.Events)
				}
				return
			}
			if res.OK || res.Break == nil {
				t.Fatalf("tampering not detected")
			}
			b := res.Break
			if b.Seq != tt.wantSeq || b.Through != tt.wantThru || !strings.Contains(b.Reason, tt.reason) {
				t.Fatalf("break = seq %d through %d %q, want %d through %d with %q", b.Seq, b.Through, b.Reason, tt.wantSeq, tt.wantThru, tt.reason)
			}
		})
	}
}

// TestCheckpointLimits pins down what checkpoints cannot see: a change after the newest
// checkpoint, re-sealed, is as invisible as without them (docs/audit.md says so).
func TestCheckpointLimits(t *testing.T) {
	key := newKey(t)
	evs := chain(t, 10)
	cps := checkpointsAt(key, evs, 5)
	evs[7].Reason = "after the newest checkpoint"
	reseal(evs, 7)
	v := NewCheckpointVerifier(key.Public().(ed25519.PublicKey), cps)
	for _, ev := range evs {
		v.Add(ev)
	}
	if res := v.Result(10, evs[9].Hash); !res.OK || res.Confirmed != 5 {
		t.Fatalf("want intact with sequence 5 confirmed, got %+v", res)
	}
}

func TestCheckpointSignedBytes(t *testing.T) {
	key := newKey(t)
	c := NextCheckpoint(nil, 7, strings.Repeat("a", 64), time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.FixedZone("CET", 3600)))
	c.Sign(key)
	back, err := ParseCheckpoint(c.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("a checkpoint read back from its file does not verify: %v", err)
	}
	if back.Digest() != c.Digest() {
		t.Errorf("digest changed through the file")
	}
	// Every signed field is covered.
	for name, mutate := range map[string]func(*Checkpoint){
		"version": func(c *Checkpoint) { c.Version++ }, "number": func(c *Checkpoint) { c.Number++ },
		"seq": func(c *Checkpoint) { c.Seq++ }, "head_hash": func(c *Checkpoint) { c.HeadHash = strings.Repeat("b", 64) },
		"time": func(c *Checkpoint) { c.Time = c.Time.Add(time.Microsecond) }, "prev": func(c *Checkpoint) { c.Prev = "x" },
		"key_id": func(c *Checkpoint) { c.KeyID += "x" },
	} {
		m := *back
		mutate(&m)
		if m.Digest() == back.Digest() {
			t.Errorf("changing %s does not change the signed bytes", name)
		}
	}
	if _, err := ParseCheckpoint([]byte(`{"version":1,"number":1,"extra":"x"}`)); err == nil {
		t.Error("a checkpoint with an unknown field was accepted")
	}
}

func TestKeys(t *testing.T) {
	privPEM, pubPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public()) {
		t.Fatal("public key does not match the private key")
	}
	for _, tc := range []struct {
		name string
		data []byte
		priv bool
		want string
	}{
		{"empty", nil, true, "no PEM block"},
		{"public as private", pubPEM, true, `"PUBLIC KEY" block`},
		{"private as public", privPEM, false, "never the private key"},
		{"RSA", []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), true, `"RSA PRIVATE KEY" block`},
		{"garbage DER", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), true, "not a PKCS #8"},
	} {
		var err error
		if tc.priv {
			_, err = ParsePrivateKey(tc.data)
		} else {
			_, err = ParsePublicKey(tc.data)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestSigner(t *testing.T) {
	key := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	dir := filepath.Join(t.TempDir(), "cps")
	evs := chain(t, 10)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	s, err := NewSigner(key, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Sign(0, GenesisHash, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Sign(4, evs[3].Hash, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A restart continues the chain from the newest file.
	s2, err := NewSigner(key, dir)
	if err != nil {
		t.Fatal(err)
	}
	c, path, err := s2.Sign(10, evs[9].Hash, now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c.Number != 3 || filepath.Base(path) != "checkpoint-0000000003-seq-000000000010.json" {
		t.Errorf("third checkpoint: number %d file %s", c.Number, path)
	}
	files, err := ReadCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	cps := make([]*Checkpoint, len(files))
	for i, f := range files {
		cps[i] = f.Checkpoint
	}
	v := NewCheckpointVerifier(pub, cps)
	for _, ev := range evs {
		v.Add(ev)
	}
	if res := v.Result(10, evs[9].Hash); !res.OK || res.Checkpoints != 3 {
		t.Fatalf("signed directory does not verify: %+v", res)
	}
	// A head behind the newest checkpoint is refused, not blessed.
	if _, _, err := s2.Sign(8, evs[7].Hash, now.Add(3*time.Hour)); !errors.Is(err, ErrHeadBehind) {
		t.Errorf("signing a head moved back: err %v, want ErrHeadBehind", err)
	}
	if _, _, err := s2.Sign(10, evs[8].Hash, now.Add(3*time.Hour)); !errors.Is(err, ErrHeadBehind) {
		t.Errorf("signing a different hash at the same sequence: err %v, want ErrHeadBehind", err)
	}
	// Another key does not chain onto this directory.
	if _, err := NewSigner(newKey(t), dir); err == nil || !strings.Contains(err.Error(), "new checkpoint directory") {
		t.Errorf("another key's signer on this directory: %v", err)
	}
	// Nor does a forged newest file.
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), `"seq": 10`, `"seq": 11`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSigner(key, dir); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("signer over a forged newest checkpoint: %v", err)
	}
}
