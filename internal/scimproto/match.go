package scimproto

import (
	"encoding/json"
	"strings"
	"time"
)

// Match reports whether resource (decoded from JSON, so numbers are float64) matches e under
// RFC 7644 section 3.4.2.2, with the case-exact attributes of UserSchema and GroupSchema.
// See MatchSchema for the rules.
func Match(e Expr, resource map[string]any) bool {
	return MatchSchema(e, resource, matchSchema)
}

// MatchSchema reports whether resource matches e, taking case-exact attributes from schema:
//   - attribute names are case-insensitive; an attribute under a non-core schema URN lives in
//     resource[URN], the core User and Group URNs address the top level;
//   - strings compare case-insensitively unless the attribute is caseExact; gt/ge/lt/le
//     compare strings lexicographically, numbers numerically and two RFC 3339 date-times as
//     instants (so "2011-05-13T04:42:34Z" equals "2011-05-13T04:42:34.000Z");
//   - booleans compare with eq and ne only; co, sw and ew apply to strings only;
//   - a multi-valued attribute matches when any of its values does, and comparing a complex
//     multi-valued attribute directly ("emails co x") compares its "value" sub-attribute;
//   - pr is present and not empty (not null, "", [] or {});
//   - ne is the negation of eq, so an absent attribute is "ne" anything but null, and
//     "emails ne x" holds when no email is x; "eq null" holds when the attribute is absent.
func MatchSchema(e Expr, resource map[string]any, schema Schema) bool {
	m := matcher{caseExact: schema.CaseExact}
	return m.match(e, resource, "")
}

type matcher struct{ caseExact map[string]bool }

// match evaluates e against obj; prefix is "emails." inside emails[...] so that the
// sub-attributes' case-exactness is looked up under their full name.
func (m matcher) match(e Expr, obj map[string]any, prefix string) bool {
	switch e := e.(type) {
	case *AttrExpr:
		return m.matchAttr(e, obj, prefix)
	case *LogicalExpr:
		switch strings.ToLower(e.Op) {
		case "and":
			return m.match(e.Left, obj, prefix) && m.match(e.Right, obj, prefix)
		case "or":
			return m.match(e.Left, obj, prefix) || m.match(e.Right, obj, prefix)
		}
		return false
	case *NotExpr:
		return e != nil && !m.match(e.X, obj, prefix)
	case *ValuePathExpr:
		v, ok := lookupAttr(obj, e.Path.URN, e.Path.Name)
		if !ok {
			return false
		}
		inner := prefix + strings.ToLower(e.Path.Name) + "."
		if vm, ok := v.(map[string]any); ok {
			return m.match(e.Filter, vm, inner)
		}
		list, _ := toList(v)
		for _, el := range list {
			if em, ok := el.(map[string]any); ok && m.match(e.Filter, em, inner) {
				return true
			}
		}
		return false
	}
	return false
}

func (m matcher) matchAttr(e *AttrExpr, obj map[string]any, prefix string) bool {
	if e == nil {
		return false
	}
	cands := candidates(obj, e.Path)
	switch e.Op {
	case OpPr:
		for _, c := range cands {
			if !isEmpty(c) {
				return true
			}
		}
		return false
	case OpNe:
		return !m.anyCompare(OpEq, cands, e, prefix)
	}
	return m.anyCompare(e.Op, cands, e, prefix)
}

func (m matcher) anyCompare(op CompareOp, cands []any, e *AttrExpr, prefix string) bool {
	if e.Value == nil {
		if op != OpEq {
			return false
		}
		for _, c := range cands {
			if !isEmpty(c) {
				return false
			}
		}
		return true
	}
	exact := m.isCaseExact(e.Path, prefix)
	for _, c := range cands {
		if compare(op, c, e.Value, exact) {
			return true
		}
	}
	return false
}

func (m matcher) isCaseExact(p AttrPath, prefix string) bool {
	if len(m.caseExact) == 0 {
		return false
	}
	name := prefix + strings.ToLower(p.Name)
	if p.SubAttr != "" {
		name += "." + strings.ToLower(p.SubAttr)
	}
	if m.caseExact[name] {
		return true
	}
	return p.URN != "" && m.caseExact[strings.ToLower(p.URN)+":"+name]
}

// isCoreURN reports whether urn is a core schema, whose attributes live at the top level of
// the resource rather than under the URN key.
func isCoreURN(urn string) bool {
	return strings.EqualFold(urn, SchemaUser) || strings.EqualFold(urn, SchemaGroup)
}

