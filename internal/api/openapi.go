package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse"
)

// buildOpenAPI describes the routes as an OpenAPI 3.1 document. Schemas are derived from the Go
// types the handlers decode and encode (their json tags), so they change when the types do.
func buildOpenAPI(routes []route, version string) map[string]any {
	sg := &schemaGen{schemas: map[string]any{}, names: map[reflect.Type]string{}}
	errRef := sg.schema(reflect.TypeFor[errorBody]())

	paths := map[string]any{}
	tags := map[string]bool{}
	for i := range routes {
		rt := &routes[i]
		tags[rt.tag] = true
		p := openAPIPath(rt.path)
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		item[strings.ToLower(rt.method)] = sg.operation(rt, errRef)
	}
	tagList := []any{}
	for _, t := range []string{"health", "identities", "catalog", "grants", "audit", "tokens"} {
		if tags[t] {
			tagList = append(tagList, map[string]any{"name": t})
			delete(tags, t)
		}
	}
	for t := range tags { // a tag added to the table but not to the list above
		tagList = append(tagList, map[string]any{"name": t})
	}

	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "Gatehouse API",
			"version": version,
			"description": "Identity governance: identities, the catalog, grants, tokens and the audit log. " +
				"Every /api/v1 route except this document needs Authorization: Bearer <token>. " +
				"Errors are {\"error\": {\"code\", \"message\", \"details\"}}. Lists are " +
				"{\"items\": [...], \"next_cursor\": \"...\"}; pass cursor= for the next page.",
		},
		"servers":  []any{map[string]any{"url": "/"}},
		"security": []any{map[string]any{"bearer": []any{}}},
		"tags":     tagList,
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer",
					"description": "A Gatehouse token (gh_…) or the bootstrap token"},
			},
			"schemas": sg.schemas,
		},
	}
}

func marshalOpenAPI(doc map[string]any) ([]byte, error) {
	return json.MarshalIndent(doc, "", "  ")
}

// openAPIPath turns a ServeMux path into an OpenAPI path: {id...} becomes {id}.
func openAPIPath(p string) string { return strings.ReplaceAll(p, "...}", "}") }

// errorStatuses are the error answers a route can give, from what the route table says of it.
func errorStatuses(rt *route) []int {
	var out []int
	if len(rt.query) > 0 || rt.body != nil || rt.catalogBody {
		out = append(out, http.StatusBadRequest)
	}
	if rt.access != accessPublic {
		out = append(out, http.StatusUnauthorized)
		if rt.access != accessSignedIn || rt.body != nil {
			out = append(out, http.StatusForbidden)
		}
	}
	if len(rt.pathParams()) > 0 || rt.body != nil {
		out = append(out, http.StatusNotFound)
	}
	if rt.conflict {
		out = append(out, http.StatusConflict)
	}
	if rt.access != accessPublic {
		// An address that failed to authenticate too often (docs/api.md, Rate limiting).
		out = append(out, http.StatusTooManyRequests)
	}
	if rt.name == "readyz" {
		out = append(out, http.StatusServiceUnavailable)
	}
	return append(out, http.StatusInternalServerError)
}

func (sg *schemaGen) operation(rt *route, errRef map[string]any) map[string]any {
	op := map[string]any{
		"operationId":        rt.name,
		"summary":            rt.summary,
		"description":        "Who may call: " + string(rt.access) + ".",
		"tags":               []any{rt.tag},
		"x-gatehouse-access": string(rt.access),
	}
	if rt.access == accessPublic {
		op["security"] = []any{} // no token needed
	}

	var params []any
	for _, name := range rt.pathParams() {
		desc := "id"
		if strings.HasSuffix(rt.path, "...}") {
			desc = "id; it contains a slash (system/slug), which may be sent as is"
		} else if strings.HasPrefix(rt.path, "/api/v1/identities/") {
			desc = "id, email or employee_id"
		}
		params = append(params, map[string]any{
			"name": name, "in": "path", "required": true, "description": desc,
			"schema": map[string]any{"type": "string"},
		})
	}
	for _, p := range rt.query {
		s := map[string]any{"type": "string"}
		switch p.kind {
		case kindInt:
			s = map[string]any{"type": "integer", "minimum": p.min, "maximum": p.max}
		case kindBool:
			s = map[string]any{"type": "boolean"}
		case kindTime:
			s = map[string]any{"type": "string", "format": "date-time"}
		default:
			if p.enum != nil {
				s["enum"] = p.enum
			}
		}
		qp := map[string]any{"name": p.name, "in": "query", "required": false, "schema": s}
		if p.desc != "" {
			qp["description"] = p.desc
		}
		params = append(params, qp)
	}
	if params != nil {
		op["parameters"] = params
	}

	if rt.body != nil {
		content := map[string]any{
			"application/json": map[string]any{"schema": sg.schema(reflect.TypeOf(rt.body))},
		}
		if rt.catalogBody {
			yaml := map[string]any{"schema": map[string]any{"type": "string",
				"description": "one catalog YAML file; its name for error messages comes from the X-Catalog-File header (default catalog.yaml)"}}
			for _, ct := range yamlTypes {
				content[ct] = yaml
			}
		}
		if rt.hrBody {
			content["text/csv"] = map[string]any{"schema": map[string]any{"type": "string",
				"description": "the HR feed CSV of docs/hr.md (header row, UTF-8); its name for error messages comes from the X-HR-File header (default hr.csv)"}}
		}
		op["requestBody"] = map[string]any{"required": true, "content": content}
	}

	ok := map[string]any{"description": http.StatusText(rt.status)}
	switch {
	case rt.response != nil:
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": sg.schema(reflect.TypeOf(rt.response))}}
	case rt.contentType != "":
		ok["content"] = map[string]any{rt.contentType: map[string]any{"schema": map[string]any{"type": "string"}}}
	}
	responses := map[string]any{strconv.Itoa(rt.status): ok}
	for _, st := range errorStatuses(rt) {
		responses[strconv.Itoa(st)] = map[string]any{
			"description": http.StatusText(st),
			"content":     map[string]any{"application/json": map[string]any{"schema": errRef}},
		}
	}
	op["responses"] = responses
	return op
}

