package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// HR imports. Who HR owns: an existing identity is changed by an import only when it is a person
// whose source is hr-csv, api, demo or empty (jml.DefaultOwned) — what HR created, or what was
// created by hand before the feed took over; an import takes such a record over (its source
// becomes hr-csv). Identities of any other source (a SCIM client, say) and service accounts are
// never changed, and are reported as skipped when the feed names them.

// HRImportResult is what an import did: the JML plan, and the stored import (nil for a dry run).
type HRImportResult struct {
	Import *gatehouse.HRImport `json:"import,omitempty"`
	DryRun bool                `json:"dry_run"`
	Plan   *jml.Plan           `json:"plan"`
}

// HRSummary is what an import record keeps of its plan: the counts, why it was held, the rule
// warnings, and the request-sourced grants of movers that their new manager must confirm (the
// tasks themselves are gatehouse.Confirmation rows, created when the import is applied).
type HRSummary struct {
	jml.Summary
	HeldReason    string         `json:"held_reason,omitempty"`
	Warnings      []string       `json:"warnings,omitempty"`
	Confirmations []Confirmation `json:"confirmations,omitempty"`
}

// Confirmation is a summary's line for a request-sourced grant a mover's new manager must
// confirm.
type Confirmation struct {
	EmployeeID    string `json:"employee_id"`
	GrantID       string `json:"grant_id"`
	EntitlementID string `json:"entitlement_id"`
	Manager       string `json:"manager"` // the new manager's employee_id
}

// hrOptions are the JML options of this service.
func (s *HR) hrOptions(settings gatehouse.Settings) jml.Options {
	return jml.Options{LeadTime: s.hr.LeadTime, Missing: s.hr.Missing, Guard: settings.LeaverGuard, Chunk: s.hr.Chunk}
}

// parseHRFile parses a stored HR feed (a held import's content): a JSON array when it starts
// with "[", CSV otherwise; a delta as a delta.
func parseHRFile(name, content string, delta bool) (*jml.Feed, error) {
	trimmed := strings.TrimLeft(strings.TrimPrefix(content, "\xef\xbb\xbf"), " \t\r\n")
	opts := jml.ReadOptions{Delta: delta}
	if strings.HasPrefix(trimmed, "[") {
		return jml.ReadHRJSONWith(name, strings.NewReader(content), opts)
	}
	return jml.ReadHRWith(name, strings.NewReader(content), opts)
}

