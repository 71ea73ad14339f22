package scimserver

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/scimproto"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Attributes a User keeps in Identity.Attributes beyond service.AttrSCIMExternalID.
const (
	attrEmails       = "scim.emails"       // the emails list as sent, when it says more than userName
	attrOrganization = "scim.organization" // enterprise organization
)

// userETag is the ETag (and meta.version) of an identity.
func userETag(i *gatehouse.Identity) string { return `W/"` + service.SCIMVersion(i) + `"` }

// managers resolves managers' employee_ids to their users for rendering, once per request.
type managers struct {
	ctx  context.Context
	svc  *service.Service
	p    *gatehouse.Principal
	seen map[string]*gatehouse.Identity
}

func (h *Handler) managers(ctx context.Context, p *gatehouse.Principal) *managers {
	return &managers{ctx: ctx, svc: h.svc, p: p, seen: map[string]*gatehouse.Identity{}}
}

func (m *managers) get(employeeID string) *gatehouse.Identity {
	if mg, ok := m.seen[employeeID]; ok {
		return mg
	}
	mg, err := m.svc.SCIMUserByEmployeeNumber(m.ctx, m.p, employeeID)
	if err != nil {
		mg = nil
	}
	m.seen[employeeID] = mg
	return mg
}

func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// userResource renders an identity as a SCIM User (with the enterprise extension).
func userResource(i *gatehouse.Identity, base string, mg *managers) map[string]any {
	loc := base + "/Users/" + i.ID
	res := map[string]any{
		"schemas":  []any{scimproto.SchemaUser, scimproto.SchemaEnterpriseUser},
		"id":       i.ID,
		"userName": i.Email,
		"name": map[string]any{
			"givenName": i.FirstName, "familyName": i.LastName,
			"formatted": strings.TrimSpace(i.FirstName + " " + i.LastName),
		},
		"displayName": i.DisplayName(),
		"userType":    string(i.EmploymentType),
		"active":      i.Status == gatehouse.StatusActive,
		"meta": map[string]any{
			"resourceType": "User", "created": timeText(i.CreatedAt), "lastModified": timeText(i.UpdatedAt),
			"location": loc, "version": userETag(i),
		},
	}
	if v := i.Attributes[service.AttrSCIMExternalID]; v != "" {
		res["externalId"] = v
	}
	if i.Title != "" {
		res["title"] = i.Title
	}
	res["emails"] = emailValues(storedEmails(i.Attributes[attrEmails], i.Email))
	if i.Location != "" {
		res["addresses"] = []any{map[string]any{"type": "work", "locality": i.Location, "primary": true}}
	}
	ent := map[string]any{"employeeNumber": i.EmployeeID}
	if i.Department != "" {
		ent["department"] = i.Department
	}
	if v := i.Attributes[attrOrganization]; v != "" {
		ent["organization"] = v
	}
	if i.ManagerID != "" && mg != nil {
		if m := mg.get(i.ManagerID); m != nil {
			ent["manager"] = map[string]any{"value": m.ID, "$ref": base + "/Users/" + m.ID, "displayName": m.DisplayName()}
		}
	}
	res[scimproto.SchemaEnterpriseUser] = ent
	return res
}

// get returns m[key] with the key compared ignoring case (RFC 7643 section 2.1).
func get(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func getMap(m map[string]any, key string) map[string]any {
	v, _ := get(m, key)
	mm, _ := v.(map[string]any)
	return mm
}

// getString returns a string attribute; present reports whether it was there at all (a
// null counts as present and empty: a PUT clears it).
func getString(m map[string]any, key string) (s string, present bool, err error) {
	v, ok := get(m, key)
	if !ok || v == nil {
		return "", ok, nil
	}
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v), true, nil
	case float64, bool:
		b, _ := json.Marshal(v)
		return string(b), true, nil
	}
	return "", true, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "%s must be a string", key)
}

// getBool reads a boolean, also as the strings "True"/"False" that Entra ID sends.
func getBool(m map[string]any, key string) (b, present bool, err error) {
	v, ok := get(m, key)
	if !ok || v == nil {
		return false, false, nil
	}
	switch v := v.(type) {
	case bool:
		return v, true, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, true, nil
		case "false":
			return false, true, nil
		}
	}
	return false, true, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "%s must be a boolean", key)
}

