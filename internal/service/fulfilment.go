package service

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Fulfilment: an approved request becomes grants, and is followed until its operations are
// applied (or fail) in the target systems.

// fulfil writes (or, for a removal, revokes) the grants of an approved request and moves it to
// provisioning, in the caller's transaction. SoD is checked again: what the beneficiary holds
// may have changed since submission.
func (s *Requests) fulfil(ctx context.Context, tx store.Tx, fx *effects, p *gatehouse.Principal, r *gatehouse.AccessRequest, why string) error {
	before := cloneRequest(r)
	now := s.now()
	var events []*gatehouse.AuditEvent
	if r.Action == gatehouse.ActionRemove {
		held, err := heldGrants(ctx, tx, r.BeneficiaryID, now)
		if err != nil {
			return err
		}
		reason := "request " + r.Ref + ": " + r.Justification
		for _, e := range r.Entitlements {
			gid, ok := held[e]
			if !ok {
				continue
			}
			g, err := tx.GetGrant(ctx, gid)
			if err != nil {
				return err
			}
			if err := tx.RevokeGrant(ctx, gid, now, p.Actor(), reason); err != nil {
				return err
			}
			after, err := tx.GetGrant(ctx, gid)
			if err != nil {
				return err
			}
			fx.revoked(gid, g.IdentityID, g.EntitlementID)
			ev := s.event(p, gatehouse.AuditGrantRevoke, "grant", gid, g, after, reason)
			ev.Reference = r.Ref
			events = append(events, ev)
			r.GrantIDs = append(r.GrantIDs, gid)
		}
	} else {
		held, err := heldGrants(ctx, tx, r.BeneficiaryID, now)
		if err != nil {
			return err
		}
		idx, err := s.sodIndex(ctx, tx)
		if err != nil {
			return err
		}
		have := make([]string, 0, len(held))
		for e := range held {
			have = append(have, e)
		}
		var excs []exceptionUse // exceptions that let this request through (exceptions.go)
		for _, c := range idx.Conflicts(have, r.Entitlements) {
			if c.Rule.OnViolation == "exception" {
				exc, err := exceptionFor(ctx, tx, r.BeneficiaryID, c.Rule.ID, c.Left, c.Right, now)
				if err != nil {
					return err
				}
				if exc != nil {
					excs = append(excs, exceptionUse{exc, c.Rule})
					continue
				}
			}
			if c.Rule.OnViolation == "block" || c.Rule.OnViolation == "exception" {
				return gatehouse.Errorf(gatehouse.ECONFLICT, "SoD rule %s (%s): %s now holds %s, which conflicts with %s; deny the request instead",
					c.Rule.ID, c.Rule.OnViolation, r.BeneficiaryID, c.Left, c.Right)
			}
		}
		b := newGrantBatch(tx, now)
		for _, e := range r.Entitlements {
			g, err := b.add(ctx, p, NewGrant{Identity: r.BeneficiaryID, Entitlement: e, Source: gatehouse.SourceRequest,
				Reference: r.Ref, Duration: r.Duration, Reason: r.Justification})
			if err != nil {
				return fmt.Errorf("%s: %w", r.Ref, err)
			}
			if err := tx.CreateGrant(ctx, g); err != nil {
				return err
			}
			b.held[g.IdentityID][g.EntitlementID] = g.ID
			fx.granted(g)
			ev := s.event(p, gatehouse.AuditGrantCreate, "grant", g.ID, nil, g, r.Justification)
			ev.Reference = r.Ref
			events = append(events, ev)
			r.GrantIDs = append(r.GrantIDs, g.ID)
		}
		for _, u := range excs {
			ev, err := s.recordExceptionGrants(ctx, tx, p, u, r, b.held[r.BeneficiaryID])
			if err != nil {
				return err
			}
			events = append(events, ev)
		}
	}
	r.State, r.ApprovedAt = gatehouse.RequestProvisioning, &now
	r.Events = append(r.Events, gatehouse.RequestEvent{At: now, Actor: p.Actor(), Kind: "provisioning",
		Comment: fmt.Sprintf("%s: %d grant(s) %s", why, len(r.GrantIDs), map[bool]string{true: "revoked", false: "written"}[r.Action == gatehouse.ActionRemove])})
	if err := tx.UpdateRequest(ctx, r); err != nil {
		return err
	}
	if err := tx.AppendAudits(ctx, events); err != nil {
		return err
	}
	return s.auditRequest(ctx, tx, p, gatehouse.AuditRequestProvision, before, r, why)
}

