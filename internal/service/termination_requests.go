package service

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/store"
)

// A leaver may be the person an open request waits for: its manager, an owner, a security
// approver. With their tokens revoked nobody would decide that step until the overdue
// escalation, days later. So, in the terminating transaction, leavers come off the current step
// of every request pending approval: a step they shared keeps its other approvers, and a step
// only they could decide falls back as at routing (the system owner, then the operators, never
// someone who decided an earlier step), its Why and the request's timeline saying so. The
// requests a leaver is the beneficiary of are cancelled in the same transaction (at the end).

// rerouteFromLeavers takes leavers (identity id → why) off the current steps that ask them.
func (s *Requests) rerouteFromLeavers(ctx context.Context, tx store.Tx, p *gatehouse.Principal, leavers map[string]string) error {
	if len(leavers) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(leavers))
	var waiting []*gatehouse.AccessRequest
	seen := map[string]bool{}
	for chunk := range slices.Chunk(ids, 500) {
		f := gatehouse.RequestFilter{Approvers: chunk, States: []gatehouse.RequestState{gatehouse.RequestPendingApproval}, Limit: gatehouse.MaxLimit}
		for {
			page, err := tx.ListRequests(ctx, f)
			if err != nil {
				return err
			}
			for _, r := range page.Items {
				if !seen[r.ID] {
					seen[r.ID] = true
					waiting = append(waiting, r)
				}
			}
			if f.Cursor = page.NextCursor; f.Cursor == "" {
				break
			}
		}
	}
	for _, r := range waiting {
		if err := s.takeOffStep(ctx, tx, p, r, leavers); err != nil {
			return err
		}
	}
	return nil
}

// takeOffStep removes leavers from r's current step, falling back when nobody is left.
func (s *Requests) takeOffStep(ctx context.Context, tx store.Tx, p *gatehouse.Principal, r *gatehouse.AccessRequest, leavers map[string]string) error {
	j := r.CurrentStep()
	if j < 0 {
		return nil
	}
	before := cloneRequest(r)
	st := &r.Steps[j]
	var keep, keepEmails, gone []string
	for i, id := range st.Approvers {
		email := id
		if i < len(st.Emails) {
			email = st.Emails[i]
		}
		if _, left := leavers[id]; left {
			gone = append(gone, email)
			continue
		}
		keep, keepEmails = append(keep, id), append(keepEmails, email)
	}
	if len(gone) == 0 {
		return nil
	}
	notes := []string{strings.Join(gone, ", ") + " left (terminated)"}
	st.Approvers, st.Emails = keep, keepEmails
	if len(keep) == 0 {
		fb, why, err := s.stepFallback(ctx, tx, r, j, leavers)
		if err != nil {
			return err
		}
		notes = append(notes, why...)
		if len(fb) == 0 {
			notes = append(notes, "no one is left to fall back to: cancel the request, or let it expire")
		} else {
			st.Approvers, st.Emails = identityIDs(fb), identityEmails(fb)
		}
	}
	why := strings.Join(notes, "; ")
	st.Why = strings.TrimSpace(st.Why + "; at termination: " + why)
	r.Events = append(r.Events, gatehouse.RequestEvent{At: s.now(), Actor: "system:routing", Kind: "rerouted:" + string(st.Kind), Comment: why})
	if err := tx.UpdateRequest(ctx, r); err != nil {
		return err
	}
	return s.auditRequest(ctx, tx, p, gatehouse.AuditRequestReroute, before, r, why)
}

// stepFallback is who decides step j of r when its approvers cannot: the fallback of routing
// (the system owner, then the operators), less anyone who decided an earlier step (one person
// decides at most one step) and anyone in exclude (leavers).
func (s *Requests) stepFallback(ctx context.Context, tx store.Tx, r *gatehouse.AccessRequest, j int, leavers map[string]string) ([]*gatehouse.Identity, []string, error) {
	taken := policy.DecidedSteps(r, j)
	requester, err := tx.GetIdentity(ctx, r.RequesterID)
	if err != nil {
		return nil, nil, err
	}
	ben, err := tx.GetIdentity(ctx, r.BeneficiaryID)
	if err != nil {
		return nil, nil, err
	}
	entID := r.Steps[j].Entitlement
	if entID == "" && len(r.Entitlements) > 0 {
		entID = r.Entitlements[0]
	}
	e, err := tx.GetEntitlement(ctx, entID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	rt := &router{rd: tx, requester: requester, beneficiary: ben, taken: taken}
	ok, why, err := rt.fallback(ctx, e.System)
	if err != nil {
		return nil, nil, err
	}
	ok = slices.DeleteFunc(ok, func(id *gatehouse.Identity) bool { _, left := leavers[id.ID]; return left })
	return ok, why, nil
}

// closeLeaversRequests cancels, in the transaction that makes them leavers, the open requests
// of the plan's leavers: nobody should approve access for someone who has left, and an approver
// should not find such a request in the inbox. Each is audited with its number.
func (s *Requests) closeLeaversRequests(ctx context.Context, tx store.Tx, p *gatehouse.Principal, plan *jml.Plan) error {
	for _, it := range plan.Items {
		if it.Class != jml.Leaver || it.IdentityID == "" {
			continue
		}
		if err := s.cancelOpenRequests(ctx, tx, p, it.IdentityID, "the beneficiary left ("+it.Reason+")"); err != nil {
			return fmt.Errorf("%s: %w", it.EmployeeID, err)
		}
	}
	return nil
}

// cancelOpenRequests cancels the open requests for beneficiary in tx, saying why.
func (s *Requests) cancelOpenRequests(ctx context.Context, tx store.Tx, p *gatehouse.Principal, beneficiary, why string) error {
	open := []gatehouse.RequestState{gatehouse.RequestSubmitted, gatehouse.RequestPendingApproval, gatehouse.RequestReturned}
	page, err := tx.ListRequests(ctx, gatehouse.RequestFilter{BeneficiaryID: beneficiary, States: open, Limit: gatehouse.MaxLimit})
	if err != nil {
		return fmt.Errorf("open requests: %w", err)
	}
	for _, r := range page.Items {
		before := cloneRequest(r)
		r.State = gatehouse.RequestCancelled
		r.Events = append(r.Events, gatehouse.RequestEvent{At: s.now(), Actor: p.Actor(), Kind: "cancelled", Comment: why})
		if err := tx.UpdateRequest(ctx, r); err != nil {
			return fmt.Errorf("cancel %s: %w", r.Ref, err)
		}
		if err := s.auditRequest(ctx, tx, p, gatehouse.AuditRequestCancel, before, r, why); err != nil {
			return err
		}
	}
	return nil
}
