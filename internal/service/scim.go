package service

// SCIM users. A SCIM client (an IdP such as Okta or Entra ID, holding a token with the scim
// scope) is an identity source like the HR feed: it writes as SCIMSource(p), reads every
// person, and changes only the people whose source is its own. Every change it makes is
// planned and applied by the same JML engine as an HR import (a delta of one person), so
// joiners get birthright access, movers have it recomputed and leavers lose everything, and
// the leaver guard holds a burst of terminations for an admin as it holds an HR file.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Attributes the SCIM server keeps in Identity.Attributes.
const (
	// AttrSCIMExternalID is the client's externalId of the user.
	AttrSCIMExternalID = "scim.externalId"
	// AttrSCIMDeleted marks a person the client deleted: a leaver, hidden from SCIM. A later
	// create with the same userName brings the person back (a rehire).
	AttrSCIMDeleted = "scim.deleted"
)

// SCIMImportFormat is the HRImport.Format of a SCIM change the leaver guard held.
const SCIMImportFormat = "scim"

// SCIMHeldError is returned for a change the leaver guard stopped: it was stored as a held HR
// import (committed), and nothing else was applied. An admin approves or rejects it.
type SCIMHeldError struct {
	Import *gatehouse.HRImport
}

func (e *SCIMHeldError) Error() string {
	return fmt.Sprintf("the leaver guard held this change (%s); an admin must approve HR import %s", e.Import.Reason, e.Import.ID)
}

// SCIMStaleError is returned when the user changed since the version the caller read.
type SCIMStaleError struct{ ID string }

func (e *SCIMStaleError) Error() string {
	return fmt.Sprintf("user %s changed since the version given", e.ID)
}

// SCIMVersion is the version of an identity for SCIM ETags: its last change, in microseconds.
func SCIMVersion(i *gatehouse.Identity) string {
	return strconv.FormatInt(i.UpdatedAt.UnixMicro(), 10)
}

// scimVisible reports whether SCIM shows i: people, except those a SCIM client deleted.
func scimVisible(i *gatehouse.Identity) bool {
	return i.Kind != gatehouse.KindService && i.Attributes[AttrSCIMDeleted] != "true"
}

// SCIMGetUser returns the person with identity id id.
func (s *InboundSCIM) SCIMGetUser(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.Identity, error) {
	if err := requireSCIM(p); err != nil {
		return nil, err
	}
	return scimUser(ctx, s.store, id)
}

func scimUser(ctx context.Context, r store.Reader, id string) (*gatehouse.Identity, error) {
	i, err := r.GetIdentity(ctx, id)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || (err == nil && (i.ID != id || !scimVisible(i))) {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "user %q not found", id)
	}
	return i, err
}

// SCIMLookupUser finds a person by id, email or employee_id with one indexed lookup (the
// filters IdPs send before a create: userName eq, id eq, employeeNumber eq; externalId eq is
// SCIMUsersByExternalID). The caller checks which of them matched. ENOTFOUND when none does.
func (s *InboundSCIM) SCIMLookupUser(ctx context.Context, p *gatehouse.Principal, key string) (*gatehouse.Identity, error) {
	if err := requireSCIM(p); err != nil {
		return nil, err
	}
	i, err := s.store.GetIdentity(ctx, key)
	if err == nil && !scimVisible(i) {
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "user %q not found", key)
	}
	return i, err
}

// scimFilter narrows f to what SCIM shows.
func scimFilter(f gatehouse.IdentityFilter) gatehouse.IdentityFilter {
	f.Kind = gatehouse.KindPerson
	f.WithoutAttribute = &gatehouse.AttributeValue{Key: AttrSCIMDeleted, Value: "true"}
	return f
}

// SCIMListUsers lists the people SCIM shows, by id.
func (s *InboundSCIM) SCIMListUsers(ctx context.Context, p *gatehouse.Principal, f gatehouse.IdentityFilter) (gatehouse.Page[*gatehouse.Identity], error) {
	if err := requireSCIM(p); err != nil {
		return gatehouse.Page[*gatehouse.Identity]{}, err
	}
	return s.store.ListIdentities(ctx, scimFilter(f))
}

// SCIMCountUsers counts the people SCIM shows that f selects.
func (s *InboundSCIM) SCIMCountUsers(ctx context.Context, p *gatehouse.Principal, f gatehouse.IdentityFilter) (int, error) {
	if err := requireSCIM(p); err != nil {
		return 0, err
	}
	return s.store.CountIdentities(ctx, scimFilter(f))
}

