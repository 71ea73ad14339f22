package scimserver

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/scimproto"
)

// Discovery endpoints (RFC 7644 section 4): what this provider supports, its resource types,
// and the schemas with their attribute definitions (RFC 7643 sections 5-7).

func (h *Handler) spConfig(w http.ResponseWriter, r *http.Request, _ *gatehouse.Principal) error {
	if err := noFilter(r); err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, map[string]any{
		"schemas":          []string{scimproto.SchemaSPConfig},
		"documentationUri": "https://github.com/gatehouse/gatehouse/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Gatehouse token",
			"description": "A Gatehouse API token with the scim scope: gatehouse token create --for <service account> --scope scim",
			"primary":     true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": baseURL(r) + "/ServiceProviderConfig"},
	})
	return nil
}

func resourceTypeDocs(base string) []map[string]any {
	return []map[string]any{
		{
			"schemas": []string{scimproto.SchemaResourceType}, "id": "User", "name": "User", "endpoint": "/Users",
			"description": "A person: a Gatehouse identity of kind person", "schema": scimproto.SchemaUser,
			"schemaExtensions": []any{map[string]any{"schema": scimproto.SchemaEnterpriseUser, "required": false}},
			"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
		},
		{
			"schemas": []string{scimproto.SchemaResourceType}, "id": "Group", "name": "Group", "endpoint": "/Groups",
			"description": "A group pushed by the identity provider, kept for review", "schema": scimproto.SchemaGroup,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"},
		},
	}
}

func (h *Handler) resourceTypes(w http.ResponseWriter, r *http.Request, _ *gatehouse.Principal) error {
	if err := noFilter(r); err != nil {
		return err
	}
	docs := resourceTypeDocs(baseURL(r))
	writeJSON(w, r, http.StatusOK, listOf(docs))
	return nil
}

func (h *Handler) resourceType(w http.ResponseWriter, r *http.Request, _ *gatehouse.Principal) error {
	if err := noFilter(r); err != nil {
		return err
	}
	for _, d := range resourceTypeDocs(baseURL(r)) {
		if strings.EqualFold(d["id"].(string), r.PathValue("name")) {
			writeJSON(w, r, http.StatusOK, d)
			return nil
		}
	}
	return scimproto.Errorf(http.StatusNotFound, "", "no resource type %q", r.PathValue("name"))
}

func (h *Handler) schemas(w http.ResponseWriter, r *http.Request, _ *gatehouse.Principal) error {
	if err := noFilter(r); err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, listOf(schemaDocs(baseURL(r))))
	return nil
}

func (h *Handler) schema(w http.ResponseWriter, r *http.Request, _ *gatehouse.Principal) error {
	if err := noFilter(r); err != nil {
		return err
	}
	for _, d := range schemaDocs(baseURL(r)) {
		if strings.EqualFold(d["id"].(string), r.PathValue("urn")) {
			writeJSON(w, r, http.StatusOK, d)
			return nil
		}
	}
	return scimproto.Errorf(http.StatusNotFound, "", "no schema %q", r.PathValue("urn"))
}

// noFilter refuses a filter on a discovery endpoint with 403: RFC 7644 section 4 says so, so
// that a client cannot take the answer for the result of its filter. Other query parameters
// (sorting, paging) are ignored there, as the RFC says.
func noFilter(r *http.Request) error {
	if r.URL.Query().Has("filter") {
		return scimproto.Errorf(http.StatusForbidden, "", "%s does not take a filter (RFC 7644 section 4): it answers with every definition", r.URL.Path)
	}
	return nil
}

func listOf(docs []map[string]any) scimproto.ListResponse {
	return scimproto.ListResponse{Schemas: []string{scimproto.SchemaListResponse}, TotalResults: len(docs), StartIndex: 1,
		ItemsPerPage: len(docs), Resources: docs}
}

// attrDef is an attribute definition (RFC 7643 section 7).
type attrDef struct {
	Name            string    `json:"name"`
	Type            string    `json:"type"`
	MultiValued     bool      `json:"multiValued"`
	Description     string    `json:"description"`
	Required        bool      `json:"required"`
	CaseExact       bool      `json:"caseExact"`
	Mutability      string    `json:"mutability"`
	Returned        string    `json:"returned"`
	Uniqueness      string    `json:"uniqueness"`
	CanonicalValues []string  `json:"canonicalValues,omitempty"`
	ReferenceTypes  []string  `json:"referenceTypes,omitempty"`
	SubAttributes   []attrDef `json:"subAttributes,omitempty"`
}