// userToIdentity reads a SCIM User into the identity to store. cur is the stored identity
// (nil for a create): what SCIM does not carry (HR attributes, start date) is kept from it.
func (h *Handler) userToIdentity(ctx context.Context, p *gatehouse.Principal, m map[string]any, cur *gatehouse.Identity) (*gatehouse.Identity, error) {
	next := &gatehouse.Identity{Kind: gatehouse.KindPerson, Status: gatehouse.StatusActive, EmploymentType: gatehouse.Employee}
	if cur != nil {
		c := *cur
		c.Attributes = maps.Clone(cur.Attributes)
		next = &c
		// Cleared, then set from the request: a PUT replaces what SCIM carries.
		next.FirstName, next.LastName, next.Title, next.Department, next.ManagerID, next.Location = "", "", "", "", "", ""
		for _, k := range []string{service.AttrSCIMExternalID, service.AttrSCIMDeleted, attrEmails, attrOrganization} {
			delete(next.Attributes, k)
		}
	}
	if next.Attributes == nil {
		next.Attributes = map[string]string{}
	}
	bad := func(format string, args ...any) error {
		return scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, format, args...)
	}
	userName, _, err := getString(m, "userName")
	if err != nil {
		return nil, err
	}
	if userName == "" {
		return nil, bad("userName is required")
	}
	if !gatehouse.ValidEmail(userName) {
		return nil, bad("userName %q must be an email address: Gatehouse identities are keyed by email", userName)
	}
	next.Email = userName
	externalID, _, err := getString(m, "externalId")
	if err != nil {
		return nil, err
	}
	if externalID != "" {
		next.Attributes[service.AttrSCIMExternalID] = externalID
	}
	if name := getMap(m, "name"); name != nil {
		if next.FirstName, _, err = getString(name, "givenName"); err != nil {
			return nil, err
		}
		if next.LastName, _, err = getString(name, "familyName"); err != nil {
			return nil, err
		}
	}
	if next.FirstName == "" && next.LastName == "" {
		// Only a real name: a user without one is displayed by its email.
		if dn, _, _ := getString(m, "displayName"); dn != "" && !strings.Contains(dn, "@") {
			first, last, _ := strings.Cut(dn, " ")
			next.FirstName, next.LastName = first, strings.TrimSpace(last)
		}
	}
	if next.Title, _, err = getString(m, "title"); err != nil {
		return nil, err
	}
	if ut, _, _ := getString(m, "userType"); ut != "" {
		if t := gatehouse.EmploymentType(strings.ToLower(ut)); t.Valid() {
			next.EmploymentType = t
		}
	}
	active, present, err := getBool(m, "active")
	if err != nil {
		return nil, err
	}
	switch {
	case !present && cur != nil && cur.Attributes[service.AttrSCIMDeleted] != "true":
		// kept as it is
	case !present || active:
		next.Status = gatehouse.StatusActive
	case cur != nil && cur.Status == gatehouse.StatusLeave:
		// Inactive in the IdP, on leave in Gatehouse: leave already suspends.
	default:
		next.Status = gatehouse.StatusTerminated
	}
	if v, ok := get(m, "emails"); ok && v != nil {
		emails, err := readEmails(v)
		if err != nil {
			return nil, err
		}
		if keep := emailsToStore(emails, userName); keep != "" {
			next.Attributes[attrEmails] = keep
		}
	}
	if v, ok := get(m, "addresses"); ok {
		list, _ := v.([]any)
		for i, a := range list {
			am, _ := a.(map[string]any)
			primary, _, _ := getBool(am, "primary")
			if loc, _, _ := getString(am, "locality"); loc != "" && (primary || i == 0 || next.Location == "") {
				next.Location = loc
			}
		}
	}
	if next.Location == "" {
		if loc, _, _ := getString(m, "location"); loc != "" {
			next.Location = loc
		}
	}
	ent := getMap(m, scimproto.SchemaEnterpriseUser)
	empNo := ""
	if ent != nil {
		if empNo, _, err = getString(ent, "employeeNumber"); err != nil {
			return nil, err
		}
		if next.Department, _, err = getString(ent, "department"); err != nil {
			return nil, err
		}
		org, _, err := getString(ent, "organization")
		if err != nil {
			return nil, err
		}
		if org != "" {
			next.Attributes[attrOrganization] = org
		}
		if mv, ok := get(ent, "manager"); ok && mv != nil {
			ref := ""
			switch mv := mv.(type) {
			case string:
				ref = mv
			case map[string]any:
				ref, _, _ = getString(mv, "value")
			}
			if ref != "" {
				mgr, err := h.svc.SCIMLookupUser(ctx, p, ref)
				if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
					return nil, bad("manager: no user %q", ref)
				} else if err != nil {
					return nil, err
				}
				if mgr.EmployeeID == "" {
					return nil, bad("manager: user %q has no employee number", ref)
				}
				next.ManagerID = mgr.EmployeeID
			}
		}
	}
	// The employee number is Gatehouse's employee id, unique company-wide. Without one, a
	// user keeps theirs (it is the person's key in the JML engine), and a new user is given
	// their id by the service. externalId is never copied into it: it is the client's own
	// identifier, not a key.
	if empNo != "" {
		next.EmployeeID = empNo
	}
	if len(next.Attributes) == 0 {
		next.Attributes = nil
	}
	return next, nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// --- Handlers ---

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	i, err := h.svc.SCIMGetUser(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	res, err := h.renderUser(r.Context(), p, i, baseURL(r))
	if err != nil {
		return err
	}
	writeResource(w, r, http.StatusOK, res, userETag(i))
	return nil
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	m, err := readJSON(r)
	if err != nil {
		return err
	}
	next, err := h.userToIdentity(r.Context(), p, m, nil)
	if err != nil {
		return err
	}
	i, err := h.svc.SCIMCreateUser(r.Context(), p, next, "scim:POST /Users")
	if err != nil {
		return err
	}
	h.pages.invalidate()
	res, err := h.renderUser(r.Context(), p, i, baseURL(r))
	if err != nil {
		return err
	}
	writeResource(w, r, http.StatusCreated, res, userETag(i))
	return nil
}

