package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ListGrants lists grants. An ordinary identity sees only its own.
func (s *Grants) ListGrants(ctx context.Context, p *gatehouse.Principal, f gatehouse.GrantFilter) (gatehouse.Page[*gatehouse.Grant], error) {
	if err := authenticated(p); err != nil {
		return gatehouse.Page[*gatehouse.Grant]{}, err
	}
	if !p.CanReadAll() {
		if f.IdentityID == "" {
			f.IdentityID = p.IdentityID
		}
		if err := s.requireSelf(ctx, p, f.IdentityID); err != nil {
			return gatehouse.Page[*gatehouse.Grant]{}, err
		}
		f.IdentityID = p.IdentityID
	} else if f.IdentityID != "" {
		// Accept an email or employee_id as well as an id.
		id, err := s.store.GetIdentity(ctx, f.IdentityID)
		if err != nil {
			return gatehouse.Page[*gatehouse.Grant]{}, err
		}
		f.IdentityID = id.ID
	}
	return s.store.ListGrants(ctx, f)
}

// GetGrant returns one grant.
func (s *Grants) GetGrant(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.Grant, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	g, err := s.store.GetGrant(ctx, id)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && !p.CanReadAll() {
			return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may only see your own access")
		}
		return nil, err
	}
	if err := requireSelfOrReadAll(p, g.IdentityID); err != nil {
		return nil, err
	}
	return g, nil
}

// NewGrant is a direct grant by an operator. Everyday access arrives through requests and
// birthright rules instead; break-glass through GrantEmergency.
type NewGrant struct {
	Identity    string                `json:"identity"`    // id, email or employee_id
	Entitlement string                `json:"entitlement"` // entitlement id
	Source      gatehouse.GrantSource `json:"source"`      // direct (the default) is the only one accepted from callers
	Reference   string                `json:"reference"`   // the operator's ticket (required); a Gatehouse number must be real and fit
	Duration    gatehouse.Duration    `json:"duration"`    // 0: the entitlement's max_duration, or none
	Reason      string                `json:"reason"`
}

// sourceFlows says, for every source a caller may not ask for, which flow writes it: a grant's
// source is what Gatehouse did, not a label the operator picks.
var sourceFlows = map[gatehouse.GrantSource]string{
	gatehouse.SourceRequest:    "approved access requests (`gatehouse request create`)",
	gatehouse.SourceEmergency:  "`gatehouse emergency grant`, which opens the post-event review",
	gatehouse.SourceBirthright: "birthright rules (`gatehouse catalog apply`, `gatehouse hr import`)",
	gatehouse.SourceReview:     "access reviews",
	gatehouse.SourceException: "approved requests under an exception (`gatehouse exceptions create`, then `gatehouse request create`); " +
		"a direct grant under an approved exception gives its EXC number as the reference",
}

// DirectGrantRecord is what the audit log keeps of a direct grant (the grant.create event's
// after): the grant, source direct, and what Gatehouse checked, so that an auditor sees a direct
// grant as one without reading anything else.
type DirectGrantRecord struct {
	*gatehouse.Grant
	Direct DirectGrantFacts `json:"direct"`
}

// DirectGrantFacts are the checks a direct grant passed.
type DirectGrantFacts struct {
	Beneficiary string         `json:"beneficiary"` // email
	Risk        gatehouse.Risk `json:"risk"`
	Reason      string         `json:"reason"`
	// SoD are the rules the grant breaks that did not stop it: record rules, and exception
	// rules waived by an approved exception (named in Exception).
	SoD []gatehouse.SoDFinding `json:"sod,omitempty"`
	// Exception is the approved exception the reference names, if it names one.
	Exception string `json:"exception,omitempty"`
}

// CreateGrant records a direct grant (operators), source direct. It holds the grant to the
// controls a request meets, because an operator is one of the people those controls exist for:
// nobody grants to themselves; preventive SoD rules (block, and exception without an approved
// exception in force) apply to what the person holds and has pending; a reference shaped like a
// Gatehouse number (REQ-, EMG-, EXC-, TASK-) must be real and fit the grant; every direct grant
// needs a reason. The entitlement's rules still hold: privileged and time-limited entitlements
// get an expiry no later than max_duration, and an identity cannot receive what it already
// holds, nor anything after termination. Refusals are logged, not audited: nothing changed.
// Other sources are written by their own flows (requests, GrantEmergency, birthright rules,
// CreateGrants for internal loads), never through this path.
func (s *Grants) CreateGrant(ctx context.Context, p *gatehouse.Principal, in NewGrant) (*gatehouse.Grant, error) {
	if err := checkTexts(idText("identity", in.Identity), idText("entitlement", in.Entitlement), idText("reference", in.Reference), reasonText("reason", in.Reason)); err != nil {
		return nil, err
	}
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	g, err := s.createDirectGrant(ctx, p, in)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.EINTERNAL {
		s.log.Warn("direct grant refused", "actor", p.Actor(), "identity", in.Identity, "entitlement", in.Entitlement,
			"source", string(in.Source), "reference", in.Reference, "code", gatehouse.ErrorCode(err), "why", gatehouse.ErrorMessage(err))
	}
	return g, err
}

