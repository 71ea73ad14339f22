package scimproto

import (
	"maps"
	"reflect"
	"strings"
)

// elementFromFilter builds the value a filter of equalities describes
// (type eq "work" and primary eq true → {"type":"work","primary":true}), so that an add through
// a filter that matches nothing creates the value, as Entra ID expects.
func elementFromFilter(f Expr) (map[string]any, bool) {
	switch f := f.(type) {
	case *AttrExpr:
		if f.Op != OpEq || f.Path.URN != "" || f.Path.SubAttr != "" || f.Value == nil {
			return nil, false
		}
		return map[string]any{f.Path.Name: f.Value}, true
	case *LogicalExpr:
		if !strings.EqualFold(f.Op, "and") {
			return nil, false
		}
		l, ok1 := elementFromFilter(f.Left)
		r, ok2 := elementFromFilter(f.Right)
		if !ok1 || !ok2 {
			return nil, false
		}
		for k, v := range r {
			if _, lv, ok := Lookup(l, k); ok && !reflect.DeepEqual(lv, v) {
				return nil, false
			}
			setKey(l, k, v)
		}
		return l, true
	}
	return nil, false
}

// fixPrimary keeps at most one value primary (RFC 7643 section 2.4): when one of the values at
// changed is primary, the others stop being.
func fixPrimary(list []any, changed []int) {
	winner := -1
	for _, i := range changed {
		if em, ok := list[i].(map[string]any); ok {
			if _, p, ok := Lookup(em, "primary"); ok && p == true {
				winner = i
			}
		}
	}
	if winner < 0 {
		return
	}
	for i, el := range list {
		em, ok := el.(map[string]any)
		if !ok || i == winner {
			continue
		}
		if k, p, ok := Lookup(em, "primary"); ok && p == true {
			em = maps.Clone(em)
			em[k] = false
			list[i] = em
		}
	}
}

// sameValue reports whether two values of a multi-valued attribute are the same value: complex
// values with a "value" are compared by it (and by type when both have one), so re-adding a
// member with another display name does not duplicate it.
func sameValue(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		_, av, ok1 := Lookup(am, "value")
		_, bv, ok2 := Lookup(bm, "value")
		if ok1 && ok2 {
			if !sameScalar(av, bv) {
				return false
			}
			_, at, ok1 := Lookup(am, "type")
			_, bt, ok2 := Lookup(bm, "type")
			return !ok1 || !ok2 || sameScalar(at, bt)
		}
		return reflect.DeepEqual(a, b)
	}
	return sameScalar(a, b)
}

func sameScalar(a, b any) bool {
	as, ok1 := a.(string)
	bs, ok2 := b.(string)
	if ok1 && ok2 {
		return strings.EqualFold(as, bs)
	}
	af, ok1 := toFloat(a)
	bf, ok2 := toFloat(b)
	if ok1 && ok2 {
		return af == bf
	}
	return reflect.DeepEqual(a, b)
}

// asList wraps a single value of a multi-valued attribute in a list (Entra ID sends a single
// object where the RFC wants an array).
func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}

// normalize turns "True"/"False" strings into booleans where the schema says the attribute is
// boolean; name is the lower-case attribute name ("active", "emails.primary").
func normalize(name string, v any, schema Schema) any {
	switch x := v.(type) {
	case string:
		if schema.Booleans[name] {
			switch {
			case strings.EqualFold(x, "true"):
				return true
			case strings.EqualFold(x, "false"):
				return false
			}
		}
	case map[string]any:
		for k, el := range x {
			x[k] = normalize(name+"."+strings.ToLower(k), el, schema)
		}
	case []any:
		for i, el := range x {
			x[i] = normalize(name, el, schema)
		}
	}
	return v
}

// setKey sets name in m, keeping the case of a key that is already there.
func setKey(m map[string]any, name string, v any) {
	if k, _, ok := Lookup(m, name); ok {
		m[k] = v
		return
	}
	m[name] = v
}

func deleteKey(m map[string]any, name string) {
	if k, _, ok := Lookup(m, name); ok {
		delete(m, k)
	}
}

// setOrDelete stores a multi-valued attribute, dropping it when no value is left (RFC 7643
// section 2.5: an empty multi-valued attribute is unassigned).
func setOrDelete(m map[string]any, key string, list []any) {
	if len(list) == 0 {
		delete(m, key)
		return
	}
	m[key] = list
}

// deepCopy copies the maps and lists of a JSON value, turning the typed slices a resource
// built in Go may hold into []any.
func deepCopy(v any) any {
	if x, ok := v.(map[string]any); ok {
		return deepCopyMap(x)
	}
	if list, ok := toList(v); ok {
		out := make([]any, len(list))
		for i, el := range list {
			out[i] = deepCopy(el)
		}
		return out
	}
	return v
}

func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopy(v)
	}
	return out
}
