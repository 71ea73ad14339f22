package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math"
	"sync"

	"github.com/gatehouse/gatehouse"
)

// ScanRange calls fn for every stored event with from <= seq <= to, in sequence order.
type ScanRange func(ctx context.Context, from, to int64, fn func(*gatehouse.AuditEvent) error) error

// minRange is the smallest range worth a reader of its own (a variable for tests).
var minRange int64 = 50_000

// batchSize is how many events a range verifier hashes at once.
const batchSize = 4096

// VerifyCheckpointRanges is a CheckpointVerifier fed every stored event (call Result on it),
// reading parts ranges of the log at once, split up to head: reading rows is most of the cost
// of a verification, and each range is checked on its own (its links, hashes and the
// checkpoints that fall in it) while the links between ranges are checked afterwards, so the
// answer is the one reading in order gives. Each reader holds one batch: memory stays flat.
// (PostgreSQL serves the ranges in parallel; the embedded SQLite driver gains little, its
// library serializing much of the row decoding.)
func VerifyCheckpointRanges(ctx context.Context, pub ed25519.PublicKey, cps []*Checkpoint, head int64,
	parts int, scan ScanRange) (*CheckpointVerifier, error) {
	if parts < 1 || head/int64(parts) < minRange {
		parts = max(1, int(head/minRange))
	}
	base := NewCheckpointVerifier(pub, cps)
	if base.bad != nil || parts == 1 {
		if base.bad == nil {
			if err := scanBatches(ctx, scan, math.MinInt64+1, math.MaxInt64, base, nil); err != nil {
				return nil, err
			}
		}
		return base, nil
	}

	size := head / int64(parts)
	ranges := make([]*rangeVerifier, parts)
	for k := range ranges {
		from, to := int64(k)*size+1, int64(k+1)*size
		if k == 0 {
			from = math.MinInt64 + 1 // tampered negative sequences too
		}
		if k == parts-1 {
			to = math.MaxInt64 // and anything past the head
		}
		ranges[k] = newRangeVerifier(cps, base.next, from, to, k == 0)
	}
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for k, r := range ranges {
		wg.Go(func() { errs[k] = scanBatches(ctx, scan, r.from, r.to, r.v, &r.first) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	// Join the ranges in order, as one verifier reading them in order would see them.
	out := &CheckpointVerifier{chain: NewVerifier(), cps: cps, next: base.next}
	for k, r := range ranges {
		rv := r.v
		if rv.chain.count == 0 {
			continue // an empty range: the next non-empty one (or the end) shows the gap
		}
		first := r.first
		var brk *Break
		switch {
		case k > 0 && out.chain.prevSeq != r.from-1:
			// The ranges before ended early: the first event here is where the gap shows.
			brk = &Break{Seq: out.chain.prevSeq + 1, at: first.Seq, kind: kindSeq,
				Reason: fmt.Sprintf("sequence %d is missing (deleted); next stored is %d", out.chain.prevSeq+1, first.Seq)}
		default:
			brk = rv.bad
			if k > 0 && first.Seq == r.from && first.PrevHash != out.chain.prevHash &&
				(brk == nil || brk.at > first.Seq || (brk.at == first.Seq && brk.kind > kindLink)) {
				brk = &Break{Seq: first.Seq, at: first.Seq, kind: kindLink,
					Reason: "previous-hash link does not match the preceding event (inserted, deleted or reordered)"}
			}
		}
		out.chain.count += rv.chain.count
		if brk != nil {
			out.bad = brk
			out.chain.bad = brk
			break
		}
		out.chain.prevSeq, out.chain.prevHash = rv.chain.prevSeq, rv.chain.prevHash
		out.next, out.good = rv.next, max(out.good, rv.good)
	}
	return out, nil
}

// rangeVerifier checks one range of the log: a CheckpointVerifier that starts after sequence
// from-1 without knowing its hash, with the checkpoints that fall in the range.
type rangeVerifier struct {
	from, to int64
	v        *CheckpointVerifier
	first    gatehouse.AuditEvent // Seq and PrevHash of the first event read
}

func newRangeVerifier(cps []*Checkpoint, start int, from, to int64, head bool) *rangeVerifier {
	v := &CheckpointVerifier{chain: NewVerifier(), cps: cps, next: start}
	if !head {
		v.chain.prevSeq, v.chain.prevHash, v.chain.linkUnknown = from-1, "", true
	}
	// Checkpoints before the range were matched by the ranges before it: if one of those did
	// not match, the join reports that first.
	for v.next < len(cps) && cps[v.next].Seq < from {
		v.good = cps[v.next].Seq
		v.next++
	}
	return &rangeVerifier{from: from, to: to, v: v}
}

// scanBatches reads a range into v in batches, hashing each batch on every CPU; first, when
// not nil, gets the first event's Seq and PrevHash.
func scanBatches(ctx context.Context, scan ScanRange, from, to int64, v *CheckpointVerifier, first *gatehouse.AuditEvent) error {
	batch := make([]*gatehouse.AuditEvent, 0, batchSize)
	seen := false
	err := scan(ctx, from, to, func(ev *gatehouse.AuditEvent) error {
		if !seen && first != nil {
			first.Seq, first.PrevHash = ev.Seq, ev.PrevHash
		}
		seen = true
		batch = append(batch, ev)
		if len(batch) == batchSize {
			v.AddBatch(batch)
			batch = batch[:0]
		}
		return nil
	})
	if err != nil {
		return err
	}
	v.AddBatch(batch)
	return nil
}