// ownUser reads user id for a change, answering 403 for another source's user and 412 for a
// stale If-Match.
func (h *Handler) ownUser(r *http.Request, p *gatehouse.Principal, id string) (*gatehouse.Identity, error) {
	cur, err := h.svc.SCIMGetUser(r.Context(), p, id)
	if err != nil {
		return nil, err
	}
	if src := service.SCIMSource(p); cur.Source != src {
		return nil, scimproto.Errorf(http.StatusForbidden, "", "user %s belongs to identity source %q; this client (%s) may change only its own users",
			id, h.svc.SourceLabel(r.Context(), cur.Source), h.svc.SourceLabel(r.Context(), src))
	}
	return cur, checkIfMatch(r, userETag(cur))
}

func (h *Handler) putUser(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	id := r.PathValue("id")
	m, err := readJSON(r)
	if err != nil {
		return err
	}
	cur, err := h.ownUser(r, p, id)
	if err != nil {
		return err
	}
	next, err := h.userToIdentity(r.Context(), p, m, cur)
	if err != nil {
		return err
	}
	version := ""
	if r.Header.Get("If-Match") != "" {
		version = service.SCIMVersion(cur)
	}
	i, err := h.svc.SCIMReplaceUser(r.Context(), p, id, next, version, "scim:PUT /Users/"+id)
	if err != nil {
		return err
	}
	res, err := h.renderUser(r.Context(), p, i, baseURL(r))
	if err != nil {
		return err
	}
	writeResource(w, r, http.StatusOK, res, userETag(i))
	return nil
}

