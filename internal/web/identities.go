package web

import (
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse/gatehouse"
)

// pageSize is the length of every paginated table: enough to scan, short enough to render fast.
const pageSize = 50

type identitiesView struct {
	Query, Department, Status, Type string
	Filtered                        bool
	Total                           int
	Items                           []*gatehouse.Identity
	NextURL, FirstURL               string
	Statuses                        []gatehouse.IdentityStatus
	Types                           []gatehouse.EmploymentType
}

// identities lists identities for readers. Anyone else may only see themselves, so they are
// taken straight to their own page rather than shown a refusal.
func (h *handler) identities(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	if !p.CanReadAll() && p.IdentityID != "" {
		http.Redirect(w, r, "/identities/"+url.PathEscape(p.IdentityID), http.StatusSeeOther)
		return nil
	}
	q := r.URL.Query()
	var f gatehouse.IdentityFilter
	if err := decodeFilter(q, &f); err != nil {
		return err
	}
	v := identitiesView{
		Query:      f.Query,
		Department: f.Department,
		Status:     string(f.Status),
		Type:       string(f.EmploymentType),
		Statuses:   []gatehouse.IdentityStatus{gatehouse.StatusActive, gatehouse.StatusLeave, gatehouse.StatusTerminated},
		Types:      []gatehouse.EmploymentType{gatehouse.Employee, gatehouse.Contractor, gatehouse.Intern},
	}
	if v.Status != "" && !gatehouse.IdentityStatus(v.Status).Valid() {
		return gatehouse.Errorf(gatehouse.EINVALID, "status %q is not one of active, leave, terminated", v.Status)
	}
	if v.Type != "" && !gatehouse.EmploymentType(v.Type).Valid() {
		return gatehouse.Errorf(gatehouse.EINVALID, "employment type %q is not one of employee, contractor, intern", v.Type)
	}
	cursor := f.Cursor
	f.Limit, f.Cursor = 0, ""
	v.Filtered = f != (gatehouse.IdentityFilter{}) // any filter the API takes, shown in the form or not
	var err error
	if v.Total, err = h.svc.CountIdentities(r.Context(), p, f); err != nil {
		return deny(err, "You need the auditor, operator or admin role to list identities.")
	}
	f.Limit, f.Cursor = pageSize, cursor
	page, err := h.svc.ListIdentities(r.Context(), p, f)
	if err != nil {
		return err
	}
	v.Items = page.Items
	if page.NextCursor != "" {
		v.NextURL = pageURL("/identities", q, page.NextCursor)
	}
	if f.Cursor != "" {
		v.FirstURL = pageURL("/identities", q, "")
	}
	h.render(w, r, p, http.StatusOK, "identities", &view{Title: "Identities", Section: "identities", Data: v})
	return nil
}

type identityView struct {
	Identity   *gatehouse.Identity
	Self       bool
	Manager    *gatehouse.Identity // nil when there is none or the viewer may not see it
	Attributes []keyValue
	Active     []grantRow
	Revoked    []grantRow
	GrantsMore bool // the identity has more grants than one page holds

	// SCIMGroups are the groups an IdP pushed over SCIM that the identity is in (readers only).
	SCIMGroups     []*gatehouse.SCIMGroup
	SCIMGroupsMore bool

	ShowAudit bool
	Events    []eventRow
	AuditURL  string // the full history in the audit log
}

// scimGroupsShown bounds the IdP groups on an identity's page; each comes with its members.
const scimGroupsShown = 100

type keyValue struct{ Key, Value string }

type grantRow struct {
	Grant   *gatehouse.Grant
	Ent     *gatehouse.Entitlement // nil when the entitlement has left the catalog
	System  *gatehouse.System      // nil likewise
	Expired bool                   // past its expiry but not yet revoked by the expiry job
}