func (s *Grants) createDirectGrant(ctx context.Context, p *gatehouse.Principal, in NewGrant) (*gatehouse.Grant, error) {
	if in.Source == "" {
		in.Source = gatehouse.SourceDirect
	}
	if flow, ok := sourceFlows[in.Source]; ok {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "source: %s grants are written by %s; a grant made here is source: direct", in.Source, flow)
	}
	if in.Source != gatehouse.SourceDirect {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "source: %q is not accepted; a grant made here is source: direct", in.Source)
	}
	in.Reference, in.Reason = strings.TrimSpace(in.Reference), strings.TrimSpace(in.Reason)
	if err := checkNewGrant(in); err != nil {
		return nil, err
	}
	var out *gatehouse.Grant
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		now := s.now()
		ben, err := tx.GetIdentity(ctx, in.Identity)
		if err != nil {
			return err
		}
		if selfGrant(p, ben) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may not grant access to yourself (%s); ask another operator, or request it (gatehouse request create)", ben.Email)
		}
		ent, err := tx.GetEntitlement(ctx, in.Entitlement)
		if err != nil {
			return err
		}
		facts := DirectGrantFacts{Beneficiary: ben.Email, Risk: ent.Risk, Reason: in.Reason}
		if facts.Exception, err = directReference(ctx, tx, in.Reference, ben, ent, now); err != nil {
			return err
		}
		b := newGrantBatch(tx, now)
		g, err := b.add(ctx, p, NewGrant{Identity: ben.ID, Entitlement: ent.ID, Source: gatehouse.SourceDirect,
			Reference: in.Reference, Duration: in.Duration, Reason: in.Reason})
		if err != nil {
			return err
		}
		if facts.SoD, err = s.directSoD(ctx, tx, ben, ent.ID, b.held[ben.ID], now); err != nil {
			return err
		}
		if err := tx.CreateGrant(ctx, g); err != nil {
			return err
		}
		ev := s.event(p, gatehouse.AuditGrantCreate, "grant", g.ID, nil, DirectGrantRecord{Grant: g, Direct: facts}, in.Reason)
		ev.Reference = in.Reference
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
		// Checked again now that the audit head is held: on PostgreSQL it serializes writers, so a
		// grant of the other side committed meanwhile (two calls at once) is seen here and this
		// one rolls back. On SQLite the write transaction already excluded it.
		held, err := heldGrants(ctx, tx, ben.ID, now)
		if err != nil {
			return err
		}
		if other, dup := held[ent.ID]; dup && other != g.ID {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s already holds %s (grant %s)", ben.Email, ent.ID, other)
		}
		delete(held, ent.ID)
		if _, err := s.directSoD(ctx, tx, ben, ent.ID, held, now); err != nil {
			return err
		}
		fx.granted(g)
		out = g
		return nil
	})
	return out, err
}

// selfGrant reports whether p is the beneficiary: by identity, or by email for a principal
// that carries only an email.
func selfGrant(p *gatehouse.Principal, ben *gatehouse.Identity) bool {
	if p.IdentityID != "" {
		return p.IdentityID == ben.ID
	}
	return p.Email != "" && strings.EqualFold(p.Email, ben.Email)
}

