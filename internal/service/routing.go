package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Approval routing: which people decide each step of a request, and where a step goes when
// they cannot (the requester, the beneficiary, a leaver, or someone who decided another step).

// router resolves approval chains into steps for one request.
type router struct {
	rd          store.Reader
	requester   *gatehouse.Identity
	beneficiary *gatehouse.Identity
	settings    gatehouse.Settings
	operators   []*gatehouse.Identity
	opsLoaded   bool
	// taken maps the people who already decide a step of the request to that step ("the
	// manager step"): one person decides at most one step, so they are no candidate for another.
	taken map[string]string
	// asked holds what each step asked before anyone was left out (see step): the same
	// question asked again is the same step, wherever the first one was routed.
	asked map[string]bool
}

// route builds the approval steps of r: each entitlement's chain in order (privileged ones
// always with a security step), identical steps asked once. A step whose candidates all
// decide an earlier step alone falls to the next fallback (see step).
func (s *Requests) route(ctx context.Context, rd store.Reader, r *gatehouse.AccessRequest, requester, ben *gatehouse.Identity,
	ents []*gatehouse.Entitlement) ([]gatehouse.ApprovalStep, error) {
	settings, err := rd.GetSettings(ctx)
	if err != nil {
		return nil, err
	}
	rt := &router{rd: rd, requester: requester, beneficiary: ben, settings: settings, taken: map[string]string{}, asked: map[string]bool{}}
	var steps []gatehouse.ApprovalStep
	for _, e := range ents {
		for _, kind := range policy.ApprovalChain(e) {
			st, err := rt.step(ctx, kind, e, steps)
			if err != nil {
				return nil, err
			}
			if st == nil {
				continue // the same step as one already asked
			}
			steps = append(steps, *st)
			if len(st.Approvers) == 1 {
				rt.taken[st.Approvers[0]] = policy.StepName(st.Kind)
			}
		}
	}
	return steps, nil
}

// candidates resolves who an element of an approval chain asks, by the identities the catalog
// pinned at apply (never by email: a power follows the person, not an address), and says why.
func (rt *router) candidates(ctx context.Context, kind string, e *gatehouse.Entitlement) (gatehouse.StepKind, []*gatehouse.Identity, []string, error) {
	var why []string
	var cands []*gatehouse.Identity
	pinned := func(id, email, what string) error {
		if id == "" {
			why = append(why, what+" "+email+" is not pinned to an identity (apply the catalog again)")
			return nil
		}
		who, err := rt.rd.GetIdentity(ctx, id)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			why = append(why, what+" "+email+" (identity "+id+") is not known")
			return nil
		} else if err != nil {
			return err
		}
		cands = append(cands, who)
		return nil
	}
	switch kind {
	case "manager":
		if rt.beneficiary.ManagerID == "" {
			why = append(why, rt.beneficiary.Email+" has no manager in HR")
		} else if m, err := identityByEmployeeID(ctx, rt.rd, rt.beneficiary.ManagerID); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			why = append(why, "the manager of "+rt.beneficiary.Email+" ("+rt.beneficiary.ManagerID+") is not known")
		} else if err != nil {
			return "", nil, nil, err
		} else {
			why = append(why, "manager of "+rt.beneficiary.Email+" (HR)")
			cands = append(cands, m)
		}
		return gatehouse.StepManager, cands, why, nil
	case "owner":
		why = append(why, "owner of "+e.ID)
		owner, ownerID := e.Owner, e.OwnerID
		if owner == "" {
			sys, err := rt.rd.GetSystem(ctx, e.System)
			if err != nil {
				return "", nil, nil, err
			}
			owner, ownerID = sys.Owner, sys.OwnerID
		}
		err := pinned(ownerID, owner, "the owner")
		return gatehouse.StepOwner, cands, why, err
	case "security":
		why = append(why, "security approver (settings.security_approvers)")
		if e.Risk == gatehouse.RiskPrivileged {
			why[0] += "; " + e.ID + " is privileged, which always needs security"
		}
		for i, email := range rt.settings.SecurityApprovers {
			id := ""
			if i < len(rt.settings.SecurityApproverIDs) {
				id = rt.settings.SecurityApproverIDs[i]
			}
			if err := pinned(id, email, "security approver"); err != nil {
				return "", nil, nil, err
			}
		}
		if len(rt.settings.SecurityApprovers) == 0 {
			why = append(why, "no security approvers are set")
		}
		return gatehouse.StepSecurity, cands, why, nil
	default:
		why = append(why, "named in the approval chain of "+e.ID)
		err := pinned(e.ApproverID(kind), kind, "the approver")
		return gatehouse.StepPerson, cands, why, err
	}
}

