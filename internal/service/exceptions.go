package service

// The exceptions register. An exception records that the business accepts a risk a policy
// forbids — most often an SoD rule with on_violation: exception — for one person, for a while,
// with the risk rationale and the compensating controls. It is decided by a security approver
// (settings.security_approvers) or an admin, never by whoever asked for it nor by the person it
// concerns. While approved and unexpired it lets that person's requests through the rule it
// waives (requests.go), and it remembers the grants written under it. When it expires, the
// expiry sweep either revokes those grants (on_expiry: revoke) or puts the exception back to
// pending for review (on_expiry: review), audited with its EXC number.
//
// The sweep is a query, not a schedule of its own: every run looks for approved exceptions past
// their expiry, so a server that was down catches up on its first run after a restart, and two
// replicas running it at once are kept apart by the exception's version.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// maxExceptionLife bounds how long an exception lasts before someone must look at it again.
const maxExceptionLife = 366 * 24 * time.Hour

// errExceptionMoved rolls back the expiry of an exception renewed or ended meanwhile.
var errExceptionMoved = errors.New("exception changed meanwhile")

// NewException is what an operator (or the person concerned) asks to record.
type NewException struct {
	For          string                  `json:"for"`                    // id, email or employee_id; "" for oneself
	Kind         gatehouse.ExceptionKind `json:"kind,omitempty"`         // default sod
	Rule         string                  `json:"rule,omitempty"`         // the SoD rule waived (kind sod)
	Entitlements []string                `json:"entitlements,omitempty"` // narrows the exception
	Rationale    string                  `json:"rationale"`              // the risk rationale
	Controls     string                  `json:"controls"`               // compensating controls
	Expires      gatehouse.Duration      `json:"expires"`                // from approval... and from now until then
	Review       gatehouse.Duration      `json:"review,omitempty"`       // default: at expiry
	OnExpiry     gatehouse.OnExpiry      `json:"on_expiry,omitempty"`    // default settings.exceptions.on_expiry, else revoke
}

// ExceptionDecision is a security approver's answer. Expires renews the exception's life from
// now: required when approving one that came back for review after its expiry.
type ExceptionDecision struct {
	Comment string             `json:"comment"`
	Expires gatehouse.Duration `json:"expires,omitempty"`
	Review  gatehouse.Duration `json:"review,omitempty"`
}

// ExceptionQuery selects exceptions for ListExceptions.
type ExceptionQuery struct {
	Identity string                      `query:"identity"` // id, email or employee_id
	Rule     string                      `query:"rule"`
	Statuses []gatehouse.ExceptionStatus `query:"status,list"`
	// Expiring keeps approved exceptions that expire within this time from now.
	Expiring time.Duration `query:"expiring"`
	Limit    int           `query:"limit"`
	Cursor   string        `query:"cursor"`
}

