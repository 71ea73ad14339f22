package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// GetIdentity returns the identity named by id, email or employee_id.
func (s *Identities) GetIdentity(ctx context.Context, p *gatehouse.Principal, key string) (*gatehouse.Identity, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	id, err := s.store.GetIdentity(ctx, key)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && !p.CanReadAll() {
			// Do not tell an ordinary identity which other identities exist.
			return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may only see your own access")
		}
		return nil, err
	}
	if err := requireSelfOrReadAll(p, id.ID); err != nil {
		return nil, err
	}
	return id, nil
}

// ListIdentities lists identities (readers only).
func (s *Identities) ListIdentities(ctx context.Context, p *gatehouse.Principal, f gatehouse.IdentityFilter) (gatehouse.Page[*gatehouse.Identity], error) {
	if err := requireReadAll(p); err != nil {
		return gatehouse.Page[*gatehouse.Identity]{}, err
	}
	return s.store.ListIdentities(ctx, f)
}

// CountIdentities counts identities matching f (readers only).
func (s *Identities) CountIdentities(ctx context.Context, p *gatehouse.Principal, f gatehouse.IdentityFilter) (int, error) {
	if err := requireReadAll(p); err != nil {
		return 0, err
	}
	return s.store.CountIdentities(ctx, f)
}

// CreateIdentity adds an identity by hand (operators), for service accounts or before the HR
// feed is connected. Gatehouse roles are set separately, by an admin (SetRoles).
func (s *Identities) CreateIdentity(ctx context.Context, p *gatehouse.Principal, in *gatehouse.Identity, reason string) (*gatehouse.Identity, error) {
	if err := checkTexts(reasonText("reason", reason)); err != nil {
		return nil, err
	}
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	id := *in
	id.ID = ""
	if len(id.Roles) > 0 && !p.Has(gatehouse.RoleAdmin) {
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin may give Gatehouse roles")
	}
	if id.Source == "" {
		id.Source = "api"
	}
	if err := id.Validate(); err != nil {
		return nil, err
	}
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		if err := checkManager(ctx, tx, &id); err != nil {
			return err
		}
		// Adding someone is no way to become their manager either (see notOwnManager).
		if err := notOwnManager(ctx, tx, p, &gatehouse.Identity{Email: id.Email}, &id); err != nil {
			return err
		}
		if err := tx.CreateIdentity(ctx, &id); err != nil {
			return err
		}
		fx.identity(&id)
		return tx.AppendAudit(ctx, s.event(p, gatehouse.AuditIdentityCreate, "identity", id.ID, nil, &id, reason))
	})
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// IdentityPatch holds the fields of an identity to change; nil fields stay as they are.
type IdentityPatch struct {
	Email          *string                   `json:"email,omitempty"`
	FirstName      *string                   `json:"first_name,omitempty"`
	LastName       *string                   `json:"last_name,omitempty"`
	Department     *string                   `json:"department,omitempty"`
	Title          *string                   `json:"title,omitempty"`
	ManagerID      *string                   `json:"manager_id,omitempty"`
	Location       *string                   `json:"location,omitempty"`
	EmploymentType *gatehouse.EmploymentType `json:"employment_type,omitempty"`
	Status         *gatehouse.IdentityStatus `json:"status,omitempty"`
	StartDate      *string                   `json:"start_date,omitempty"`
	EndDate        *string                   `json:"end_date,omitempty"`
	Attributes     map[string]string         `json:"attributes,omitempty"` // merged; "" deletes a key
}