// schemaGen derives JSON Schemas from Go types, registering named structs as components.
type schemaGen struct {
	schemas map[string]any
	names   map[reflect.Type]string
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[gatehouse.Duration]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	marshalerT   = reflect.TypeFor[json.Marshaler]()
)

// enums lists the values of the domain's string types, for the schema.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[gatehouse.IdentityStatus]():  identityStatuses,
	reflect.TypeFor[gatehouse.EmploymentType]():  employmentTypes,
	reflect.TypeFor[gatehouse.AccessRole]():      accessRoles,
	reflect.TypeFor[gatehouse.Risk]():            risks,
	reflect.TypeFor[gatehouse.GrantSource]():     grantSources,
	reflect.TypeFor[gatehouse.IdentityKind]():    enumOf(gatehouse.KindPerson, gatehouse.KindService),
	reflect.TypeFor[gatehouse.Tier]():            enumOf(gatehouse.TierCritical, gatehouse.TierHigh, gatehouse.TierStandard),
	reflect.TypeFor[gatehouse.EntitlementKind](): enumOf(gatehouse.KindGroup, gatehouse.KindRole, gatehouse.KindLicense, gatehouse.KindPermissionSet),
}

func (sg *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == durationType:
		return map[string]any{"type": "string", "description": "Go duration or whole days", "examples": []any{"8h", "720h", "30d"}}
	case t == rawType:
		return map[string]any{} // any JSON
	case t.Implements(marshalerT) || reflect.PointerTo(t).Implements(marshalerT):
		return map[string]any{} // encodes itself; we cannot tell its shape
	}
	switch t.Kind() {
	case reflect.String:
		s := map[string]any{"type": "string"}
		if e, ok := enums[t]; ok {
			s["enum"] = e
		}
		return s
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": sg.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": sg.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return sg.object(t)
		}
		name, ok := sg.names[t]
		if !ok {
			name = componentName(t)
			if _, taken := sg.schemas[name]; taken {
				// Two packages use one type name (catalog.Result, say): qualify the second.
				pkg := t.PkgPath()[strings.LastIndexByte(t.PkgPath(), '/')+1:]
				name = strings.ToUpper(pkg[:1]) + pkg[1:] + name
			}
			sg.names[t] = name
			sg.schemas[name] = map[string]any{} // placeholder: breaks recursion
			sg.schemas[name] = sg.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// object describes a struct the way encoding/json writes it: exported fields by their json
// names, embedded structs flattened.
func (sg *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	sg.fields(t, props)
	return map[string]any{"type": "object", "properties": props}
}

func (sg *schemaGen) fields(t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				sg.fields(ft, props)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := sg.schema(f.Type)
		if f.Type.Kind() == reflect.Pointer && !strings.Contains(opts, "omitempty") {
			s = nullable(s)
		}
		props[name] = s
	}
}

// nullable lets a schema also be null (a nil pointer encoded without omitempty).
func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok {
		out := map[string]any{}
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []any{typ, "null"}
		return out
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// componentName names a Go type in the document: its name, capitalized, with type arguments
// folded in (gatehouse.Page[*gatehouse.Identity] becomes IdentityPage).
func componentName(t reflect.Type) string {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 {
		base, arg := name[:i], strings.TrimSuffix(name[i+1:], "]")
		if j := strings.LastIndexAny(arg, "./*"); j >= 0 {
			arg = arg[j+1:]
		}
		name = arg + base
	}
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	name = string(r)
	if name == "ErrorBody" {
		return "Error"
	}
	return name
}

// serveOpenAPI answers the document built at start.
func (a *api) serveOpenAPI(w http.ResponseWriter, _ *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.openapi) // a failed write means the client left; nothing to answer
	return nil
}
