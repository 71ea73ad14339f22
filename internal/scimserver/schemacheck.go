package scimserver

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/scimproto"
)

// Filters and PATCH paths are checked against the schema /Schemas publishes, so that a typo in
// an IdP's mapping ("userNme eq", "name.familyNam") is a 400 naming the attribute rather than a
// list that is silently empty or a change that is silently dropped (RFC 7644 sections 3.4.2.2
// and 3.5.2). The published definitions are the one source: what /Schemas says is what a
// filter may name.

// resourceSchema is a resource type's attributes: its core schema, its extensions and the
// common attributes (RFC 7643 section 3.1).
type resourceSchema struct {
	kind string // "User", "Group": for messages
	core string // the core schema URN
	// attrs are the core and common attributes, ext the extensions' attributes, by lower-case
	// name (and lower-case URN).
	attrs map[string]attrDef
	ext   map[string]map[string]attrDef
	// tolerated are attributes RFC 7643 defines for the resource that Gatehouse does not keep
	// (lower-case "name" or "name.sub", extension attributes as "urn:name"): a write of one is
	// accepted and dropped, as POST and PUT drop them, so that an IdP's default mapping
	// (phoneNumbers, preferredLanguage, addresses' streetAddress) does not fail every change.
	// They are not published, so a filter naming one is refused.
	tolerated map[string]bool
}

// commonAttrs are the attributes every resource has (RFC 7643 section 3.1); /Schemas does not
// list them, as the RFC's own schema representations do not.
var commonAttrs = []attrDef{
	str("id", "").mut("readOnly").exact(),
	str("schemas", "").multi().exact(),
	str("meta", "").mut("readOnly").sub(
		str("resourceType", "").mut("readOnly"),
		str("created", "").typ("dateTime").mut("readOnly"),
		str("lastModified", "").typ("dateTime").mut("readOnly"),
		str("location", "").typ("reference").mut("readOnly"),
		str("version", "").mut("readOnly").exact()),
}

// rfcUserOnly are the User attributes of RFC 7643 sections 4.1 and 4.3 that Gatehouse does not
// keep.
var rfcUserOnly = []string{
	"nickname", "profileurl", "preferredlanguage", "locale", "timezone", "password",
	"phonenumbers", "ims", "photos", "entitlements", "roles", "x509certificates",
	"name.middlename", "name.honorificprefix", "name.honorificsuffix",
	"addresses.formatted", "addresses.streetaddress", "addresses.region", "addresses.postalcode", "addresses.country",
	strings.ToLower(scimproto.SchemaEnterpriseUser) + ":costcenter", strings.ToLower(scimproto.SchemaEnterpriseUser) + ":division",
}

var schemasOnce = sync.OnceValues(func() (*resourceSchema, *resourceSchema) {
	byID := map[string][]attrDef{}
	for _, d := range schemaDocs("") {
		byID[d["id"].(string)] = d["attributes"].([]attrDef)
	}
	index := func(defs ...[]attrDef) map[string]attrDef {
		m := map[string]attrDef{}
		for _, list := range defs {
			for _, a := range list {
				m[strings.ToLower(a.Name)] = a
			}
		}
		return m
	}
	user := &resourceSchema{kind: "User", core: scimproto.SchemaUser, attrs: index(commonAttrs, byID[scimproto.SchemaUser]),
		ext:       map[string]map[string]attrDef{strings.ToLower(scimproto.SchemaEnterpriseUser): index(byID[scimproto.SchemaEnterpriseUser])},
		tolerated: map[string]bool{}}
	for _, n := range rfcUserOnly {
		user.tolerated[n] = true
	}
	group := &resourceSchema{kind: "Group", core: scimproto.SchemaGroup, attrs: index(commonAttrs, byID[scimproto.SchemaGroup]),
		ext: map[string]map[string]attrDef{}, tolerated: map[string]bool{}}
	return user, group
})

func userSchemaDefs() *resourceSchema  { u, _ := schemasOnce(); return u }
func groupSchemaDefs() *resourceSchema { _, g := schemasOnce(); return g }

