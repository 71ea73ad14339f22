package service

import (
	"context"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Decisions on approval steps: approve, deny, return; who may decide which step (directly or
// as a delegate, one step per person).

func allApprovers(r *gatehouse.AccessRequest) []string {
	var out []string
	for _, st := range r.Steps {
		out = append(out, st.Approvers...)
	}
	return out
}

// delegateOf reports whether one of approvers has an active delegation to identityID.
func (s *Requests) delegateOf(ctx context.Context, rd store.Reader, identityID string, approvers []string) (bool, error) {
	if len(approvers) == 0 {
		return false, nil
	}
	ds, err := rd.ListDelegations(ctx, gatehouse.DelegationFilter{ToID: identityID, ActiveAt: s.now()})
	if err != nil {
		return false, err
	}
	for _, d := range ds {
		if slices.Contains(approvers, d.FromID) {
			return true, nil
		}
	}
	return false, nil
}

// ApproveRequest approves the current step. The last approval writes the grants (source
// request, reference REQ-n, expiry from the duration and max_duration) in the same transaction,
// and the request moves to provisioning.
func (s *Requests) ApproveRequest(ctx context.Context, p *gatehouse.Principal, idOrRef, comment string) (*gatehouse.AccessRequest, error) {
	return s.decide(ctx, p, idOrRef, gatehouse.DecisionApproved, comment)
}

// DenyRequest denies the request at its current step (a comment is required).
func (s *Requests) DenyRequest(ctx context.Context, p *gatehouse.Principal, idOrRef, comment string) (*gatehouse.AccessRequest, error) {
	return s.decide(ctx, p, idOrRef, gatehouse.DecisionDenied, comment)
}

// ReturnRequest sends the request back to its requester for more information (a comment, saying
// what, is required).
func (s *Requests) ReturnRequest(ctx context.Context, p *gatehouse.Principal, idOrRef, comment string) (*gatehouse.AccessRequest, error) {
	return s.decide(ctx, p, idOrRef, gatehouse.DecisionReturned, comment)
}

func (s *Requests) decide(ctx context.Context, p *gatehouse.Principal, idOrRef string, d gatehouse.Decision, comment string) (*gatehouse.AccessRequest, error) {
	if err := checkTexts(reasonText("comment", comment)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	comment = strings.TrimSpace(comment)
	if d != gatehouse.DecisionApproved && comment == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "comment: say why (the requester reads it)")
	}
	var out *gatehouse.AccessRequest
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		r, err := tx.GetRequest(ctx, idOrRef)
		if err != nil {
			return err
		}
		// Self-decision first: it holds for admins too, and for approvers named in a step.
		if p.IdentityID != "" && (p.IdentityID == r.RequesterID || p.IdentityID == r.BeneficiaryID) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "no one decides a request they submitted or that is for themselves (%s)", r.Ref)
		}
		if r.State != gatehouse.RequestPendingApproval {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is %s: there is nothing to decide", r.Ref, r.State)
		}
		i := r.CurrentStep()
		if i < 0 {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s has no undecided step", r.Ref)
		}
		st := &r.Steps[i]
		may := p.IdentityID != "" && slices.Contains(st.Approvers, p.IdentityID)
		via := ""
		if !may && p.IdentityID != "" {
			ds, err := tx.ListDelegations(ctx, gatehouse.DelegationFilter{ToID: p.IdentityID, ActiveAt: s.now()})
			if err != nil {
				return err
			}
			for _, dl := range ds {
				if slices.Contains(st.Approvers, dl.FromID) {
					may, via = true, dl.FromID
					break
				}
			}
		}
		if !may {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "%s waits for its %s step (%s); you are not one of its approvers or their delegates",
				r.Ref, st.Kind, strings.Join(st.Emails, ", "))
		}
		// One person decides at most one step, directly or as a delegate: counted by the
		// person who acts, whoever they act for.
		if earlier := decidedStep(r.Steps[:i], p); earlier != nil {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you decided the %s step of %s; one person decides at most one step of a request, directly or as a delegate",
				earlier.Kind, r.Ref)
		}
		before := cloneRequest(r)
		now := s.now()
		st.Decision, st.DecidedBy, st.DecidedAt, st.Comment = d, p.Actor(), &now, comment
		st.DecidedByID = p.IdentityID
		note := comment
		if via != "" {
			note = strings.TrimSpace("as delegate of " + via + ". " + comment)
			st.Comment = note
		}
		r.Events = append(r.Events, gatehouse.RequestEvent{At: now, Actor: p.Actor(), Kind: string(d) + ":" + string(st.Kind), Comment: note})
		action := gatehouse.AuditRequestApprove
		switch d {
		case gatehouse.DecisionDenied:
			r.State, action = gatehouse.RequestDenied, gatehouse.AuditRequestDeny
		case gatehouse.DecisionReturned:
			r.State, action = gatehouse.RequestReturned, gatehouse.AuditRequestReturn
			r.Missing = []string{comment}
		}
		final := d == gatehouse.DecisionApproved && r.CurrentStep() < 0
		if final {
			r.State = gatehouse.RequestApproved
		}
		if d == gatehouse.DecisionApproved && !final {
			if err := s.rerouteNext(ctx, tx, r, now); err != nil {
				return err
			}
		}
		if err := tx.UpdateRequest(ctx, r); err != nil {
			return err
		}
		if err := s.auditRequest(ctx, tx, p, action, before, r, comment); err != nil {
			return err
		}
		if final {
			if err := s.fulfil(ctx, tx, fx, p, r, "approved by every step"); err != nil {
				return err
			}
		}
		out = r
		s.announce(ctx, tx, fx, r) // the next step's approvers, or the decision to the requester
		return nil
	})
	return out, err
}

// decidedStep returns the step of steps that p decided (directly or as a delegate), or nil.
func decidedStep(steps []gatehouse.ApprovalStep, p *gatehouse.Principal) *gatehouse.ApprovalStep {
	for i := range steps {
		st := &steps[i]
		if st.Decision == "" {
			continue
		}
		// Steps decided before DecidedByID was recorded name the actor only.
		if (st.DecidedByID != "" && st.DecidedByID == p.IdentityID) || (st.DecidedByID == "" && st.DecidedBy == p.Actor()) {
			return st
		}
	}
	return nil
}
