package audit

import (
	"crypto/ed25519"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
)

// CheckCheckpoints verifies checkpoints on their own, in the order given (by number): each is
// signed by pub, numbers follow one another, each names the previous one's Digest, and the head
// they sign never moves back. It needs no events, so a directory of checkpoint files verifies
// offline. The first problem is returned; nil when they all hold.
//
// The first checkpoint given may be a later one than number 1 (older files archived
// elsewhere); from there on nothing may be missing.
func CheckCheckpoints(pub ed25519.PublicKey, cps []*Checkpoint) *Break {
	for i, c := range cps {
		bad := func(format string, args ...any) *Break {
			return &Break{Seq: c.Seq, Checkpoint: c.Number, Reason: fmt.Sprintf(format, args...)}
		}
		if err := c.Verify(pub); err != nil {
			return bad("%v", err)
		}
		if c.Seq == 0 && c.HeadHash != GenesisHash {
			return bad("checkpoint %d signs an empty log with a hash other than the genesis hash", c.Number)
		}
		if i == 0 {
			if c.Number == 1 && c.Prev != GenesisHash {
				return bad("checkpoint 1 names a previous checkpoint: it is not the first of its chain")
			}
			continue
		}
		p := cps[i-1]
		switch {
		case c.Number == p.Number:
			return bad("checkpoint %d appears twice (two checkpoints of one number: two signers, or a copy)", c.Number)
		case c.Number < p.Number:
			return bad("checkpoint %d follows checkpoint %d (reordered)", c.Number, p.Number)
		case c.Number > p.Number+1:
			return bad("checkpoints %d..%d are missing (removed); checkpoint %d follows %d", p.Number+1, c.Number-1, c.Number, p.Number)
		case c.Prev != p.Digest():
			return bad("checkpoint %d does not chain to checkpoint %d (replaced, or from another chain)", c.Number, p.Number)
		case c.Seq < p.Seq || (c.Seq == p.Seq && c.HeadHash != p.HeadHash):
			return bad("checkpoint %d signs a head (sequence %d) behind or different from checkpoint %d's (sequence %d)", c.Number, c.Seq, p.Number, p.Seq)
		case c.Time.Before(p.Time):
			return bad("checkpoint %d is dated before checkpoint %d", c.Number, p.Number)
		}
	}
	return nil
}

// CheckpointVerifier checks stored events, fed in order as to Verifier, against signed
// checkpoints: besides the chain's own checks, the event at each checkpoint's sequence must
// carry the hash the checkpoint signed. It keeps the checkpoints and one event, so memory does
// not grow with the log.
type CheckpointVerifier struct {
	chain *Verifier
	cps   []*Checkpoint
	next  int   // the first checkpoint not yet matched
	good  int64 // the highest sequence a checkpoint has confirmed
	bad   *Break
	ok    []bool // AddBatch's scratch
}

// NewCheckpointVerifier starts a verification against cps (sorted by number; see
// CheckCheckpoints, which it runs first).
func NewCheckpointVerifier(pub ed25519.PublicKey, cps []*Checkpoint) *CheckpointVerifier {
	v := &CheckpointVerifier{chain: NewVerifier(), cps: cps}
	if len(cps) == 0 {
		v.bad = &Break{Reason: errNoCheckpoints.Error()}
		return v
	}
	v.bad = CheckCheckpoints(pub, cps)
	// Checkpoints of an empty log hold before the first event.
	for v.bad == nil && v.next < len(cps) && cps[v.next].Seq == 0 {
		v.next++
	}
	return v
}

// Add checks the next stored event.
func (v *CheckpointVerifier) Add(ev *gatehouse.AuditEvent) {
	if v.bad != nil {
		return
	}
	v.add(ev, Hash(ev) == ev.Hash)
}

func (v *CheckpointVerifier) add(ev *gatehouse.AuditEvent, hashOK bool) {
	v.chain.add(ev, hashOK)
	if v.chain.bad != nil {
		v.bad = v.chain.bad
		return
	}
	for v.next < len(v.cps) && v.cps[v.next].Seq <= ev.Seq {
		c := v.cps[v.next]
		if c.Seq < ev.Seq || c.HeadHash != ev.Hash {
			// The chain is consistent up to here, so whoever changed it re-sealed it: the change
			// is somewhere after the last confirmed sequence.
			b := &Break{Seq: v.good + 1, Through: c.Seq, Checkpoint: c.Number, at: ev.Seq, kind: kindCheckpoint}
			if b.Seq == c.Seq {
				b.Through = 0
				b.Reason = fmt.Sprintf("event %d was altered and the chain re-sealed: its hash is not the one checkpoint %d signed at %s",
					c.Seq, c.Number, c.Time.Format(time.RFC3339))
			} else {
				b.Reason = fmt.Sprintf("events %d..%d were altered, inserted or deleted and the chain re-sealed: the hash at sequence %d is not the one checkpoint %d signed at %s",
					b.Seq, c.Seq, c.Seq, c.Number, c.Time.Format(time.RFC3339))
			}
			v.bad = b
			return
		}
		v.good = c.Seq
		v.next++
	}
}