// attribute finds the definition of an attribute path's attribute (and of its sub-attribute,
// when it names one). It returns a message naming what is unknown; tolerated reports a
// known RFC attribute that Gatehouse does not keep.
func (s *resourceSchema) attribute(p scimproto.AttrPath) (attr attrDef, sub *attrDef, tolerated bool, msg string) {
	attrs, where := s.attrs, s.kind
	if p.URN != "" && !strings.EqualFold(p.URN, s.core) {
		ext, ok := s.ext[strings.ToLower(p.URN)]
		if !ok {
			return attrDef{}, nil, false, fmt.Sprintf("%s: %s has no schema %s (see /Schemas)", p, s.kind+"s", p.URN)
		}
		attrs, where = ext, p.URN
	}
	name := strings.ToLower(p.Name)
	a, ok := attrs[name]
	if !ok {
		key := name
		if where != s.kind {
			key = strings.ToLower(p.URN) + ":" + name
		}
		if s.tolerated[key] {
			return attrDef{}, nil, true, ""
		}
		return attrDef{}, nil, false, fmt.Sprintf("%q is not an attribute of the %s schema (see /Schemas)", p.Name, where)
	}
	if p.SubAttr == "" {
		return a, nil, false, ""
	}
	sd, ok := subAttribute(a, p.SubAttr)
	if !ok {
		if s.tolerated[name+"."+strings.ToLower(p.SubAttr)] {
			return a, nil, true, ""
		}
		if len(a.SubAttributes) == 0 {
			return attrDef{}, nil, false, fmt.Sprintf("%q: %s is not complex, it has no sub-attribute %s", p.String(), a.Name, p.SubAttr)
		}
		return attrDef{}, nil, false, fmt.Sprintf("%q: %s has no sub-attribute %s (it has %s)", p.String(), a.Name, p.SubAttr, subNames(a))
	}
	return a, &sd, false, ""
}

