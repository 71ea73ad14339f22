package service

// Emergency (break-glass) access.
//
// A designated operator (settings.emergency_operators, who also has the operator role) grants
// an entitlement pre-approved for it (emergency: true) at once, with a reason and a short
// duration: no approval chain runs. What makes that acceptable is what follows: the grant
// expires on its own (the expiry job), security is told at once, and a post-event review
// (EMG-000123, the grant's reference) waits until someone other than the granter and the
// beneficiary (neither is among its assignees) records who used the access, why, and what was
// done with it. Open and overdue reviews are counted, so
// an unreviewed break-glass cannot go unnoticed. The grant, the review and their audit events
// are written in one transaction; provisioning follows from the grant event, as for any grant.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/store"
)

// MinEmergencyReason is the shortest reason an emergency grant accepts: enough for a ticket
// or incident number and a few words, not "urgent".
const MinEmergencyReason = 15

// NewEmergencyGrant is a break-glass grant.
type NewEmergencyGrant struct {
	Identity    string             `json:"identity"`    // id, email or employee_id of the beneficiary
	Entitlement string             `json:"entitlement"` // an entitlement with emergency: true
	Reason      string             `json:"reason"`      // at least MinEmergencyReason characters
	Duration    gatehouse.Duration `json:"duration"`    // 0: the entitlement's max_duration (capped)
}

// EmergencyGrant is what an emergency grant created: the grant and its open review.
type EmergencyGrant struct {
	Grant  *gatehouse.Grant           `json:"grant"`
	Review *gatehouse.EmergencyReview `json:"review"`
}

// EmergencyReviewCompletion is what a reviewer records about a break-glass grant.
type EmergencyReviewCompletion struct {
	Who  string `json:"who"`  // who used the access
	Why  string `json:"why"`  // why it was needed
	What string `json:"what"` // what was done with it
}

// EmergencyReviews is a page of post-event reviews with the counts an operator watches.
type EmergencyReviews struct {
	Items      []*gatehouse.EmergencyReview `json:"items"`
	NextCursor string                       `json:"next_cursor,omitempty"`
	Open       int                          `json:"open"`
	Overdue    int                          `json:"overdue"`
}

