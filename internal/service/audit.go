package service

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ListAuditEvents lists audit events (readers only).
func (s *Service) ListAuditEvents(ctx context.Context, p *gatehouse.Principal, f store.AuditFilter) (store.Page[*gatehouse.AuditEvent], error) {
	if err := requireReadAll(p); err != nil {
		return store.Page[*gatehouse.AuditEvent]{}, err
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
func (s *Service) VerifyAudit(ctx context.Context, p *gatehouse.Principal) (*Verification, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	return VerifyStore(ctx, s.store)
}

// RecentVerification returns the result of a full verification no older than maxAge when the
// chain head has not moved since, and otherwise verifies again. Pages that show the chain's
// state on every load use it, so that a long log does not make every page slow; `audit verify`
// (CLI and API) always re-reads the whole chain.
func (s *Service) RecentVerification(ctx context.Context, p *gatehouse.Principal, maxAge time.Duration) (*Verification, error) {
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