// CreateException records a pending exception. Operators record them for anyone; anyone may
// ask for one for themselves.
func (s *Exceptions) CreateException(ctx context.Context, p *gatehouse.Principal, in NewException) (*gatehouse.Exception, error) {
	if err := checkTexts(idText("for", in.For), idText("rule", in.Rule), reasonText("rationale", in.Rationale), reasonText("controls", in.Controls)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	if in.Kind == "" {
		in.Kind = gatehouse.ExceptionSoD
	}
	var problems []string
	switch in.Kind {
	case gatehouse.ExceptionSoD:
		if in.Rule == "" {
			problems = append(problems, "rule: an SoD exception names the rule it waives")
		}
	case gatehouse.ExceptionPolicy:
	default:
		problems = append(problems, fmt.Sprintf("kind: %q is not sod or policy", in.Kind))
	}
	if strings.TrimSpace(in.Rationale) == "" {
		problems = append(problems, "rationale: say why the business accepts the risk")
	}
	if strings.TrimSpace(in.Controls) == "" {
		problems = append(problems, "controls: name the compensating controls")
	}
	life, review := time.Duration(in.Expires), time.Duration(in.Review)
	switch {
	case life <= 0:
		problems = append(problems, "expires: give how long the exception lasts, such as 90d")
	case life > maxExceptionLife:
		problems = append(problems, "expires: at most 366d; renew it on review instead")
	}
	if review < 0 || review > life {
		problems = append(problems, "review: the review date must be before the expiry")
	}
	if in.OnExpiry != "" && !in.OnExpiry.Valid() {
		problems = append(problems, fmt.Sprintf("on_expiry: %q is not revoke or review", in.OnExpiry))
	}
	if len(problems) > 0 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "exception: %s", strings.Join(problems, "; "))
	}
	if review == 0 {
		review = life
	}
	var out *gatehouse.Exception
	err := s.update(ctx, func(tx store.Tx) error {
		who, err := s.exceptionSubject(ctx, tx, p, in.For)
		if err != nil {
			return err
		}
		if in.Kind == gatehouse.ExceptionSoD {
			rule, err := tx.GetSoDRule(ctx, in.Rule)
			if err != nil {
				return err
			}
			for _, e := range in.Entitlements {
				if !slices.Contains(rule.Left, e) && !slices.Contains(rule.Right, e) {
					return gatehouse.Errorf(gatehouse.EINVALID, "entitlements: %s is not on either side of SoD rule %s", e, rule.ID)
				}
			}
		} else {
			for _, e := range in.Entitlements {
				if _, err := tx.GetEntitlement(ctx, e); err != nil {
					return err
				}
			}
		}
		if in.OnExpiry == "" {
			// The catalog's settings.exceptions.on_expiry, else revoke.
			settings, err := tx.GetSettings(ctx)
			if err != nil {
				return err
			}
			in.OnExpiry = settings.Exceptions.OnExpiry
			if in.OnExpiry == "" {
				in.OnExpiry = gatehouse.ExpiryRevoke
			}
		}
		now := s.now()
		ents := slices.Clone(in.Entitlements)
		slices.Sort(ents)
		e := &gatehouse.Exception{
			IdentityID: who.ID, Identity: who.Email, Kind: in.Kind, RuleID: in.Rule, EntitlementIDs: slices.Compact(ents),
			Rationale: strings.TrimSpace(in.Rationale), CompensatingControls: strings.TrimSpace(in.Controls),
			RequestedBy: p.Actor(), RequestedByID: p.IdentityID, Status: gatehouse.ExceptionPending,
			ExpiresAt: now.Add(life), ReviewAt: now.Add(review), OnExpiry: in.OnExpiry, CreatedAt: now,
		}
		if err := tx.CreateException(ctx, e); err != nil {
			return err
		}
		out = e
		return s.auditException(ctx, tx, p, gatehouse.AuditExceptionCreate, nil, e, e.Rationale)
	})
	return out, err
}

// exceptionSubject resolves whom an exception is for: oneself, or anyone for an operator.
func (s *Exceptions) exceptionSubject(ctx context.Context, rd store.Reader, p *gatehouse.Principal, key string) (*gatehouse.Identity, error) {
	if key == "" {
		if p.IdentityID == "" {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "for: say whom the exception is for")
		}
		key = p.IdentityID
	}
	who, err := rd.GetIdentity(ctx, key)
	if err != nil {
		return nil, err
	}
	if who.ID != p.IdentityID && !p.Has(gatehouse.RoleOperator) {
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "recording an exception for someone else needs the operator role")
	}
	return who, nil
}

// ApproveException approves a pending exception (a new one, or one back for review).
func (s *Exceptions) ApproveException(ctx context.Context, p *gatehouse.Principal, idOrRef string, d ExceptionDecision) (*gatehouse.Exception, error) {
	if err := checkTexts(reasonText("comment", d.Comment)); err != nil {
		return nil, err
	}
	return s.decideException(ctx, p, idOrRef, d, gatehouse.ExceptionApproved)
}

// RejectException rejects a pending exception.
func (s *Exceptions) RejectException(ctx context.Context, p *gatehouse.Principal, idOrRef string, d ExceptionDecision) (*gatehouse.Exception, error) {
	if err := checkTexts(reasonText("comment", d.Comment)); err != nil {
		return nil, err
	}
	return s.decideException(ctx, p, idOrRef, d, gatehouse.ExceptionRejected)
}