// SCIMCreateUser creates a person from a SCIM client (POST /Users). A userName or employee
// number another identity holds is an ECONFLICT naming it and its holder; a userName of a
// person this client deleted brings that person back (a rehire). See scimCreateMatch.
func (s *InboundSCIM) SCIMCreateUser(ctx context.Context, p *gatehouse.Principal, next *gatehouse.Identity, ref string) (*gatehouse.Identity, error) {
	if err := requireSCIM(p); err != nil {
		return nil, err
	}
	src := SCIMSource(p)
	var out *gatehouse.Identity
	var held *SCIMHeldError
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		n := *next // a retried transaction starts from what the client sent
		cur, err := s.scimCreateMatch(ctx, tx, src, &n)
		if err != nil {
			return err
		}
		out, held, err = s.scimWrite(ctx, tx, fx, p, src, cur, &n, ref, gatehouse.AuditSCIMUserCreate)
		if err != nil || held != nil || cur == nil {
			return err
		}
		// A rehire starts in no group: memberships a deletion left behind (before deletions
		// ended them) were hidden while the user was deleted and must not come back.
		return s.scimLeaveGroups(ctx, tx, p, cur.ID, ref)
	})
	if err != nil {
		return nil, err
	}
	if held != nil {
		return nil, held
	}
	return out, nil
}

// SCIMReplaceUser replaces a person's SCIM-fed fields (PUT, and PATCH after the patch is
// applied to what the caller read). version, when not "", is the SCIMVersion the caller read:
// a later change is a *SCIMStaleError. A person of another source is EFORBIDDEN.
func (s *InboundSCIM) SCIMReplaceUser(ctx context.Context, p *gatehouse.Principal, id string, next *gatehouse.Identity, version, ref string) (*gatehouse.Identity, error) {
	if err := requireSCIM(p); err != nil {
		return nil, err
	}
	src := SCIMSource(p)
	var out *gatehouse.Identity
	var held *SCIMHeldError
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		cur, err := s.scimOwned(ctx, tx, src, id, version)
		if err != nil {
			return err
		}
		next.ID = cur.ID
		if next.StartDate == "" {
			next.StartDate = cur.StartDate
		}
		if err := scimReplaceCheck(ctx, tx, src, cur, next); err != nil {
			return err
		}
		out, held, err = s.scimWrite(ctx, tx, fx, p, src, cur, next, ref, gatehouse.AuditSCIMUserUpdate)
		return err
	})
	if err != nil {
		return nil, err
	}
	if held != nil {
		return nil, held
	}
	return out, nil
}

// SCIMDeleteUser makes a person a leaver (DELETE /Users/{id}): terminated, every grant
// revoked, hidden from SCIM from then on, and no longer a member of any SCIM group.
func (s *InboundSCIM) SCIMDeleteUser(ctx context.Context, p *gatehouse.Principal, id, version, ref string) error {
	if err := requireSCIM(p); err != nil {
		return err
	}
	src := SCIMSource(p)
	var held *SCIMHeldError
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		cur, err := s.scimOwned(ctx, tx, src, id, version)
		if err != nil {
			return err
		}
		next := *cur
		next.Attributes = maps.Clone(cur.Attributes)
		if next.Attributes == nil {
			next.Attributes = map[string]string{}
		}
		next.Attributes[AttrSCIMDeleted] = "true"
		next.Status = gatehouse.StatusTerminated
		if _, held, err = s.scimWrite(ctx, tx, fx, p, src, cur, &next, ref, gatehouse.AuditSCIMUserUpdate); err != nil || held != nil {
			return err
		}
		return s.scimLeaveGroups(ctx, tx, p, id, ref)
	})
	if err != nil {
		return err
	}
	if held != nil {
		return held
	}
	return nil
}

// scimOwned reads the person id for a change by the client of source src.
func (s *InboundSCIM) scimOwned(ctx context.Context, tx store.Tx, src, id, version string) (*gatehouse.Identity, error) {
	cur, err := scimUser(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if cur.Source != src {
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "user %s belongs to identity source %q; this client (%s) may change only its own users",
			id, sourceLabel(ctx, tx, cur.Source), sourceLabel(ctx, tx, src))
	}
	if version != "" && version != SCIMVersion(cur) {
		return nil, &SCIMStaleError{ID: id}
	}
	return cur, nil
}