// UpdateIdentity changes an identity's fields (operators).
func (s *Identities) UpdateIdentity(ctx context.Context, p *gatehouse.Principal, key string, patch IdentityPatch, reason string) (*gatehouse.Identity, error) {
	if err := checkTexts(reasonText("reason", reason)); err != nil {
		return nil, err
	}
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	var out *gatehouse.Identity
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		before, err := tx.GetIdentity(ctx, key)
		if err != nil {
			return err
		}
		after := *before
		after.Attributes = cloneMap(before.Attributes)
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = strings.TrimSpace(*v)
			}
		}
		set(&after.Email, patch.Email)
		set(&after.FirstName, patch.FirstName)
		set(&after.LastName, patch.LastName)
		set(&after.Department, patch.Department)
		set(&after.Title, patch.Title)
		set(&after.ManagerID, patch.ManagerID)
		set(&after.Location, patch.Location)
		set(&after.StartDate, patch.StartDate)
		set(&after.EndDate, patch.EndDate)
		if patch.EmploymentType != nil {
			after.EmploymentType = *patch.EmploymentType
		}
		if patch.Status != nil {
			after.Status = *patch.Status
		}
		for k, v := range patch.Attributes {
			if after.Attributes == nil {
				after.Attributes = map[string]string{}
			}
			if v == "" {
				delete(after.Attributes, k)
			} else {
				after.Attributes[k] = v
			}
		}
		if err := s.mayChangeStanding(ctx, tx, p, before, &after); err != nil {
			return err
		}
		if err := notOwnManager(ctx, tx, p, before, &after); err != nil {
			return err
		}
		// Nor any other field of their own: birthright rules read department, title, location,
		// employment type, dates and attributes, so editing oneself would grant oneself access.
		if p.IdentityID != "" && p.IdentityID == before.ID {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN,
				"nobody changes their own record by hand (birthright rules read it); ask another operator or correct it in HR")
		}
		if err := after.Validate(); err != nil {
			return err
		}
		if err := checkManager(ctx, tx, &after); err != nil {
			return err
		}
		if err := tx.UpdateIdentity(ctx, &after); err != nil {
			return err
		}
		fx.identity(&after)
		out = &after
		// A termination after the end date says so, as an HR import's does (hrevidence.go).
		if err := tx.AppendAudit(ctx, s.event(p, gatehouse.AuditIdentityUpdate, "identity", after.ID, before, &after, lateReason(before, &after, s.now(), reason))); err != nil {
			return err
		}
		if before.Status != gatehouse.StatusTerminated && after.Status == gatehouse.StatusTerminated {
			return s.terminateByHand(ctx, tx, fx, p, &after, reason)
		}
		if e, ok := statusEnding(before, &after, ""); ok { // back from terminated (termination.go)
			return s.endGatehouseAccess(ctx, tx, p, "", []ending{e})
		}
		return nil
	})
	return out, err
}

// SetRoles replaces an identity's Gatehouse roles (admins only). An admin cannot remove their
// own admin role, so that a typo cannot lock everyone out.
func (s *Identities) SetRoles(ctx context.Context, p *gatehouse.Principal, key string, roles []gatehouse.AccessRole, reason string) (*gatehouse.Identity, error) {
	if err := checkTexts(reasonText("reason", reason)); err != nil {
		return nil, err
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	roles = slices.Clone(roles)
	slices.Sort(roles)
	roles = slices.Compact(roles)
	for _, r := range roles {
		if !r.Valid() {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "roles: %q is not one of admin, operator, auditor", r)
		}
	}
	var out *gatehouse.Identity
	err := s.update(ctx, func(tx store.Tx) error {
		before, err := tx.GetIdentity(ctx, key)
		if err != nil {
			return err
		}
		if before.ID == p.IdentityID && before.HasRole(gatehouse.RoleAdmin) && !slices.Contains(roles, gatehouse.RoleAdmin) {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "you cannot remove your own admin role; ask another admin")
		}
		if before.ID == p.IdentityID && !slices.Equal(before.Roles, roles) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "nobody changes their own roles; ask another admin")
		}
		if slices.Equal(before.Roles, roles) {
			out = before
			return nil
		}
		after := *before
		after.Roles = roles
		if err := tx.UpdateIdentity(ctx, &after); err != nil {
			return err
		}
		out = &after
		return tx.AppendAudit(ctx, s.event(p, gatehouse.AuditIdentityRoles, "identity", after.ID,
			map[string]any{"roles": before.Roles}, map[string]any{"roles": roles}, reason))
	})
	return out, err
}

// mayChangeStanding guards who an identity is (its email) and whether it may act (its status),
// on which every power rests: nobody changes their own, and only an admin changes those of an
// admin or of someone holding a designated power (catalog pins, see designatedPowers), so that
// an operator can neither take over an approver's address nor switch an approver off.
func (s *Identities) mayChangeStanding(ctx context.Context, rd store.Reader, p *gatehouse.Principal, before, after *gatehouse.Identity) error {
	var changed []string
	if !strings.EqualFold(before.Email, after.Email) {
		changed = append(changed, "email")
	}
	if before.Status != after.Status {
		changed = append(changed, "status")
	}
	// An end date that has passed is a termination the daily date check carries out: a status
	// change scheduled in advance.
	if before.EndDate != after.EndDate {
		changed = append(changed, "end_date")
	}
	if len(changed) == 0 {
		return nil
	}
	what := strings.Join(changed, " and ")
	if p.IdentityID != "" && p.IdentityID == before.ID {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "nobody changes their own %s; ask another operator", what)
	}
	if p.Has(gatehouse.RoleAdmin) {
		return nil
	}
	if before.HasRole(gatehouse.RoleAdmin) {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin changes the %s of an admin (%s)", what, before.Email)
	}
	powers, err := designatedPowers(ctx, rd, before)
	if err != nil {
		return err
	}
	if len(powers) > 0 {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin changes the %s of %s, who holds a designated power (%s)",
			what, before.Email, strings.Join(powers, "; "))
	}
	// An IdP's SCIM client is the account whose token it holds: terminating the account revokes
	// the token, and the IdP's deactivations stop landing (its leavers keep access).
	toks, err := rd.ListTokens(ctx, gatehouse.TokenFilter{IdentityID: before.ID})
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.Valid(s.now()) && slices.Contains(t.Scopes, gatehouse.ScopeSCIM) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin changes the %s of %s, a SCIM client (it holds a live token with the scim scope)",
				what, before.Email)
		}
	}
	return nil
}