func (s *Exceptions) decideException(ctx context.Context, p *gatehouse.Principal, idOrRef string, d ExceptionDecision,
	to gatehouse.ExceptionStatus) (*gatehouse.Exception, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(d.Comment) == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "comment: say why")
	}
	var out *gatehouse.Exception
	err := s.update(ctx, func(tx store.Tx) error {
		e, err := tx.GetException(ctx, idOrRef)
		if err != nil {
			return err
		}
		if err := s.mayDecideException(ctx, tx, p, e); err != nil {
			return err
		}
		if e.Status != gatehouse.ExceptionPending {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is %s: only a pending exception is decided", e.Ref, e.Status)
		}
		before := cloneException(e)
		now := s.now()
		if to == gatehouse.ExceptionApproved {
			if d.Expires > 0 {
				if time.Duration(d.Expires) > maxExceptionLife {
					return gatehouse.Errorf(gatehouse.EINVALID, "expires: at most 366d")
				}
				e.ExpiresAt, e.ReviewAt = now.Add(time.Duration(d.Expires)), now.Add(time.Duration(d.Expires))
			}
			if d.Review > 0 {
				e.ReviewAt = now.Add(time.Duration(d.Review))
			}
			if !now.Before(e.ExpiresAt) {
				return gatehouse.Errorf(gatehouse.EINVALID, "%s expired at %s: give a new expiry (expires) to renew it",
					e.Ref, e.ExpiresAt.UTC().Format(time.RFC3339))
			}
			if e.ReviewAt.After(e.ExpiresAt) {
				e.ReviewAt = e.ExpiresAt
			}
			e.ApprovedBy, e.ApprovedAt = p.Actor(), &now
		}
		e.Status, e.Comment = to, d.Comment
		if err := tx.UpdateException(ctx, e); err != nil {
			return err
		}
		out = e
		action := gatehouse.AuditExceptionReject
		if to == gatehouse.ExceptionApproved {
			action = gatehouse.AuditExceptionApprove
		}
		return s.auditException(ctx, tx, p, action, before, e, d.Comment)
	})
	return out, err
}

// mayDecideException: security approvers and admins decide, except on what they asked for or
// what concerns them.
func (s *Exceptions) mayDecideException(ctx context.Context, rd store.Reader, p *gatehouse.Principal, e *gatehouse.Exception) error {
	if (p.IdentityID != "" && (p.IdentityID == e.IdentityID || p.IdentityID == e.RequestedByID)) || p.Actor() == e.RequestedBy {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "no one decides an exception they asked for or that concerns them (%s)", e.Ref)
	}
	if p.Has(gatehouse.RoleAdmin) {
		return nil
	}
	if ok, err := securityApprover(ctx, rd, p); err != nil || ok {
		return err
	}
	return gatehouse.Errorf(gatehouse.EFORBIDDEN, "exceptions are decided by the security approvers (settings.security_approvers) or an admin")
}

// securityApprover reports whether p is one of settings.security_approvers: the identity the
// catalog pinned at apply, never whoever holds that email now (a power follows the person).
func securityApprover(ctx context.Context, rd store.Reader, p *gatehouse.Principal) (bool, error) {
	if p.IdentityID == "" {
		return false, nil
	}
	settings, err := rd.GetSettings(ctx)
	if err != nil {
		return false, err
	}
	return settings.IsSecurityApprover(p.IdentityID), nil
}

// readsAllExceptions: readers, and the security approvers who decide them.
func (s *Exceptions) readsAllExceptions(ctx context.Context, p *gatehouse.Principal) (bool, error) {
	if p.CanReadAll() {
		return true, nil
	}
	return securityApprover(ctx, s.store, p)
}