// step resolves one element of an approval chain, or returns nil when it is the same step as
// one of have. A missing, terminated or conflicted approver (the requester or the beneficiary),
// or one who already decides another step of the request alone, routes to the system owner,
// then to operators; Why says each turn taken.
func (rt *router) step(ctx context.Context, kind string, e *gatehouse.Entitlement, have []gatehouse.ApprovalStep) (*gatehouse.ApprovalStep, error) {
	sk, cands, why, err := rt.candidates(ctx, kind, e)
	if err != nil {
		return nil, err
	}
	st := gatehouse.ApprovalStep{Kind: sk, Entitlement: e.ID}
	ok, notes := rt.eligible(cands)
	// The same people asked the same kind of question once: a second entitlement's manager
	// step is the first one's, not a second step for someone else, even when the first one
	// was routed on because its people already decide another step.
	asked := policy.StepQuestion(sk, ok, e.System)
	if rt.asked[asked] {
		return nil, nil
	}
	ok, more := rt.untaken(ok)
	why = append(why, notes...)
	why = append(why, more...)
	if len(ok) == 0 {
		var fb []string
		if ok, fb, err = rt.fallback(ctx, e.System); err != nil {
			return nil, err
		}
		why = append(why, fb...)
		if len(ok) == 0 {
			return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "no one may approve the %s step of %s (%s) and no operator is left to fall back to",
				kind, e.ID, strings.Join(why, "; "))
		}
	}
	st.Approvers, st.Emails = identityIDs(ok), identityEmails(ok)
	if policy.SameStep(have, st) {
		return nil, nil
	}
	st.Why = strings.Join(slices.Compact(why), "; ") // the system owner may be the entitlement owner: say it once
	rt.asked[asked] = true
	return &st, nil
}

// fallback is who decides a step nobody in its chain may decide: the owner of the system, then
// the operators (admins when there are none). It returns nobody when no one is left.
func (rt *router) fallback(ctx context.Context, systemID string) ([]*gatehouse.Identity, []string, error) {
	var why []string
	sys, err := rt.rd.GetSystem(ctx, systemID)
	if err != nil {
		return nil, nil, err
	}
	var cs []*gatehouse.Identity
	if sys.OwnerID != "" {
		if id, err := rt.rd.GetIdentity(ctx, sys.OwnerID); err == nil {
			cs = append(cs, id)
		} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return nil, nil, err
		}
	}
	ok, notes := rt.eligible(cs)
	why = append(why, notes...)
	ok, notes = rt.untaken(ok)
	why = append(why, notes...)
	if len(ok) > 0 {
		return ok, append(why, "so it goes to the owner of system "+sys.ID), nil
	}
	ops, err := rt.loadOperators(ctx)
	if err != nil {
		return nil, nil, err
	}
	ok, _ = rt.eligible(ops)
	ok, _ = rt.untaken(ok)
	if len(ok) == 0 {
		return nil, why, nil
	}
	return ok, append(why, "the system owner cannot approve either, so it goes to the operators"), nil
}

// untaken leaves out the candidates who already decide another step of the request
// (policy.Untaken).
func (rt *router) untaken(cands []*gatehouse.Identity) (ok []*gatehouse.Identity, notes []string) {
	return policy.Untaken(cands, rt.taken)
}

func identityIDs(ids []*gatehouse.Identity) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.ID
	}
	return out
}

func identityEmails(ids []*gatehouse.Identity) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.Email
	}
	return out
}

// eligible keeps the candidates who may approve this request (policy.EligibleApprovers).
func (rt *router) eligible(cands []*gatehouse.Identity) (ok []*gatehouse.Identity, notes []string) {
	return policy.EligibleApprovers(cands, rt.requester.ID, rt.beneficiary.ID)
}

func (rt *router) loadOperators(ctx context.Context) ([]*gatehouse.Identity, error) {
	if rt.opsLoaded {
		return rt.operators, nil
	}
	for _, role := range []gatehouse.AccessRole{gatehouse.RoleOperator, gatehouse.RoleAdmin} {
		page, err := rt.rd.ListIdentities(ctx, gatehouse.IdentityFilter{Role: role, Status: gatehouse.StatusActive, Limit: 100})
		if err != nil {
			return nil, err
		}
		rt.operators = append(rt.operators, page.Items...)
		if len(rt.operators) > 0 {
			break // operators first; admins only when there are none
		}
	}
	rt.opsLoaded = true
	return rt.operators, nil
}

// rerouteNext re-routes the current step of r when every one of its approvers has decided an
// earlier step (one person decides at most one step): it falls to the next fallback, the owner
// of the system, then the operators, as at routing, and its Why says so.
func (s *Requests) rerouteNext(ctx context.Context, tx store.Tx, r *gatehouse.AccessRequest, now time.Time) error {
	j := r.CurrentStep()
	if j < 0 {
		return nil
	}
	next := &r.Steps[j]
	notes, all := policy.AllDecidedElsewhere(*next, policy.DecidedSteps(r, j))
	if !all {
		return nil // someone who decided nothing yet may decide it
	}
	ok, fb, err := s.stepFallback(ctx, tx, r, j, nil)
	if err != nil {
		return err
	}
	notes = append(notes, fb...)
	if len(ok) == 0 {
		notes = append(notes, "no one is left to fall back to: cancel the request, or let it expire")
	} else {
		next.Approvers, next.Emails = identityIDs(ok), identityEmails(ok)
	}
	why := strings.Join(notes, "; ")
	next.Why = strings.TrimSpace(next.Why + "; at decision: " + why)
	r.Events = append(r.Events, gatehouse.RequestEvent{At: now, Actor: "system:routing", Kind: "rerouted:" + string(next.Kind), Comment: why})
	return nil
}