// designatedPowers lists the powers the catalog pins to an identity: security approver,
// emergency operator, owner of a system or an entitlement, approver named in a chain; and the
// manual-task assignee of a system (connector setting assignee, still an email: whoever holds
// the address sees and completes the tasks, so the address is guarded too).
func designatedPowers(ctx context.Context, rd store.Reader, who *gatehouse.Identity) ([]string, error) {
	cat, err := rd.LoadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	return designatedPowersIn(cat, who), nil
}

// designatedPowersIn is designatedPowers over a catalog already loaded (an HR import asks it of
// many people).
func designatedPowersIn(cat *gatehouse.Catalog, who *gatehouse.Identity) []string {
	identityID := who.ID
	var out []string
	if cat.Settings.IsSecurityApprover(identityID) {
		out = append(out, "security approver")
	}
	if cat.Settings.IsEmergencyOperator(identityID) {
		out = append(out, "emergency operator")
	}
	var owns, approves []string
	var tasks []string
	for _, sys := range cat.Systems {
		if sys.OwnerID == identityID {
			owns = append(owns, "system "+sys.ID)
		}
		if a, ok := sys.Connector.Settings["assignee"].(string); ok && strings.EqualFold(a, who.Email) {
			tasks = append(tasks, sys.ID)
		}
	}
	for _, e := range cat.Entitlements {
		if e.OwnerID == identityID {
			owns = append(owns, e.ID)
		}
		for _, id := range e.ApproverIDs {
			if id == identityID {
				approves = append(approves, e.ID)
				break
			}
		}
	}
	const most = 3 // enough to say why; the catalog has the rest
	list := func(what string, l []string) string {
		if len(l) > most {
			return fmt.Sprintf("%s %s and %d more", what, strings.Join(l[:most], ", "), len(l)-most)
		}
		return what + " " + strings.Join(l, ", ")
	}
	if len(owns) > 0 {
		out = append(out, list("owner of", owns))
	}
	if len(approves) > 0 {
		out = append(out, list("named approver of", approves))
	}
	if len(tasks) > 0 {
		out = append(out, list("manual-task assignee of", tasks))
	}
	return out
}

