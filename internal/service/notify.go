package service

// Notifications and request SLAs.
//
// The request engine tells people what concerns them: approvers that a decision waits for
// them, the requester and the beneficiary what was decided and when the access is in place,
// a beneficiary that time-bound access ends soon, approvers (then operators) that a step is
// overdue. The change that a message reports states it (effects.notify), and the message is
// stored for delivery by a Notifier (the server's durable outbox, internal/notify) in the
// change's own transaction: it exists if and only if the change does, and a crash right after
// the commit loses none. Delivery happens later, retried, so a down mail server does not fail
// an approval; a message that cannot be handed over is logged, never returned.
//
// Overdue reminders, escalations and the expiry of undecided requests are found by
// CheckRequestSLAs, which the server runs periodically. What was done is written to the
// request's timeline and the audit log in the transaction that stores the message, so a
// restart or a second replica does not remind twice, and none is lost: exactly once.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Notifier hands messages over for delivery; *notify.Outbox is one.
type Notifier interface {
	// EnqueueTx stores m for delivery in tx, the transaction of the change it reports.
	EnqueueTx(ctx context.Context, tx *sql.Tx, m notify.Message) error
	// Link is the absolute URL of a Gatehouse page, e.g. Link("/requests/REQ-000123").
	Link(path string) string
}

// DefaultRequestExpiry is how long a request may wait for a decision before it expires
// (Options.RequestExpiry; gatehouse serve --request-expiry).
const DefaultRequestExpiry = 14 * 24 * time.Hour

// Timeline event kinds and audit actions of the SLA check.
const (
	kindReminded  = "reminded"
	kindEscalated = "escalated"
	kindExpired   = "expired"
)

// announce tells the people concerned about r's state, in fx of the change that put it there
// (rd is its transaction, so the message reads what the change wrote): approvers when it waits
// for them, requester and beneficiary when it was decided, fulfilled or expired. A message
// without recipients still goes to the webhook channel (the outbox sends email only with some).
func (s *Notifications) announce(ctx context.Context, rd store.Reader, fx *effects, r *gatehouse.AccessRequest) {
	if s.notifier == nil || r == nil {
		return
	}
	what, link := s.requestWhat(ctx, rd, r), s.notifier.Link("/requests/"+r.Ref)
	parties := recipients(r.Requester, r.Beneficiary)
	decision := func(d, why string) {
		fx.notify(notify.Decision(r.Ref, what, r.Beneficiary, d, why, link, parties...).
			With(notify.Field{Key: "Requested by", Value: r.Requester}))
	}
	switch r.State {
	case gatehouse.RequestPendingApproval:
		i := r.CurrentStep()
		if i < 0 {
			return
		}
		st := r.Steps[i]
		to := s.approverRecipients(ctx, rd, r, st.Approvers)
		fx.notify(notify.ApprovalNeeded(r.Ref, what, r.Beneficiary, r.Justification, link, to...).With(
			notify.Field{Key: "Requested by", Value: r.Requester},
			notify.Field{Key: "Step", Value: fmt.Sprintf("%d of %d (%s)", i+1, len(r.Steps), st.Kind)},
			notify.Field{Key: "Why you", Value: st.Why},
			notify.Field{Key: "Risk", Value: string(r.Findings.Risk)},
			notify.Field{Key: "Priority", Value: string(r.Priority)},
			notify.Field{Key: "Due", Value: when(r.DueAt)}))
	case gatehouse.RequestReturned:
		decision("returned", "needs "+strings.Join(r.Missing, "; "))
	case gatehouse.RequestDenied:
		decision("denied", decidedComment(r))
	case gatehouse.RequestProvisioning:
		if len(r.Steps) == 0 {
			return // a removal: no one decided, and "fulfilled" follows
		}
		decision("approved", decidedComment(r))
	case gatehouse.RequestFulfilled:
		fx.notify(notify.Fulfilled(r.Ref, what, r.Beneficiary, r.Justification, link, parties...).
			With(notify.Field{Key: "Requested by", Value: r.Requester}))
	case gatehouse.RequestExpired:
		decision("expired", lastComment(r))
	}
}

// requestWhat says what r asks for: "Add Eng (app), Ledger (app)".
func (s *Notifications) requestWhat(ctx context.Context, rd store.Reader, r *gatehouse.AccessRequest) string {
	names := make([]string, 0, len(r.Entitlements))
	for _, id := range r.Entitlements {
		names = append(names, s.entitlementName(ctx, rd, id))
	}
	verb := "Add"
	if r.Action == gatehouse.ActionRemove {
		verb = "Remove"
	}
	return verb + " " + strings.Join(names, ", ")
}