// GetException returns one exception: readers and security approvers see every one, others
// their own.
func (s *Exceptions) GetException(ctx context.Context, p *gatehouse.Principal, idOrRef string) (*gatehouse.Exception, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	e, err := s.store.GetException(ctx, idOrRef)
	if err != nil {
		return nil, err
	}
	all, err := s.readsAllExceptions(ctx, p)
	if err != nil {
		return nil, err
	}
	if !all && (p.IdentityID == "" || p.IdentityID != e.IdentityID) {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "exception %q not found", idOrRef)
	}
	return e, nil
}

// ListExceptions lists exceptions, newest first: readers and security approvers see every one,
// others their own.
func (s *Exceptions) ListExceptions(ctx context.Context, p *gatehouse.Principal, q ExceptionQuery) (gatehouse.Page[*gatehouse.Exception], error) {
	var none gatehouse.Page[*gatehouse.Exception]
	if err := authenticated(p); err != nil {
		return none, err
	}
	f := gatehouse.ExceptionFilter{RuleID: q.Rule, Statuses: q.Statuses, Limit: q.Limit, Cursor: q.Cursor}
	for _, st := range q.Statuses {
		if !st.Valid() {
			return none, gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not pending, approved, rejected, expired or revoked", st)
		}
	}
	all, err := s.readsAllExceptions(ctx, p)
	if err != nil {
		return none, err
	}
	ownOnly := gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may only see your own exceptions")
	if q.Identity != "" {
		who, err := s.store.GetIdentity(ctx, q.Identity)
		if err != nil {
			if !all && gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				// The same answer as for somebody else's: who exists is not for everyone to probe.
				return none, ownOnly
			}
			return none, err
		}
		f.IdentityID = who.ID
	}
	if !all {
		if p.IdentityID == "" || (f.IdentityID != "" && f.IdentityID != p.IdentityID) {
			return none, ownOnly
		}
		f.IdentityID = p.IdentityID
	}
	if q.Expiring < 0 {
		return none, gatehouse.Errorf(gatehouse.EINVALID, "expiring: give a duration above zero, such as 30d")
	}
	if q.Expiring > 0 {
		// Expiring ones are those in force: approved, with an expiry within the window.
		if len(f.Statuses) > 0 && !slices.Equal(f.Statuses, []gatehouse.ExceptionStatus{gatehouse.ExceptionApproved}) {
			return none, gatehouse.Errorf(gatehouse.EINVALID, "expiring: only approved exceptions expire; leave status unset or approved")
		}
		f.Statuses, f.ExpiresBefore = []gatehouse.ExceptionStatus{gatehouse.ExceptionApproved}, s.now().Add(q.Expiring)
	}
	return s.store.ListExceptions(ctx, f)
}

// exceptionFor returns the exception in force at now that lets identityID break rule with the
// pair left/right, or nil.
func exceptionFor(ctx context.Context, rd store.Reader, identityID, rule, left, right string, now time.Time) (*gatehouse.Exception, error) {
	f := gatehouse.ExceptionFilter{IdentityID: identityID, RuleID: rule, Statuses: []gatehouse.ExceptionStatus{gatehouse.ExceptionApproved}, Limit: gatehouse.MaxLimit}
	page, err := rd.ListExceptions(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("exceptions of %s: %w", identityID, err)
	}
	for _, e := range page.Items {
		if e.Covers(rule, left, right, now) {
			return e, nil
		}
	}
	return nil, nil
}

// exceptionUse is an exception a request is approved under, with the rule it waives.
type exceptionUse struct {
	exc  *gatehouse.Exception
	rule *gatehouse.SoDRule
}