// ApproveHRImport applies a held import (admins). The snapshot is planned again against the
// current state, so what is applied is what the file means now; the leaver guard is not asked
// again: an admin's approval is the decision it waits for.
func (s *HR) ApproveHRImport(ctx context.Context, p *gatehouse.Principal, id, reason string) (*HRImportResult, error) {
	if err := checkTexts(reasonText("reason", reason)); err != nil {
		return nil, err
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	// Applying a held import is an import: it waits for no other, and none runs beside it.
	release, err := s.takeHRLease(ctx, id, "approval of held import "+id+" by "+p.Actor())
	if err != nil {
		return nil, err
	}
	defer release()
	var out *HRImportResult
	err = s.change(ctx, func(tx store.Tx, fx *effects) error {
		imp, err := heldImport(ctx, tx, id)
		if err != nil {
			return err
		}
		before := *imp
		// A held SCIM change is a delta owned by its source (see scim.go).
		var snapshot jml.Rows
		var tune []func(*jml.Options)
		scimSource := "" // a held SCIM change's source, whose evidence names it by email
		if imp.Format == SCIMImportFormat {
			var opt func(*jml.Options)
			var ids []*gatehouse.Identity
			ids, opt, err = scimHeldSnapshot(imp)
			snapshot = jml.IdentityRows(ids)
			tune = append(tune, opt)
			if len(ids) > 0 {
				scimSource = ids[0].Source
			}
		} else {
			feed, err := parseHRFile(imp.FileName, imp.Content, imp.Delta)
			if err != nil {
				return fmt.Errorf("held import %s no longer parses: %w", id, err)
			}
			// A file is applied as it is planned, a chunk at a time, as an import is (hrstream.go).
			plan, err := s.applyImport(ctx, tx, fx, p, imp, feed, func(o *jml.Options) { o.Keep = hrAnswerKeep },
				&hrApproval{before: before, reason: reason})
			if err != nil {
				return err
			}
			out = &HRImportResult{Import: imp, Plan: plan}
			return nil
		}
		if err != nil {
			return fmt.Errorf("held import %s no longer parses: %w", id, err)
		}
		plan, st, err := s.planHR(ctx, tx, snapshot, tune...)
		if err != nil {
			return err
		}
		// An admin's approval is a second person's say: not on their own record (hrstanding.go).
		if why, err := hrStandingHold(ctx, tx, p, plan); err != nil {
			return err
		} else if why != "" {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "another admin approves held import %s: %s", id, why)
		}
		if scimSource != "" {
			labelSCIMReasons(ctx, tx, plan, scimSource)
		}
		now := s.now()
		imp.Status, imp.Content, imp.DecidedBy, imp.DecidedAt = gatehouse.ImportApplied, "", p.Actor(), &now
		if reason != "" {
			imp.Reason = reason
		}
		imp.Summary = mustJSON(summarize(plan))
		if err := tx.UpdateHRImport(ctx, imp); err != nil {
			return err
		}
		if err := s.applyHR(ctx, tx, fx, p, imp, plan, st); err != nil {
			return err
		}
		if scimSource != "" {
			if err := s.scimDeletionsLeaveGroups(ctx, tx, p, plan, "hr-import:"+imp.ID); err != nil {
				return err
			}
		}
		ev := s.event(p, gatehouse.AuditHRApprove, "hr_import", imp.ID, &before, imp, reason)
		ev.Reference = "hr-import:" + imp.ID
		out = &HRImportResult{Import: imp, Plan: plan}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RejectHRImport closes a held import without applying it (admins). Its content is dropped;
// the SHA-256 stays as evidence of which file was refused.
func (s *HR) RejectHRImport(ctx context.Context, p *gatehouse.Principal, id, reason string) (*gatehouse.HRImport, error) {
	if err := checkTexts(reasonText("reason", reason)); err != nil {
		return nil, err
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	var out *gatehouse.HRImport
	err := s.update(ctx, func(tx store.Tx) error {
		imp, err := heldImport(ctx, tx, id)
		if err != nil {
			return err
		}
		before := *imp
		now := s.now()
		imp.Status, imp.Content, imp.DecidedBy, imp.DecidedAt = gatehouse.ImportRejected, "", p.Actor(), &now
		if reason != "" {
			imp.Reason = reason
		}
		if err := tx.UpdateHRImport(ctx, imp); err != nil {
			return err
		}
		ev := s.event(p, gatehouse.AuditHRReject, "hr_import", imp.ID, &before, imp, reason)
		ev.Reference = "hr-import:" + imp.ID
		out = imp
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetHRImport returns one import (readers), without its content.
func (s *HR) GetHRImport(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.HRImport, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	imp, err := s.store.GetHRImport(ctx, id)
	if err != nil {
		return nil, err
	}
	imp.Content = ""
	return imp, nil
}

// ListHRImports lists imports, newest first (readers).
func (s *HR) ListHRImports(ctx context.Context, p *gatehouse.Principal, f gatehouse.HRImportFilter) (gatehouse.Page[*gatehouse.HRImport], error) {
	if err := requireReadAll(p); err != nil {
		return gatehouse.Page[*gatehouse.HRImport]{}, err
	}
	if f.Status != "" && !f.Status.Valid() {
		return gatehouse.Page[*gatehouse.HRImport]{}, gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not one of applied, held, rejected", f.Status)
	}
	return s.store.ListHRImports(ctx, f)
}

func heldImport(ctx context.Context, tx store.Tx, id string) (*gatehouse.HRImport, error) {
	imp, err := tx.GetHRImport(ctx, id)
	if err != nil {
		return nil, err
	}
	if imp.Status != gatehouse.ImportHeld {
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "HR import %s is %s, not held", id, imp.Status)
	}
	return imp, nil
}

func summarize(plan *jml.Plan) HRSummary { return summaryOf(plan, plan.Items) }

// summaryOf is plan's summary with the confirmations of items (a plan applied a chunk at a
// time keeps a page of its items; the applier keeps the ones with confirmations).
func summaryOf(plan *jml.Plan, items []*jml.Item) HRSummary {
	sum := HRSummary{Summary: plan.Summary, HeldReason: plan.HeldReason, Warnings: plan.Warnings}
	for _, it := range items {
		for _, c := range it.Confirm {
			sum.Confirmations = append(sum.Confirmations, Confirmation{EmployeeID: it.EmployeeID, GrantID: c.GrantID,
				EntitlementID: c.EntitlementID, Manager: it.ConfirmBy})
		}
	}
	return sum
}

// hrState is what applying a plan needs besides its items: the catalog's entitlements.
type hrState struct {
	entitlements map[string]*gatehouse.Entitlement
}

// allIdentities reads every identity, a page at a time.
func allIdentities(ctx context.Context, r store.Reader) ([]*gatehouse.Identity, error) {
	var out []*gatehouse.Identity
	err := eachIdentityPage(ctx, r, func(page []*gatehouse.Identity) error {
		out = append(out, page...)
		return nil
	})
	return out, err
}

// eachIdentityPage calls fn with every identity, a page of the store at a time.
func eachIdentityPage(ctx context.Context, r store.Reader, fn func([]*gatehouse.Identity) error) error {
	f := gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit}
	for {
		page, err := r.ListIdentities(ctx, f)
		if err != nil {
			return fmt.Errorf("load identities: %w", err)
		}
		if err := fn(page.Items); err != nil {
			return err
		}
		if page.NextCursor == "" {
			return nil
		}
		f.Cursor = page.NextCursor
	}
}

// activeGrants reads every grant in force at now, by identity id.
func activeGrants(ctx context.Context, r store.Reader, now time.Time) (map[string][]*gatehouse.Grant, error) {
	out := map[string][]*gatehouse.Grant{}
	f := gatehouse.GrantFilter{Status: "active", Limit: gatehouse.MaxLimit}
	for {
		page, err := r.ListGrants(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("load grants: %w", err)
		}
		for _, g := range page.Items {
			if g.Active(now) {
				out[g.IdentityID] = append(out[g.IdentityID], g)
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}

// applyHR writes a plan in tx: identities first (a joiner needs its id for its grants), then
// revocations, then new grants, each with its audit event referencing the import, then the
// movers' confirmations.
func (s *HR) applyHR(ctx context.Context, tx store.Tx, fx *effects, p *gatehouse.Principal, imp *gatehouse.HRImport, plan *jml.Plan, st *hrState) error {
	ref := "hr-import:" + imp.ID
	fx.reconcile.HR(ref)
	if err := s.applyJML(ctx, tx, fx, p, ref, plan, st); err != nil {
		return err
	}
	if err := recordHRChanges(ctx, tx, imp.ID, 1, plan.Items, st); err != nil { // the import's evidence (hrevidence.go)
		return err
	}
	return s.createConfirmations(ctx, tx, p, imp, plan)
}

// applyJML writes the identity and grant changes of a JML plan, with reference ref on every
// audit event, and states them in fx: the plan knows whom each change concerns. The rows are
// written in batches (the store's bulk writes: thousands of rows a statement on PostgreSQL):
// identities first, since a joiner's grants need its id, then the revocations and the new
// grants; the audit events follow in the order of the plan, person by person.
func (s *HR) applyJML(ctx context.Context, tx store.Tx, fx *effects, p *gatehouse.Principal, ref string, plan *jml.Plan, st *hrState) error {
	now := s.now()
	reasons := make([]string, len(plan.Items))
	created := make([]bool, len(plan.Items))
	var creates, updates []*gatehouse.Identity
	var createdBy, updatedBy []int // the item of each row
	for k, it := range plan.Items {
		reasons[k] = itemReason(it)
		switch {
		case it.Identity == nil:
		case it.IdentityID == "":
			created[k] = true
			creates, createdBy = append(creates, it.Identity), append(createdBy, k)
		default:
			updates, updatedBy = append(updates, it.Identity), append(updatedBy, k)
		}
	}
	if err := tx.CreateIdentities(ctx, creates); err != nil {
		return itemError(plan, createdBy, err, nil)
	}
	if err := tx.UpdateIdentities(ctx, updates); err != nil {
		return itemError(plan, updatedBy, err, nil)
	}
	var revokes []store.Revocation
	var grants []*gatehouse.Grant
	var revokedBy, grantedBy []int
	var revokedWhat, grantedWhat []string // entitlement ids, for errors
	for k, it := range plan.Items {
		if created[k] {
			it.IdentityID = it.Identity.ID
		}
		for _, l := range it.Lose {
			revokes = append(revokes, store.Revocation{GrantID: l.GrantID, Reason: loseReason(it, reasons[k])})
			revokedBy, revokedWhat = append(revokedBy, k), append(revokedWhat, "revoke "+l.EntitlementID)
		}
		for _, gc := range it.Gain {
			ent, ok := st.entitlements[gc.EntitlementID]
			if !ok {
				return gatehouse.Errorf(gatehouse.ECONFLICT, "role %s gives %s, which is not in the catalog", gc.Role, gc.EntitlementID)
			}
			exp, err := grantExpiry(ent, 0, now)
			if err != nil {
				return gatehouse.Errorf(gatehouse.EINVALID, "role %s: %s: %s", gc.Role, gc.EntitlementID, gatehouse.ErrorMessage(err))
			}
			g := &gatehouse.Grant{IdentityID: it.IdentityID, EntitlementID: gc.EntitlementID, Source: gatehouse.SourceBirthright,
				Reference: gc.Role, GrantedBy: p.Actor(), GrantedAt: now}
			if !exp.IsZero() {
				g.ExpiresAt = &exp
			}
			grants = append(grants, g)
			grantedBy, grantedWhat = append(grantedBy, k), append(grantedWhat, "grant "+gc.EntitlementID)
		}
	}
	if err := tx.RevokeGrants(ctx, revokes, now, p.Actor()); err != nil {
		return itemError(plan, revokedBy, err, revokedWhat)
	}
	if err := tx.CreateGrants(ctx, grants); err != nil {
		return itemError(plan, grantedBy, err, grantedWhat)
	}

	// Events are appended together at the end, in the order of the plan: AppendAudits seals a
	// batch much faster than one append per change. Their JSON is encoded on the other CPUs
	// while this goroutine goes through the plan.
	enc := newEventEncoder()
	defer enc.stop()
	var endings []ending // terminated (or rehired): their Gatehouse access ends, in one batch
	next := 0            // the next of grants
	for k, it := range plan.Items {
		reason := reasons[k]
		if it.Identity != nil {
			after := it.Identity
			var ev pendingEvent
			if created[k] {
				ev = pendingEvent{s.event(p, gatehouse.AuditIdentityCreate, "identity", after.ID, nil, nil, reason), nil, after}
			} else {
				ev = pendingEvent{s.event(p, gatehouse.AuditIdentityUpdate, "identity", after.ID, nil, nil, reason), it.Before, after}
				if e, ok := statusEnding(it.Before, after, reason); ok {
					endings = append(endings, e)
				}
			}
			ev.ev.Reference = ref
			enc.add(ev)
			fx.identity(after)
		}
		for i := range it.Lose {
			l := &it.Lose[i]
			fx.revoked(l.GrantID, it.IdentityID, l.EntitlementID)
			ev := s.event(p, gatehouse.AuditGrantRevoke, "grant", l.GrantID, nil, nil, loseReason(it, reason))
			ev.Reference = ref
			enc.add(pendingEvent{ev, nil, l})
		}
		for i := range it.Gain {
			gc := &it.Gain[i]
			g := grants[next]
			next++
			gc.GrantID = g.ID
			fx.granted(g)
			ev := s.event(p, gatehouse.AuditGrantCreate, "grant", g.ID, nil, nil, "birthright: role "+gc.Role+" ("+reason+")")
			ev.Reference = ref
			enc.add(pendingEvent{ev, nil, g})
		}
	}
	events, err := enc.finish()
	if err != nil {
		return err
	}
	if err := tx.AppendAudits(ctx, events); err != nil {
		return err
	}
	if err := s.endGatehouseAccess(ctx, tx, p, ref, endings); err != nil {
		return err
	}
	return s.closeLeaversRequests(ctx, tx, p, plan)
}

// ApplyHRDates applies what the calendar changes without a new feed (operators; meant to run
// daily, as system:hr-dates): an active person whose end_date has passed becomes a leaver, and a
// pre-hire whose start date (minus the lead time) has come becomes a joiner with birthright
// access. It plans the stored people HR owns against themselves, so nothing else changes, and it
// is idempotent: a second run the same day finds nothing, which makes running it on every
// replica safe. A run the leaver guard stops applies nothing and returns the held plan; the
// next feed import is where an admin decides.
func (s *HR) ApplyHRDates(ctx context.Context, p *gatehouse.Principal) (*jml.Plan, error) {
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	var out *jml.Plan
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		current, err := allIdentities(ctx, tx)
		if err != nil {
			return err
		}
		var snapshot []*gatehouse.Identity
		for _, c := range current {
			if c.EmployeeID == "" || !jml.DefaultOwned(c) {
				continue
			}
			next := *c
			next.Source = jml.Source
			if c.Attributes[jml.AttrLifecycle] != "" {
				// Decided again from the start date by the plan.
				next.Attributes = make(map[string]string, len(c.Attributes))
				for k, v := range c.Attributes {
					if k != jml.AttrLifecycle {
						next.Attributes[k] = v
					}
				}
				if len(next.Attributes) == 0 {
					next.Attributes = nil
				}
			}
			snapshot = append(snapshot, &next)
		}
		// The leaver guard counts what the imports and date checks of its window removed
		// (hrguardwindow.go).
		recent, err := s.recentHRRemovals(ctx, tx)
		if err != nil {
			return err
		}
		// It terminates on the day after the end date, by design: that is on time (jml/late.go).
		plan, st, err := s.planHR(ctx, tx, jml.IdentityRows(snapshot), func(o *jml.Options) { o.OnTimeDays, o.Recent = 1, recent })
		if err != nil {
			return err
		}
		// Only the calendar's changes: a birthright difference alone (a catalog change) is the
		// catalog apply's business, and a rule error must not turn a date check into a revoke.
		plan = plan.Only(jml.Leaver, jml.Joiner)
		out = plan
		if plan.Held || len(plan.Items) == 0 {
			if plan.Held {
				s.log.Warn("HR date check held by the leaver guard", "reason", plan.HeldReason)
			}
			return nil
		}
		ref := "hr-dates:" + s.now().UTC().Format(gatehouse.DateLayout)
		fx.reconcile.HR(ref)
		if err := s.applyJML(ctx, tx, fx, p, ref, plan, st); err != nil {
			return err
		}
		ev := s.event(p, gatehouse.AuditHRDates, "hr_dates", s.now().UTC().Format(gatehouse.DateLayout), nil, summarize(plan), "end dates and start dates reached")
		ev.Reference = ref
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
