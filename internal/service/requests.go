package service

// Access requests. A request is complete on intake (requestable entitlements only, a real
// justification, a duration for privileged access), is routed from each entitlement's approval
// chain, carries its policy findings before anyone decides, and on final approval writes the
// grants that provisioning carries out. Who decides: the approvers of the current step, or their
// active delegates; never the requester or the beneficiary, whatever their roles. Admins do not
// bypass approval: an approval is evidence of a named person's judgement.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/store"
)

// NewRequest is what a requester submits.
type NewRequest struct {
	// For is the beneficiary (id, email or employee_id); "" asks for oneself. Asking for
	// someone else needs the operator role.
	For           string                  `json:"for,omitempty"`
	Action        gatehouse.RequestAction `json:"action,omitempty"` // default add
	Entitlement   string                  `json:"entitlement,omitempty"`
	Role          string                  `json:"role,omitempty"` // instead of entitlement: all its entitlements
	Justification string                  `json:"justification"`
	Duration      gatehouse.Duration      `json:"duration,omitempty"` // 0: as long as allowed
	Priority      gatehouse.Priority      `json:"priority,omitempty"` // default normal
}

// RequestPreview is what a request would be, without creating it: who will be asked at each
// step and why, the policy findings, and what the justification lacks.
type RequestPreview struct {
	Beneficiary  string                    `json:"beneficiary"` // email
	Entitlements []string                  `json:"entitlements"`
	Steps        []gatehouse.ApprovalStep  `json:"steps"`
	Findings     gatehouse.RequestFindings `json:"findings"`
	Missing      []string                  `json:"missing,omitempty"`
	DueAt        time.Time                 `json:"due_at"`
}

// RequestView selects which requests ListRequests returns.
type RequestView string

const (
	ViewMine      RequestView = "mine"       // submitted by me or for me
	ViewPendingMe RequestView = "pending-me" // waiting for my decision (or a delegator's)
	ViewAll       RequestView = "all"        // readers
)

// PreviewRequest checks a request and routes it as CreateRequest would, creating nothing: the
// requester sees who will be asked and the policy findings before submitting. A request that
// would be refused is refused here with the same error.
func (s *Requests) PreviewRequest(ctx context.Context, p *gatehouse.Principal, in NewRequest) (*RequestPreview, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	r, ben, err := s.intake(ctx, s.store, p, in, "")
	if err != nil {
		return nil, err
	}
	return &RequestPreview{Beneficiary: ben.Email, Entitlements: r.Entitlements, Steps: r.Steps, Findings: r.Findings,
		Missing: r.Missing, DueAt: r.DueAt}, nil
}

// CreateRequest submits a request. It is refused (with a reason) when it can never be right:
// an entitlement that is not requestable, access already held or already pending, a leaver, a
// blocking SoD conflict, a privileged entitlement without a duration. A weak justification is
// not refused: the request is created in state returned, saying what is missing, and the
// requester resubmits it. A removal needs no approval: its grants are revoked at once.
func (s *Requests) CreateRequest(ctx context.Context, p *gatehouse.Principal, in NewRequest) (*gatehouse.AccessRequest, error) {
	if err := checkTexts(idText("for", in.For), idText("entitlement", in.Entitlement), idText("role", in.Role), reasonText("justification", in.Justification)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	var out *gatehouse.AccessRequest
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		r, _, err := s.intake(ctx, tx, p, in, "")
		if err != nil {
			return err
		}
		now := s.now()
		r.Events = append(r.Events, gatehouse.RequestEvent{At: now, Actor: p.Actor(), Kind: "submitted", Comment: r.Justification})
		switch {
		case r.Action == gatehouse.ActionRemove:
			r.State = gatehouse.RequestApproved
		case len(r.Missing) > 0:
			r.State = gatehouse.RequestReturned
			r.Events = append(r.Events, gatehouse.RequestEvent{At: now, Actor: "system:intake", Kind: "returned",
				Comment: "needs " + strings.Join(r.Missing, "; ")})
		default:
			r.State = gatehouse.RequestPendingApproval
		}
		if err := tx.CreateRequest(ctx, r); err != nil {
			return err
		}
		ev := s.event(p, gatehouse.AuditRequestCreate, "request", r.ID, nil, r, r.Justification)
		ev.Reference = r.Ref
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
		if r.Action == gatehouse.ActionRemove {
			if err := s.fulfil(ctx, tx, fx, p, r, "a removal needs no approval"); err != nil {
				return err
			}
		}
		out = r
		s.announce(ctx, tx, fx, r) // approvers, or the requester if returned
		return nil
	})
	return out, err
}