func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	id := r.PathValue("id")
	req, err := readPatch(r)
	if err != nil {
		return err
	}
	if req.Operations, err = userSchemaDefs().checkPatch(req.Operations); err != nil {
		return err
	}
	// Read, patch, write back at the version read; a concurrent change makes it start over
	// (unless the client pinned a version with If-Match: then it is a 412).
	for attempt := 0; ; attempt++ {
		cur, err := h.ownUser(r, p, id)
		if err != nil {
			return err
		}
		// Rendered with its groups, so that a path-less replace carrying the resource back
		// unchanged is no attempt to modify them.
		res, err := h.renderUser(r.Context(), p, cur, baseURL(r))
		if err != nil {
			return err
		}
		if err := scimproto.ApplyPatch(res, req.Operations, scimproto.UserSchema); err != nil {
			return err
		}
		if err := userSchemaDefs().checkRequired(res); err != nil {
			return err
		}
		next, err := h.userToIdentity(r.Context(), p, res, cur)
		if err != nil {
			return err
		}
		i, err := h.svc.SCIMReplaceUser(r.Context(), p, id, next, service.SCIMVersion(cur), "scim:PATCH /Users/"+id)
		var stale *service.SCIMStaleError
		if errors.As(err, &stale) && r.Header.Get("If-Match") == "" && attempt < 3 {
			continue
		}
		if err != nil {
			return err
		}
		out, err := h.renderUser(r.Context(), p, i, baseURL(r))
		if err != nil {
			return err
		}
		writeResource(w, r, http.StatusOK, out, userETag(i))
		return nil
	}
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	id := r.PathValue("id")
	cur, err := h.ownUser(r, p, id)
	if err != nil {
		return err
	}
	version := ""
	if r.Header.Get("If-Match") != "" {
		version = service.SCIMVersion(cur)
	}
	if err := h.svc.SCIMDeleteUser(r.Context(), p, id, version, "scim:DELETE /Users/"+id); err != nil {
		return err
	}
	h.pages.invalidate()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userDoc is userResource as a struct, for the plain listing: encoding a struct is several
// times faster than encoding maps, and a full listing of 100,000 users is mostly encoding.
// TestUserDocMatchesResource keeps the two identical.
type userDoc struct {
	Schemas     []string       `json:"schemas"`
	ID          string         `json:"id"`
	ExternalID  string         `json:"externalId,omitempty"`
	UserName    string         `json:"userName"`
	Name        userDocName    `json:"name"`
	DisplayName string         `json:"displayName"`
	Title       string         `json:"title,omitempty"`
	UserType    string         `json:"userType"`
	Active      bool           `json:"active"`
	Emails      []userDocEmail `json:"emails"`
	Addresses   []userDocAddr  `json:"addresses,omitempty"`
	Groups      []userDocGroup `json:"groups,omitempty"`
	Enterprise  userDocEnt     `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	Meta        userDocMeta    `json:"meta"`
}

type userDocName struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
	Formatted  string `json:"formatted"`
}

type userDocAddr struct {
	Type     string `json:"type"`
	Locality string `json:"locality"`
	Primary  bool   `json:"primary"`
}

type userDocEnt struct {
	EmployeeNumber string          `json:"employeeNumber"`
	Department     string          `json:"department,omitempty"`
	Organization   string          `json:"organization,omitempty"`
	Manager        *userDocManager `json:"manager,omitempty"`
}

type userDocManager struct {
	Value       string `json:"value"`
	Ref         string `json:"$ref"`
	DisplayName string `json:"displayName"`
}

type userDocMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	Version      string `json:"version"`
}

type userDocEmail struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary"`
	Display string `json:"display,omitempty"`
}

var userSchemas = []string{scimproto.SchemaUser, scimproto.SchemaEnterpriseUser}

func newUserDoc(i *gatehouse.Identity, base string, mg *managers) *userDoc {
	d := &userDoc{
		Schemas: userSchemas, ID: i.ID, ExternalID: i.Attributes[service.AttrSCIMExternalID], UserName: i.Email,
		Name:        userDocName{GivenName: i.FirstName, FamilyName: i.LastName, Formatted: strings.TrimSpace(i.FirstName + " " + i.LastName)},
		DisplayName: i.DisplayName(), Title: i.Title, UserType: string(i.EmploymentType), Active: i.Status == gatehouse.StatusActive,
		Enterprise: userDocEnt{EmployeeNumber: i.EmployeeID, Department: i.Department, Organization: i.Attributes[attrOrganization]},
		Meta: userDocMeta{ResourceType: "User", Created: timeText(i.CreatedAt), LastModified: timeText(i.UpdatedAt),
			Location: base + "/Users/" + i.ID, Version: userETag(i)},
	}
	d.Emails = storedEmails(i.Attributes[attrEmails], i.Email)
	if i.Location != "" {
		d.Addresses = []userDocAddr{{Type: "work", Locality: i.Location, Primary: true}}
	}
	if i.ManagerID != "" && mg != nil {
		if m := mg.get(i.ManagerID); m != nil {
			d.Enterprise.Manager = &userDocManager{Value: m.ID, Ref: base + "/Users/" + m.ID, DisplayName: m.DisplayName()}
		}
	}
	return d
}