// SyncRequests moves provisioning requests forward from the provisioning evidence: a request is
// fulfilled when, for every grant, the target applied the change after approval (an add_member
// or remove_member operation of the entitlement's group, done by a connector or by a person on
// a manual task), or a reconcile started after approval converged without needing one. An
// operation that failed makes the request failed, with the error. It returns how many requests
// changed state.
func (s *Requests) SyncRequests(ctx context.Context) (int, error) {
	p := SystemPrincipal("requests")
	changed := 0
	f := gatehouse.RequestFilter{States: []gatehouse.RequestState{gatehouse.RequestProvisioning}, Limit: gatehouse.MaxLimit}
	for {
		page, err := s.store.ListRequests(ctx, f)
		if err != nil {
			return changed, err
		}
		for _, r := range page.Items {
			done, failed, at, err := s.provisioned(ctx, r)
			if err != nil {
				return changed, err
			}
			if !done && failed == "" {
				continue
			}
			err = s.change(ctx, func(tx store.Tx, fx *effects) error {
				cur, err := tx.GetRequest(ctx, r.ID)
				if err != nil {
					return err
				}
				if cur.State != gatehouse.RequestProvisioning {
					return nil
				}
				before := cloneRequest(cur)
				now := s.now()
				action := gatehouse.AuditRequestFulfill
				if failed != "" {
					cur.State, cur.Error, action = gatehouse.RequestFailed, failed, gatehouse.AuditRequestFail
					cur.Events = append(cur.Events, gatehouse.RequestEvent{At: now, Actor: p.Actor(), Kind: "failed", Comment: failed})
				} else {
					if at.IsZero() || (cur.ApprovedAt != nil && at.Before(*cur.ApprovedAt)) {
						at = now
					}
					cur.State, cur.FulfilledAt = gatehouse.RequestFulfilled, &at
					if cur.ApprovedAt != nil {
						cur.TimeToProvision = gatehouse.Duration(at.Sub(*cur.ApprovedAt))
					}
					cur.Events = append(cur.Events, gatehouse.RequestEvent{At: now, Actor: p.Actor(), Kind: "fulfilled",
						Comment: "every target change applied in " + time.Duration(cur.TimeToProvision).String()})
				}
				if err := tx.UpdateRequest(ctx, cur); err != nil {
					return err
				}
				changed++
				if err := s.auditRequest(ctx, tx, p, action, before, cur, cur.Error); err != nil {
					return err
				}
				s.announce(ctx, tx, fx, cur) // fulfilled: the requester and the beneficiary
				return nil
			})
			if err != nil && gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
				return changed, err
			}
		}
		if page.NextCursor == "" {
			return changed, nil
		}
		f.Cursor = page.NextCursor
	}
}

// provisioned reports whether every target change of r is applied (and when the last one was),
// or why it failed.
func (s *Requests) provisioned(ctx context.Context, r *gatehouse.AccessRequest) (done bool, failed string, last time.Time, err error) {
	if r.ApprovedAt == nil {
		return false, "", last, nil
	}
	since := *r.ApprovedAt
	kind := "add_member"
	if r.Action == gatehouse.ActionRemove {
		kind = "remove_member"
	}
	for _, e := range r.Entitlements {
		ent, err := s.store.GetEntitlement(ctx, e)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			continue // gone from the catalog: nothing left to provision
		} else if err != nil {
			return false, "", last, err
		}
		if ent.ExternalID == "" {
			continue // not a group in its system: the grant is the whole change
		}
		ops, err := s.store.ListOperations(ctx, gatehouse.OperationFilter{SystemID: ent.System, IdentityID: r.BeneficiaryID, Limit: 200})
		if err != nil {
			return false, "", last, err
		}
		var op *gatehouse.Operation
		for _, o := range ops.Items { // newest first
			if o.Kind == kind && o.Group == ent.ExternalID && !o.CreatedAt.Before(since) {
				op = o
				break
			}
		}
		switch {
		case op != nil && op.Status == gatehouse.OpApplied:
			if op.FinishedAt != nil && op.FinishedAt.After(last) {
				last = *op.FinishedAt
			}
		case op != nil && op.Status == gatehouse.OpFailed:
			return false, fmt.Sprintf("%s %s in %s failed: %s", kind, ent.ExternalID, ent.System, op.Error), last, nil
		case op != nil:
			return false, "", last, nil // pending, running, or waiting for a manual task
		default:
			// No operation: done when a reconcile started after approval converged (the
			// membership was already there).
			runs, err := s.store.ListReconciles(ctx, gatehouse.ReconcileFilter{SystemID: ent.System, Latest: true, Limit: 1})
			if err != nil {
				return false, "", last, err
			}
			if len(runs.Items) == 0 || runs.Items[0].StartedAt.Before(since) || runs.Items[0].Status != gatehouse.ReconcileConverged {
				return false, "", last, nil
			}
			if f := runs.Items[0].FinishedAt; f != nil && f.After(last) {
				last = *f
			}
		}
	}
	return true, "", last, nil
}
