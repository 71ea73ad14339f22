package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Checkpoint files: one JSON object per file, named so that names sort in signing order
// (checkpoint-0000000042-seq-000000001234.json: checkpoint 42, chain head at sequence 1234).
const (
	checkpointPrefix = "checkpoint-"
	checkpointSuffix = ".json"
)

// FileName is the name of c's file in a checkpoint directory.
func FileName(c *Checkpoint) string {
	return fmt.Sprintf("%s%010d-seq-%012d%s", checkpointPrefix, c.Number, c.Seq, checkpointSuffix)
}

// Marshal encodes c as its file's content: indented JSON and a newline.
func (c *Checkpoint) Marshal() []byte {
	b, _ := json.MarshalIndent(c, "", "  ") // a Checkpoint always encodes
	return append(b, '\n')
}

// ParseCheckpoint decodes one checkpoint file's content. Unknown fields are refused: a field
// the signature does not cover must not look meaningful.
func ParseCheckpoint(data []byte) (*Checkpoint, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Checkpoint
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("not a checkpoint: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a checkpoint: more than one JSON value")
	}
	return &c, nil
}

// CheckpointFile is a checkpoint and the file it was read from.
type CheckpointFile struct {
	Path string
	*Checkpoint
}

// ReadCheckpoints reads a checkpoint file, or every checkpoint file of a directory, sorted by
// checkpoint number (the content's, not the name's). A file that does not parse is an error:
// a verifier must not skip evidence it cannot read.
func ReadCheckpoints(path string) ([]CheckpointFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	var paths []string
	if st.IsDir() {
		names, err := checkpointNames(path)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			paths = append(paths, filepath.Join(path, n))
		}
	} else {
		paths = []string{path}
	}
	out := make([]CheckpointFile, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("checkpoints: %w", err)
		}
		c, err := ParseCheckpoint(data)
		if err != nil {
			return nil, fmt.Errorf("checkpoint file %s: %w", p, err)
		}
		out = append(out, CheckpointFile{Path: p, Checkpoint: c})
	}
	slices.SortStableFunc(out, func(a, b CheckpointFile) int {
		switch {
		case a.Number < b.Number:
			return -1
		case a.Number > b.Number:
			return 1
		}
		return 0
	})
	return out, nil
}

// checkpointNames lists a directory's checkpoint file names in name order.
func checkpointNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && strings.HasPrefix(n, checkpointPrefix) && strings.HasSuffix(n, checkpointSuffix) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// Signer signs checkpoints into a directory, each one chained to the newest already there, so
// the chain of checkpoints continues across restarts. It is safe for concurrent use, and two
// processes sharing the directory cannot both write the same checkpoint number: a file is
// published with a link that fails if the name exists, and the loser chains to the winner.
type Signer struct {
	key ed25519.PrivateKey
	dir string

	mu   sync.Mutex
	last *Checkpoint // the newest checkpoint of dir; nil when there is none
}

// NewSigner checks the directory (creating it, 0700, if missing) and reads its newest
// checkpoint. The newest checkpoint must verify with key: a directory of another key's
// checkpoints, or a forged newest file, is refused rather than chained to.
func NewSigner(key ed25519.PrivateKey, dir string) (*Signer, error) {
	if dir == "" {
		return nil, errors.New("checkpoint directory: none given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint directory: %w", err)
	}
	s := &Signer{key: key, dir: dir}
	if err := s.reload(); err != nil {
		return nil, err
	}
	// A directory we cannot write to is found now, not at the first checkpoint an hour later.
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return nil, fmt.Errorf("checkpoint directory %s is not writable: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return s, nil
}

// KeyID is the id of the signing key's public half.
func (s *Signer) KeyID() string { return KeyID(s.key.Public().(ed25519.PublicKey)) }

// Last returns the newest checkpoint signed into the directory, or nil.
func (s *Signer) Last() *Checkpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// reload reads the directory's newest checkpoint into s.last.
func (s *Signer) reload() error {
	names, err := checkpointNames(s.dir)
	if err != nil {
		return err
	}
	s.last = nil
	if len(names) == 0 {
		return nil
	}
	p := filepath.Join(s.dir, names[len(names)-1])
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("newest checkpoint: %w", err)
	}
	c, err := ParseCheckpoint(data)
	if err != nil {
		return fmt.Errorf("newest checkpoint %s: %w", p, err)
	}
	if err := c.Verify(s.key.Public().(ed25519.PublicKey)); err != nil {
		return fmt.Errorf("newest checkpoint %s does not verify with this key (%s): %w; a new key needs a new checkpoint directory", p, s.KeyID(), err)
	}
	s.last = c
	return nil
}

// ErrHeadBehind is returned by Sign when the chain head is behind, or differs from, the newest
// checkpoint: the log was truncated or its head moved, and signing would bless it.
var ErrHeadBehind = errors.New("the audit chain head disagrees with the newest checkpoint")

// Sign signs a checkpoint of the chain head (seq, headHash) at now, writes it into the
// directory and returns it with its file's path.
func (s *Signer) Sign(seq int64, headHash string, now time.Time) (*Checkpoint, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if last := s.last; last != nil {
			if seq < last.Seq || (seq == last.Seq && headHash != last.HeadHash) {
				return nil, "", fmt.Errorf("%w: head at sequence %d (%.12s…), checkpoint %d signed sequence %d (%.12s…); run `gatehouse audit verify --pubkey … --checkpoints …`",
					ErrHeadBehind, seq, headHash, last.Number, last.Seq, last.HeadHash)
			}
		}
		c := NextCheckpoint(s.last, seq, headHash, now)
		c.Sign(s.key)
		path, err := s.publish(c)
		if errors.Is(err, fs.ErrExist) && attempt < 5 {
			// Another process sharing the directory wrote this number first: chain after it.
			if err := s.reload(); err != nil {
				return nil, "", err
			}
			continue
		}
		if err != nil {
			return nil, "", err
		}
		s.last = c
		return c, path, nil
	}
}

// publish writes c to a temporary file, syncs it, and links it under its final name, which
// fails if the name exists: a reader never sees a partial checkpoint, and none is overwritten.
func (s *Signer) publish(c *Checkpoint) (string, error) {
	tmp, err := os.CreateTemp(s.dir, ".checkpoint-*")
	if err != nil {
		return "", fmt.Errorf("write checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(c.Marshal()); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write checkpoint: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write checkpoint: %w", err)
	}
	// Names carry the sequence too, so the link alone would not stop a second file of the same
	// number; look for one first (the window left is a rename's, and the verifier reports a
	// number that appears twice).
	if same, _ := filepath.Glob(filepath.Join(s.dir, fmt.Sprintf("%s%010d-*%s", checkpointPrefix, c.Number, checkpointSuffix))); len(same) > 0 {
		return "", fmt.Errorf("write checkpoint %s: %w", same[0], fs.ErrExist)
	}
	path := filepath.Join(s.dir, FileName(c))
	if err := os.Link(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	return path, nil
}