func subAttribute(a attrDef, name string) (attrDef, bool) {
	for _, s := range a.SubAttributes {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return attrDef{}, false
}

func subNames(a attrDef) string {
	names := make([]string, len(a.SubAttributes))
	for i, s := range a.SubAttributes {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

func invalidFilter(format string, args ...any) error {
	return scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidFilter, format, args...)
}

// checkFilter refuses (400 invalidFilter) a filter that names an attribute the schema does
// not publish, or compares an attribute in a way RFC 7644 section 3.4.2.2 does not allow:
// gt, ge, lt, le (and co, sw, ew, which compare text) on a boolean; any comparison but pr of
// a complex attribute as a whole, except a multi-valued one with a "value" sub-attribute
// ("emails co x" compares the addresses).
func (s *resourceSchema) checkFilter(e scimproto.Expr) error {
	return s.check(e, nil)
}

// check checks e; within is the multi-valued attribute of an enclosing value filter
// (emails[...]), whose sub-attributes the paths inside name.
func (s *resourceSchema) check(e scimproto.Expr, within *attrDef) error {
	switch e := e.(type) {
	case *scimproto.LogicalExpr:
		if err := s.check(e.Left, within); err != nil {
			return err
		}
		return s.check(e.Right, within)
	case *scimproto.NotExpr:
		return s.check(e.X, within)
	case *scimproto.ValuePathExpr:
		a, _, _, msg := s.attribute(e.Path)
		if msg == "" && len(a.SubAttributes) == 0 && a.Name != "" {
			msg = fmt.Sprintf("%s is not a complex attribute: a value filter %s[...] does not apply to it", a.Name, e.Path)
		}
		if msg == "" && a.Name == "" { // tolerated: not published, not filterable
			msg = fmt.Sprintf("%q is not an attribute of the %s schema (see /Schemas)", e.Path.String(), s.kind)
		}
		if msg != "" {
			return invalidFilter("%s", msg)
		}
		return s.check(e.Filter, &a)
	case *scimproto.AttrExpr:
		var def attrDef
		var sub *attrDef
		if within != nil {
			if e.Path.URN != "" || e.Path.SubAttr != "" {
				return invalidFilter("%q: inside %s[...] name a sub-attribute of %s (%s)", e.Path.String(), within.Name, within.Name, subNames(*within))
			}
			sd, ok := subAttribute(*within, e.Path.Name)
			if !ok {
				return invalidFilter("%s has no sub-attribute %s (it has %s)", within.Name, e.Path.Name, subNames(*within))
			}
			def = sd
		} else {
			a, sd, tolerated, msg := s.attribute(e.Path)
			if tolerated {
				msg = fmt.Sprintf("%q is not an attribute of the %s schema (see /Schemas)", e.Path.String(), s.kind)
			}
			if msg != "" {
				return invalidFilter("%s", msg)
			}
			def, sub = a, sd
		}
		leaf := def
		if sub != nil {
			leaf = *sub
		}
		return checkOperator(e, leaf)
	}
	return nil
}

// checkOperator checks that e's operator applies to the attribute leaf.
func checkOperator(e *scimproto.AttrExpr, leaf attrDef) error {
	if e.Op == scimproto.OpPr {
		return nil
	}
	if len(leaf.SubAttributes) > 0 {
		v, ok := subAttribute(leaf, "value")
		if !leaf.MultiValued || !ok {
			return invalidFilter("%s is a complex attribute: compare one of its sub-attributes (%s), or use pr", e.Path.String(), subNames(leaf))
		}
		leaf = v
	}
	if leaf.Type == "boolean" {
		switch e.Op {
		case scimproto.OpGt, scimproto.OpGe, scimproto.OpLt, scimproto.OpLe, scimproto.OpCo, scimproto.OpSw, scimproto.OpEw:
			return invalidFilter("%s is a boolean: %s does not apply to it (eq, ne and pr do)", e.Path.String(), e.Op)
		}
	}
	return checkValueType(e, leaf)
}

// checkValueType refuses a comparison value of another type than the attribute's published
// one: RFC 7644 section 3.4.2.2 compares an attribute with a value of its own type, and a
// mismatch (active eq "true", userName eq 42, meta.lastModified gt "yesterday") would
// otherwise match nobody, silently. null ("eq null": absent) applies to every type.
func checkValueType(e *scimproto.AttrExpr, leaf attrDef) error {
	ok := false
	switch v := e.Value.(type) {
	case nil:
		return nil
	case bool:
		ok = leaf.Type == "boolean"
	case float64:
		ok = leaf.Type == "integer" || leaf.Type == "decimal"
	case string:
		switch leaf.Type {
		case "boolean", "integer", "decimal":
		case "dateTime":
			ok = isDateTime(v)
		default: // string, reference, binary
			ok = true
		}
	}
	if ok {
		return nil
	}
	return invalidFilter("%s: %s is of type %s, compare it with %s", e, e.Path.String(), leaf.Type, typeValues(leaf.Type))
}

// typeValues says which filter values an attribute type takes.
func typeValues(t string) string {
	switch t {
	case "boolean":
		return "true or false, unquoted"
	case "integer", "decimal":
		return "a number, unquoted"
	case "dateTime":
		return `an RFC 3339 date-time in quotes ("2026-01-01T00:00:00Z")`
	}
	return "a string in quotes"
}

// isDateTime reports whether s is an RFC 3339 date-time (the SCIM dateTime type, RFC 7643
// section 2.3.5).
func isDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// checkRequired refuses (400 mutability) a patched resource that lost a required attribute:
// RFC 7644 section 3.5.2.2 makes removing one, or leaving it unassigned (a replace with null or
// ""), a mutability error.
func (s *resourceSchema) checkRequired(res map[string]any) error {
	for _, a := range s.attrs {
		if !a.Required {
			continue
		}
		if v, _, err := getString(res, a.Name); err == nil && v == "" {
			return scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeMutability, "%s is required: a PATCH may replace it, not remove it", a.Name)
		}
	}
	return nil
}

// checkSortBy refuses (400 invalidValue) a sortBy naming an attribute the schema does not
// publish, as a filter naming one is refused: a typo must not answer an unsorted list. A
// complex attribute is sorted by a sub-attribute (RFC 7644 section 3.4.2.3), or by its value
// when it is multi-valued and has one.
func (s *resourceSchema) checkSortBy(p scimproto.AttrPath) error {
	a, sub, tolerated, msg := s.attribute(p)
	if tolerated {
		msg = fmt.Sprintf("%q is not an attribute of the %s schema (see /Schemas)", p.String(), s.kind)
	}
	if msg == "" && sub == nil && len(a.SubAttributes) > 0 {
		if _, ok := subAttribute(a, "value"); !a.MultiValued || !ok {
			msg = fmt.Sprintf("%s is a complex attribute: sort by one of its sub-attributes (%s)", p.String(), subNames(a))
		}
	}
	if msg != "" {
		return scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, "sortBy: %s", msg)
	}
	return nil
}

// mentions reports whether a filter names the attribute name (lower case) of the core schema.
func mentions(e scimproto.Expr, name string) bool {
	switch e := e.(type) {
	case *scimproto.LogicalExpr:
		return mentions(e.Left, name) || mentions(e.Right, name)
	case *scimproto.NotExpr:
		return mentions(e.X, name)
	case *scimproto.ValuePathExpr:
		return strings.EqualFold(e.Path.Name, name) && (e.Path.URN == "" || isCoreURN(e.Path.URN))
	case *scimproto.AttrExpr:
		return strings.EqualFold(e.Path.Name, name) && (e.Path.URN == "" || isCoreURN(e.Path.URN))
	}
	return false
}

func isCoreURN(urn string) bool {
	return strings.EqualFold(urn, scimproto.SchemaUser) || strings.EqualFold(urn, scimproto.SchemaGroup)
}