// ResubmitRequest sends a returned request back to its approvers with a new justification. It
// is checked and routed again, as a new request would be (the organization may have changed).
func (s *Requests) ResubmitRequest(ctx context.Context, p *gatehouse.Principal, idOrRef, justification string) (*gatehouse.AccessRequest, error) {
	if err := checkTexts(reasonText("justification", justification)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	var out *gatehouse.AccessRequest
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		r, err := tx.GetRequest(ctx, idOrRef)
		if err != nil {
			return err
		}
		if p.IdentityID == "" || p.IdentityID != r.RequesterID {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only the requester resubmits %s", r.Ref)
		}
		if r.State != gatehouse.RequestReturned {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is %s: only a returned request is resubmitted", r.Ref, r.State)
		}
		if m := policy.JustificationProblems(justification); len(m) > 0 {
			return gatehouse.Errorf(gatehouse.EINVALID, "justification: needs %s", strings.Join(m, "; "))
		}
		in := NewRequest{For: r.BeneficiaryID, Action: r.Action, Entitlement: r.EntitlementID, Role: r.RoleID,
			Justification: justification, Duration: r.Duration, Priority: r.Priority}
		fresh, _, err := s.intake(ctx, tx, p, in, r.ID)
		if err != nil {
			return err
		}
		before := *r
		now := s.now()
		r.Justification, r.Missing, r.Steps, r.Findings = fresh.Justification, nil, fresh.Steps, fresh.Findings
		r.Entitlements, r.SubmittedAt, r.DueAt = fresh.Entitlements, fresh.SubmittedAt, fresh.DueAt
		r.State = gatehouse.RequestPendingApproval
		r.Events = append(r.Events, gatehouse.RequestEvent{At: now, Actor: p.Actor(), Kind: "resubmitted", Comment: justification})
		if err := tx.UpdateRequest(ctx, r); err != nil {
			return err
		}
		out = r
		if err := s.auditRequest(ctx, tx, p, gatehouse.AuditRequestResubmit, &before, r, justification); err != nil {
			return err
		}
		s.announce(ctx, tx, fx, r)
		return nil
	})
	return out, err
}