// GrantEmergency grants emergency access at once (designated operators only).
func (s *Emergency) GrantEmergency(ctx context.Context, p *gatehouse.Principal, in NewEmergencyGrant) (*EmergencyGrant, error) {
	if err := checkTexts(idText("identity", in.Identity), idText("entitlement", in.Entitlement), reasonText("reason", in.Reason)); err != nil {
		return nil, err
	}
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if n := len([]rune(in.Reason)); n < MinEmergencyReason {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "reason: say why emergency access is needed in at least %d characters (an incident or ticket and what is broken), got %d", MinEmergencyReason, n)
	}
	if in.Duration < 0 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "duration: must not be negative")
	}
	if strings.TrimSpace(in.Identity) == "" || strings.TrimSpace(in.Entitlement) == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "identity and entitlement are required")
	}
	var out *EmergencyGrant
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		st, err := tx.GetSettings(ctx)
		if err != nil {
			return err
		}
		if !st.IsEmergencyOperator(p.IdentityID) { // the pinned person, not whoever holds the email now
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only emergency operators (settings.emergency_operators) may grant emergency access")
		}
		ben, err := tx.GetIdentity(ctx, in.Identity)
		if err != nil {
			return err
		}
		if ben.ID == p.IdentityID {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may not grant emergency access to yourself; ask another emergency operator")
		}
		ent, err := tx.GetEntitlement(ctx, in.Entitlement)
		if err != nil {
			return err
		}
		if !ent.Emergency {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "%s is not pre-approved for emergency access (emergency: true in the catalog); request it instead", ent.ID)
		}
		limit := st.EmergencyLimit()
		if ent.MaxDuration > 0 && time.Duration(ent.MaxDuration) < limit {
			limit = time.Duration(ent.MaxDuration)
		}
		d := time.Duration(in.Duration)
		if d == 0 {
			d = limit
		}
		if d > limit {
			return gatehouse.Errorf(gatehouse.EINVALID, "duration: %s exceeds the emergency limit of %s for %s", d, limit, ent.ID)
		}
		n, err := tx.NextEmergencyNumber(ctx)
		if err != nil {
			return err
		}
		ref := gatehouse.EmergencyRef(n)
		now := s.now()
		// The grant batch applies the rules every grant obeys (no leavers, nothing held twice).
		g, err := newGrantBatch(tx, now).add(ctx, p, NewGrant{Identity: ben.ID, Entitlement: ent.ID,
			Source: gatehouse.SourceEmergency, Reference: ref, Duration: gatehouse.Duration(d), Reason: in.Reason})
		if err != nil {
			return err
		}
		if err := tx.CreateGrant(ctx, g); err != nil {
			return err
		}
		fx.granted(g)
		assignees, fallback, err := emergencyReviewers(ctx, tx, st, p, ben)
		if err != nil {
			return err
		}
		rev := &gatehouse.EmergencyReview{Number: n, GrantID: g.ID, BeneficiaryID: ben.ID, EntitlementID: ent.ID,
			GrantedBy: p.IdentityID, Reason: in.Reason, GrantedAt: now, ExpiresAt: *g.ExpiresAt,
			DueAt: now.Add(gatehouse.EmergencyReviewWindow), Assignees: assignees}
		if err := tx.CreateEmergencyReview(ctx, rev); err != nil {
			return err
		}
		// grant.create records the grant, as for any grant (its reconcile and expiry are stated
		// above, fx.granted).
		ev := s.event(p, gatehouse.AuditGrantCreate, "grant", g.ID, nil, g, in.Reason)
		ev.Reference = ref
		evs := []*gatehouse.AuditEvent{ev}
		ev = s.event(p, gatehouse.AuditEmergencyGrant, "emergency_review", rev.ID, nil, rev, in.Reason)
		ev.Reference = ref
		evs = append(evs, ev)
		// Recorded whether or not a notifier is configured: the log says security was due to
		// be told, and whom.
		told := map[string]any{"to": rev.Assignees}
		if fallback != "" {
			told["fallback"] = fallback
		}
		ev = s.event(p, gatehouse.AuditEmergencyNotifySecurity, "emergency_review", rev.ID, nil, told, in.Reason)
		ev.Reference = ref
		evs = append(evs, ev)
		if err := tx.AppendAudits(ctx, evs); err != nil {
			return err
		}
		out = &EmergencyGrant{Grant: g, Review: rev}
		if fallback != "" {
			s.log.Warn("emergency review assigned to operators", "ref", ref, "why", fallback)
		}
		s.notifySecurity(ctx, tx, fx, p, out, ben.Email, rev.Assignees)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// emergencyReviewers are the assignees of a break-glass grant's post-event review: the security
// approvers other than the granter and the beneficiary, who may not review it. When no one is
// left, the review goes to the active operators (else admins) other than those two, and
// fallback says why, for the audit log.
func emergencyReviewers(ctx context.Context, rd store.Reader, st gatehouse.Settings, p *gatehouse.Principal,
	ben *gatehouse.Identity) (assignees []string, fallback string, err error) {
	excluded := func(email string) bool {
		return strings.EqualFold(email, ben.Email) || (p.Email != "" && strings.EqualFold(email, p.Email))
	}
	// The pinned security approvers, not whoever holds their emails now (catalog pins).
	pinned, err := pinnedPeople(ctx, rd, st.SecurityApproverIDs)
	if err != nil {
		return nil, "", fmt.Errorf("emergency reviewers: %w", err)
	}
	for _, who := range pinned {
		if who.ID != ben.ID && who.ID != p.IdentityID && who.Status != gatehouse.StatusTerminated && !excluded(who.Email) {
			assignees = append(assignees, who.Email)
		}
	}
	if len(assignees) > 0 {
		return assignees, "", nil
	}
	for _, role := range []gatehouse.AccessRole{gatehouse.RoleOperator, gatehouse.RoleAdmin} {
		page, err := rd.ListIdentities(ctx, gatehouse.IdentityFilter{Role: role, Status: gatehouse.StatusActive, Limit: 100})
		if err != nil {
			return nil, "", fmt.Errorf("emergency reviewers: %w", err)
		}
		for _, id := range page.Items {
			if id.ID != ben.ID && id.ID != p.IdentityID && !excluded(id.Email) {
				assignees = append(assignees, id.Email)
			}
		}
		if len(assignees) > 0 {
			return assignees, fmt.Sprintf("no security approver other than the granter and the beneficiary; assigned to the %ss", role), nil
		}
	}
	return []string{}, "no security approver, operator or admin other than the granter and the beneficiary; nobody is assigned", nil
}

