package scimproto

import (
	"encoding/json"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// DecodePatchRequest reads a PATCH body (RFC 7644 section 3.5.2), lower-casing the op names
// ("Replace", "ADD", as Entra ID sends them). Errors are *Error 400 invalidSyntax (bad JSON, a
// schemas list without the PatchOp URN, no operations, an unknown op).
func DecodePatchRequest(r io.Reader) (PatchRequest, error) {
	var req PatchRequest
	if err := json.NewDecoder(r).Decode(&req); err != nil {
		return PatchRequest{}, Errorf(400, ScimTypeInvalidSyntax, "PATCH body is not a valid PatchOp request: %v", err)
	}
	if len(req.Schemas) > 0 && !slices.ContainsFunc(req.Schemas, func(s string) bool { return strings.EqualFold(s, SchemaPatchOp) }) {
		return PatchRequest{}, Errorf(400, ScimTypeInvalidSyntax, "PATCH body schemas must hold %s", SchemaPatchOp)
	}
	if len(req.Operations) == 0 {
		return PatchRequest{}, Errorf(400, ScimTypeInvalidSyntax, "PATCH body has no Operations")
	}
	for i := range req.Operations {
		op := strings.ToLower(strings.TrimSpace(req.Operations[i].Op))
		switch op {
		case "add", "remove", "replace":
		default:
			return PatchRequest{}, Errorf(400, ScimTypeInvalidSyntax, "operation %d: unknown op %q (want add, remove or replace)", i+1, req.Operations[i].Op)
		}
		req.Operations[i].Op = op
	}
	return req, nil
}

// ApplyPatch applies ops in order to resource with RFC 7644 section 3.5.2 semantics; see the
// contract in api.go. The whole request is atomic: the ops run on a deep copy, which replaces
// the contents of resource only when every op succeeded.
//
// Beyond the RFC it accepts what Entra ID sends: op names in any case; add/replace without a
// path whose value keys are attribute paths ("name.givenName", "emails[type eq \"work\"].value",
// "urn:...:enterprise:2.0:User:department") or an extension URN holding a map; "True"/"False"
// strings for boolean attributes (Schema.Booleans); a single object for a multi-valued
// attribute; remove of "members" with a value listing the members to remove; the enterprise
// manager given as a plain id string. Removing a value that a filter does not find succeeds,
// since IdPs repeat removals; replacing through a filter that finds nothing is noTarget, except
// in the path-less form, where it adds the value as RFC 7644 says replace of a missing
// attribute does.
func ApplyPatch(resource map[string]any, ops []PatchOp, schema Schema) error {
	if resource == nil {
		return Errorf(500, "", "patch of a nil resource")
	}
	work := deepCopyMap(resource)
	for i, op := range ops {
		if err := applyOp(work, op, schema); err != nil {
			what := strings.ToLower(op.Op)
			if op.Path != "" {
				what += " " + op.Path
			}
			return Errorf(err.Status, err.ScimType, "operation %d (%s): %s", i+1, what, err.Detail)
		}
	}
	clear(resource)
	maps.Copy(resource, work)
	return nil
}

type patcher struct {
	res    map[string]any
	schema Schema
	op     string // add, remove, replace
	noPath bool   // the operation had no path: the target is the resource itself
}

func applyOp(res map[string]any, op PatchOp, schema Schema) *Error {
	name := strings.ToLower(strings.TrimSpace(op.Op))
	switch name {
	case "add", "remove", "replace":
	default:
		return Errorf(400, ScimTypeInvalidSyntax, "unknown op %q (want add, remove or replace)", op.Op)
	}
	pt := patcher{res: res, schema: schema, op: name}
	if path := strings.TrimSpace(op.Path); path != "" && pt.isSchemaKey(path) {
		// The path is a whole schema: its value holds that schema's attributes.
		if name == "remove" {
			if isCoreURN(path) {
				return Errorf(400, ScimTypeNoTarget, "the core schema %s cannot be removed", path)
			}
			deleteKey(res, path)
			return nil
		}
		return pt.applySchemaObject(path, deepCopy(op.Value))
	}
	if strings.TrimSpace(op.Path) != "" {
		p, err := ParsePath(strings.TrimSpace(op.Path))
		if err != nil {
			return err.(*Error)
		}
		return pt.apply(p, deepCopy(op.Value))
	}
	if name == "remove" {
		return Errorf(400, ScimTypeNoTarget, "remove needs a path")
	}
	pt.noPath = true
	var objs []map[string]any
	switch v := op.Value.(type) {
	case map[string]any:
		objs = append(objs, v)
	case []any: // a list of attribute maps: apply each
		for _, el := range v {
			m, ok := el.(map[string]any)
			if !ok {
				return Errorf(400, ScimTypeInvalidValue, "%s without a path needs an object of attributes as value", name)
			}
			objs = append(objs, m)
		}
	default:
		return Errorf(400, ScimTypeInvalidValue, "%s without a path needs an object of attributes as value", name)
	}
	for _, obj := range objs {
		// Sorted keys make the result independent of map order; a parent ("name") sorts
		// before its sub-attribute paths ("name.givenName"), so the more specific key wins.
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			v := deepCopy(obj[k])
			if pt.isSchemaKey(k) {
				if err := pt.applySchemaObject(k, v); err != nil {
					return err
				}
				continue
			}
			p, err := ParsePath(k)
			if err != nil {
				return err.(*Error)
			}
			if err := pt.apply(p, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// applySchemaObject applies the op to each attribute of v, the attributes of schema urn.
func (pt *patcher) applySchemaObject(urn string, v any) *Error {
	obj, ok := v.(map[string]any)
	if !ok {
		return Errorf(400, ScimTypeInvalidValue, "value of %s must be an object of its attributes", urn)
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		p, err := ParsePath(urn + ":" + k)
		if err != nil {
			return err.(*Error)
		}
		if err := pt.apply(p, obj[k]); err != nil {
			return err
		}
	}
	return nil
}

// isSchemaKey reports whether a path, or a key of a path-less value, is a whole schema URN
// (whose value holds that schema's attributes) rather than an attribute path.
func (pt *patcher) isSchemaKey(k string) bool {
	if len(k) < 4 || !strings.EqualFold(k[:4], "urn:") {
		return false
	}
	if isCoreURN(k) || strings.EqualFold(k, SchemaEnterpriseUser) {
		return true
	}
	if _, v, ok := Lookup(pt.res, k); ok {
		if _, isMap := v.(map[string]any); isMap {
			return true
		}
	}
	if _, v, ok := Lookup(pt.res, "schemas"); ok {
		if list, ok := v.([]any); ok {
			for _, s := range list {
				if s, ok := s.(string); ok && strings.EqualFold(s, k) {
					return true
				}
			}
		}
	}
	return false
}

// container returns the map an attribute of urn lives in: the resource itself, or for an
// extension its object under the URN key, created (and the URN added to schemas) when create.
func (pt *patcher) container(urn string, create bool) (map[string]any, *Error) {
	if urn == "" || isCoreURN(urn) {
		return pt.res, nil
	}
	_, v, ok := Lookup(pt.res, urn)
	if ok && v != nil {
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, Errorf(400, ScimTypeInvalidPath, "%s is not an extension object", urn)
		}
		return m, nil
	}
	if !create {
		return nil, nil
	}
	key := urn
	if strings.EqualFold(urn, SchemaEnterpriseUser) {
		key = SchemaEnterpriseUser
	}
	m := map[string]any{}
	pt.res[key] = m
	if _, sv, ok := Lookup(pt.res, "schemas"); ok {
		if list, ok := sv.([]any); ok && !slices.ContainsFunc(list, func(s any) bool {
			str, _ := s.(string)
			return strings.EqualFold(str, urn)
		}) {
			setKey(pt.res, "schemas", append(slices.Clone(list), key))
		}
	}
	return m, nil
}

// dropEmptyContainer removes an extension object left empty by a remove.
func (pt *patcher) dropEmptyContainer(urn string, c map[string]any) {
	if urn != "" && !isCoreURN(urn) && len(c) == 0 {
		if k, _, ok := Lookup(pt.res, urn); ok {
			delete(pt.res, k)
		}
	}
}

func (pt *patcher) readOnly(p Path) bool {
	name := strings.ToLower(p.Attr.Name)
	if name == "id" || name == "meta" || pt.schema.ReadOnly[name] {
		return true
	}
	sub := p.Attr.SubAttr
	if sub == "" {
		sub = p.SubAttr
	}
	return sub != "" && pt.schema.ReadOnly[name+"."+strings.ToLower(sub)]
}

func (pt *patcher) apply(p Path, value any) *Error {
	if pt.readOnly(p) {
		// A path-less replace often carries the whole resource back, id included: an
		// unchanged read-only value is no attempt to modify it.
		if pt.noPath && pt.op != "remove" {
			if c, _ := pt.container(p.Attr.URN, false); c != nil {
				if _, cur, ok := Lookup(c, p.Attr.Name); ok && p.Attr.SubAttr == "" && p.Filter == nil && reflect.DeepEqual(cur, value) {
					return nil
				}
			}
		}
		return Errorf(400, ScimTypeMutability, "attribute %s is read-only", p)
	}
	lname := strings.ToLower(p.Attr.Name)
	switch {
	case p.Attr.SubAttr != "":
		value = normalize(lname+"."+strings.ToLower(p.Attr.SubAttr), value, pt.schema)
	case p.Filter != nil && p.SubAttr != "":
		value = normalize(lname+"."+strings.ToLower(p.SubAttr), value, pt.schema)
	default:
		value = normalize(lname, value, pt.schema)
	}
	// Entra ID sends the enterprise manager as a bare id; RFC 7643 section 4.3 makes it complex.
	if s, ok := value.(string); ok && strings.EqualFold(p.Attr.URN, SchemaEnterpriseUser) &&
		strings.EqualFold(p.Attr.Name, "manager") && p.Attr.SubAttr == "" {
		value = map[string]any{"value": s}
	}
	c, err := pt.container(p.Attr.URN, pt.op != "remove")
	if err != nil {
		return err
	}
	if c == nil { // remove from an extension the resource does not have
		return nil
	}
	defer pt.dropEmptyContainer(p.Attr.URN, c)
	key, cur, exists := Lookup(c, p.Attr.Name)
	if !exists {
		key = p.Attr.Name
	}
	_, curIsList := cur.([]any)
	multi := pt.schema.MultiValued[lname] || curIsList
	switch {
	case p.Filter != nil:
		return pt.applyFiltered(c, key, cur, exists, p, value)
	case p.Attr.SubAttr != "":
		return pt.applySub(c, key, cur, exists, multi, p.Attr.SubAttr, value)
	}

	switch pt.op {
	case "remove":
		if !exists {
			return nil
		}
		if value != nil && multi {
			// Entra ID removes members as {"op":"Remove","path":"members","value":[{"value":"id"}]}:
			// only the listed values go.
			list, _ := cur.([]any)
			drop := asList(value)
			kept := slices.DeleteFunc(slices.Clone(list), func(el any) bool {
				return slices.ContainsFunc(drop, func(d any) bool { return sameValue(el, d) })
			})
			setOrDelete(c, key, kept)
			return nil
		}
		delete(c, key)
		return nil
	case "add":
		if value == nil {
			if pt.noPath {
				delete(c, key)
				return nil
			}
			return Errorf(400, ScimTypeInvalidValue, "add needs a value")
		}
		if multi {
			list, _ := cur.([]any)
			list = slices.Clone(list)
			var added []int
			for _, v := range asList(value) {
				if !slices.ContainsFunc(list, func(el any) bool { return sameValue(el, v) }) {
					list = append(list, v)
					added = append(added, len(list)-1)
				}
			}
			fixPrimary(list, added)
			setOrDelete(c, key, list)
			return nil
		}
	case "replace":
		if value == nil {
			delete(c, key)
			return nil
		}
		if multi {
			list := slices.Clone(asList(value))
			setOrDelete(c, key, list)
			return nil
		}
	}
	// Single-valued add or replace. For a complex attribute both set the given sub-attributes
	// and leave the others (RFC 7644 sections 3.5.2.1 and 3.5.2.3).
	if vm, ok := value.(map[string]any); ok {
		if cm, ok := cur.(map[string]any); ok {
			for _, k := range slices.Sorted(maps.Keys(vm)) {
				setKey(cm, k, vm[k])
			}
			return nil
		}
	}
	c[key] = value
	return nil
}

// applySub handles name.sub paths without a value filter.
func (pt *patcher) applySub(c map[string]any, key string, cur any, exists, multi bool, sub string, value any) *Error {
	if multi {
		// "emails.value" addresses the sub-attribute of every value.
		list, _ := cur.([]any)
		list = slices.Clone(list)
		if pt.op != "remove" && value != nil && len(list) == 0 {
			list = []any{map[string]any{sub: value}}
			c[key] = list
			return nil
		}
		for i, el := range list {
			em, ok := el.(map[string]any)
			if !ok {
				continue
			}
			em = maps.Clone(em)
			if pt.op == "remove" || value == nil {
				deleteKey(em, sub)
			} else {
				setKey(em, sub, value)
			}
			list[i] = em
		}
		if exists {
			c[key] = list
		}
		return nil
	}
	var parent map[string]any
	if exists && cur != nil {
		m, ok := cur.(map[string]any)
		if !ok {
			return Errorf(400, ScimTypeInvalidPath, "%s is not a complex attribute, it has no sub-attribute %s", key, sub)
		}
		parent = m
	}
	if pt.op == "remove" || value == nil {
		if parent != nil {
			deleteKey(parent, sub)
			if len(parent) == 0 {
				delete(c, key)
			}
		}
		return nil
	}
	if parent == nil {
		parent = map[string]any{}
		c[key] = parent
	}
	setKey(parent, sub, value)
	return nil
}

// applyFiltered handles attr[filter] and attr[filter].sub paths.
func (pt *patcher) applyFiltered(c map[string]any, key string, cur any, exists bool, p Path, value any) *Error {
	var list []any
	if exists && cur != nil {
		l, ok := cur.([]any)
		if !ok {
			return Errorf(400, ScimTypeInvalidPath, "%s is not multi-valued, a value filter does not apply", p.Attr)
		}
		list = slices.Clone(l)
	}
	m := matcher{caseExact: pt.schema.CaseExact}
	prefix := strings.ToLower(p.Attr.Name) + "."
	var hits []int
	for i, el := range list {
		if em, ok := el.(map[string]any); ok && m.match(p.Filter, em, prefix) {
			hits = append(hits, i)
		}
	}
	if pt.op == "remove" {
		if p.SubAttr == "" {
			kept := make([]any, 0, len(list))
			for i, el := range list {
				if !slices.Contains(hits, i) {
					kept = append(kept, el)
				}
			}
			if exists {
				setOrDelete(c, key, kept)
			}
			return nil
		}
		for _, i := range hits {
			em := maps.Clone(list[i].(map[string]any))
			deleteKey(em, p.SubAttr)
			list[i] = em
		}
		if exists {
			c[key] = list
		}
		return nil
	}
	if p.SubAttr == "" {
		// The value is one value of the attribute: an object (or a list holding one).
		if l, ok := value.([]any); ok && len(l) == 1 {
			value = l[0]
		}
		if _, ok := value.(map[string]any); !ok {
			return Errorf(400, ScimTypeInvalidValue, "a value of %s must be an object", p.Attr)
		}
	}
	if len(hits) == 0 {
		if pt.op == "replace" && !pt.noPath {
			return Errorf(400, ScimTypeNoTarget, "no value of %s matches %s", p.Attr, exprString(p.Filter))
		}
		el, ok := elementFromFilter(p.Filter)
		if !ok {
			return Errorf(400, ScimTypeNoTarget, "no value of %s matches %s, and the filter does not describe a new one", p.Attr, exprString(p.Filter))
		}
		if p.SubAttr != "" {
			setKey(el, p.SubAttr, value)
		} else {
			for k, v := range value.(map[string]any) {
				setKey(el, k, v)
			}
		}
		list = append(list, el)
		fixPrimary(list, []int{len(list) - 1})
		c[key] = list
		return nil
	}
	for _, i := range hits {
		em := maps.Clone(list[i].(map[string]any))
		switch {
		case p.SubAttr != "" && value == nil:
			deleteKey(em, p.SubAttr)
		case p.SubAttr != "":
			setKey(em, p.SubAttr, deepCopy(value))
		case pt.op == "replace":
			em = deepCopyMap(value.(map[string]any))
		default: // add to a matched value: set the given sub-attributes
			for k, v := range value.(map[string]any) {
				setKey(em, k, deepCopy(v))
			}
		}
		list[i] = em
	}
	fixPrimary(list, hits)
	c[key] = list
	return nil
}