// scimWrite plans next (cur is its stored identity, nil for a new person) as a one-person delta
// with the JML engine and applies it, unless the leaver guard holds it: then it stores the held
// import and returns it as a *SCIMHeldError (with a nil error, so the import is committed).
func (s *InboundSCIM) scimWrite(ctx context.Context, tx store.Tx, fx *effects, p *gatehouse.Principal, src string, cur, next *gatehouse.Identity, ref string, action gatehouse.AuditAction) (*gatehouse.Identity, *SCIMHeldError, error) {
	now := s.now()
	next.Source, next.Kind = src, gatehouse.KindPerson
	next.Roles = nil
	if cur != nil {
		next.Roles, next.CreatedAt = cur.Roles, cur.CreatedAt
	}
	if next.StartDate == "" {
		next.StartDate = now.UTC().Format(gatehouse.DateLayout)
	}
	if err := next.Validate(); err != nil {
		return nil, nil, err
	}
	if next.ManagerID != "" && next.ManagerID == next.EmployeeID {
		return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "manager: a person cannot be their own manager")
	}
	cat, err := tx.LoadCatalog(ctx)
	if err != nil {
		return nil, nil, err
	}
	roles, err := jml.CompileRoles(cat.Roles)
	if err != nil {
		return nil, nil, err
	}
	st := &hrState{entitlements: make(map[string]*gatehouse.Entitlement, len(cat.Entitlements))}
	for _, e := range cat.Entitlements {
		st.entitlements[e.ID] = e
	}
	var current []*gatehouse.Identity
	grants := map[string][]*gatehouse.Grant{}
	if cur != nil {
		// The plan matches people by employee_id; a changed employee number is the same person.
		c := *cur
		c.EmployeeID = next.EmployeeID
		current = []*gatehouse.Identity{&c}
		if grants[cur.ID], err = identityGrants(ctx, tx, cur.ID, now); err != nil {
			return nil, nil, err
		}
	}
	opts := s.hrOptions(cat.Settings)
	opts.Partial = true
	opts.Owned = func(i *gatehouse.Identity) bool { return i.Kind != gatehouse.KindService && i.Source == src }
	// The plan's own guard compares one person with the population; the SCIM guard counts this
	// source's removals over an hour instead (below).
	opts.Guard = gatehouse.LeaverGuard{MinCount: math.MaxInt32}
	plan := jml.MakePlan(now, current, []*gatehouse.Identity{next}, roles, grants, opts)
	if cur != nil && cur.EmployeeID != next.EmployeeID {
		forceWrite(plan, cur, next)
	}
	if len(plan.Items) == 0 {
		return cur, nil, nil // nothing changes
	}
	it := plan.Items[0]
	if cur != nil {
		it.Before = cur // as stored: the plan saw a copy with the new employee number
	}
	if it.Class == jml.Skipped {
		return nil, nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "%s", it.Reason)
	}
	labelSCIMReasons(ctx, tx, plan, src)
	if plan.Summary.Removals > 0 {
		reason, err := s.scimGuard(ctx, tx, p, src, cat.Settings.LeaverGuard, plan.Summary.Removals)
		if err != nil {
			return nil, nil, err
		}
		if reason != "" {
			imp, err := s.holdSCIM(ctx, tx, p, src, next, plan, reason, ref)
			if err != nil {
				return nil, nil, err
			}
			return nil, &SCIMHeldError{Import: imp}, nil
		}
	}
	if err := s.applyJML(ctx, tx, fx, p, ref, plan, st); err != nil {
		return nil, nil, err
	}
	if err := s.scimConfirmations(ctx, tx, p, it, ref); err != nil {
		return nil, nil, err
	}
	id := it.IdentityID
	out, err := tx.GetIdentity(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	why := string(it.Class)
	if it.Reason != "" {
		why += ": " + it.Reason
	}
	if plan.Summary.Removals > 0 {
		why = scimRemoval + why
	}
	ev := s.event(p, action, "identity", id, cur, out, why)
	ev.Reference = ref
	fx.identity(out)
	return out, nil, tx.AppendAudit(ctx, ev)
}

// labelSCIMReasons rewrites "deactivated by <source>" in plan's reasons with the source's label:
// evidence is read by people, who know the service account by its email, not by the id the
// source is keyed by.
func labelSCIMReasons(ctx context.Context, r store.Reader, plan *jml.Plan, src string) {
	label := sourceLabel(ctx, r, src)
	if label == src {
		return
	}
	for _, it := range plan.Items {
		it.Reason = strings.ReplaceAll(it.Reason, src, label)
	}
}