// directSoD applies the preventive SoD rules to a direct grant of ent to ben, exactly as a
// request meets them (policyFindings): against what ben holds (held: entitlement → grant id)
// and what their open requests ask for, a block rule refuses, an exception rule refuses unless
// an approved exception for the rule and ben is in force, a record rule is noted. It returns
// the rules broken that did not refuse.
func (s *Grants) directSoD(ctx context.Context, rd store.Reader, ben *gatehouse.Identity, ent string, held map[string]string,
	now time.Time) ([]gatehouse.SoDFinding, error) {
	idx, err := s.sodIndex(ctx, rd)
	if err != nil {
		return nil, err
	}
	if idx.Len() == 0 {
		return nil, nil
	}
	pending, err := pendingEntitlements(ctx, rd, ben.ID, "")
	if err != nil {
		return nil, err
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
	var out []gatehouse.SoDFinding
	for _, c := range idx.Conflicts(have, []string{ent}) {
		f := gatehouse.SoDFinding{Rule: c.Rule.ID, Description: c.Rule.Description, Severity: c.Rule.Severity,
			OnViolation: c.Rule.OnViolation, Left: c.Left, Right: c.Right}
		other := c.Left
		if other == ent {
			other = c.Right
		}
		how := "holds"
		if _, ok := held[other]; !ok {
			how = "has asked for (" + pending[other] + ")"
		}
		switch c.Rule.OnViolation {
		case "block":
			return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "blocked by SoD rule %s (%s severity): %s %s %s, and %s and %s must not be held together; a direct grant is held to the same rules as a request",
				c.Rule.ID, c.Rule.Severity, ben.Email, how, other, c.Left, c.Right)
		case "exception":
			exc, err := exceptionFor(ctx, rd, ben.ID, c.Rule.ID, c.Left, c.Right, now)
			if err != nil {
				return nil, err
			}
			if exc == nil {
				return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "SoD rule %s (%s severity): %s %s %s; %s and %s together need an approved exception for %s, "+
					"and none is in force (gatehouse exceptions create --for %s --rule %s)", c.Rule.ID, c.Rule.Severity, ben.Email, how, other,
					c.Left, c.Right, ben.Email, ben.Email, c.Rule.ID)
			}
			f.Exception = exc.Ref
		}
		out = append(out, f)
	}
	return out, nil
}

// directReference checks a direct grant's reference. The operator's own tickets (INC-4412,
// CHG-42) are free text, but a word shaped like a number Gatehouse issues claims that Gatehouse
// decided something about this grant, so it must be true:
//   - EMG-n never: emergency grants are written by GrantEmergency, which opens their review;
//   - EXC-n: an exception that is approved and unexpired, for this person, whose rule names the
//     entitlement (or, for a policy exception, whose entitlements include it when it lists any);
//     it returns the exception's reference;
//   - REQ-n: an approved add request for this person that asked for this entitlement (access
//     restored after a mistaken revocation);
//   - TASK-n: a manual task for this person and this entitlement (a change made by hand, recorded).
func directReference(ctx context.Context, rd store.Reader, ref string, ben *gatehouse.Identity, ent *gatehouse.Entitlement,
	now time.Time) (string, error) {
	var exc string
	for _, word := range strings.FieldsFunc(ref, func(r rune) bool {
		return !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		if _, ok := gatehouse.ParseEmergencyRef(word); ok {
			return "", gatehouse.Errorf(gatehouse.EINVALID, "reference: %s is an emergency number; emergency grants are written by `gatehouse emergency grant` with the review it opens, never by a direct grant", word)
		}
		if _, ok := gatehouse.ParseExceptionRef(word); ok {
			e, err := rd.GetException(ctx, word)
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				return "", gatehouse.Errorf(gatehouse.EINVALID, "reference: %s is not an exception Gatehouse issued", word)
			}
			if err != nil {
				return "", err
			}
			if err := exceptionFits(ctx, rd, e, ben, ent, now); err != nil {
				return "", err
			}
			exc = e.Ref
			continue
		}
		if _, ok := gatehouse.ParseRequestRef(word); ok {
			r, err := rd.GetRequest(ctx, word)
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				return "", gatehouse.Errorf(gatehouse.EINVALID, "reference: %s is not a request Gatehouse issued", word)
			}
			if err != nil {
				return "", err
			}
			approved := r.State == gatehouse.RequestApproved || r.State == gatehouse.RequestProvisioning || r.State == gatehouse.RequestFulfilled
			if r.BeneficiaryID != ben.ID || r.Action != gatehouse.ActionAdd || !approved || !slices.Contains(r.Entitlements, ent.ID) {
				return "", gatehouse.Errorf(gatehouse.EINVALID, "reference: %s is not an approved request of %s for %s; give your own ticket instead", r.Ref, ben.Email, ent.ID)
			}
			continue
		}
		if _, ok := gatehouse.ParseTaskRef(word); ok {
			t, err := rd.GetTask(ctx, word)
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				return "", gatehouse.Errorf(gatehouse.EINVALID, "reference: %s is not a task Gatehouse issued", word)
			}
			if err != nil {
				return "", err
			}
			if t.IdentityID != ben.ID || t.EntitlementID != ent.ID {
				return "", gatehouse.Errorf(gatehouse.EINVALID, "reference: %s is not a task about %s and %s; give your own ticket instead", t.Ref(), ben.Email, ent.ID)
			}
		}
	}
	return exc, nil
}

