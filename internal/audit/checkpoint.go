package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// CheckpointVersion is the version of the checkpoint format this package writes and reads.
const CheckpointVersion = 1

// A Checkpoint is a signed statement that the audit log's chain head was at Seq with hash
// HeadHash at Time. The hash chain alone is evidence only against someone who cannot recompute
// it: whoever owns the database can rewrite an event and re-seal every later one, or delete the
// tail and move the head back. A checkpoint signed with a key the database does not hold, and
// kept off the machine, pins the chain up to Seq: a re-sealed or truncated log no longer
// produces the signed hash at Seq.
//
// Checkpoints are chained too: Prev is the Digest of the previous checkpoint (GenesisHash for
// the first), so removing, inserting or reordering checkpoint files is found like a gap in the
// log.
type Checkpoint struct {
	Version  int       `json:"version"`
	Number   int64     `json:"number"`    // 1, 2, 3, … in the order they were signed
	Seq      int64     `json:"seq"`       // the chain head's sequence (0: an empty log)
	HeadHash string    `json:"head_hash"` // the hash of event Seq (GenesisHash for an empty log)
	Time     time.Time `json:"time"`
	Prev     string    `json:"prev"`   // Digest of checkpoint Number-1, GenesisHash for number 1
	KeyID    string    `json:"key_id"` // KeyID of the public key that verifies Signature
	// Signature is Ed25519 over SignedBytes, standard base64.
	Signature string `json:"signature"`
}

// SignedBytes is the canonical encoding the signature covers: every field but the signature,
// each length-prefixed in a fixed order after a format label, as Hash encodes events, so no two
// different checkpoints encode alike and JSON formatting of the file does not matter.
func (c *Checkpoint) SignedBytes() []byte {
	buf := make([]byte, 0, 256)
	field := func(s string) {
		buf = strconv.AppendInt(buf, int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
		buf = append(buf, '\n')
	}
	field("gatehouse-checkpoint-v1")
	field(strconv.Itoa(c.Version))
	field(strconv.FormatInt(c.Number, 10))
	field(strconv.FormatInt(c.Seq, 10))
	field(c.HeadHash)
	field(c.Time.UTC().Truncate(TimePrecision).Format(time.RFC3339Nano))
	field(c.Prev)
	field(c.KeyID)
	return buf
}

// Digest is the hex SHA-256 of SignedBytes: what the next checkpoint's Prev names.
func (c *Checkpoint) Digest() string {
	sum := sha256.Sum256(c.SignedBytes())
	return hex.EncodeToString(sum[:])
}

// NextCheckpoint returns the unsigned checkpoint that follows prev (nil: the first) for a chain
// head at seq with hash headHash.
func NextCheckpoint(prev *Checkpoint, seq int64, headHash string, now time.Time) *Checkpoint {
	c := &Checkpoint{Version: CheckpointVersion, Number: 1, Seq: seq, HeadHash: headHash,
		Time: now.UTC().Truncate(TimePrecision), Prev: GenesisHash}
	if prev != nil {
		c.Number, c.Prev = prev.Number+1, prev.Digest()
	}
	return c
}

// Sign sets KeyID and Signature with key.
func (c *Checkpoint) Sign(key ed25519.PrivateKey) {
	c.KeyID = KeyID(key.Public().(ed25519.PublicKey))
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.SignedBytes()))
}

// Verify checks that pub signed c.
func (c *Checkpoint) Verify(pub ed25519.PublicKey) error {
	if c.Version != CheckpointVersion {
		return fmt.Errorf("checkpoint %d: version %d is not supported (this build reads version %d)", c.Number, c.Version, CheckpointVersion)
	}
	if want := KeyID(pub); c.KeyID != want {
		return fmt.Errorf("checkpoint %d names key %s, not the given public key %s (another key, or altered)", c.Number, c.KeyID, want)
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("checkpoint %d: the signature is not a base64 Ed25519 signature", c.Number)
	}
	if !ed25519.Verify(pub, c.SignedBytes(), sig) {
		return fmt.Errorf("checkpoint %d: the signature does not verify (forged or altered)", c.Number)
	}
	return nil
}

// KeyID names a public key: "ed25519:" and the first 16 bytes of the SHA-256 of the key, in hex.
// It lets a verifier given the wrong public key say so instead of calling every checkpoint
// forged.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:16])
}

// errNoCheckpoints is returned by verification given none.
var errNoCheckpoints = errors.New("no checkpoints to verify against")