// Lookup finds key in m case-insensitively (attribute names are case-insensitive, RFC 7643
// §2.1), preferring an exact match. It returns the key as stored.
func Lookup(m map[string]any, key string) (string, any, bool) {
	if v, ok := m[key]; ok {
		return key, v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return k, v, true
		}
	}
	return "", nil, false
}

// lookupAttr finds an attribute, under its extension URN when it has one.
func lookupAttr(obj map[string]any, urn, name string) (any, bool) {
	if urn != "" && !isCoreURN(urn) {
		_, ext, ok := Lookup(obj, urn)
		em, isMap := ext.(map[string]any)
		if !ok || !isMap {
			return nil, false
		}
		obj = em
	}
	_, v, ok := Lookup(obj, name)
	return v, ok
}

// candidates returns the values a comparison on path is tried against.
func candidates(obj map[string]any, path AttrPath) []any {
	v, ok := lookupAttr(obj, path.URN, path.Name)
	if !ok || v == nil {
		return nil
	}
	if path.SubAttr != "" {
		if vm, ok := v.(map[string]any); ok {
			if _, sv, ok := Lookup(vm, path.SubAttr); ok {
				return flatten(sv)
			}
			return nil
		}
		if list, ok := toList(v); ok {
			var out []any
			for _, el := range list {
				if em, ok := el.(map[string]any); ok {
					if _, sv, ok := Lookup(em, path.SubAttr); ok {
						out = append(out, flatten(sv)...)
					}
				}
			}
			return out
		}
		return nil
	}
	if list, ok := toList(v); ok {
		out := make([]any, 0, len(list))
		for _, el := range list {
			if em, ok := el.(map[string]any); ok {
				if _, sv, ok := Lookup(em, "value"); ok {
					out = append(out, sv)
				}
				continue
			}
			out = append(out, el)
		}
		return out
	}
	return []any{v}
}

func flatten(v any) []any {
	if list, ok := toList(v); ok {
		return list
	}
	return []any{v}
}

// toList returns a multi-valued attribute's values. Resources decoded from JSON hold []any;
// the typed slices cover resources built in Go.
func toList(v any) ([]any, bool) {
	switch v := v.(type) {
	case []any:
		return v, true
	case []map[string]any:
		out := make([]any, len(v))
		for i, el := range v {
			out[i] = el
		}
		return out, true
	case []string:
		out := make([]any, len(v))
		for i, el := range v {
			out[i] = el
		}
		return out, true
	}
	return nil, false
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case int32:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// parseTime parses an RFC 3339 date-time (the SCIM dateTime type), cheaply rejecting strings
// that cannot be one.
func parseTime(s string) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

func ordered(op CompareOp, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	}
	return false
}

// compare applies op (not ne or pr) to one attribute value and the filter's value.
func compare(op CompareOp, attr, want any, exact bool) bool {
	switch w := want.(type) {
	case string:
		a, ok := attr.(string)
		if !ok {
			return false
		}
		switch op {
		case OpEq:
			if exact && a == w || !exact && strings.EqualFold(a, w) {
				return true
			}
			at, ok1 := parseTime(a)
			wt, ok2 := parseTime(w)
			return ok1 && ok2 && at.Equal(wt)
		case OpGt, OpGe, OpLt, OpLe:
			if at, ok := parseTime(a); ok {
				if wt, ok := parseTime(w); ok {
					return ordered(op, at.Compare(wt))
				}
			}
			if !exact {
				a, w = strings.ToLower(a), strings.ToLower(w)
			}
			return ordered(op, strings.Compare(a, w))
		}
		if !exact {
			a, w = strings.ToLower(a), strings.ToLower(w)
		}
		switch op {
		case OpCo:
			return strings.Contains(a, w)
		case OpSw:
			return strings.HasPrefix(a, w)
		case OpEw:
			return strings.HasSuffix(a, w)
		}
		return false
	case bool:
		if op != OpEq {
			return false
		}
		switch a := attr.(type) {
		case bool:
			return a == w
		case string: // "True" as some IdPs store it
			return strings.EqualFold(a, "true") && w || strings.EqualFold(a, "false") && !w
		}
		return false
	default:
		wf, ok := toFloat(want)
		if !ok {
			return false
		}
		af, ok := toFloat(attr)
		if !ok {
			return false
		}
		switch {
		case af < wf:
			return ordered(op, -1)
		case af > wf:
			return ordered(op, 1)
		}
		return ordered(op, 0)
	}
}
