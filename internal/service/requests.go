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
	"unicode"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
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

// NewDelegation lets To decide, for a while, the steps that ask From.
type NewDelegation struct {
	From     string    `json:"from,omitempty"` // "" for oneself; someone else's needs an operator
	To       string    `json:"to"`
	StartsAt time.Time `json:"starts_at,omitempty"` // default now
	EndsAt   time.Time `json:"ends_at"`
	Reason   string    `json:"reason,omitempty"`
}

// minJustification is the shortest justification that can say what and why.
const minJustification = 15

// genericWords say nothing about why: a justification made only of them is returned.
var genericWords = map[string]bool{
	"need": true, "needs": true, "needed": true, "access": true, "pls": true, "plz": true, "please": true,
	"asap": true, "for": true, "work": true, "required": true, "require": true, "urgent": true, "i": true,
	"it": true, "to": true, "the": true, "me": true, "give": true, "grant": true, "want": true, "my": true,
	"job": true, "thanks": true, "thx": true, "this": true, "a": true, "an": true, "of": true, "is": true,
	"role": true, "permission": true, "permissions": true, "as": true, "discussed": true, "n/a": true,
	"na": true, "test": true, "todo": true, "tbd": true, "same": true, "like": true, "colleague": true,
	"and": true, "now": true, "get": true, "have": true, "must": true, "should": true, "ok": true,
}

// missingHint is what a returned request is told to add.
const missingHint = "say what task needs it and for how long (e.g. \"deploy the billing fix for INC-4211 this week\")"

// JustificationProblems returns what a justification lacks, or nil when it is acceptable. The
// rules are deliberately simple and explainable: empty, too short, made only of generic words,
// or not words at all (one character repeated, keyboard noise).
func JustificationProblems(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return []string{"a justification: " + missingHint}
	}
	var words []string
	letters := map[rune]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '/' && r != '-'
	}) {
		words = append(words, w)
		for _, r := range w {
			if unicode.IsLetter(r) {
				letters[r] = true
			}
		}
	}
	if len(letters) < 4 || repeats(s) {
		return []string{"a justification in words: " + missingHint}
	}
	generic := true
	for _, w := range words {
		if !genericWords[w] {
			generic = false
			break
		}
	}
	if generic {
		return []string{"a specific justification (\"" + s + "\" would fit any request): " + missingHint}
	}
	if len([]rune(s)) < minJustification {
		return []string{fmt.Sprintf("a longer justification (at least %d characters): %s", minJustification, missingHint)}
	}
	return nil
}

// repeats reports a run of 5 or more of one character: "aaaaa", "!!!!!", "......".
func repeats(s string) bool {
	run, prev := 0, rune(0)
	for _, r := range s {
		if r == prev {
			run++
			if run >= 5 {
				return true
			}
		} else {
			run, prev = 1, r
		}
	}
	return false
}