func (s *Notifications) entitlementName(ctx context.Context, rd store.Reader, id string) string {
	e, err := rd.GetEntitlement(ctx, id)
	if err != nil {
		return id
	}
	return fmt.Sprintf("%s (%s)", e.Name, e.System)
}

// approverRecipients are the active identities among ids and their active delegates, minus
// the requester and the beneficiary (who may not decide).
func (s *Notifications) approverRecipients(ctx context.Context, rd store.Reader, r *gatehouse.AccessRequest, ids []string) []notify.Recipient {
	now := s.now()
	var emails []string
	add := func(id string) {
		if r != nil && (id == r.RequesterID || id == r.BeneficiaryID) {
			return
		}
		who, err := rd.GetIdentity(ctx, id)
		if err != nil {
			s.log.Warn("notification: approver not found", "identity", id, "err", err)
			return
		}
		if who.Status != gatehouse.StatusTerminated {
			emails = append(emails, who.Email)
		}
	}
	for _, id := range ids {
		add(id)
		ds, err := rd.ListDelegations(ctx, gatehouse.DelegationFilter{FromID: id, ActiveAt: now})
		if err != nil {
			s.log.Warn("notification: delegations of an approver", "identity", id, "err", err)
			continue
		}
		for _, d := range ds {
			add(d.ToID)
		}
	}
	return recipients(emails...)
}

// recipients turns emails into distinct recipients, leaving out what is not a plain address
// (a system actor, a bootstrap token's empty email).
func recipients(emails ...string) []notify.Recipient {
	var out []notify.Recipient
	seen := map[string]bool{}
	for _, e := range emails {
		k := strings.ToLower(e)
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, notify.Recipient{Email: e})
	}
	return out
}

// decidedComment is the comment of the last decided step: the approver's words.
func decidedComment(r *gatehouse.AccessRequest) string {
	for i := len(r.Steps) - 1; i >= 0; i-- {
		if r.Steps[i].Decision != "" {
			return r.Steps[i].Comment
		}
	}
	return ""
}

func lastComment(r *gatehouse.AccessRequest) string {
	if n := len(r.Events); n > 0 {
		return r.Events[n-1].Comment
	}
	return ""
}