// recordExceptionGrants remembers, on the exception, the grants request r wrote under it (those
// for entitlements of the rule it waives: what on_expiry revoke takes away), and names it in
// r's finding for the rule. It returns the audit event for the caller to append with its others:
// the audit head is taken last, after the request's row.
func (s *Exceptions) recordExceptionGrants(ctx context.Context, tx store.Tx, p *gatehouse.Principal, u exceptionUse,
	r *gatehouse.AccessRequest, grants map[string]string) (*gatehouse.AuditEvent, error) {
	e := u.exc
	before := cloneException(e)
	for _, ent := range r.Entitlements {
		gid, ok := grants[ent]
		if ok && (slices.Contains(u.rule.Left, ent) || slices.Contains(u.rule.Right, ent)) && !slices.Contains(e.GrantIDs, gid) {
			e.GrantIDs = append(e.GrantIDs, gid)
		}
	}
	for i := range r.Findings.SoD {
		if r.Findings.SoD[i].Rule == u.rule.ID {
			r.Findings.SoD[i].Exception = e.Ref
		}
	}
	if err := tx.UpdateException(ctx, e); err != nil {
		return nil, err
	}
	ev := s.event(p, gatehouse.AuditExceptionUse, "exception", e.ID, before, e, "request "+r.Ref+" granted under "+e.Ref)
	ev.Reference = e.Ref
	return ev, nil
}

// ExpireExceptions ends every approved exception whose expiry is at or before now, as its
// on_expiry says, and returns how many it handled. Each is handled in its own transaction;
// one that another run changed first is left to that run.
func (s *Exceptions) ExpireExceptions(ctx context.Context, now time.Time) (int, error) {
	p := SystemPrincipal("exceptions")
	page, err := s.store.ListExceptions(ctx, gatehouse.ExceptionFilter{Statuses: []gatehouse.ExceptionStatus{gatehouse.ExceptionApproved},
		ExpiresBefore: now, Limit: gatehouse.MaxLimit})
	if err != nil {
		return 0, fmt.Errorf("list expired exceptions: %w", err)
	}
	n := 0
	for _, listed := range page.Items {
		err := s.change(ctx, func(tx store.Tx, fx *effects) error {
			e, err := tx.GetException(ctx, listed.ID)
			if err != nil {
				return err
			}
			if e.Status != gatehouse.ExceptionApproved || now.Before(e.ExpiresAt) {
				return errExceptionMoved
			}
			return s.expireException(ctx, tx, fx, p, e, now)
		})
		switch {
		case err == nil:
			n++
		case errors.Is(err, errExceptionMoved) || gatehouse.ErrorCode(err) == gatehouse.ECONFLICT:
		default:
			return n, fmt.Errorf("expire %s: %w", listed.Ref, err)
		}
	}
	if n > 0 {
		s.log.Info("expired exceptions handled", "count", n)
	}
	return n, nil
}

func (s *Exceptions) expireException(ctx context.Context, tx store.Tx, fx *effects, p *gatehouse.Principal, e *gatehouse.Exception, now time.Time) error {
	before := cloneException(e)
	at := e.ExpiresAt.UTC().Format(time.RFC3339)
	if e.OnExpiry == gatehouse.ExpiryReview {
		e.Status, e.Comment = gatehouse.ExceptionPending, "expired at "+at+": back for review"
		if err := tx.UpdateException(ctx, e); err != nil {
			return err
		}
		return s.auditException(ctx, tx, p, gatehouse.AuditExceptionReview, before, e, e.Comment)
	}
	evs, err := s.revokeUnder(ctx, tx, fx, p, e, now, "exception "+e.Ref+" expired at "+at)
	if err != nil {
		return err
	}
	e.Status, e.Comment = gatehouse.ExceptionExpired, fmt.Sprintf("expired at %s: %d grant(s) revoked", at, len(evs))
	if err := tx.UpdateException(ctx, e); err != nil {
		return err
	}
	if err := tx.AppendAudits(ctx, evs); err != nil {
		return err
	}
	return s.auditException(ctx, tx, p, gatehouse.AuditExceptionExpire, before, e, e.Comment)
}

