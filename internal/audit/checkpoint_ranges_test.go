package audit

import (
	"context"
	"crypto/ed25519"
	"math/rand/v2"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// sliceScan serves stored events as a store's ScanAuditRange does.
func sliceScan(evs []*gatehouse.AuditEvent) ScanRange {
	return func(_ context.Context, from, to int64, fn func(*gatehouse.AuditEvent) error) error {
		for _, ev := range evs {
			if ev.Seq >= from && ev.Seq <= to {
				if err := fn(ev); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

func sameBreak(a, b *Break) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Seq == b.Seq && a.Through == b.Through && a.Checkpoint == b.Checkpoint && a.Reason == b.Reason
}

// TestRangesMatchInOrder: verifying by ranges read at once reports exactly what reading in order
// reports, over random logs, checkpoints and tampering.
func TestRangesMatchInOrder(t *testing.T) {
	old := minRange
	minRange = 1
	defer func() { minRange = old }()
	key := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	base := chain(t, 60)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 400 {
		evs := copyEvents(base)
		var seqs []int64
		for s := int64(rng.IntN(7)); s <= 60; s += int64(1 + rng.IntN(15)) {
			seqs = append(seqs, s)
		}
		cps := checkpointsAt(key, evs, seqs...)
		head, headHash := int64(60), evs[59].Hash
		switch rng.IntN(8) {
		case 0: // edit, not re-sealed
			evs[rng.IntN(60)].Reason = "x"
		case 1: // edit and re-seal
			j := rng.IntN(60)
			evs[j].Reason = "x"
			reseal(evs, j)
			headHash = evs[59].Hash
		case 2: // delete a run in the middle
			j := rng.IntN(58)
			n := 1 + rng.IntN(min(10, 59-j))
			evs = append(evs[:j:j], evs[j+n:]...)
		case 3: // delete a run and re-seal (renumbered)
			j := 1 + rng.IntN(57)
			n := 1 + rng.IntN(min(10, 59-j))
			evs = append(evs[:j:j], evs[j+n:]...)
			for k := j; k < len(evs); k++ {
				evs[k].Seq = int64(k + 1)
			}
			reseal(evs, j)
			head, headHash = int64(len(evs)), evs[len(evs)-1].Hash
		case 4: // truncate and move the head back
			n := 1 + rng.IntN(59)
			evs = evs[:n]
			head, headHash = int64(n), evs[n-1].Hash
		case 5: // truncate, head left
			evs = evs[:1+rng.IntN(59)]
		case 6: // swap two events' contents
			a, b := rng.IntN(60), rng.IntN(60)
			evs[a], evs[b] = evs[b], evs[a]
			evs[a].Seq, evs[b].Seq = int64(a+1), int64(b+1)
		case 7: // intact
		}
		v := NewCheckpointVerifier(pub, cps)
		for _, ev := range evs {
			v.Add(ev)
		}
		want := v.Result(head, headHash)
		for _, parts := range []int{2, 3, 4, 7} {
			gv, err := VerifyCheckpointRanges(t.Context(), pub, cps, head, parts, sliceScan(evs))
			if err != nil {
				t.Fatal(err)
			}
			got := gv.Result(head, headHash)
			if !sameBreak(got.Break, want.Break) || got.OK != want.OK || (want.OK && (got.Events != want.Events || got.Confirmed != want.Confirmed)) {
				t.Fatalf("case %d, %d parts: ranges %+v (confirmed %d), in order %+v (confirmed %d)", i, parts, got.Break, got.Confirmed, want.Break, want.Confirmed)
			}
		}
	}
}