// checkManager refuses a manager_id that names no identity or the identity itself, and stores
// the manager by employee_id (as HR does) whatever key named them: an email names whoever holds
// the address when a request is routed, and addresses change hands.
func checkManager(ctx context.Context, r store.Reader, i *gatehouse.Identity) error {
	if i.ManagerID == "" {
		return nil
	}
	if i.ManagerID == i.EmployeeID {
		return gatehouse.Errorf(gatehouse.EINVALID, "manager_id: an identity cannot be its own manager")
	}
	m, err := r.GetIdentity(ctx, i.ManagerID)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Errorf(gatehouse.EINVALID, "manager_id: no identity with employee_id %q", i.ManagerID)
		}
		return err
	}
	if m.EmployeeID == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "manager_id: %s has no employee_id; a manager is a person HR knows", m.Email)
	}
	if (i.ID != "" && m.ID == i.ID) || m.EmployeeID == i.EmployeeID {
		return gatehouse.Errorf(gatehouse.EINVALID, "manager_id: an identity cannot be its own manager")
	}
	i.ManagerID = m.EmployeeID
	return nil
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// terminateByHand applies the leaver policy to an identity an operator terminated directly
// (not through the HR feed or a SCIM client, which run the JML engine): every grant it holds is
// revoked, its open access requests are cancelled and its Gatehouse tokens and delegations end
// (termination.go), in the same transaction, so that the provisioning engine removes the access
// at once instead of keeping it for a person who left.
func (s *Identities) terminateByHand(ctx context.Context, tx store.Tx, fx *effects, p *gatehouse.Principal, id *gatehouse.Identity, reason string) error {
	why := "leaver: terminated by " + p.Actor()
	if reason != "" {
		why += ": " + reason
	}
	now := s.now()
	f := gatehouse.GrantFilter{IdentityID: id.ID, Status: "active", Limit: gatehouse.MaxLimit}
	for {
		page, err := tx.ListGrants(ctx, f)
		if err != nil {
			return fmt.Errorf("leaver %s: grants: %w", id.Email, err)
		}
		for _, g := range page.Items {
			if err := tx.RevokeGrant(ctx, g.ID, now, p.Actor(), why); err != nil {
				return fmt.Errorf("leaver %s: revoke %s: %w", id.Email, g.EntitlementID, err)
			}
			fx.revoked(g.ID, g.IdentityID, g.EntitlementID)
			ev := s.event(p, gatehouse.AuditGrantRevoke, "grant", g.ID, g, nil, why)
			ev.Reference = g.Reference
			if err := tx.AppendAudit(ctx, ev); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if err := s.cancelOpenRequests(ctx, tx, p, id.ID, "the beneficiary left ("+why+")"); err != nil {
		return err
	}
	return s.endGatehouseAccess(ctx, tx, p, "", []ending{{IdentityID: id.ID, Why: why}})
}

// notOwnManager refuses a change by hand that makes the caller someone's manager: the manager
// step of that person's requests would then be the caller's to decide. HR, not an operator,
// says who manages whom; a correction of that kind is for someone else to make.
func notOwnManager(ctx context.Context, rd store.Reader, p *gatehouse.Principal, before, after *gatehouse.Identity) error {
	if p.IdentityID == "" || strings.EqualFold(before.ManagerID, after.ManagerID) {
		return nil
	}
	// Nor does anyone choose (or remove) their own manager, who decides the manager step of
	// their own requests.
	if p.IdentityID == before.ID {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN,
			"manager_id: nobody changes their own manager (the manager step of your requests is theirs); ask another operator or correct it in HR")
	}
	if after.ManagerID == "" {
		return nil
	}
	m, err := rd.GetIdentity(ctx, after.ManagerID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil // checkManager names the unknown manager
	} else if err != nil {
		return err
	}
	if m.ID == p.IdentityID {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN,
			"manager_id: nobody makes themselves someone's manager by hand (the manager step of %s's requests would be yours); ask another operator or correct it in HR", before.Email)
	}
	return nil
}

// CreateIdentities adds many identities in one transaction (operators; Gatehouse roles need
// an admin), each checked as CreateIdentity checks one and with its own audit event. A manager
// may be created earlier in the same batch, so a whole organization can be loaded in manager
// order. If any identity is refused, none is created, and the error names it by its index:
// "identities[7]: …".
func (s *Identities) CreateIdentities(ctx context.Context, p *gatehouse.Principal, in []*gatehouse.Identity, reason string) ([]*gatehouse.Identity, error) {
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	ids := make([]*gatehouse.Identity, len(in))
	for i, x := range in {
		id := *x
		id.ID = ""
		id.Attributes = cloneMap(x.Attributes)
		id.Roles = slices.Clone(x.Roles)
		if len(id.Roles) > 0 && !p.Has(gatehouse.RoleAdmin) {
			return nil, indexedAs("identities", i, gatehouse.Errorf(gatehouse.EFORBIDDEN, "only an admin may give Gatehouse roles"))
		}
		if id.Source == "" {
			id.Source = "api"
		}
		if err := id.Validate(); err != nil {
			return nil, indexedAs("identities", i, err)
		}
		ids[i] = &id
	}
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		for i, id := range ids {
			if err := checkManager(ctx, tx, id); err != nil {
				return indexedAs("identities", i, err)
			}
			if err := tx.CreateIdentity(ctx, id); err != nil {
				return indexedAs("identities", i, err)
			}
			fx.identity(id)
			if err := tx.AppendAudit(ctx, s.event(p, gatehouse.AuditIdentityCreate, "identity", id.ID, nil, id, reason)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// Me is who the caller is: its principal, and its identity (nil for the bootstrap admin, which
// has none).
type Me struct {
	Principal gatehouse.Principal `json:"principal"`
	Identity  *gatehouse.Identity `json:"identity"`
}

// Me answers who p is. Everyone signed in may ask about themselves.
func (s *Identities) Me(ctx context.Context, p *gatehouse.Principal) (*Me, error) {
	out := &Me{Principal: *p}
	if p.IdentityID != "" {
		id, err := s.GetIdentity(ctx, p, p.IdentityID)
		if err != nil {
			return nil, err
		}
		out.Identity = id
	}
	return out, nil
}