// revokeUnder revokes the access exception e allowed: the grants written under it or, for an
// exception no request used, the person's grants of the entitlements it names. It returns the
// grant.revoke events (reference EXC-n) for the caller to append last.
func (s *Exceptions) revokeUnder(ctx context.Context, tx store.Tx, fx *effects, p *gatehouse.Principal, e *gatehouse.Exception, now time.Time,
	reason string) ([]*gatehouse.AuditEvent, error) {
	ids := slices.Clone(e.GrantIDs)
	if len(ids) == 0 && len(e.EntitlementIDs) > 0 {
		held, err := heldGrants(ctx, tx, e.IdentityID, now)
		if err != nil {
			return nil, err
		}
		for _, ent := range e.EntitlementIDs {
			if gid, ok := held[ent]; ok {
				ids = append(ids, gid)
			}
		}
	}
	var evs []*gatehouse.AuditEvent
	for _, gid := range ids {
		g, err := tx.GetGrant(ctx, gid)
		if err != nil {
			return nil, err
		}
		if g.RevokedAt != nil {
			continue
		}
		if err := tx.RevokeGrant(ctx, gid, now, p.Actor(), reason); err != nil {
			return nil, err
		}
		after, err := tx.GetGrant(ctx, gid)
		if err != nil {
			return nil, err
		}
		fx.revoked(gid, g.IdentityID, g.EntitlementID)
		ev := s.event(p, gatehouse.AuditGrantRevoke, "grant", gid, g, after, reason)
		ev.Reference = e.Ref
		evs = append(evs, ev)
	}
	return evs, nil
}

// RevokeException ends an exception early (security approvers or admins): a pending one
// simply ends; an approved one also takes away the access it allowed, as on_expiry revoke.
func (s *Exceptions) RevokeException(ctx context.Context, p *gatehouse.Principal, idOrRef string, d ExceptionDecision) (*gatehouse.Exception, error) {
	if err := checkTexts(reasonText("comment", d.Comment)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(d.Comment) == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "comment: say why")
	}
	var out *gatehouse.Exception
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		e, err := tx.GetException(ctx, idOrRef)
		if err != nil {
			return err
		}
		// Ending an exception lowers the risk: whoever asked for it may, as may security.
		if !p.Has(gatehouse.RoleAdmin) && (p.IdentityID == "" || p.IdentityID != e.RequestedByID) {
			if ok, err := securityApprover(ctx, tx, p); err != nil {
				return err
			} else if !ok {
				return gatehouse.Errorf(gatehouse.EFORBIDDEN, "exceptions are revoked by the security approvers, an admin, or whoever recorded them")
			}
		}
		if e.Status != gatehouse.ExceptionPending && e.Status != gatehouse.ExceptionApproved {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is %s: only a pending or approved exception is revoked", e.Ref, e.Status)
		}
		before := cloneException(e)
		var evs []*gatehouse.AuditEvent
		if e.Status == gatehouse.ExceptionApproved {
			if evs, err = s.revokeUnder(ctx, tx, fx, p, e, s.now(), "exception "+e.Ref+" revoked: "+d.Comment); err != nil {
				return err
			}
		}
		e.Status, e.Comment = gatehouse.ExceptionRevoked, d.Comment
		if err := tx.UpdateException(ctx, e); err != nil {
			return err
		}
		if err := tx.AppendAudits(ctx, evs); err != nil {
			return err
		}
		out = e
		return s.auditException(ctx, tx, p, gatehouse.AuditExceptionRevoke, before, e, d.Comment)
	})
	return out, err
}

// ExpireDueExceptions runs ExpireExceptions at the service's clock: the server's periodic
// job (internal/jobs), which also runs at start, so that exceptions that expired while the
// server was down are handled at once.
func (s *Exceptions) ExpireDueExceptions(ctx context.Context) (int, error) {
	return s.ExpireExceptions(ctx, s.now())
}

func (s *Exceptions) auditException(ctx context.Context, tx store.Tx, p *gatehouse.Principal, action gatehouse.AuditAction, before, after *gatehouse.Exception, reason string) error {
	ev := s.event(p, action, "exception", after.ID, before, after, reason)
	ev.Reference = after.Ref
	return tx.AppendAudit(ctx, ev)
}

// cloneException copies e deeply enough for a before image.
func cloneException(e *gatehouse.Exception) *gatehouse.Exception {
	c := *e
	c.EntitlementIDs = slices.Clone(e.EntitlementIDs)
	c.GrantIDs = slices.Clone(e.GrantIDs)
	return &c
}