// checkPatch checks the attribute paths of PATCH operations (RFC 7644 section 3.5.2): an
// attribute the schema does not have is 400 invalidPath, a bad value filter 400
// invalidFilter. It returns the operations without those that only touch attributes
// Gatehouse does not keep (tolerated), which would change nothing.
func (s *resourceSchema) checkPatch(ops []scimproto.PatchOp) ([]scimproto.PatchOp, error) {
	out := make([]scimproto.PatchOp, 0, len(ops))
	for n, op := range ops {
		fail := func(err error) error {
			se := err.(*scimproto.Error)
			return scimproto.Errorf(se.Status, se.ScimType, "operation %d (%s %s): %s", n+1, op.Op, op.Path, se.Detail)
		}
		path := strings.TrimSpace(op.Path)
		if path == "" {
			// Path-less: the value's keys are attribute paths (or schema URNs holding
			// attributes).
			switch v := op.Value.(type) {
			case map[string]any:
				kept, err := s.checkKeys("", v)
				if err != nil {
					return nil, fail(err)
				}
				if len(kept) > 0 || len(v) == 0 {
					op.Value = kept
					out = append(out, op)
				}
			case []any: // a list of such objects
				list := make([]any, 0, len(v))
				for _, el := range v {
					obj, ok := el.(map[string]any)
					if !ok {
						list = append(list, el) // ApplyPatch says what is wrong
						continue
					}
					kept, err := s.checkKeys("", obj)
					if err != nil {
						return nil, fail(err)
					}
					list = append(list, kept)
				}
				op.Value = list
				out = append(out, op)
			default:
				out = append(out, op) // ApplyPatch says what is wrong
			}
			continue
		}
		if s.isSchemaURN(path) {
			if obj, ok := op.Value.(map[string]any); ok {
				kept, err := s.checkKeys(path, obj)
				if err != nil {
					return nil, fail(err)
				}
				if len(kept) == 0 && len(obj) > 0 {
					continue
				}
				op.Value = kept
			}
			out = append(out, op)
			continue
		}
		keep, err := s.checkPath(path)
		if err != nil {
			return nil, fail(err)
		}
		if keep {
			out = append(out, op)
		}
	}
	return out, nil
}

// checkKeys checks the keys of a path-less value (prefixed by urn when they are the
// attributes of a schema); it returns the value without tolerated keys.
func (s *resourceSchema) checkKeys(urn string, obj map[string]any) (map[string]any, error) {
	kept := make(map[string]any, len(obj))
	for k, v := range obj {
		if urn == "" && s.isSchemaURN(k) {
			if inner, ok := v.(map[string]any); ok {
				in, err := s.checkKeys(k, inner)
				if err != nil {
					return nil, err
				}
				if len(in) > 0 || len(inner) == 0 {
					kept[k] = in
				}
				continue
			}
			kept[k] = v
			continue
		}
		path := k
		if urn != "" {
			path = urn + ":" + k
		}
		keep, err := s.checkPath(path)
		if err != nil {
			return nil, err
		}
		if keep {
			kept[k] = v
		}
	}
	return kept, nil
}

// checkPath checks one PATCH path; keep is false for a tolerated attribute.
func (s *resourceSchema) checkPath(path string) (keep bool, err error) {
	p, err := scimproto.ParsePath(path)
	if err != nil {
		return true, nil // ApplyPatch reports the syntax error
	}
	a, sub, tolerated, msg := s.attribute(p.Attr)
	if tolerated {
		return false, nil
	}
	if msg != "" {
		return false, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidPath, "%s", msg)
	}
	if p.Filter == nil {
		return true, nil
	}
	if sub != nil || len(a.SubAttributes) == 0 {
		return false, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidPath, "%s is not a complex attribute: a value filter does not apply to it", p.Attr)
	}
	if err := s.check(p.Filter, &a); err != nil {
		return false, err
	}
	if p.SubAttr != "" {
		if _, ok := subAttribute(a, p.SubAttr); !ok {
			if s.tolerated[strings.ToLower(a.Name+"."+p.SubAttr)] {
				return false, nil
			}
			return false, scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidPath, "%s has no sub-attribute %s (it has %s)", a.Name, p.SubAttr, subNames(a))
		}
	}
	return true, nil
}

// isSchemaURN reports whether s names one of the resource type's schemas.
func (s *resourceSchema) isSchemaURN(k string) bool {
	if strings.EqualFold(k, s.core) {
		return true
	}
	_, ok := s.ext[strings.ToLower(k)]
	return ok
}