// Last returns the sequence of the last event added.
func (v *CheckpointVerifier) Last() int64 { return v.chain.Last() }

// CheckpointResult is the outcome of a verification against checkpoints.
type CheckpointResult struct {
	OK          bool  `json:"ok"`
	Events      int64 `json:"events"`      // events checked
	Checkpoints int   `json:"checkpoints"` // checkpoints checked
	// Confirmed is the highest sequence a signed checkpoint confirms; events after it are only
	// as good as the hash chain (see docs/audit.md).
	Confirmed int64       `json:"confirmed_seq"`
	Newest    *Checkpoint `json:"newest_checkpoint,omitempty"`
	HeadSeq   int64       `json:"head_seq"`
	HeadHash  string      `json:"head_hash,omitempty"`
	Break     *Break      `json:"break,omitempty"`
}

// Result finishes the verification. headSeq and headHash are the store's chain head (as for
// Verifier.Result; headHash "" skips its check): a checkpoint past the last stored event means
// the tail was deleted and the head moved back to hide it.
func (v *CheckpointVerifier) Result(headSeq int64, headHash string) *CheckpointResult {
	res := &CheckpointResult{Checkpoints: len(v.cps), Confirmed: v.good, HeadSeq: headSeq, HeadHash: headHash}
	if n := len(v.cps); n > 0 {
		res.Newest = v.cps[n-1]
	}
	res.Events, res.Break = v.chain.Result(headSeq)
	if v.bad != nil {
		res.Break = v.bad
	}
	if res.Break == nil && v.next < len(v.cps) {
		c, last := v.cps[v.next], v.chain.Last()
		res.Break = &Break{Seq: last + 1, Through: c.Seq, Checkpoint: c.Number,
			Reason: fmt.Sprintf("events %d..%d are missing: checkpoint %d signed the chain head at sequence %d on %s (deleted from the end, head moved back)",
				last+1, c.Seq, c.Number, c.Seq, c.Time.Format(time.RFC3339))}
		if v.good < last {
			res.Break.Reason += fmt.Sprintf("; events %d..%d, after checkpoint-confirmed sequence %d, are not confirmed either", v.good+1, last, v.good)
		}
	}
	if res.Break == nil && headHash != "" && headSeq == v.chain.Last() && headHash != v.chain.prevHash {
		res.Break = &Break{Seq: headSeq, Reason: fmt.Sprintf("the chain head names sequence %d with a hash that is not event %d's (the head was moved)", headSeq, headSeq)}
	}
	res.OK = res.Break == nil
	return res
}

// VerifyCheckpointFiles is the offline check of checkpoints alone, as a result.
func VerifyCheckpointFiles(pub ed25519.PublicKey, cps []*Checkpoint) *CheckpointResult {
	res := &CheckpointResult{Checkpoints: len(cps)}
	if len(cps) == 0 {
		res.Break = &Break{Reason: errNoCheckpoints.Error()}
		return res
	}
	res.Newest = cps[len(cps)-1]
	res.Break = CheckCheckpoints(pub, cps)
	if res.Break == nil {
		res.Confirmed = res.Newest.Seq
	}
	res.OK = res.Break == nil
	return res
}

// hashesMatch sets ok[i] to whether evs[i]'s content matches its stored hash, on every CPU:
// each event's hash depends only on its own stored fields (PrevHash included), so only the
// linking, not the hashing, has to follow the chain's order.
func hashesMatch(evs []*gatehouse.AuditEvent, ok []bool) {
	workers := min(runtime.GOMAXPROCS(0), (len(evs)+255)/256)
	if workers <= 1 {
		for i, ev := range evs {
			ok[i] = Hash(ev) == ev.Hash
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (len(evs) + workers - 1) / workers
	for start := 0; start < len(evs); start += chunk {
		end := min(start+chunk, len(evs))
		wg.Go(func() {
			for i := start; i < end; i++ {
				ok[i] = Hash(evs[i]) == evs[i].Hash
			}
		})
	}
	wg.Wait()
}

// AddBatch is Add of each event in evs, in order, with their hashes computed in parallel.
func (v *CheckpointVerifier) AddBatch(evs []*gatehouse.AuditEvent) {
	if v.bad != nil || len(evs) == 0 {
		return
	}
	if cap(v.ok) < len(evs) {
		v.ok = make([]bool, len(evs))
	}
	ok := v.ok[:len(evs)]
	hashesMatch(evs, ok)
	for i, ev := range evs {
		if v.bad != nil {
			return
		}
		v.add(ev, ok[i])
	}
}