// intake checks in and builds the request it describes (not stored; State unset). self is the
// id of the request being resubmitted, whose own entitlements do not count as pending.
func (s *Requests) intake(ctx context.Context, rd store.Reader, p *gatehouse.Principal, in NewRequest, self string) (*gatehouse.AccessRequest, *gatehouse.Identity, error) {
	now := s.now()
	if p.IdentityID == "" {
		return nil, nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "a request is made by a person: sign in with your own token")
	}
	requester, err := rd.GetIdentity(ctx, p.IdentityID)
	if err != nil {
		return nil, nil, err
	}
	ben := requester
	if in.For != "" && in.For != p.IdentityID {
		if ben, err = rd.GetIdentity(ctx, in.For); err != nil {
			return nil, nil, err
		}
		if ben.ID != requester.ID && !p.Has(gatehouse.RoleOperator) {
			return nil, nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "only operators request access on someone else's behalf; ask for yourself")
		}
	}
	if ben.Status == gatehouse.StatusTerminated {
		return nil, nil, gatehouse.Errorf(gatehouse.ECONFLICT, "%s is terminated: a leaver gets no new access", ben.Email)
	}
	if in.Action == "" {
		in.Action = gatehouse.ActionAdd
	}
	if in.Action != gatehouse.ActionAdd && in.Action != gatehouse.ActionRemove {
		return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "action: %q is not one of add, remove", in.Action)
	}
	if in.Priority == "" {
		in.Priority = gatehouse.PriorityNormal
	}
	if !in.Priority.Valid() {
		return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "priority: %q is not one of low, normal, high, critical", in.Priority)
	}
	if (in.Entitlement == "") == (in.Role == "") {
		return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "entitlement: name one entitlement or one role")
	}
	var ents []*gatehouse.Entitlement
	if in.Entitlement != "" {
		e, err := rd.GetEntitlement(ctx, in.Entitlement)
		if err != nil {
			return nil, nil, err
		}
		ents = append(ents, e)
	} else {
		role, err := rd.GetRole(ctx, in.Role)
		if err != nil {
			return nil, nil, err
		}
		for _, id := range role.Entitlements {
			e, err := rd.GetEntitlement(ctx, id)
			if err != nil {
				return nil, nil, fmt.Errorf("role %s: %w", role.ID, err)
			}
			ents = append(ents, e)
		}
		if len(ents) == 0 {
			return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "role %s has no entitlements", role.ID)
		}
	}
	held, err := heldGrants(ctx, rd, ben.ID, now)
	if err != nil {
		return nil, nil, err
	}
	pending, err := pendingEntitlements(ctx, rd, ben.ID, self)
	if err != nil {
		return nil, nil, err
	}
	r := &gatehouse.AccessRequest{
		RequesterID: requester.ID, BeneficiaryID: ben.ID, Requester: requester.Email, Beneficiary: ben.Email, Action: in.Action, EntitlementID: in.Entitlement, RoleID: in.Role,
		Justification: strings.TrimSpace(in.Justification), Duration: in.Duration, Priority: in.Priority,
		SubmittedAt: now, DueAt: now.Add(in.Priority.SLA()), Findings: gatehouse.RequestFindings{Risk: gatehouse.RiskStandard},
	}
	for _, e := range ents {
		r.Entitlements = append(r.Entitlements, e.ID)
		if rank(e.Risk) > rank(r.Findings.Risk) {
			r.Findings.Risk = e.Risk
		}
		if in.Action == gatehouse.ActionRemove {
			if _, ok := held[e.ID]; !ok {
				return nil, nil, gatehouse.Errorf(gatehouse.ECONFLICT, "%s does not hold %s: nothing to remove", ben.Email, e.ID)
			}
			continue
		}
		if !e.Requestable {
			what := e.ID
			if in.Role != "" {
				what = "role " + in.Role + " includes " + e.ID + ", which"
			}
			return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "%s is not requestable: it is granted by birthright rules or by operators only (least privilege)", what)
		}
		if gid, ok := held[e.ID]; ok {
			return nil, nil, gatehouse.Errorf(gatehouse.ECONFLICT, "%s already holds %s (grant %s)", ben.Email, e.ID, gid)
		}
		if ref, ok := pending[e.ID]; ok {
			return nil, nil, gatehouse.Errorf(gatehouse.ECONFLICT, "%s is already requested for %s in %s", e.ID, ben.Email, ref)
		}
		maxD := time.Duration(e.MaxDuration)
		if e.Risk == gatehouse.RiskPrivileged && in.Duration == 0 {
			return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "duration: %s is privileged: say for how long (at most %s)", e.ID, durationText(maxD))
		}
		if maxD > 0 && time.Duration(in.Duration) > maxD {
			return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "duration: %s exceeds the max_duration %s of %s", in.Duration, durationText(maxD), e.ID)
		}
	}
	if in.Action == gatehouse.ActionRemove {
		// Giving up access needs no approval and no policy check.
		return r, ben, nil
	}
	if err := s.policyFindings(ctx, rd, r, ben, held, pending); err != nil {
		return nil, nil, err
	}
	if r.Steps, err = s.route(ctx, rd, r, requester, ben, ents); err != nil {
		return nil, nil, err
	}
	r.Missing = policy.JustificationProblems(r.Justification)
	return r, ben, nil
}

func durationText(d time.Duration) string {
	if d == 0 {
		return "unlimited"
	}
	return d.String()
}

func rank(r gatehouse.Risk) int {
	switch r {
	case gatehouse.RiskPrivileged:
		return 2
	case gatehouse.RiskSensitive:
		return 1
	}
	return 0
}

