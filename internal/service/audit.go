package service

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ListAuditEvents lists audit events (readers only).
func (s *Audit) ListAuditEvents(ctx context.Context, p *gatehouse.Principal, f gatehouse.AuditFilter) (gatehouse.Page[*gatehouse.AuditEvent], error) {
	if err := requireReadAll(p); err != nil {
		return gatehouse.Page[*gatehouse.AuditEvent]{}, err
	}
	return s.store.ListAuditEvents(ctx, f)
}

// Verification is the result of checking the audit chain.
type Verification struct {
	OK       bool         `json:"ok"`
	Count    int64        `json:"count"`
	HeadSeq  int64        `json:"head_seq"`
	HeadHash string       `json:"head_hash"`
	Break    *audit.Break `json:"break,omitempty"`
}

// VerifyAudit re-computes the whole hash chain (readers only).
func (s *Audit) VerifyAudit(ctx context.Context, p *gatehouse.Principal) (*Verification, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	return VerifyStore(ctx, s.store)
}

// RecentVerification returns the result of a full verification no older than maxAge when the
// chain head has not moved since, and otherwise verifies again. Pages that show the chain's
// state on every load use it, so that a long log does not make every page slow; `audit verify`
// (CLI and API) always re-reads the whole chain.
func (s *Audit) RecentVerification(ctx context.Context, p *gatehouse.Principal, maxAge time.Duration) (*Verification, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	head, _, err := s.store.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	s.verified.Lock()
	last, at := s.verified.result, s.verified.at
	s.verified.Unlock()
	if last != nil && last.HeadSeq == head && s.now().Sub(at) < maxAge {
		return last, nil
	}
	v, err := VerifyStore(ctx, s.store)
	if err != nil {
		return nil, err
	}
	s.verified.Lock()
	s.verified.result, s.verified.at = v, s.now()
	s.verified.Unlock()
	return v, nil
}

// VerifyStore checks a store's audit chain. The chain head is read before and after the scan:
// events missing below the first reading were deleted, and events past the second reading were
// written around Gatehouse (a forged hash can be computed by anyone, so the head is the check
// for the end of the log); events appended by Gatehouse while the scan runs are neither.
func VerifyStore(ctx context.Context, r store.Reader) (*Verification, error) {
	before, _, err := r.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	v := audit.NewVerifier()
	if err := r.ScanAuditEvents(ctx, func(ev *gatehouse.AuditEvent) error {
		v.Add(ev)
		return nil
	}); err != nil {
		return nil, err
	}
	after, hash, err := r.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	head := v.Last()
	switch {
	case head < before:
		head = before
	case head > after:
		head = after
	}
	n, brk := v.Result(head)
	return &Verification{OK: brk == nil, Count: n, HeadSeq: after, HeadHash: hash, Break: brk}, nil
}

// Checkpoints configures signed audit checkpoints (Options.Checkpoints; docs/audit.md).
type Checkpoints struct {
	// Signer signs with the server's audit key into the checkpoint directory.
	Signer *audit.Signer
	// Publish sends a signed checkpoint on (the checkpoint webhook); nil: nowhere. A failure
	// is logged and not returned: the checkpoint is already in its directory.
	Publish func(context.Context, *audit.Checkpoint) error
}

// Checkpoint signs a checkpoint of the audit chain's head now (admins and auditors: auditors
// are who need one at a moment of their choosing, and it changes no data).
func (s *Audit) Checkpoint(ctx context.Context, p *gatehouse.Principal) (*audit.Checkpoint, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	if !p.Has(gatehouse.RoleAdmin) && !p.Has(gatehouse.RoleAuditor) {
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs the admin or auditor role")
	}
	return s.SignCheckpoint(ctx, p.Email)
}

// SignCheckpoint signs a checkpoint of the chain head into the checkpoint directory and
// publishes it; by says who asked (for the log). The server calls it on its interval and at
// shutdown. A head behind the newest checkpoint is refused and logged as an error: the log was
// truncated or its head moved since that checkpoint.
func (s *Audit) SignCheckpoint(ctx context.Context, by string) (*audit.Checkpoint, error) {
	if s.checkpoints == nil || s.checkpoints.Signer == nil {
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT,
			"this server signs no audit checkpoints: start it with --audit-key FILE --audit-checkpoint-dir DIR (docs/audit.md)")
	}
	if err := s.CheckNewestCheckpoint(ctx); err != nil {
		return nil, err
	}
	seq, hash, err := s.store.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	c, path, err := s.checkpoints.Signer.Sign(seq, hash, s.now())
	if errors.Is(err, audit.ErrHeadBehind) {
		s.log.Error("audit checkpoint refused: the audit log no longer matches the newest checkpoint", "err", err)
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "%s", err.Error())
	}
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint: %w", err)
	}
	s.log.Info("audit checkpoint signed", "number", c.Number, "seq", c.Seq, "file", path, "by", by)
	if pub := s.checkpoints.Publish; pub != nil {
		if err := pub(ctx, c); err != nil {
			s.log.Error("audit checkpoint not published; it is in the checkpoint directory", "number", c.Number, "err", err)
		}
	}
	return c, nil
}

// CheckNewestCheckpoint looks up the event the newest checkpoint signed and compares its hash:
// one row, so the server can do it before every checkpoint and at start, and notice a log
// re-sealed or truncated behind its back without waiting for an auditor's full verification.
// A mismatch is logged as an error and returned as a conflict; nothing is signed over it.
func (s *Audit) CheckNewestCheckpoint(ctx context.Context) error {
	if s.checkpoints == nil || s.checkpoints.Signer == nil {
		return nil
	}
	last := s.checkpoints.Signer.Last()
	if last == nil || last.Seq == 0 {
		return nil
	}
	ev, err := s.store.AuditEvent(ctx, last.Seq)
	var problem string
	switch {
	case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
		problem = fmt.Sprintf("event %d, which checkpoint %d signed, is no longer stored (deleted, head moved back)", last.Seq, last.Number)
	case err != nil:
		return err
	case ev.Hash != last.HeadHash:
		problem = fmt.Sprintf("event %d no longer has the hash checkpoint %d signed (the log was rewritten and re-sealed)", last.Seq, last.Number)
	default:
		return nil
	}
	s.log.Error("the audit log disagrees with the newest checkpoint", "problem", problem, "checkpoint", last.Number)
	return gatehouse.Errorf(gatehouse.ECONFLICT,
		"the audit log disagrees with the newest checkpoint: %s; nothing was signed; run `gatehouse audit verify --pubkey … --checkpoints …`", problem)
}

// VerifyStoreCheckpoints checks a store's audit chain against signed checkpoints, streaming
// the events as VerifyStore does (the head read before and after the scan, for a server that
// keeps appending).
func VerifyStoreCheckpoints(ctx context.Context, r store.Reader, pub ed25519.PublicKey, cps []*audit.Checkpoint) (*audit.CheckpointResult, error) {
	before, _, err := r.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	// Several ranges of the log are read at once (audit.VerifyCheckpointRanges): reading rows
	// is most of the cost, and it answers what reading in order answers.
	v, err := audit.VerifyCheckpointRanges(ctx, pub, cps, before, runtime.GOMAXPROCS(0), r.ScanAuditRange)
	if err != nil {
		return nil, err
	}
	last := v.Last()
	after, hash, err := r.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	head := last
	switch {
	case head < before:
		head, hash = before, ""
	case head > after:
		head, hash = after, ""
	case head != after:
		hash = "" // appended while scanning: the head's hash names an event not scanned
	}
	return v.Result(head, hash), nil
}
