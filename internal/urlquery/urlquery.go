// Package urlquery turns the filters of a list (package gatehouse's IdentityFilter, GrantFilter,
// ..., and the few query types that add to them) into URL query parameters and back. It is the
// one place a filter meets the wire: the API decodes a list route's query with Decode, the web UI
// decodes its list pages' filters with it, and the client encodes with Encode, so a parameter's
// name and form are declared once, on the field, and cannot drift apart.
//
// A field takes part when it has a query tag:
//
//	`query:"name"`       the parameter's name
//	`query:"name,list"`  a slice, sent as one comma-separated value
//	`query:"name=value"` a bool that is true when the parameter has this value (order=asc)
//
// Fields of embedded structs take part as if they were the outer struct's. Field types: string
// kinds (typed enums too), int, bool, *bool (absent is nil), time.Time (RFC 3339),
// time.Duration and gatehouse.Duration (30d, 48h), and slices of string kinds. A zero value
// is not sent, and an absent parameter leaves the field as it was.
//
// Which values an enum takes is not checked here: the API's route table (which documents the
// parameters) and the service do that, each in its own words.
package urlquery

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// field is one tagged field: where it is and how it is written.
type field struct {
	name  string
	index []int
	list  bool   // comma-separated slice
	equal string // for a bool: the value that means true ("" for true/false)
}

func fields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("query")
		if !ok {
			if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
				for _, f := range fields(sf.Type) {
					f.index = append([]int{i}, f.index...)
					out = append(out, f)
				}
			}
			continue
		}
		if tag == "-" {
			continue
		}
		f := field{index: []int{i}}
		name, opt, _ := strings.Cut(tag, ",")
		f.list = opt == "list"
		f.name, f.equal, _ = strings.Cut(name, "=")
		out = append(out, f)
	}
	return out
}

// Names lists the parameters of filter type v (a struct or a pointer to one), in field order.
func Names(v any) []string {
	var names []string
	for _, f := range fields(structType(v)) {
		names = append(names, f.name)
	}
	return names
}

func structType(v any) reflect.Type {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("urlquery: %s is not a struct", t))
	}
	return t
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
	daysType     = reflect.TypeFor[gatehouse.Duration]()
)

// Encode writes the non-zero tagged fields of filter v (a struct or a pointer to one).
func Encode(v any) url.Values {
	q := url.Values{}
	rv := reflect.Indirect(reflect.ValueOf(v))
	for _, f := range fields(rv.Type()) {
		fv := rv.FieldByIndex(f.index)
		if fv.IsZero() {
			continue
		}
		if f.equal != "" {
			if fv.Bool() {
				q.Set(f.name, f.equal)
			}
			continue
		}
		q.Set(f.name, format(fv, f))
	}
	return q
}

func format(fv reflect.Value, f field) string {
	switch {
	case fv.Type() == timeType:
		return fv.Interface().(time.Time).UTC().Format(time.RFC3339Nano)
	case fv.Type() == durationType || fv.Type() == daysType:
		return gatehouse.Duration(fv.Int()).String()
	case f.list:
		parts := make([]string, fv.Len())
		for i := range parts {
			parts[i] = fv.Index(i).String()
		}
		return strings.Join(parts, ",")
	}
	switch fv.Kind() {
	case reflect.Pointer:
		return format(fv.Elem(), f)
	case reflect.Bool:
		return strconv.FormatBool(fv.Bool())
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(fv.Int(), 10)
	}
	return fv.String()
}

// Decode reads the tagged fields of *dst from q. Parameters dst has no field for are ignored
// (the API refuses unknown ones before, from its route table). An ill-formed value is an
// EINVALID error that names the parameter and says what it should be.
func Decode(q url.Values, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("urlquery: Decode needs a pointer to a struct, not %T", dst))
	}
	rv = rv.Elem()
	for _, f := range fields(rv.Type()) {
		if !q.Has(f.name) {
			continue
		}
		if err := parse(rv.FieldByIndex(f.index), f, q.Get(f.name)); err != nil {
			return err
		}
	}
	return nil
}

func parse(fv reflect.Value, f field, s string) error {
	switch {
	case f.equal != "":
		fv.SetBool(s == f.equal)
		return nil
	case fv.Type() == timeType:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not an RFC 3339 time (example: 2026-01-31T09:00:00Z)", f.name, s)
		}
		fv.Set(reflect.ValueOf(t))
		return nil
	case fv.Type() == durationType || fv.Type() == daysType:
		d, err := gatehouse.ParseDuration(s)
		if err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: %v", f.name, err)
		}
		if d <= 0 {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: give a duration above zero, such as 30d or 48h", f.name)
		}
		fv.SetInt(int64(d))
		return nil
	case f.list:
		var items []string
		for _, it := range strings.Split(s, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		sl := reflect.MakeSlice(fv.Type(), len(items), len(items))
		for i, it := range items {
			sl.Index(i).SetString(it)
		}
		fv.Set(sl)
		return nil
	}
	switch fv.Kind() {
	case reflect.Pointer:
		nv := reflect.New(fv.Type().Elem())
		if err := parse(nv.Elem(), f, s); err != nil {
			return err
		}
		fv.Set(nv)
	case reflect.Bool:
		if s != "true" && s != "false" {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not true or false", f.name, s)
		}
		fv.SetBool(s == "true")
	case reflect.Int, reflect.Int64:
		n, err := strconv.Atoi(s)
		if err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not a whole number", f.name, s)
		}
		fv.SetInt(int64(n))
	case reflect.String:
		fv.SetString(s)
	default:
		panic(fmt.Sprintf("urlquery: parameter %s: field type %s is not supported", f.name, fv.Type()))
	}
	return nil
}
