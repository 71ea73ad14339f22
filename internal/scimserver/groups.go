package scimserver

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/scimproto"
)

func groupETag(g *gatehouse.SCIMGroup) string { return `W/"` + strconv.FormatInt(g.Version, 10) + `"` }

// groupResource renders a group; members are shown with their display names when users
// resolves them (nil: ids only).
func (h *Handler) groupResource(r *http.Request, p *gatehouse.Principal, g *gatehouse.SCIMGroup, names map[string]string) map[string]any {
	base := baseURL(r)
	members := make([]any, 0, len(g.Members))
	for _, id := range g.Members {
		m := map[string]any{"value": id, "$ref": base + "/Users/" + id, "type": "User"}
		if names != nil {
			name, ok := names[id]
			if !ok {
				if i, err := h.svc.SCIMLookupUser(r.Context(), p, id); err == nil && i.ID == id {
					name = i.DisplayName()
				}
				names[id] = name
			}
			if name != "" {
				m["display"] = name
			}
		}
		members = append(members, m)
	}
	res := map[string]any{
		"schemas":     []any{scimproto.SchemaGroup},
		"id":          g.ID,
		"displayName": g.DisplayName,
		"members":     members,
		"meta": map[string]any{
			"resourceType": "Group", "created": timeText(g.CreatedAt), "lastModified": timeText(g.UpdatedAt),
			"location": base + "/Groups/" + g.ID, "version": groupETag(g),
		},
	}
	if g.ExternalID != "" {
		res["externalId"] = g.ExternalID
	}
	return res
}

// resourceToGroup reads a SCIM Group.
func resourceToGroup(m map[string]any) (*gatehouse.SCIMGroup, error) {
	g := &gatehouse.SCIMGroup{Members: []string{}}
	var err error
	if g.DisplayName, _, err = getString(m, "displayName"); err != nil {
		return nil, err
	}
	if g.DisplayName == "" {
		return nil, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "displayName is required")
	}
	if g.ExternalID, _, err = getString(m, "externalId"); err != nil {
		return nil, err
	}
	if v, ok := get(m, "members"); ok && v != nil {
		list, isList := v.([]any)
		if !isList {
			return nil, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "members must be a list")
		}
		for _, el := range list {
			em, _ := el.(map[string]any)
			id, _, err := getString(em, "value")
			if err != nil || id == "" {
				return nil, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "every member needs a value (a user id)")
			}
			if t, _, _ := getString(em, "type"); t != "" && !strings.EqualFold(t, "User") {
				return nil, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "member %s: only users can be members, not %s", id, t)
			}
			g.Members = append(g.Members, id)
		}
	}
	return g, nil
}