// spanText says a duration as people do: "14 days", "8h".
func spanText(d time.Duration) string {
	switch {
	case d == 24*time.Hour:
		return "1 day"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// SLAReport counts what one CheckRequestSLAs did.
type SLAReport struct {
	Reminded  int `json:"reminded"`  // overdue steps whose approvers were reminded
	Escalated int `json:"escalated"` // requests escalated to operators
	Expired   int `json:"expired"`   // requests expired without a decision
}

// CheckRequestSLAs looks at every request waiting for approval: one undecided for longer than
// the request expiry becomes expired (audited request.expire, the requester told); with a
// notifier, one past its due time has its current step's approvers reminded once
// (request.remind), and one overdue by more than its SLA again is escalated once to operators
// (request.escalate). Each is recorded
// on the request's timeline, so it happens once per submission (a reminder once per step)
// however often the check runs, and on however many replicas.
func (s *Notifications) CheckRequestSLAs(ctx context.Context) (SLAReport, error) {
	var rep SLAReport
	f := gatehouse.RequestFilter{States: []gatehouse.RequestState{gatehouse.RequestPendingApproval}, Limit: gatehouse.MaxLimit}
	for {
		page, err := s.store.ListRequests(ctx, f)
		if err != nil {
			return rep, fmt.Errorf("list pending requests: %w", err)
		}
		for _, r := range page.Items {
			if err := s.checkSLA(ctx, r.ID, &rep); err != nil && gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
				return rep, fmt.Errorf("SLA of %s: %w", r.Ref, err)
			}
		}
		if page.NextCursor == "" {
			return rep, nil
		}
		f.Cursor = page.NextCursor
	}
}

// slaDue says what the SLA check owes r at now.
func (s *Notifications) slaDue(r *gatehouse.AccessRequest, now time.Time) (expire, remind, escalate bool, step int) {
	if r.State != gatehouse.RequestPendingApproval {
		return false, false, false, -1
	}
	if !now.Before(r.SubmittedAt.Add(s.requestExpiry)) {
		return true, false, false, -1
	}
	step = r.CurrentStep()
	// Without a notifier nobody could be reminded: nothing is recorded as done.
	if step < 0 || !now.After(r.DueAt) || s.notifier == nil {
		return false, false, false, step
	}
	remind = !hasEvent(r, kindReminded, stepLabel(r, step))
	escalate = now.After(r.DueAt.Add(r.Priority.SLA())) && !hasEvent(r, kindEscalated, "")
	return false, remind, escalate, step
}

func stepLabel(r *gatehouse.AccessRequest, i int) string {
	return fmt.Sprintf("step %d (%s)", i+1, r.Steps[i].Kind)
}

// hasEvent reports whether r's timeline holds an event of kind, since its last submission,
// whose comment starts with prefix.
func hasEvent(r *gatehouse.AccessRequest, kind, prefix string) bool {
	return slices.ContainsFunc(r.Events, func(e gatehouse.RequestEvent) bool {
		return e.Kind == kind && !e.At.Before(r.SubmittedAt) && strings.HasPrefix(e.Comment, prefix)
	})
}

func (s *Notifications) checkSLA(ctx context.Context, id string, rep *SLAReport) error {
	p := SystemPrincipal("sla")
	var (
		out                      *gatehouse.AccessRequest
		expire, remind, escalate bool
	)
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		r, err := tx.GetRequest(ctx, id)
		if err != nil {
			return err
		}
		now := s.now()
		var step int
		expire, remind, escalate, step = s.slaDue(r, now)
		if !expire && !remind && !escalate {
			return nil
		}
		before := cloneRequest(r)
		var evs []*gatehouse.AuditEvent
		record := func(kind string, action gatehouse.AuditAction, note string) {
			r.Events = append(r.Events, gatehouse.RequestEvent{At: now, Actor: p.Actor(), Kind: kind, Comment: note})
			ev := s.event(p, action, "request", r.ID, before, r, note)
			ev.Reference = r.Ref
			evs = append(evs, ev)
		}
		var remindNote, escalateNote string
		if expire {
			r.State = gatehouse.RequestExpired
			record(kindExpired, gatehouse.AuditRequestExpire, fmt.Sprintf("no decision within %s of submission (%s); submit a new request if it is still needed",
				spanText(s.requestExpiry), when(r.SubmittedAt)))
		}
		if remind {
			remindNote = fmt.Sprintf("%s overdue since %s: its approvers were reminded", stepLabel(r, step), when(r.DueAt))
			record(kindReminded, gatehouse.AuditRequestRemind, remindNote)
		}
		if escalate {
			escalateNote = fmt.Sprintf("overdue by more than its %s SLA (due %s, waiting at %s): escalated to operators",
				spanText(r.Priority.SLA()), when(r.DueAt), stepLabel(r, step))
			record(kindEscalated, gatehouse.AuditRequestEscalate, escalateNote)
		}
		if err := tx.UpdateRequest(ctx, r); err != nil {
			return err
		}
		// Each event's after image is the request as finally written.
		for _, ev := range evs {
			ev.After = mustJSON(r)
		}
		out = r
		if err := tx.AppendAudits(ctx, evs); err != nil {
			return err
		}
		if expire {
			s.announce(ctx, tx, fx, r)
			return nil
		}
		// Told in this transaction, which records that they were: once, however often the
		// check runs and on however many replicas.
		what, link := s.requestWhat(ctx, tx, r), s.notifier.Link("/requests/"+r.Ref)
		fields := []notify.Field{{Key: "Requested by", Value: r.Requester}, {Key: "Priority", Value: string(r.Priority)},
			{Key: "Waiting at", Value: stepLabel(r, step)}}
		if remind {
			to := s.approverRecipients(ctx, tx, r, r.Steps[step].Approvers)
			fx.notify(notify.Overdue(r.Ref, what, r.Beneficiary, when(r.DueAt), remindNote+". Justification: "+r.Justification,
				link, to...).With(fields...))
		}
		if escalate {
			to, err := s.operatorRecipients(ctx, tx)
			if err != nil {
				s.log.Error("escalation: list operators", "request", r.Ref, "err", err)
			}
			fx.notify(notify.Overdue(r.Ref, what, r.Beneficiary, when(r.DueAt), escalateNote, link, to...).
				With(append(fields, notify.Field{Key: "Approvers", Value: strings.Join(r.Steps[step].Emails, ", ")})...))
		}
		return nil
	})
	if err != nil || out == nil {
		return err
	}
	if expire {
		rep.Expired++
		s.log.Info("access request expired without a decision", "request", out.Ref)
		return nil
	}
	if remind {
		rep.Reminded++
	}
	if escalate {
		rep.Escalated++
	}
	return nil
}

