package scimserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/scimproto"
)

// Page sizes: RFC 7644 lets the server choose; ServiceProviderConfig announces maxResults.
const (
	defaultCount = 100
	maxCount     = 1000
)

// query is a list request: the GET query parameters, or the body of POST .search.
type query struct {
	filter     scimproto.Expr
	sortBy     string
	descending bool
	startIndex int // 1-based
	count      int
	attributes []string
	excluded   []string
}

func parseQuery(r *http.Request) (*query, error) {
	v := r.URL.Query()
	q := &query{attributes: splitList(v.Get("attributes")), excluded: splitList(v.Get("excludedAttributes"))}
	return q, q.fill(v.Get("filter"), v.Get("sortBy"), v.Get("sortOrder"), v.Get("startIndex"), v.Get("count"))
}

// parseSearch reads a SearchRequest body (RFC 7644 section 3.4.3).
func parseSearch(r *http.Request) (*query, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	var sr struct {
		Schemas            []string        `json:"schemas"`
		Attributes         []string        `json:"attributes"`
		ExcludedAttributes []string        `json:"excludedAttributes"`
		Filter             string          `json:"filter"`
		SortBy             string          `json:"sortBy"`
		SortOrder          string          `json:"sortOrder"`
		StartIndex         json.RawMessage `json:"startIndex"`
		Count              json.RawMessage `json:"count"`
	}
	if err := json.Unmarshal(body, &sr); err != nil {
		return nil, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidSyntax, "the body is not a SearchRequest: %v", err)
	}
	if len(sr.Schemas) > 0 && !slices.Contains(sr.Schemas, scimproto.SchemaSearchRequest) {
		return nil, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidSyntax, "schemas must hold %s", scimproto.SchemaSearchRequest)
	}
	q := &query{attributes: sr.Attributes, excluded: sr.ExcludedAttributes}
	num := func(raw json.RawMessage) string { return strings.Trim(string(raw), `"`) }
	return q, q.fill(sr.Filter, sr.SortBy, sr.SortOrder, num(sr.StartIndex), num(sr.Count))
}

func (q *query) fill(filter, sortBy, sortOrder, startIndex, count string) error {
	if strings.TrimSpace(filter) != "" {
		e, err := scimproto.ParseFilter(filter)
		if err != nil {
			return err
		}
		q.filter = e
	}
	q.sortBy = strings.TrimSpace(sortBy)
	switch strings.ToLower(strings.TrimSpace(sortOrder)) {
	case "", "ascending":
	case "descending":
		q.descending = true
	default:
		return scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "sortOrder must be ascending or descending, not %q", sortOrder)
	}
	q.startIndex, q.count = 1, defaultCount
	if startIndex != "" {
		n, err := strconv.Atoi(startIndex)
		if err != nil {
			return scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "startIndex must be an integer, not %q", startIndex)
		}
		q.startIndex = max(n, 1) // RFC 7644 3.4.2.4: less than 1 is 1
	}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "count must be an integer, not %q", count)
		}
		q.count = min(max(n, 0), maxCount)
	}
	return nil
}

// listResponse builds the page of matches (already in order) that q asks for.
func (q *query) respond(w http.ResponseWriter, r *http.Request, total int, page []map[string]any) {
	out := scimproto.ListResponse{Schemas: []string{scimproto.SchemaListResponse}, TotalResults: total,
		StartIndex: q.startIndex, ItemsPerPage: len(page), Resources: make([]map[string]any, 0, len(page))}
	for _, res := range page {
		out.Resources = append(out.Resources, project(res, q.attributes, q.excluded))
	}
	writeJSON(w, r, http.StatusOK, out)
}

// window returns the page [startIndex, startIndex+count) of all.
func (q *query) window(all []map[string]any) []map[string]any {
	from := min(q.startIndex-1, len(all))
	to := min(from+q.count, len(all))
	return all[from:to]
}

// sortResources sorts by q.sortBy (an attribute path of schema; strings ignoring case).
// Resources without a value come last in ascending order and first in descending order (RFC
// 7644 section 3.4.2.3).
func (q *query) sortResources(all []map[string]any, schema *resourceSchema) error {
	if q.sortBy == "" {
		return nil
	}
	path, err := scimproto.ParsePath(q.sortBy)
	if err != nil || path.Filter != nil {
		return scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "sortBy %q is not an attribute path", q.sortBy)
	}
	if err := schema.checkSortBy(path.Attr); err != nil {
		return err
	}
	key := func(res map[string]any) (string, bool) {
		k := sortKey(attrValue(res, path.Attr))
		return k, k != ""
	}
	slices.SortStableFunc(all, func(a, b map[string]any) int {
		ka, oka := key(a)
		kb, okb := key(b)
		var c int
		switch {
		case oka != okb && okb:
			c = 1 // a has no value: after b when ascending
		case oka != okb:
			c = -1
		default:
			c = strings.Compare(ka, kb)
		}
		if q.descending {
			c = -c
		}
		return c
	})
	return nil
}