// PreviewRequest checks a request and routes it as CreateRequest would, creating nothing: the
// requester sees who will be asked and the policy findings before submitting. A request that
// would be refused is refused here with the same error.
func (s *Service) PreviewRequest(ctx context.Context, p *gatehouse.Principal, in NewRequest) (*RequestPreview, error) {
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
func (s *Service) CreateRequest(ctx context.Context, p *gatehouse.Principal, in NewRequest) (*gatehouse.AccessRequest, error) {
	if err := checkTexts(idText("for", in.For), idText("entitlement", in.Entitlement), idText("role", in.Role), reasonText("justification", in.Justification)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	var out *gatehouse.AccessRequest
	err := s.update(ctx, func(tx store.Tx) error {
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
		ev := s.event(p, "request.create", "request", r.ID, nil, r, r.Justification)
		ev.Reference = r.Ref
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
		if r.Action == gatehouse.ActionRemove {
			if err := s.fulfil(ctx, tx, p, r, "a removal needs no approval"); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	if err == nil {
		s.announce(ctx, out) // after the commit: approvers, or the requester if returned
	}
	return out, err
}

// ResubmitRequest sends a returned request back to its approvers with a new justification. It
// is checked and routed again, as a new request would be (the organization may have changed).
func (s *Service) ResubmitRequest(ctx context.Context, p *gatehouse.Principal, idOrRef, justification string) (*gatehouse.AccessRequest, error) {
	if err := checkTexts(reasonText("justification", justification)); err != nil {
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
		if p.IdentityID == "" || p.IdentityID != r.RequesterID {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only the requester resubmits %s", r.Ref)
		}
		if r.State != gatehouse.RequestReturned {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is %s: only a returned request is resubmitted", r.Ref, r.State)
		}
		if m := JustificationProblems(justification); len(m) > 0 {
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
		return s.auditRequest(ctx, tx, p, "request.resubmit", &before, r, justification)
	})
	if err == nil {
		s.announce(ctx, out)
	}
	return out, err
}

// intake checks in and builds the request it describes (not stored; State unset). self is the
// id of the request being resubmitted, whose own entitlements do not count as pending.
func (s *Service) intake(ctx context.Context, rd store.Reader, p *gatehouse.Principal, in NewRequest, self string) (*gatehouse.AccessRequest, *gatehouse.Identity, error) {
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
	r.Missing = JustificationProblems(r.Justification)
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
	f := store.GrantFilter{IdentityID: identityID, Status: "active", Limit: store.MaxLimit}
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
	f := store.RequestFilter{BeneficiaryID: identityID, States: openStates, Limit: store.MaxLimit}
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
func (s *Service) policyFindings(ctx context.Context, rd store.Reader, r *gatehouse.AccessRequest, ben *gatehouse.Identity,
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
func (s *Service) peerContext(ctx context.Context, rd store.Reader, r *gatehouse.AccessRequest, ben *gatehouse.Identity) error {
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
func (s *Service) route(ctx context.Context, rd store.Reader, r *gatehouse.AccessRequest, requester, ben *gatehouse.Identity,
	ents []*gatehouse.Entitlement) ([]gatehouse.ApprovalStep, error) {
	settings, err := rd.GetSettings(ctx)
	if err != nil {
		return nil, err
	}
	rt := &router{rd: rd, requester: requester, beneficiary: ben, settings: settings, taken: map[string]string{}, asked: map[string]bool{}}
	var steps []gatehouse.ApprovalStep
	for _, e := range ents {
		chain := slices.Clone(e.Approval)
		if e.Risk == gatehouse.RiskPrivileged && !slices.Contains(chain, "security") {
			chain = append(chain, "security")
		}
		if len(chain) == 0 {
			chain = []string{"owner"} // every request is decided by someone
		}
		for _, kind := range chain {
			st, err := rt.step(ctx, kind, e, steps)
			if err != nil {
				return nil, err
			}
			if st == nil {
				continue // the same step as one already asked
			}
			steps = append(steps, *st)
			if len(st.Approvers) == 1 {
				rt.taken[st.Approvers[0]] = "the " + string(st.Kind) + " step"
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
		} else if m, err := rt.rd.GetIdentity(ctx, rt.beneficiary.ManagerID); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
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
	asked := string(sk) + "|" + strings.Join(identityIDs(ok), ",")
	if len(ok) == 0 {
		asked += "|fallback of system " + e.System
	}
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
	if slices.ContainsFunc(have, func(h gatehouse.ApprovalStep) bool {
		return h.Kind == st.Kind && slices.Equal(h.Approvers, st.Approvers)
	}) {
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

// untaken leaves out the candidates who already decide another step of the request.
func (rt *router) untaken(cands []*gatehouse.Identity) (ok []*gatehouse.Identity, notes []string) {
	for _, c := range cands {
		if step, taken := rt.taken[c.ID]; taken {
			notes = append(notes, c.Email+" already decides "+step+" (one person decides at most one step of a request)")
			continue
		}
		ok = append(ok, c)
	}
	return ok, notes
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

// eligible keeps the candidates who may approve: active, neither the requester nor the
// beneficiary. The notes say who was left out and why.
func (rt *router) eligible(cands []*gatehouse.Identity) (ok []*gatehouse.Identity, notes []string) {
	seen := map[string]bool{}
	for _, c := range cands {
		switch {
		case seen[c.ID]:
		case c.Status == gatehouse.StatusTerminated:
			notes = append(notes, c.Email+" is terminated")
		case c.ID == rt.beneficiary.ID:
			notes = append(notes, c.Email+" is the beneficiary (no one approves their own access)")
		case c.ID == rt.requester.ID:
			notes = append(notes, c.Email+" submitted the request (no one approves their own request)")
		default:
			ok = append(ok, c)
		}
		seen[c.ID] = true
	}
	return ok, notes
}

func (rt *router) loadOperators(ctx context.Context) ([]*gatehouse.Identity, error) {
	if rt.opsLoaded {
		return rt.operators, nil
	}
	for _, role := range []gatehouse.AccessRole{gatehouse.RoleOperator, gatehouse.RoleAdmin} {
		page, err := rt.rd.ListIdentities(ctx, store.IdentityFilter{Role: role, Status: gatehouse.StatusActive, Limit: 100})
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

// ListRequests lists requests, newest first: mine (submitted by or for the caller), pending-me
// (the current step asks the caller, or someone who delegated to them), or all (readers).
func (s *Service) ListRequests(ctx context.Context, p *gatehouse.Principal, view RequestView, f store.RequestFilter) (store.Page[*gatehouse.AccessRequest], error) {
	var none store.Page[*gatehouse.AccessRequest]
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
			return store.Page[*gatehouse.AccessRequest]{Items: []*gatehouse.AccessRequest{}}, nil
		}
		f.Party = p.IdentityID
	case ViewPendingMe:
		if p.IdentityID == "" {
			return store.Page[*gatehouse.AccessRequest]{Items: []*gatehouse.AccessRequest{}}, nil
		}
		ds, err := s.store.ListDelegations(ctx, store.DelegationFilter{ToID: p.IdentityID, ActiveAt: s.now()})
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
func (s *Service) GetRequest(ctx context.Context, p *gatehouse.Principal, idOrRef string) (*gatehouse.AccessRequest, error) {
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

func allApprovers(r *gatehouse.AccessRequest) []string {
	var out []string
	for _, st := range r.Steps {
		out = append(out, st.Approvers...)
	}
	return out
}

// delegateOf reports whether one of approvers has an active delegation to identityID.
func (s *Service) delegateOf(ctx context.Context, rd store.Reader, identityID string, approvers []string) (bool, error) {
	if len(approvers) == 0 {
		return false, nil
	}
	ds, err := rd.ListDelegations(ctx, store.DelegationFilter{ToID: identityID, ActiveAt: s.now()})
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
func (s *Service) ApproveRequest(ctx context.Context, p *gatehouse.Principal, idOrRef, comment string) (*gatehouse.AccessRequest, error) {
	return s.decide(ctx, p, idOrRef, gatehouse.DecisionApproved, comment)
}

// DenyRequest denies the request at its current step (a comment is required).
func (s *Service) DenyRequest(ctx context.Context, p *gatehouse.Principal, idOrRef, comment string) (*gatehouse.AccessRequest, error) {
	return s.decide(ctx, p, idOrRef, gatehouse.DecisionDenied, comment)
}

// ReturnRequest sends the request back to its requester for more information (a comment, saying
// what, is required).
func (s *Service) ReturnRequest(ctx context.Context, p *gatehouse.Principal, idOrRef, comment string) (*gatehouse.AccessRequest, error) {
	return s.decide(ctx, p, idOrRef, gatehouse.DecisionReturned, comment)
}

func (s *Service) decide(ctx context.Context, p *gatehouse.Principal, idOrRef string, d gatehouse.Decision, comment string) (*gatehouse.AccessRequest, error) {
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
	err := s.update(ctx, func(tx store.Tx) error {
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
			ds, err := tx.ListDelegations(ctx, store.DelegationFilter{ToID: p.IdentityID, ActiveAt: s.now()})
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
		action := "request.approve"
		switch d {
		case gatehouse.DecisionDenied:
			r.State, action = gatehouse.RequestDenied, "request.deny"
		case gatehouse.DecisionReturned:
			r.State, action = gatehouse.RequestReturned, "request.return"
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
			if err := s.fulfil(ctx, tx, p, r, "approved by every step"); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	if err == nil {
		s.announce(ctx, out) // the next step's approvers, or the decision to the requester
	}
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

// takenSteps maps who decided a step of r before step j to that step ("the manager step").
func takenSteps(r *gatehouse.AccessRequest, j int) map[string]string {
	taken := map[string]string{}
	for _, st := range r.Steps[:j] {
		if st.Decision != "" && st.DecidedByID != "" {
			taken[st.DecidedByID] = "the " + string(st.Kind) + " step"
		}
	}
	return taken
}

// rerouteNext re-routes the current step of r when every one of its approvers has decided an
// earlier step (one person decides at most one step): it falls to the next fallback, the owner
// of the system, then the operators, as at routing, and its Why says so.
func (s *Service) rerouteNext(ctx context.Context, tx store.Tx, r *gatehouse.AccessRequest, now time.Time) error {
	j := r.CurrentStep()
	if j < 0 {
		return nil
	}
	next := &r.Steps[j]
	taken := takenSteps(r, j)
	var notes []string
	for i, id := range next.Approvers {
		step, ok := taken[id]
		if !ok {
			return nil // someone who decided nothing yet may decide it
		}
		email := id
		if i < len(next.Emails) {
			email = next.Emails[i]
		}
		notes = append(notes, email+" decided "+step+" (one person decides at most one step of a request)")
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

// fulfil writes (or, for a removal, revokes) the grants of an approved request and moves it to
// provisioning, in the caller's transaction. SoD is checked again: what the beneficiary holds
// may have changed since submission.
func (s *Service) fulfil(ctx context.Context, tx store.Tx, p *gatehouse.Principal, r *gatehouse.AccessRequest, why string) error {
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
			ev := s.event(p, "grant.revoke", "grant", gid, g, after, reason)
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
			ev := s.event(p, "grant.create", "grant", g.ID, nil, g, r.Justification)
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
	return s.auditRequest(ctx, tx, p, "request.provision", before, r, why)
}

// CancelRequest withdraws an open request: its requester or beneficiary may.
func (s *Service) CancelRequest(ctx context.Context, p *gatehouse.Principal, idOrRef, comment string) (*gatehouse.AccessRequest, error) {
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
		return s.auditRequest(ctx, tx, p, "request.cancel", before, r, comment)
	})
	return out, err
}

// closeLeaversRequests cancels, in the transaction that makes them leavers, the open requests
// of the plan's leavers: nobody should approve access for someone who has left, and an approver
// should not find such a request in the inbox. Each is audited with its number.
func (s *Service) closeLeaversRequests(ctx context.Context, tx store.Tx, p *gatehouse.Principal, plan *jml.Plan) error {
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
func (s *Service) cancelOpenRequests(ctx context.Context, tx store.Tx, p *gatehouse.Principal, beneficiary, why string) error {
	open := []gatehouse.RequestState{gatehouse.RequestSubmitted, gatehouse.RequestPendingApproval, gatehouse.RequestReturned}
	page, err := tx.ListRequests(ctx, store.RequestFilter{BeneficiaryID: beneficiary, States: open, Limit: store.MaxLimit})
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
		if err := s.auditRequest(ctx, tx, p, "request.cancel", before, r, why); err != nil {
			return err
		}
	}
	return nil
}

// SetDelegation records that To may decide, between StartsAt and EndsAt, the steps that ask
// From. One delegates one's own approvals; an operator may record it for someone away.
func (s *Service) SetDelegation(ctx context.Context, p *gatehouse.Principal, in NewDelegation) (*gatehouse.Delegation, error) {
	if err := checkTexts(idText("from", in.From), idText("to", in.To), reasonText("reason", in.Reason)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	now := s.now()
	if in.StartsAt.IsZero() {
		in.StartsAt = now
	}
	if !in.EndsAt.After(in.StartsAt) {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "ends_at: a delegation ends after it starts")
	}
	var out *gatehouse.Delegation
	err := s.update(ctx, func(tx store.Tx) error {
		fromKey := in.From
		if fromKey == "" {
			fromKey = p.IdentityID
		}
		if fromKey == "" {
			return gatehouse.Errorf(gatehouse.EINVALID, "from: say whose approvals are delegated")
		}
		from, err := tx.GetIdentity(ctx, fromKey)
		if err != nil {
			return err
		}
		if from.ID != p.IdentityID && !p.Has(gatehouse.RoleOperator) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may delegate only your own approvals")
		}
		to, err := tx.GetIdentity(ctx, in.To)
		if err != nil {
			return err
		}
		if to.ID == from.ID {
			return gatehouse.Errorf(gatehouse.EINVALID, "to: delegate to someone else")
		}
		// An operator records a delegation for someone who is away, but never to themselves:
		// that would make any approver's power (a manager's, a security approver's) theirs.
		if to.ID == p.IdentityID && from.ID != p.IdentityID {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may not delegate someone else's approvals to yourself; %s delegates them, or another operator does", from.Email)
		}
		// Handing on the approvals of an admin or of a holder of a designated power moves that
		// power to someone the catalog did not name: theirs or an admin's to do, as is changing
		// their email or status (mayChangeStanding).
		if from.ID != p.IdentityID && !p.Has(gatehouse.RoleAdmin) {
			if from.HasRole(gatehouse.RoleAdmin) {
				return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin delegates the approvals of an admin (%s)", from.Email)
			}
			powers, err := designatedPowers(ctx, tx, from)
			if err != nil {
				return err
			}
			if len(powers) > 0 {
				return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin delegates the approvals of %s, who holds a designated power (%s)",
					from.Email, strings.Join(powers, "; "))
			}
		}
		if to.Status == gatehouse.StatusTerminated {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is terminated", to.Email)
		}
		// A leaver's powers ended with them (termination.go); nobody revives them by delegation.
		if from.Status == gatehouse.StatusTerminated {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is terminated: their approvals ended with them", from.Email)
		}
		d := &gatehouse.Delegation{FromID: from.ID, ToID: to.ID, StartsAt: in.StartsAt, EndsAt: in.EndsAt, Reason: in.Reason, CreatedBy: p.Actor()}
		if err := tx.CreateDelegation(ctx, d); err != nil {
			return err
		}
		out = d
		return tx.AppendAudit(ctx, s.event(p, "delegation.create", "delegation", d.ID, nil, d, in.Reason))
	})
	return out, err
}

// SyncRequests moves provisioning requests forward from the provisioning evidence: a request is
// fulfilled when, for every grant, the target applied the change after approval (an add_member
// or remove_member operation of the entitlement's group, done by a connector or by a person on
// a manual task), or a reconcile started after approval converged without needing one. An
// operation that failed makes the request failed, with the error. It returns how many requests
// changed state.
func (s *Service) SyncRequests(ctx context.Context) (int, error) {
	p := SystemPrincipal("requests")
	changed := 0
	f := store.RequestFilter{States: []gatehouse.RequestState{gatehouse.RequestProvisioning}, Limit: store.MaxLimit}
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
			var moved *gatehouse.AccessRequest
			err = s.update(ctx, func(tx store.Tx) error {
				cur, err := tx.GetRequest(ctx, r.ID)
				if err != nil {
					return err
				}
				if cur.State != gatehouse.RequestProvisioning {
					return nil
				}
				before := cloneRequest(cur)
				now := s.now()
				action := "request.fulfill"
				if failed != "" {
					cur.State, cur.Error, action = gatehouse.RequestFailed, failed, "request.fail"
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
				moved = cur
				return s.auditRequest(ctx, tx, p, action, before, cur, cur.Error)
			})
			if err != nil && gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
				return changed, err
			}
			if err == nil {
				s.announce(ctx, moved) // fulfilled: the requester and the beneficiary
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
func (s *Service) provisioned(ctx context.Context, r *gatehouse.AccessRequest) (done bool, failed string, last time.Time, err error) {
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
		ops, err := s.store.ListOperations(ctx, store.OperationFilter{SystemID: ent.System, IdentityID: r.BeneficiaryID, Limit: 200})
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
			runs, err := s.store.ListReconciles(ctx, store.ReconcileFilter{SystemID: ent.System, Latest: true, Limit: 1})
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

// RunRequestSync calls SyncRequests every interval until ctx ends (gatehouse serve).
func (s *Service) RunRequestSync(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.SyncRequests(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("sync access requests", "err", err)
			} else if n > 0 {
				s.log.Info("access requests moved on", "changed", n)
			}
		}
	}
}

func (s *Service) auditRequest(ctx context.Context, tx store.Tx, p *gatehouse.Principal, action string, before, after *gatehouse.AccessRequest, reason string) error {
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