// operatorRecipients are the active operators, or the admins when there are none.
func (s *Notifications) operatorRecipients(ctx context.Context, rd store.Reader) ([]notify.Recipient, error) {
	for _, role := range []gatehouse.AccessRole{gatehouse.RoleOperator, gatehouse.RoleAdmin} {
		var emails []string
		f := gatehouse.IdentityFilter{Role: role, Status: gatehouse.StatusActive, Limit: 100}
		for {
			page, err := rd.ListIdentities(ctx, f)
			if err != nil {
				return nil, err
			}
			for _, id := range page.Items {
				emails = append(emails, id.Email)
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
		if len(emails) > 0 {
			return recipients(emails...), nil
		}
	}
	return nil, nil
}

// NotifyExpiringGrants tells the beneficiary of every grant in force that ends within the
// given time, once per grant: each notice is recorded as a grant.notify_expiring audit event
// in the transaction that stores the message, and a grant with one is not noticed again (after a restart, or
// on another replica). It returns how many grants were noticed. Without a notifier it does
// nothing: nobody is told, so nothing is recorded as told.
func (s *Notifications) NotifyExpiringGrants(ctx context.Context, within time.Duration) (int, error) {
	if s.notifier == nil {
		return 0, nil
	}
	p := SystemPrincipal("notify")
	grants, err := s.grants.ExpiringGrants(ctx, p, within)
	if err != nil {
		return 0, fmt.Errorf("expiring grants: %w", err)
	}
	n := 0
	for _, g := range grants {
		told, err := s.toldExpiring(ctx, s.store, g.ID)
		if err != nil {
			return n, err
		}
		if told {
			continue
		}
		var ben *gatehouse.Identity
		err = s.change(ctx, func(tx store.Tx, fx *effects) error {
			if told, err := s.toldExpiring(ctx, tx, g.ID); err != nil || told {
				return err
			}
			b, err := tx.GetIdentity(ctx, g.IdentityID)
			if err != nil {
				return err
			}
			ev := s.event(p, gatehouse.AuditGrantNotifyExpiring, "grant", g.ID, nil, nil,
				fmt.Sprintf("%s told that access ends at %s", b.Email, when(*g.ExpiresAt)))
			ev.Reference = g.Reference
			if err := tx.AppendAudit(ctx, ev); err != nil {
				return err
			}
			// Appending took the audit head, the lock every writer takes: a replica that
			// recorded the same notice first has committed by now, and is seen here.
			page, err := tx.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: string(gatehouse.AuditGrantNotifyExpiring), ObjectType: "grant", ObjectID: g.ID, Limit: 2})
			if err != nil {
				return err
			}
			if len(page.Items) > 1 {
				return errToldAlready
			}
			ben = b
			ref, path := g.Reference, "/grants/"+g.ID
			if _, ok := gatehouse.ParseRequestRef(ref); ok {
				path = "/requests/" + strings.ToUpper(ref)
			} else if ref == "" {
				ref = g.ID
			}
			why := fmt.Sprintf("This access was granted until %s (%s, by %s). To keep it, submit a new request before it ends.",
				when(*g.ExpiresAt), g.Source, g.GrantedBy)
			fx.notify(notify.Expiring(ref, s.entitlementName(ctx, tx, g.EntitlementID), b.Email, when(*g.ExpiresAt), why,
				s.notifier.Link(path), recipients(b.Email)...))
			return nil
		})
		if errors.Is(err, errToldAlready) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("record the expiry notice of grant %s: %w", g.ID, err)
		}
		if ben == nil {
			continue
		}
		n++
	}
	return n, nil
}

// errToldAlready rolls back an expiry notice another replica recorded first.
var errToldAlready = errors.New("expiry notice already recorded")

func (s *Notifications) toldExpiring(ctx context.Context, rd store.Reader, grantID string) (bool, error) {
	page, err := rd.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: string(gatehouse.AuditGrantNotifyExpiring), ObjectType: "grant", ObjectID: grantID, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("expiry notices of grant %s: %w", grantID, err)
	}
	return len(page.Items) > 0, nil
}