// checkMembers refuses members that are not users SCIM shows.
func (h *Handler) checkMembers(r *http.Request, p *gatehouse.Principal, g *gatehouse.SCIMGroup) error {
	for _, id := range g.Members {
		if _, err := h.svc.SCIMGetUser(r.Context(), p, id); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "member %q is not a user", id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	g, err := h.svc.GetSCIMGroup(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeResource(w, r, http.StatusOK, h.groupResource(r, p, g, map[string]string{}), groupETag(g))
	return nil
}

func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	m, err := readJSON(r)
	if err != nil {
		return err
	}
	g, err := resourceToGroup(m)
	if err != nil {
		return err
	}
	if err := h.checkMembers(r, p, g); err != nil {
		return err
	}
	out, err := h.svc.CreateSCIMGroup(r.Context(), p, g)
	if err != nil {
		return err
	}
	writeResource(w, r, http.StatusCreated, h.groupResource(r, p, out, map[string]string{}), groupETag(out))
	return nil
}

// replaceGroup writes g over the group read as cur (at cur's version).
func (h *Handler) replaceGroup(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal, cur, g *gatehouse.SCIMGroup) error {
	if err := h.checkMembers(r, p, g); err != nil {
		return err
	}
	g.ID, g.Version = cur.ID, cur.Version
	out, err := h.svc.ReplaceSCIMGroup(r.Context(), p, g)
	if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT && strings.Contains(gatehouse.ErrorMessage(err), "changed since") {
		return scimproto.Errorf(http.StatusPreconditionFailed, "", "%s", gatehouse.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	writeResource(w, r, http.StatusOK, h.groupResource(r, p, out, map[string]string{}), groupETag(out))
	return nil
}

func (h *Handler) readGroupForChange(r *http.Request, p *gatehouse.Principal) (*gatehouse.SCIMGroup, error) {
	cur, err := h.svc.GetSCIMGroup(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return cur, checkIfMatch(r, groupETag(cur))
}

func (h *Handler) putGroup(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	m, err := readJSON(r)
	if err != nil {
		return err
	}
	cur, err := h.readGroupForChange(r, p)
	if err != nil {
		return err
	}
	g, err := resourceToGroup(m)
	if err != nil {
		return err
	}
	return h.replaceGroup(w, r, p, cur, g)
}

func (h *Handler) patchGroup(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	req, err := readPatch(r)
	if err != nil {
		return err
	}
	if req.Operations, err = groupSchemaDefs().checkPatch(req.Operations); err != nil {
		return err
	}
	cur, err := h.readGroupForChange(r, p)
	if err != nil {
		return err
	}
	res := h.groupResource(r, p, cur, nil)
	if err := scimproto.ApplyPatch(res, req.Operations, scimproto.GroupSchema); err != nil {
		return err
	}
	if err := groupSchemaDefs().checkRequired(res); err != nil {
		return err
	}
	g, err := resourceToGroup(res)
	if err != nil {
		return err
	}
	return h.replaceGroup(w, r, p, cur, g)
}

func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	if _, err := h.readGroupForChange(r, p); err != nil {
		return err
	}
	if err := h.svc.DeleteSCIMGroup(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	return h.groups(w, r, p, q)
}

func (h *Handler) searchGroups(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	q, err := parseSearch(r)
	if err != nil {
		return err
	}
	return h.groups(w, r, p, q)
}

// groups answers a Groups query: displayName eq, externalId eq and members eq narrow the store
// query; the rest is matched here over every group (groups are few next to users).
func (h *Handler) groups(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal, q *query) error {
	if q.filter != nil {
		if err := groupSchemaDefs().checkFilter(q.filter); err != nil {
			return err
		}
	}
	f := gatehouse.SCIMGroupFilter{Limit: gatehouse.MaxLimit}
	if attr, value, ok := eqLookup(q.filter, "displayname", "externalid", "members.value", "members"); ok {
		switch attr {
		case "displayname":
			f.DisplayName = value
		case "externalid":
			f.ExternalID = value
		default:
			f.MemberID = value
		}
	}
	// Member names are only worth resolving when members are returned.
	var names map[string]string
	if !excludes(q, "members") {
		names = map[string]string{}
	}
	var all []map[string]any
	for {
		page, err := h.svc.ListSCIMGroups(r.Context(), p, f)
		if err != nil {
			return err
		}
		for _, g := range page.Items {
			res := h.groupResource(r, p, g, names)
			if q.filter == nil || scimproto.MatchSchema(q.filter, res, scimproto.GroupSchema) {
				all = append(all, res)
			}
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if err := q.sortResources(all, groupSchemaDefs()); err != nil {
		return err
	}
	q.respond(w, r, len(all), q.window(all))
	return nil
}

// excludes reports whether q leaves attribute name out of its results.
func excludes(q *query, name string) bool {
	names := func(a string) bool {
		p, ok := projectionPath(a) // "groups", "groups.display", "urn:...:User:groups"
		return ok && p.ext == "" && strings.EqualFold(p.name, name)
	}
	for _, a := range q.excluded {
		if p, ok := projectionPath(a); ok && p.sub == "" && names(a) {
			return true
		}
	}
	if len(q.attributes) == 0 {
		return false
	}
	for _, a := range q.attributes {
		if names(a) {
			return false
		}
	}
	return true
}