// heldGrants maps the entitlements an identity holds now to their grant ids.
func heldGrants(ctx context.Context, rd store.Reader, identityID string, now time.Time) (map[string]string, error) {
	held := map[string]string{}
	f := gatehouse.GrantFilter{IdentityID: identityID, Status: "active", Limit: gatehouse.MaxLimit}
	for {
		page, err := rd.ListGrants(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, g := range page.Items {
			if g.Active(now) {
				held[g.EntitlementID] = g.ID
			}
		}
		if page.NextCursor == "" {
			return held, nil
		}
		f.Cursor = page.NextCursor
	}
}

// openStates are the states of requests whose access counts as pending.
var openStates = []gatehouse.RequestState{gatehouse.RequestSubmitted, gatehouse.RequestPendingApproval, gatehouse.RequestReturned}

// pendingEntitlements maps the entitlements open add requests ask for the identity to the
// request's reference, leaving out request self.
func pendingEntitlements(ctx context.Context, rd store.Reader, identityID, self string) (map[string]string, error) {
	out := map[string]string{}
	f := gatehouse.RequestFilter{BeneficiaryID: identityID, States: openStates, Limit: gatehouse.MaxLimit}
	for {
		page, err := rd.ListRequests(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Items {
			if r.ID == self || r.Action != gatehouse.ActionAdd {
				continue
			}
			for _, e := range r.Entitlements {
				out[e] = r.Ref
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}

// policyFindings records SoD conflicts and peer context on r, and refuses what a blocking rule
// forbids. An exception rule needs an approved exception, which the exceptions register will
// provide; until then such a request is refused, saying so.
func (s *Requests) policyFindings(ctx context.Context, rd store.Reader, r *gatehouse.AccessRequest, ben *gatehouse.Identity,
	held map[string]string, pending map[string]string) error {
	idx, err := s.sodIndex(ctx, rd) // compiled once per catalog apply (sod.go)
	if err != nil {
		return err
	}
	have := make([]string, 0, len(held)+len(pending))
	for e := range held {
		have = append(have, e)
	}
	for e := range pending {
		have = append(have, e)
	}
	slices.Sort(have)
	have = slices.Compact(have)
	for _, c := range idx.Conflicts(have, r.Entitlements) {
		f := gatehouse.SoDFinding{Rule: c.Rule.ID, Description: c.Rule.Description, Severity: c.Rule.Severity,
			OnViolation: c.Rule.OnViolation, Left: c.Left, Right: c.Right}
		switch c.Rule.OnViolation {
		case "block":
			return gatehouse.Errorf(gatehouse.ECONFLICT, "blocked by SoD rule %s (%s severity): %s and %s must not be held together by %s",
				c.Rule.ID, c.Rule.Severity, c.Left, c.Right, ben.Email)
		case "exception":
			// An approved, unexpired exception for the rule lets the request through (exceptions.go).
			exc, err := exceptionFor(ctx, rd, ben.ID, c.Rule.ID, c.Left, c.Right, s.now())
			if err != nil {
				return err
			}
			if exc == nil {
				return gatehouse.Errorf(gatehouse.ECONFLICT, "SoD rule %s (%s severity): %s and %s together need an approved exception for %s, "+
					"and none is in force (gatehouse exceptions create --for %s --rule %s)", c.Rule.ID, c.Rule.Severity, c.Left, c.Right, ben.Email, ben.Email, c.Rule.ID)
			}
			f.Exception = exc.Ref
		}
		r.Findings.SoD = append(r.Findings.SoD, f)
	}
	return s.peerContext(ctx, rd, r, ben)
}

// peerContext counts, per entitlement, the beneficiary's active peers (same department and
// title) and how many of them hold it.
func (s *Requests) peerContext(ctx context.Context, rd store.Reader, r *gatehouse.AccessRequest, ben *gatehouse.Identity) error {
	peers, holding, err := rd.CountPeers(ctx, ben, r.Entitlements)
	if err != nil {
		return err
	}
	for _, e := range r.Entitlements {
		r.Findings.Peers = append(r.Findings.Peers, gatehouse.PeerContext{EntitlementID: e, Department: ben.Department,
			Title: ben.Title, Peers: peers, Holding: holding[e]})
	}
	return nil
}

// ListRequests lists requests, newest first: mine (submitted by or for the caller), pending-me
// (the current step asks the caller, or someone who delegated to them), or all (readers).
func (s *Requests) ListRequests(ctx context.Context, p *gatehouse.Principal, view RequestView, f gatehouse.RequestFilter) (gatehouse.Page[*gatehouse.AccessRequest], error) {
	var none gatehouse.Page[*gatehouse.AccessRequest]
	if err := authenticated(p); err != nil {
		return none, err
	}
	for _, st := range f.States {
		if !st.Valid() {
			return none, gatehouse.Errorf(gatehouse.EINVALID, "state: %q is not a request state", st)
		}
	}
	switch view {
	case ViewAll:
		if err := requireReadAll(p); err != nil {
			return none, err
		}
	case ViewMine, "":
		if p.IdentityID == "" {
			return gatehouse.Page[*gatehouse.AccessRequest]{Items: []*gatehouse.AccessRequest{}}, nil
		}
		f.Party = p.IdentityID
	case ViewPendingMe:
		if p.IdentityID == "" {
			return gatehouse.Page[*gatehouse.AccessRequest]{Items: []*gatehouse.AccessRequest{}}, nil
		}
		ds, err := s.store.ListDelegations(ctx, gatehouse.DelegationFilter{ToID: p.IdentityID, ActiveAt: s.now()})
		if err != nil {
			return none, err
		}
		f.Approvers = []string{p.IdentityID}
		for _, d := range ds {
			f.Approvers = append(f.Approvers, d.FromID)
		}
		f.States = []gatehouse.RequestState{gatehouse.RequestPendingApproval}
	default:
		return none, gatehouse.Errorf(gatehouse.EINVALID, "view: %q is not one of mine, pending-me, all", view)
	}
	page, err := s.store.ListRequests(ctx, f)
	if err != nil {
		return none, err
	}
	if view == ViewPendingMe {
		// Requests the caller may not decide (their own, routed to a delegator) are not theirs
		// to decide: leave them out.
		kept := page.Items[:0]
		for _, r := range page.Items {
			if r.RequesterID != p.IdentityID && r.BeneficiaryID != p.IdentityID {
				kept = append(kept, r)
			}
		}
		page.Items = kept
	}
	for i, r := range page.Items {
		page.Items[i] = requestFor(p, r)
	}
	return page, nil
}

// GetRequest returns a request (by id or REQ-number) to its requester, its beneficiary, the
// people its steps ask, and readers.
func (s *Requests) GetRequest(ctx context.Context, p *gatehouse.Principal, idOrRef string) (*gatehouse.AccessRequest, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	r, err := s.store.GetRequest(ctx, idOrRef)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && !p.CanReadAll() {
			return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may see only the requests you made, are the beneficiary of, or approve")
		}
		return nil, err
	}
	if p.CanReadAll() {
		return r, nil
	}
	if p.IdentityID != "" {
		if p.IdentityID == r.RequesterID || p.IdentityID == r.BeneficiaryID {
			return requestFor(p, r), nil
		}
		for _, st := range r.Steps {
			if slices.Contains(st.Approvers, p.IdentityID) {
				return requestFor(p, r), nil
			}
		}
		if ok, err := s.delegateOf(ctx, s.store, p.IdentityID, allApprovers(r)); err != nil {
			return nil, err
		} else if ok {
			return requestFor(p, r), nil
		}
	}
	return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may see only the requests you made, are the beneficiary of, or approve")
}

// CancelRequest withdraws an open request: its requester or beneficiary may.
func (s *Requests) CancelRequest(ctx context.Context, p *gatehouse.Principal, idOrRef, comment string) (*gatehouse.AccessRequest, error) {
	if err := checkTexts(reasonText("comment", comment)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	var out *gatehouse.AccessRequest
	err := s.update(ctx, func(tx store.Tx) error {
		r, err := tx.GetRequest(ctx, idOrRef)
		if err != nil {
			return err
		}
		if p.IdentityID == "" || (p.IdentityID != r.RequesterID && p.IdentityID != r.BeneficiaryID) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only the requester or the beneficiary cancels %s", r.Ref)
		}
		if !r.State.Open() {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is %s: only an open request is cancelled", r.Ref, r.State)
		}
		before := cloneRequest(r)
		r.State = gatehouse.RequestCancelled
		r.Events = append(r.Events, gatehouse.RequestEvent{At: s.now(), Actor: p.Actor(), Kind: "cancelled", Comment: comment})
		if err := tx.UpdateRequest(ctx, r); err != nil {
			return err
		}
		out = r
		return s.auditRequest(ctx, tx, p, gatehouse.AuditRequestCancel, before, r, comment)
	})
	return out, err
}

func (s *Requests) auditRequest(ctx context.Context, tx store.Tx, p *gatehouse.Principal, action gatehouse.AuditAction, before, after *gatehouse.AccessRequest, reason string) error {
	ev := s.event(p, action, "request", after.ID, before, after, reason)
	ev.Reference = after.Ref
	return tx.AppendAudit(ctx, ev)
}

// cloneRequest copies r deeply enough for a before image: its slices are appended to later.
func cloneRequest(r *gatehouse.AccessRequest) *gatehouse.AccessRequest {
	c := *r
	c.Steps = slices.Clone(r.Steps)
	c.Events = slices.Clone(r.Events)
	c.GrantIDs = slices.Clone(r.GrantIDs)
	c.Missing = slices.Clone(r.Missing)
	return &c
}