func str(name, desc string) attrDef {
	return attrDef{Name: name, Type: "string", Description: desc, Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
}

func (a attrDef) required() attrDef          { a.Required = true; return a }
func (a attrDef) multi() attrDef             { a.MultiValued = true; return a }
func (a attrDef) exact() attrDef             { a.CaseExact = true; return a }
func (a attrDef) unique() attrDef            { a.Uniqueness = "server"; return a }
func (a attrDef) typ(t string) attrDef       { a.Type = t; return a }
func (a attrDef) mut(m string) attrDef       { a.Mutability = m; return a }
func (a attrDef) values(v ...string) attrDef { a.CanonicalValues = v; return a }
func (a attrDef) refs(v ...string) attrDef   { a.ReferenceTypes = v; return a }
func (a attrDef) sub(s ...attrDef) attrDef {
	a.Type, a.SubAttributes = "complex", s
	return a
}

func schemaDocs(base string) []map[string]any {
	doc := func(id, name, desc string, attrs []attrDef) map[string]any {
		return map[string]any{"schemas": []string{scimproto.SchemaSchema}, "id": id, "name": name, "description": desc,
			"attributes": attrs, "meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + id}}
	}
	user := []attrDef{
		str("userName", "The person's email address: Gatehouse identities are keyed by email. Unique.").required().unique(),
		str("externalId", "The identity provider's id of the user.").exact(),
		str("name", "The person's name.").sub(
			str("formatted", "Given and family name.").mut("readOnly"),
			str("givenName", "First name."),
			str("familyName", "Last name.")),
		str("displayName", "Given and family name (derived; set name instead).").mut("readOnly"),
		str("title", "Job title."),
		str("userType", "Employment type.").values("employee", "contractor", "intern"),
		str("active", "false makes the person a leaver: terminated, every grant revoked.").typ("boolean"),
		str("emails", "Email addresses (the identity's own address is userName).").multi().sub(
			str("value", "The address."), str("type", "work, home, other.").values("work", "home", "other"),
			str("primary", "The primary address (at most one).").typ("boolean"),
			str("display", "A name for the address.")),
		str("addresses", "Addresses; the primary one's locality is the person's location.").multi().sub(
			str("type", "work, home, other."), str("locality", "City: the person's location."),
			str("primary", "The primary address.").typ("boolean")),
		str("groups", "The SCIM groups the user is a member of (read-only: change them through /Groups).").multi().mut("readOnly").sub(
			str("value", "The group's id.").mut("readOnly"),
			str("$ref", "URI of the group.").typ("reference").refs("Group").mut("readOnly"),
			str("display", "The group's name.").mut("readOnly"),
			str("type", "direct: Gatehouse groups do not nest.").values("direct", "indirect").mut("readOnly")),
	}
	enterprise := []attrDef{
		str("employeeNumber", "The HR employee id: the person's key in Gatehouse's joiner/mover/leaver engine. Unique.").unique(),
		str("department", "Department: birthright roles and movers depend on it."),
		str("organization", "Organization."),
		str("manager", "The person's manager.").sub(
			str("value", "The manager's user id.").refs("User"),
			str("$ref", "URI of the manager's user.").typ("reference").refs("User"),
			str("displayName", "The manager's name.").mut("readOnly")),
	}
	group := []attrDef{
		str("displayName", "The group's name. Unique.").required().unique(),
		str("externalId", "The identity provider's id of the group.").exact(),
		str("members", "The group's members: users.").multi().sub(
			str("value", "The member's user id.").mut("immutable"),
			str("$ref", "URI of the member.").typ("reference").refs("User").mut("immutable"),
			str("display", "The member's name.").mut("readOnly"),
			str("type", "User.").values("User").mut("immutable")),
	}
	return []map[string]any{
		doc(scimproto.SchemaUser, "User", "User Account", user),
		doc(scimproto.SchemaEnterpriseUser, "EnterpriseUser", "Enterprise User", enterprise),
		doc(scimproto.SchemaGroup, "Group", "Group", group),
	}
}
