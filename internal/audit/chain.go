package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse"
)

// GenesisHash is the PrevHash of the first event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// TimePrecision is the precision kept for event times: both databases store microseconds, and
// the hash must be computed over what is stored.
const TimePrecision = time.Microsecond

// Seal assigns ev its place in the chain after an event with sequence prevSeq and hash prevHash,
// normalizes its time and JSON, and computes its hash.
func Seal(ev *gatehouse.AuditEvent, prevSeq int64, prevHash string) error {
	if err := Canonicalize(ev); err != nil {
		return err
	}
	SealCanonical(ev, prevSeq, prevHash)
	return nil
}

// Canonicalize normalizes ev's JSON (Before, After) as Seal does. It does not depend on the
// chain, so a batch of events can be canonicalized in parallel before being sealed in order
// with SealCanonical.
func Canonicalize(ev *gatehouse.AuditEvent) error {
	var err error
	if ev.Before, err = compact(ev.Before); err != nil {
		return fmt.Errorf("audit: before of %s %s: %w", ev.ObjectType, ev.ObjectID, err)
	}
	if ev.After, err = compact(ev.After); err != nil {
		return fmt.Errorf("audit: after of %s %s: %w", ev.ObjectType, ev.ObjectID, err)
	}
	return nil
}

// SealCanonical is Seal for an event already passed through Canonicalize.
func SealCanonical(ev *gatehouse.AuditEvent, prevSeq int64, prevHash string) {
	ev.Seq = prevSeq + 1
	ev.PrevHash = prevHash
	ev.Time = ev.Time.UTC().Truncate(TimePrecision)
	ev.Hash = Hash(ev)
}

// compact re-encodes JSON with sorted keys and no insignificant space, so that the bytes hashed
// do not depend on who wrote them or how a database returns them.
func compact(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if out, ok := canonicalFast(raw); ok {
		return out, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	out, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Hash computes an event's hash from its canonical encoding: each field length-prefixed, in a
// fixed order, so no two different events encode alike.
func Hash(ev *gatehouse.AuditEvent) string {
	// The encoding is built in one buffer and hashed with one call: the chain is sealed serially,
	// and for a bulk append (300,000 events for an HR import) a dozen small writes and string
	// conversions per event added up.
	size := 64 + len(ev.Actor) + len(ev.Action) + len(ev.ObjectType) + len(ev.ObjectID) + len(ev.Before) +
		len(ev.After) + len(ev.Reason) + len(ev.Reference) + len(ev.PrevHash) + 12*8
	buf := make([]byte, 0, size)
	field := func(s []byte) {
		buf = strconv.AppendInt(buf, int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
		buf = append(buf, '\n')
	}
	str := func(s string) {
		buf = strconv.AppendInt(buf, int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
		buf = append(buf, '\n')
	}
	str("gatehouse-audit-v1")
	var tmp [40]byte
	field(strconv.AppendInt(tmp[:0], ev.Seq, 10))
	field(ev.Time.UTC().Truncate(TimePrecision).AppendFormat(tmp[:0], time.RFC3339Nano))
	str(ev.Actor)
	str(string(ev.Action))
	str(ev.ObjectType)
	str(ev.ObjectID)
	field(ev.Before)
	field(ev.After)
	str(ev.Reason)
	str(ev.Reference)
	str(ev.PrevHash)
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}

// Verifier checks events fed to it in stored order (by sequence). It keeps only the previous
// event, so a log of any length verifies in constant memory.
type Verifier struct {
	count    int64
	prevSeq  int64
	prevHash string
	bad      *Break
	// linkUnknown: the first event's link is checked by the caller (a range of a log verified
	// by ranges, whose previous event another verifier saw).
	linkUnknown bool
}

// Break describes where the chain first fails.
type Break struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
	// Through is the last sequence of a range the break may lie in (0: Seq alone). A re-sealed
	// chain is consistent event by event; a checkpoint shows only that something between the
	// previous checkpoint and it changed.
	Through int64 `json:"through,omitempty"`
	// Checkpoint is the number of the signed checkpoint that shows the break (0: the chain
	// alone shows it).
	Checkpoint int64 `json:"checkpoint,omitempty"`

	// at is the sequence of the event at which a verifier reading in order finds the break, and
	// kind which of its checks found it (in the order they run): verifying by ranges reports
	// the break an in-order verifier would.
	at   int64
	kind int
}

// Kinds of break, in the order the checks of one event run.
const (
	kindSeq = iota + 1
	kindLink
	kindHash
	kindCheckpoint
)

func (b *Break) Error() string {
	return fmt.Sprintf("audit chain broken at sequence %d: %s", b.Seq, b.Reason)
}

// NewVerifier starts a verification from the beginning of the log.
func NewVerifier() *Verifier { return &Verifier{prevHash: GenesisHash} }

// Add checks the next stored event. After the first break it ignores further events: the first
// bad sequence is the one to investigate.
func (v *Verifier) Add(ev *gatehouse.AuditEvent) {
	if v.bad != nil {
		return
	}
	v.add(ev, Hash(ev) == ev.Hash)
}

// add is Add with the hash check already done (hashOK: Hash(ev) == ev.Hash), so that a batch
// can be hashed in parallel (HashesMatch) and still be checked in order.
func (v *Verifier) add(ev *gatehouse.AuditEvent, hashOK bool) {
	if v.bad != nil {
		return
	}
	v.count++
	switch {
	case ev.Seq != v.prevSeq+1:
		if ev.Seq <= v.prevSeq {
			v.bad = &Break{Seq: ev.Seq, Reason: fmt.Sprintf("sequence %d follows %d (reordered or duplicated)", ev.Seq, v.prevSeq)}
		} else {
			v.bad = &Break{Seq: v.prevSeq + 1, Reason: fmt.Sprintf("sequence %d is missing (deleted); next stored is %d", v.prevSeq+1, ev.Seq)}
		}
		v.bad.at, v.bad.kind = ev.Seq, kindSeq
	case ev.PrevHash != v.prevHash && !v.linkUnknown:
		v.bad = &Break{Seq: ev.Seq, Reason: "previous-hash link does not match the preceding event (inserted, deleted or reordered)", at: ev.Seq, kind: kindLink}
	case !hashOK:
		v.bad = &Break{Seq: ev.Seq, Reason: "content does not match its hash (altered)", at: ev.Seq, kind: kindHash}
	}
	v.linkUnknown = false
	v.prevSeq, v.prevHash = ev.Seq, ev.Hash
}

// Last returns the sequence of the last event added.
func (v *Verifier) Last() int64 { return v.prevSeq }

// Result returns the number of events checked and the first break, or nil when the chain is
// intact. head is the sequence the store's chain head says was last written (0 if unknown):
// events deleted from the end of the log are found by comparing it with the last event seen.
func (v *Verifier) Result(head int64) (int64, *Break) {
	if v.bad != nil {
		return v.count, v.bad
	}
	if head > v.prevSeq {
		return v.count, &Break{Seq: v.prevSeq + 1, Reason: fmt.Sprintf("events %d..%d are missing (deleted from the end)", v.prevSeq+1, head)}
	}
	if head != 0 && head < v.prevSeq {
		return v.count, &Break{Seq: head + 1, Reason: fmt.Sprintf("event %d is past the chain head %d (appended outside Gatehouse)", head+1, head)}
	}
	return v.count, nil
}