// scimConfirmations asks a mover's new manager to confirm the requested access the mover
// keeps, as an HR import does (createConfirmations, which ties them to an import).
func (s *InboundSCIM) scimConfirmations(ctx context.Context, tx store.Tx, p *gatehouse.Principal, it *jml.Item, ref string) error {
	if len(it.Confirm) == 0 || it.ConfirmBy == "" {
		return nil
	}
	mgr, err := identityByEmployeeID(ctx, tx, it.ConfirmBy)
	if err != nil {
		return fmt.Errorf("%s: new manager %s: %w", it.EmployeeID, it.ConfirmBy, err)
	}
	var out []*gatehouse.Confirmation
	for _, c := range it.Confirm {
		open, err := tx.ListConfirmations(ctx, gatehouse.ConfirmationFilter{GrantID: c.GrantID, ManagerID: mgr.ID,
			Status: gatehouse.ConfirmationOpen, Limit: 1})
		if err != nil {
			return err
		}
		if len(open.Items) == 0 {
			out = append(out, &gatehouse.Confirmation{IdentityID: it.IdentityID, GrantID: c.GrantID,
				EntitlementID: c.EntitlementID, ManagerID: mgr.ID, CreatedAt: s.now(), Status: gatehouse.ConfirmationOpen})
		}
	}
	if len(out) == 0 {
		return nil
	}
	if err := tx.CreateConfirmations(ctx, out); err != nil {
		return err
	}
	for _, c := range out {
		ev := s.event(p, gatehouse.AuditConfirmationCreate, "confirmation", c.ID, nil, c, "mover: request access kept, for the new manager to confirm")
		ev.Reference = ref
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// scimRemoval starts the reason of a SCIM event that terminated or suspended a person: the
// leaver guard counts them.
const scimRemoval = "removal: "

// forceWrite makes the plan store next when only its employee_id changed (which the plan,
// matching by employee_id, cannot see).
func forceWrite(plan *jml.Plan, cur, next *gatehouse.Identity) {
	n := *next
	n.ID, n.Roles, n.CreatedAt, n.Kind = cur.ID, cur.Roles, cur.CreatedAt, cur.Kind
	if len(plan.Items) == 0 {
		plan.Items = append(plan.Items, &jml.Item{Class: jml.Updated, EmployeeID: n.EmployeeID, Email: n.Email,
			IdentityID: cur.ID, Reason: "employee number changed"})
	}
	if it := plan.Items[0]; it.Identity == nil {
		it.Identity = &n
	}
}

// identityGrants reads the grants identityID holds at now.
func identityGrants(ctx context.Context, r store.Reader, identityID string, now time.Time) ([]*gatehouse.Grant, error) {
	var out []*gatehouse.Grant
	f := gatehouse.GrantFilter{IdentityID: identityID, Status: "active", Limit: gatehouse.MaxLimit}
	for {
		page, err := r.ListGrants(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("load grants of %s: %w", identityID, err)
		}
		for _, g := range page.Items {
			if g.Active(now) {
				out = append(out, g)
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}

// scimGuard applies the leaver guard to a SCIM source over a rolling hour: the removals it made
// in the last hour plus n may not exceed max(min_count, max_fraction × its active people, those
// removals included). It returns why the change is held, or "".
func (s *InboundSCIM) scimGuard(ctx context.Context, tx store.Tx, p *gatehouse.Principal, src string, g gatehouse.LeaverGuard, n int) (string, error) {
	now := s.now()
	recent := 0
	// Counted by the source the removed person belonged to (the event's after side), not by
	// the actor's email: renaming the service account must not restart the window.
	f := gatehouse.AuditFilter{Action: string(gatehouse.AuditSCIMUserUpdate), Since: now.Add(-time.Hour), Limit: gatehouse.MaxLimit}
	for {
		page, err := tx.ListAuditEvents(ctx, f)
		if err != nil {
			return "", err
		}
		for _, ev := range page.Items {
			var after struct {
				Source string `json:"source"`
			}
			if strings.HasPrefix(ev.Reason, scimRemoval) && json.Unmarshal(ev.After, &after) == nil && after.Source == src {
				recent++
			}
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	active, err := tx.CountIdentities(ctx, gatehouse.IdentityFilter{Source: src, Status: gatehouse.StatusActive, Kind: gatehouse.KindPerson})
	if err != nil {
		return "", err
	}
	// The population is counted as it was before this hour's removals, as an HR import
	// counts it before the file is applied.
	active += recent
	limit := max(g.MinCount, int(math.Floor(g.MaxFraction*float64(active))))
	if recent+n <= limit {
		return "", nil
	}
	return fmt.Sprintf("source %s would terminate or suspend %d people within an hour, more than the leaver guard allows: max(min_count %d, max_fraction %g × %d active) = %d",
		sourceLabel(ctx, tx, src), recent+n, g.MinCount, g.MaxFraction, active, limit), nil
}

// scimHeldRow is a held SCIM change: one person in the HR JSON shape jml.ParseHRJSON reads,
// with the fields that shape cannot carry as they are (the owning source, a manager who is
// not in the file, attributes whose keys must keep their case) beside it.
type scimHeldRow struct {
	EmployeeID     string `json:"employee_id"`
	Email          string `json:"email"`
	FirstName      string `json:"first_name"`
	LastName       string `json:"last_name"`
	Department     string `json:"department"`
	Title          string `json:"title"`
	Location       string `json:"location"`
	EmploymentType string `json:"employment_type"`
	Status         string `json:"status"`
	StartDate      string `json:"start_date"`
	EndDate        string `json:"end_date"`
	SCIMSource     string `json:"scim_source"`
	SCIMManager    string `json:"scim_manager_id,omitempty"`
	SCIMAttributes string `json:"scim_attributes,omitempty"` // JSON: the HR shape's values are strings
}

func (s *InboundSCIM) holdSCIM(ctx context.Context, tx store.Tx, p *gatehouse.Principal, src string, next *gatehouse.Identity, plan *jml.Plan, reason, ref string) (*gatehouse.HRImport, error) {
	row := scimHeldRow{EmployeeID: next.EmployeeID, Email: next.Email, FirstName: next.FirstName, LastName: next.LastName,
		Department: next.Department, Title: next.Title, Location: next.Location, EmploymentType: string(next.EmploymentType),
		Status: string(next.Status), StartDate: next.StartDate, EndDate: next.EndDate, SCIMSource: src,
		SCIMManager: next.ManagerID}
	if len(next.Attributes) > 0 {
		row.SCIMAttributes = string(mustJSON(next.Attributes))
	}
	content, err := json.Marshal([]scimHeldRow{row})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(content)
	plan.Held, plan.HeldReason = true, reason
	imp := &gatehouse.HRImport{CreatedBy: p.Actor(), FileName: sourceLabel(ctx, tx, src) + " " + ref, SHA256: hex.EncodeToString(sum[:]),
		RowCount: 1, Status: gatehouse.ImportHeld, Reason: reason, Summary: mustJSON(summarize(plan)),
		Format: SCIMImportFormat, Content: string(content)}
	if err := tx.CreateHRImport(ctx, imp); err != nil {
		return nil, err
	}
	ev := s.event(p, gatehouse.AuditHRImport, "hr_import", imp.ID, nil, imp, "held: "+reason)
	ev.Reference = ref
	return imp, tx.AppendAudit(ctx, ev)
}

// scimHeldSnapshot reads a held SCIM change back for ApproveHRImport, with the plan options
// it needs: a delta, owned by the source that sent it.
func scimHeldSnapshot(imp *gatehouse.HRImport) ([]*gatehouse.Identity, func(*jml.Options), error) {
	var rows []scimHeldRow
	if err := json.Unmarshal([]byte(imp.Content), &rows); err != nil {
		return nil, nil, fmt.Errorf("held SCIM change %s: %w", imp.ID, err)
	}
	if len(rows) == 0 || rows[0].SCIMSource == "" {
		return nil, nil, errors.New("held SCIM change " + imp.ID + " names no source")
	}
	src := rows[0].SCIMSource
	var out []*gatehouse.Identity
	for _, r := range rows {
		if r.SCIMSource != src {
			return nil, nil, errors.New("held SCIM change " + imp.ID + " mixes sources")
		}
		var attrs map[string]string
		if r.SCIMAttributes != "" {
			if err := json.Unmarshal([]byte(r.SCIMAttributes), &attrs); err != nil {
				return nil, nil, fmt.Errorf("held SCIM change %s: attributes: %w", imp.ID, err)
			}
		}
		out = append(out, &gatehouse.Identity{EmployeeID: r.EmployeeID, Email: r.Email, FirstName: r.FirstName,
			LastName: r.LastName, Department: r.Department, Title: r.Title, ManagerID: r.SCIMManager, Location: r.Location,
			EmploymentType: gatehouse.EmploymentType(r.EmploymentType), Status: gatehouse.IdentityStatus(r.Status),
			StartDate: r.StartDate, EndDate: r.EndDate, Kind: gatehouse.KindPerson, Attributes: attrs, Source: src})
	}
	return out, func(o *jml.Options) {
		o.Partial = true
		o.Owned = func(i *gatehouse.Identity) bool { return i.Kind != gatehouse.KindService && i.Source == src }
	}, nil
}