// identity shows one identity: HR record, Gatehouse roles, access (active and revoked grants)
// and, for readers, its audit history. Entitlements and systems are loaded once as maps, so
// the page costs the same few queries for 1 grant or 500.
func (h *handler) identity(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	ctx := r.Context()
	id, err := h.svc.GetIdentity(ctx, p, r.PathValue("id"))
	if err != nil {
		return deny(err, "You may only see your own access. Readers (auditor, operator, admin) may see everyone's.")
	}
	id.SourceName = h.svc.SourceLabel(ctx, id.Source) // a SCIM source by its account's current email
	v := identityView{Identity: id, Self: id.ID == p.IdentityID, ShowAudit: p.CanReadAll()}
	if id.ManagerID != "" {
		// An ordinary identity may not read its manager's record; the page then shows the
		// manager's employee id without a link. manager_id is an employee id, looked up as
		// one only: as an id or an email it could name someone else (a newcomer who took a
		// legacy manager's former userName, which is still that manager's employee id).
		m, err := h.svc.GetIdentityByEmployeeID(ctx, p, id.ManagerID)
		switch gatehouse.ErrorCode(err) {
		case "":
			v.Manager = m
		case gatehouse.EFORBIDDEN, gatehouse.ENOTFOUND:
		default:
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(id.Attributes)) {
		v.Attributes = append(v.Attributes, keyValue{k, id.Attributes[k]})
	}

	grants, err := h.svc.ListGrants(ctx, p, gatehouse.GrantFilter{IdentityID: id.ID, Limit: gatehouse.MaxLimit})
	if err != nil {
		return err
	}
	v.GrantsMore = grants.NextCursor != ""
	ents, systems, err := h.catalogIndex(r, p)
	if err != nil {
		return err
	}
	now := h.svc.Now()
	for _, g := range grants.Items {
		row := grantRow{Grant: g, Ent: ents[g.EntitlementID]}
		if row.Ent != nil {
			row.System = systems[row.Ent.System]
		}
		if g.RevokedAt != nil {
			v.Revoked = append(v.Revoked, row)
			continue
		}
		row.Expired = !g.Active(now)
		v.Active = append(v.Active, row)
	}

	if p.CanReadAll() {
		groups, err := h.svc.ListSCIMGroups(ctx, p, gatehouse.SCIMGroupFilter{MemberID: id.ID, Limit: scimGroupsShown})
		if err != nil {
			return err
		}
		v.SCIMGroups, v.SCIMGroupsMore = groups.Items, groups.NextCursor != ""
	}

	if v.ShowAudit {
		// Only the identity's own events: its grants' events are keyed by grant id, and the
		// audit filter takes one object id, so fetching them would cost a query per grant.
		af := gatehouse.AuditFilter{ObjectType: "identity", ObjectID: id.ID, Limit: 20}
		evs, err := h.svc.ListAuditEvents(ctx, p, af)
		if err != nil {
			return err
		}
		v.Events = eventRows(evs.Items)
		v.AuditURL = "/audit?" + url.Values{"object_type": {"identity"}, "object_id": {id.ID}}.Encode()
	}
	h.render(w, r, p, http.StatusOK, "identity", &view{Title: id.DisplayName(), Section: "identities", Data: v})
	return nil
}

// catalogIndex loads every entitlement and system once, keyed by id, for pages that show many
// grants or role members: one or two queries instead of one per row.
func (h *handler) catalogIndex(r *http.Request, p *gatehouse.Principal) (map[string]*gatehouse.Entitlement, map[string]*gatehouse.System, error) {
	ctx := r.Context()
	ents := map[string]*gatehouse.Entitlement{}
	f := gatehouse.EntitlementFilter{Limit: gatehouse.MaxLimit}
	for {
		page, err := h.svc.ListEntitlements(ctx, p, f)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range page.Items {
			ents[e.ID] = e
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	list, err := h.svc.ListSystems(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	systems := make(map[string]*gatehouse.System, len(list))
	for _, s := range list {
		systems[s.ID] = s
	}
	return ents, systems, nil
}