func sortKey(v any) string {
	switch v := v.(type) {
	case []any: // multi-valued: the primary value, else the first (RFC 7644 3.4.2.3)
		for _, el := range v {
			if m, ok := el.(map[string]any); ok && m["primary"] == true {
				return sortKey(m["value"])
			}
		}
		if len(v) > 0 {
			if m, ok := v[0].(map[string]any); ok {
				return sortKey(m["value"])
			}
			return sortKey(v[0])
		}
		return ""
	case string:
		return strings.ToLower(v)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// attrValue returns the value of an attribute path in a resource.
func attrValue(res map[string]any, p scimproto.AttrPath) any {
	obj := res
	if p.URN != "" && !strings.EqualFold(p.URN, scimproto.SchemaUser) && !strings.EqualFold(p.URN, scimproto.SchemaGroup) {
		obj = getMap(res, p.URN)
	}
	v, _ := get(obj, p.Name)
	if p.SubAttr != "" {
		switch vv := v.(type) {
		case map[string]any:
			v, _ = get(vv, p.SubAttr)
		case []any:
			var out []any
			for _, el := range vv {
				if m, ok := el.(map[string]any); ok {
					if s, ok := get(m, p.SubAttr); ok {
						out = append(out, s)
					}
				}
			}
			v = out
		default:
			v = nil
		}
	}
	return v
}

// eqLookup recognises a filter that one indexed lookup answers: "attr eq value" on one of
// names (lower case attribute paths). It returns the value.
func eqLookup(e scimproto.Expr, names ...string) (attr, value string, ok bool) {
	switch e := e.(type) {
	case *scimproto.AttrExpr:
		s, isStr := e.Value.(string)
		if e.Op != scimproto.OpEq || !isStr {
			return "", "", false
		}
		name := strings.ToLower(e.Path.Name)
		if e.Path.SubAttr != "" {
			name += "." + strings.ToLower(e.Path.SubAttr)
		}
		if e.Path.URN != "" && !strings.EqualFold(e.Path.URN, scimproto.SchemaUser) && !strings.EqualFold(e.Path.URN, scimproto.SchemaGroup) {
			name = strings.ToLower(e.Path.URN) + ":" + name
		}
		if slices.Contains(names, name) {
			return name, s, true
		}
	case *scimproto.ValuePathExpr:
		if inner, ok := e.Filter.(*scimproto.AttrExpr); ok && inner.Path.SubAttr == "" && inner.Path.URN == "" {
			s, isStr := inner.Value.(string)
			name := strings.ToLower(e.Path.Name) + "." + strings.ToLower(inner.Path.Name)
			if inner.Op == scimproto.OpEq && isStr && slices.Contains(names, name) {
				return name, s, true
			}
		}
	}
	return "", "", false
}

// --- Users ---

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	return h.users(w, r, p, q)
}

func (h *Handler) searchUsers(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	q, err := parseSearch(r)
	if err != nil {
		return err
	}
	return h.users(w, r, p, q)
}

// users answers a Users query three ways: a filter one indexed lookup answers (userName eq,
// emails eq, externalId eq, id eq, employeeNumber eq); the plain listing, paged in the store;
// anything else by a scan of every user through scimproto.Match.
func (h *Handler) users(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal, q *query) error {
	ctx := r.Context()
	base := baseURL(r)
	mg := h.managers(ctx, p)
	if q.filter != nil {
		if err := userSchemaDefs().checkFilter(q.filter); err != nil {
			return err
		}
		if attr, value, ok := eqLookup(q.filter, "username", "emails", "emails.value", "id", "externalid",
			strings.ToLower(scimproto.SchemaEnterpriseUser)+":employeenumber"); ok && (!strings.HasPrefix(attr, "emails") || isASCII(value)) {
			var matches []map[string]any
			var found []*gatehouse.Identity
			switch attr {
			case "emails", "emails.value":
				// Every user with the address among their emails, not only as userName (RFC
				// 7644 section 3.4.2.2: a multi-valued attribute matches when any value
				// does), as the scan below and co, sw and ew find them. The database narrows
				// by ASCII case only, so other addresses take the scan.
				users, err := h.scimUsersWhere(ctx, p, gatehouse.IdentityFilter{SCIMEmail: value})
				if err != nil {
					return err
				}
				found = users
			case "externalid":
				// externalId is the client's identifier, not a key: every user that has it.
				users, err := h.svc.SCIMUsersByExternalID(ctx, p, value)
				if err != nil {
					return err
				}
				found = users
			default:
				lookup := h.svc.SCIMLookupUser
				if strings.HasSuffix(attr, ":employeenumber") {
					// By employee id only: an id or an email, which SCIMLookupUser tries
					// first, must not hide the user who has it as employee number.
					lookup = h.svc.SCIMUserByEmployeeNumber
				}
				if i, err := lookup(ctx, p, value); err == nil {
					found = []*gatehouse.Identity{i}
				} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
					return err
				}
			}
			for _, i := range found {
				if res := userResource(i, base, mg); scimproto.MatchSchema(q.filter, res, scimproto.UserSchema) {
					matches = append(matches, res)
				}
			}
			if err := q.sortResources(matches, userSchemaDefs()); err != nil {
				return err
			}
			page := q.window(matches)
			if err := h.attachGroups(r, p, q, page); err != nil {
				return err
			}
			q.respond(w, r, len(matches), page)
			return nil
		}
	}
	if q.filter == nil && (q.sortBy == "" || strings.EqualFold(q.sortBy, "id")) && !q.descending {
		return h.pageUsers(w, r, p, q, mg)
	}
	// A scan: every user, matched and sorted here. The groups are read with each store page
	// when the filter or the order needs them, else for the page served only.
	needGroups := mentions(q.filter, "groups") || strings.HasPrefix(strings.ToLower(q.sortBy), "groups")
	var all []map[string]any
	f := gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit}
	for {
		page, err := h.svc.SCIMListUsers(ctx, p, f)
		if err != nil {
			return err
		}
		var gs userGroups
		if needGroups {
			if gs, err = h.userGroups(ctx, p, identityIDs(page.Items)...); err != nil {
				return err
			}
		}
		for _, i := range page.Items {
			res := userResource(i, base, mg)
			if needGroups {
				gs.set(res, base)
			}
			if q.filter == nil || scimproto.MatchSchema(q.filter, res, scimproto.UserSchema) {
				all = append(all, res)
			}
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if err := q.sortResources(all, userSchemaDefs()); err != nil {
		return err
	}
	out := q.window(all)
	if !needGroups {
		if err := h.attachGroups(r, p, q, out); err != nil {
			return err
		}
	}
	q.respond(w, r, len(all), out)
	return nil
}

// scimUsersWhere returns every user SCIM shows that f selects.
func (h *Handler) scimUsersWhere(ctx context.Context, p *gatehouse.Principal, f gatehouse.IdentityFilter) ([]*gatehouse.Identity, error) {
	var out []*gatehouse.Identity
	f.Limit = gatehouse.MaxLimit
	for {
		page, err := h.svc.SCIMListUsers(ctx, p, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// pageUsers serves the plain listing by id. startIndex is an offset; so that a client paging
// through 100,000 users does not make the database skip ever more rows, the store cursor
// after each page served is remembered, and the request for the next index continues from
// it.
func (h *Handler) pageUsers(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal, q *query, mg *managers) error {
	ctx := r.Context()
	total, err := h.pages.count(func() (int, error) { return h.svc.SCIMCountUsers(ctx, p, gatehouse.IdentityFilter{}) })
	if err != nil {
		return err
	}
	var items []*gatehouse.Identity
	if q.count > 0 && q.startIndex <= total {
		f := gatehouse.IdentityFilter{Limit: q.count}
		if cur, ok := h.pages.get(q.startIndex); ok {
			f.Cursor = cur
		} else {
			f.Offset = q.startIndex - 1
		}
		page, err := h.svc.SCIMListUsers(ctx, p, f)
		if err != nil {
			return err
		}
		items = page.Items
		if page.NextCursor != "" {
			h.pages.put(q.startIndex+len(items), page.NextCursor)
		}
	}
	base := baseURL(r)
	var gs userGroups
	if !excludes(q, "groups") {
		if gs, err = h.userGroups(ctx, p, identityIDs(items)...); err != nil {
			return err
		}
	}
	if len(q.attributes) == 0 && len(q.excluded) == 0 {
		docs := make([]*userDoc, len(items))
		for n, i := range items {
			docs[n] = newUserDoc(i, base, mg)
			docs[n].Groups = gs.docs(i.ID, base)
		}
		writeJSON(w, r, http.StatusOK, struct {
			Schemas      []string   `json:"schemas"`
			TotalResults int        `json:"totalResults"`
			StartIndex   int        `json:"startIndex"`
			ItemsPerPage int        `json:"itemsPerPage"`
			Resources    []*userDoc `json:"Resources"`
		}{[]string{scimproto.SchemaListResponse}, total, q.startIndex, len(docs), docs})
		return nil
	}
	out := make([]map[string]any, len(items))
	for n, i := range items {
		out[n] = gs.set(userResource(i, base, mg), base)
	}
	q.respond(w, r, total, out)
	return nil
}

// attachGroups adds the groups attribute to a page of rendered users, unless the query leaves
// it out.
func (h *Handler) attachGroups(r *http.Request, p *gatehouse.Principal, q *query, page []map[string]any) error {
	if len(page) == 0 || excludes(q, "groups") {
		return nil
	}
	ids := make([]string, 0, len(page))
	for _, res := range page {
		if id, ok := res["id"].(string); ok {
			ids = append(ids, id)
		}
	}
	gs, err := h.userGroups(r.Context(), p, ids...)
	if err != nil {
		return err
	}
	base := baseURL(r)
	for _, res := range page {
		gs.set(res, base)
	}
	return nil
}

func identityIDs(items []*gatehouse.Identity) []string {
	ids := make([]string, len(items))
	for n, i := range items {
		ids[n] = i.ID
	}
	return ids
}