// notifySecurity tells the security approvers about a break-glass grant, in fx of the
// transaction (rd) that writes it.
func (s *Emergency) notifySecurity(ctx context.Context, rd store.Reader, fx *effects, p *gatehouse.Principal, eg *EmergencyGrant, forWhom string, security []string) {
	if s.notifier == nil {
		return
	}
	rev := eg.Review
	what := "Add " + s.entitlementName(ctx, rd, rev.EntitlementID)
	m := notify.Fulfilled(rev.Ref, what, forWhom, rev.Reason, s.notifier.Link("/api/v1/emergency/reviews/"+rev.Ref), recipients(security...)...).With(
		notify.Field{Key: "Granted by", Value: p.Actor()},
		notify.Field{Key: "Expires", Value: when(rev.ExpiresAt)},
		notify.Field{Key: "Review due", Value: when(rev.DueAt)})
	m.Subject = fmt.Sprintf("[%s] EMERGENCY access granted: %s for %s by %s", rev.Ref, what, forWhom, p.Actor())
	fx.notify(m)
}

// ListEmergencyReviews lists post-event reviews with the open and overdue counts (readers).
func (s *Emergency) ListEmergencyReviews(ctx context.Context, p *gatehouse.Principal, f gatehouse.EmergencyReviewFilter) (*EmergencyReviews, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	page, err := s.store.ListEmergencyReviews(ctx, f)
	if err != nil {
		return nil, err
	}
	open, overdue, err := s.store.CountEmergencyReviews(ctx, s.now())
	if err != nil {
		return nil, err
	}
	return &EmergencyReviews{Items: nonNilSlice(page.Items), NextCursor: page.NextCursor, Open: open, Overdue: overdue}, nil
}

// GetEmergencyReview returns one post-event review by id or EMG reference (readers).
func (s *Emergency) GetEmergencyReview(ctx context.Context, p *gatehouse.Principal, idOrRef string) (*gatehouse.EmergencyReview, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	return s.store.GetEmergencyReview(ctx, idOrRef)
}

// CompleteEmergencyReview records the post-event review of a break-glass grant. Operators and
// security approvers may complete it, never the operator who granted the access nor the person
// who received it.
func (s *Emergency) CompleteEmergencyReview(ctx context.Context, p *gatehouse.Principal, idOrRef string, in EmergencyReviewCompletion) (*gatehouse.EmergencyReview, error) {
	if err := checkTexts(reasonText("who", in.Who), reasonText("why", in.Why), reasonText("what", in.What)); err != nil {
		return nil, err
	}
	if err := authenticated(p); err != nil {
		return nil, err
	}
	in.Who, in.Why, in.What = strings.TrimSpace(in.Who), strings.TrimSpace(in.Why), strings.TrimSpace(in.What)
	var missing []string
	for _, f := range []struct{ name, v string }{{"who", in.Who}, {"why", in.Why}, {"what", in.What}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "%s: required (who used the access, why, and what was done with it)", strings.Join(missing, ", "))
	}
	var out *gatehouse.EmergencyReview
	err := s.update(ctx, func(tx store.Tx) error {
		rev, err := tx.GetEmergencyReview(ctx, idOrRef)
		if err != nil {
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && !p.Has(gatehouse.RoleOperator) {
				return gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs the operator role or to be a security approver")
			}
			return err
		}
		st, err := tx.GetSettings(ctx)
		if err != nil {
			return err
		}
		isSecurity := st.IsSecurityApprover(p.IdentityID) // the pinned person, not the email
		if !p.Has(gatehouse.RoleOperator) && !isSecurity {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs the operator role or to be a security approver")
		}
		if p.IdentityID != "" && p.IdentityID == rev.GrantedBy {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you granted %s; someone else must review it", rev.Ref)
		}
		if p.IdentityID != "" && p.IdentityID == rev.BeneficiaryID {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "%s gave you the access; someone else must review what was done with it", rev.Ref)
		}
		if !rev.Open() {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "%s was already reviewed by %s", rev.Ref, rev.CompletedBy)
		}
		before := *rev
		now := s.now()
		rev.CompletedAt, rev.CompletedBy, rev.Who, rev.Why, rev.What = &now, p.Actor(), in.Who, in.Why, in.What
		if err := tx.UpdateEmergencyReview(ctx, rev); err != nil {
			return err
		}
		ev := s.event(p, gatehouse.AuditEmergencyReview, "emergency_review", rev.ID, &before, rev, in.Why)
		ev.Reference = rev.Ref
		out = rev
		return tx.AppendAudit(ctx, ev)
	})
	return out, err
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
