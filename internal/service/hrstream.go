package service

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// An HR import is applied while it is planned, a chunk of people at a time, in its one
// transaction: each chunk's identities, grants, audit events and evidence rows are written,
// and only a page of the plan's items (what the answer shows) outlives its chunk. Memory is
// then the file and the state it is planned against, not a second copy of the company as
// items and events. What must see the whole file waits for its end: the leaver guard and the
// uploader's standing (hrstanding.go), which hold the import — the transaction is rolled back
// and the import stored as held, with its content, in another (heldHR) — and the movers'
// confirmations, whose new manager may be a joiner further down the file.

// hrAnswerKeep is how many items of each class the answer of an approval carries (an import's
// answer carries the page its caller asks for, HRUpload.Keep).
const hrAnswerKeep = 100

// hrApply applies an import's plan a chunk at a time (items) in tx.
type hrApply struct {
	s        *HR
	ctx      context.Context
	tx       store.Tx
	fx       *effects
	p        *gatehouse.Principal
	imp      *gatehouse.HRImport
	st       *hrState
	standing *standingCheck // nil: not asked (an admin's approval asks before)
	seq      int            // the next evidence row's number
	confirm  []*jml.Item    // the items with grants a new manager confirms
}

// items checks, writes and records one chunk of the plan.
func (a *hrApply) items(items []*jml.Item) error {
	if a.standing != nil {
		if err := a.standing.visit(items); err != nil { // before: a joiner has no id yet
			return err
		}
	}
	if err := a.s.applyJML(a.ctx, a.tx, a.fx, a.p, "hr-import:"+a.imp.ID, &jml.Plan{Items: items}, a.st); err != nil {
		return err
	}
	if err := recordHRChanges(a.ctx, a.tx, a.imp.ID, a.seq, items, a.st); err != nil {
		return err
	}
	a.seq += len(items)
	for _, it := range items {
		if len(it.Confirm) > 0 && it.ConfirmBy != "" {
			a.confirm = append(a.confirm, it)
		}
	}
	return nil
}

// heldHR is the error that rolls back an import that turned out to be held, carrying why.
type heldHR struct{ reason string }

func (h *heldHR) Error() string { return "HR import held: " + h.reason }

// hrApproval is an admin's approval of a held import: the import as it was, and the reason.
type hrApproval struct {
	before gatehouse.HRImport
	reason string
}

// applyImport plans feed in tx and applies it as it goes (hrApply), for the import imp, which
// it stores as applied with the plan's summary. For an import (approval nil), a plan that the
// leaver guard or the uploader's standing holds returns *heldHR after writing: the caller's
// transaction must roll back. An approval of a held import (stored already) asks no guard
// again, and is refused (EFORBIDDEN) on the approver's own standing (hrstanding.go).
func (s *HR) applyImport(ctx context.Context, tx store.Tx, fx *effects, p *gatehouse.Principal, imp *gatehouse.HRImport, feed *jml.Feed, tune func(*jml.Options), approval *hrApproval) (*jml.Plan, error) {
	in, err := s.loadHR(ctx, tx, feed, tune)
	if err != nil {
		return nil, err
	}
	if approval == nil {
		imp.Status = gatehouse.ImportApplied
		if err := tx.CreateHRImport(ctx, imp); err != nil { // the evidence rows refer to it
			return nil, err
		}
	}
	ref := "hr-import:" + imp.ID
	fx.reconcile.HR(ref)
	a := &hrApply{s: s, ctx: ctx, tx: tx, fx: fx, p: p, imp: imp, st: in.st, seq: 1}
	if a.standing, err = newStandingCheck(ctx, tx, p); err != nil {
		return nil, err
	}
	plan, err := in.plan(feed, a.items)
	if err != nil {
		return nil, err
	}
	why := a.standing.reason() // what the uploader may not change by hand waits for an admin
	switch {
	case approval != nil && why != "":
		// An admin's approval is a second person's say: not on their own record.
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "another admin approves held import %s: %s", imp.ID, why)
	case approval == nil && plan.Held:
		return nil, &heldHR{reason: plan.HeldReason}
	case approval == nil && why != "":
		return nil, &heldHR{reason: why}
	}
	if err := s.createConfirmations(ctx, tx, p, imp, &jml.Plan{Items: a.confirm}); err != nil {
		return nil, err
	}
	imp.Summary = mustJSON(summaryOf(plan, a.confirm))
	ev := s.event(p, gatehouse.AuditHRImport, "hr_import", imp.ID, nil, imp, "applied")
	if approval != nil {
		now := s.now()
		imp.Status, imp.Content, imp.DecidedBy, imp.DecidedAt = gatehouse.ImportApplied, "", p.Actor(), &now
		if approval.reason != "" {
			imp.Reason = approval.reason
		}
		ev = s.event(p, gatehouse.AuditHRApprove, "hr_import", imp.ID, &approval.before, imp, approval.reason)
	}
	if err := tx.UpdateHRImport(ctx, imp); err != nil {
		return nil, err
	}
	ev.Reference = ref
	if err := tx.AppendAudit(ctx, ev); err != nil {
		return nil, err
	}
	return plan, nil
}

// holdImport stores imp as held for why, with the file's content, and the plan (planned again:
// the one applied and rolled back names ids that were never committed).
func (s *HR) holdImport(ctx context.Context, p *gatehouse.Principal, imp *gatehouse.HRImport, feed *jml.Feed, tune func(*jml.Options), why string, in *hrInput) (*jml.Plan, error) {
	var out *jml.Plan
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		plan, _, err := s.planHR(ctx, tx, feed, tune)
		if err != nil {
			return err
		}
		plan.Held, plan.HeldReason = true, why
		content, err := in.content()
		if err != nil {
			return err
		}
		imp.Status, imp.Reason, imp.Content = gatehouse.ImportHeld, why, content
		imp.Summary = mustJSON(summarize(plan))
		if err := tx.CreateHRImport(ctx, imp); err != nil {
			return err
		}
		ev := s.event(p, gatehouse.AuditHRImport, "hr_import", imp.ID, nil, imp, "held: "+why)
		ev.Reference = "hr-import:" + imp.ID
		out = plan
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return nil, fmt.Errorf("store the held import: %w", err)
	}
	return out, nil
}