// exceptionFits reports, as an error, why exception e does not cover a direct grant of ent to ben.
func exceptionFits(ctx context.Context, rd store.Reader, e *gatehouse.Exception, ben *gatehouse.Identity, ent *gatehouse.Entitlement, now time.Time) error {
	if e.IdentityID != ben.ID {
		return gatehouse.Errorf(gatehouse.EINVALID, "reference: %s is an exception for someone else, not %s", e.Ref, ben.Email)
	}
	if !e.InForce(now) {
		return gatehouse.Errorf(gatehouse.EINVALID, "reference: %s is %s, not an approved exception in force", e.Ref, exceptionState(e, now))
	}
	if slices.Contains(e.EntitlementIDs, ent.ID) {
		return nil
	}
	switch e.Kind {
	case gatehouse.ExceptionSoD:
		rule, err := rd.GetSoDRule(ctx, e.RuleID)
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return err
		}
		if rule != nil && (slices.Contains(rule.Left, ent.ID) || slices.Contains(rule.Right, ent.ID)) {
			return nil
		}
	case gatehouse.ExceptionPolicy:
		if len(e.EntitlementIDs) == 0 {
			return nil
		}
	}
	return gatehouse.Errorf(gatehouse.EINVALID, "reference: %s does not cover %s", e.Ref, ent.ID)
}

// exceptionState says in words where an exception that is not in force stands.
func exceptionState(e *gatehouse.Exception, now time.Time) string {
	if e.Status == gatehouse.ExceptionApproved && !now.Before(e.ExpiresAt) {
		return "expired"
	}
	return string(e.Status)
}

// DirectGrant is an active direct grant with who made it and why, for the entitlement page.
type DirectGrant struct {
	Grant  *gatehouse.Grant `json:"grant"`
	Reason string           `json:"reason"`
}

// ListDirectGrants lists the active direct grants of an entitlement (readers), newest first
// within the page, each with the reason its audit event recorded: the grant row keeps who and
// the reference, the audit log keeps why.
func (s *Grants) ListDirectGrants(ctx context.Context, p *gatehouse.Principal, entitlementID string, limit int) (gatehouse.Page[*DirectGrant], error) {
	var out gatehouse.Page[*DirectGrant]
	if err := requireReadAll(p); err != nil {
		return out, err
	}
	page, err := s.store.ListGrants(ctx, gatehouse.GrantFilter{EntitlementID: entitlementID, Source: gatehouse.SourceDirect, Status: "active", Limit: limit})
	if err != nil {
		return out, err
	}
	now := s.now()
	out.NextCursor = page.NextCursor
	for _, g := range page.Items {
		if !g.Active(now) {
			continue
		}
		d := &DirectGrant{Grant: g}
		evs, err := s.store.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: string(gatehouse.AuditGrantCreate), ObjectType: "grant", ObjectID: g.ID, Limit: 1})
		if err != nil {
			return out, fmt.Errorf("direct grant %s: audit: %w", g.ID, err)
		}
		if len(evs.Items) > 0 {
			d.Reason = evs.Items[0].Reason
		}
		out.Items = append(out.Items, d)
	}
	slices.Reverse(out.Items)
	return out, nil
}

// RevokeGrant revokes a grant (operators). The grant row stays, as evidence.
func (s *Grants) RevokeGrant(ctx context.Context, p *gatehouse.Principal, id, reason string) (*gatehouse.Grant, error) {
	if err := checkTexts(reasonText("reason", reason)); err != nil {
		return nil, err
	}
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "reason: say why the access is removed")
	}
	var out *gatehouse.Grant
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		before, err := tx.GetGrant(ctx, id)
		if err != nil {
			return err
		}
		if before.RevokedAt != nil {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "grant %s was already revoked at %s", id, before.RevokedAt.Format(time.RFC3339))
		}
		now := s.now()
		if err := tx.RevokeGrant(ctx, id, now, p.Actor(), reason); err != nil {
			return err
		}
		if out, err = tx.GetGrant(ctx, id); err != nil {
			return err
		}
		fx.revoked(out.ID, out.IdentityID, out.EntitlementID)
		return tx.AppendAudit(ctx, s.event(p, gatehouse.AuditGrantRevoke, "grant", id, before, out, reason))
	})
	return out, err
}

// ListAccounts lists observed accounts (readers only).
func (s *Grants) ListAccounts(ctx context.Context, p *gatehouse.Principal, f gatehouse.AccountFilter) (gatehouse.Page[*gatehouse.Account], error) {
	if err := requireReadAll(p); err != nil {
		return gatehouse.Page[*gatehouse.Account]{}, err
	}
	return s.store.ListAccounts(ctx, f)
}
