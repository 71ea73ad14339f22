package scimserver

import (
	"strings"

	"github.com/gatehouse/gatehouse/internal/scimproto"
)

// project applies attributes / excludedAttributes (RFC 7644 section 3.4.2.5). id and schemas
// are always returned.
func project(res map[string]any, attrs, excluded []string) map[string]any {
	if len(attrs) == 0 && len(excluded) == 0 {
		return res
	}
	if len(attrs) > 0 {
		out := map[string]any{"schemas": res["schemas"], "id": res["id"]}
		for _, a := range attrs {
			p, ok := projectionPath(a)
			if !ok {
				continue
			}
			src, dst := res, out
			if p.ext != "" {
				src = getMap(res, p.ext)
				if src == nil {
					continue
				}
				d, _ := out[p.ext].(map[string]any)
				if d == nil {
					d = map[string]any{}
					out[p.ext] = d
				}
				dst = d
			}
			k, v, ok := scimproto.Lookup(src, p.name)
			if !ok {
				continue
			}
			if p.sub == "" {
				dst[k] = v
				continue
			}
			switch vv := v.(type) {
			case map[string]any:
				sk, sv, ok := scimproto.Lookup(vv, p.sub)
				if !ok {
					continue
				}
				d, _ := dst[k].(map[string]any)
				if d == nil {
					d = map[string]any{}
					dst[k] = d
				}
				d[sk] = sv
			case []any:
				var list []any
				for _, el := range vv {
					if m, ok := el.(map[string]any); ok {
						if sk, sv, ok := scimproto.Lookup(m, p.sub); ok {
							list = append(list, map[string]any{sk: sv})
						}
					}
				}
				dst[k] = list
			}
		}
		return out
	}
	out := make(map[string]any, len(res))
	for k, v := range res {
		out[k] = v
	}
	for _, a := range excluded {
		p, ok := projectionPath(a)
		if !ok {
			continue
		}
		dst := out
		if p.ext != "" {
			ext := getMap(out, p.ext)
			if ext == nil {
				continue
			}
			c := make(map[string]any, len(ext))
			for k, v := range ext {
				c[k] = v
			}
			out[p.ext] = c
			dst = c
		}
		k, v, ok := scimproto.Lookup(dst, p.name)
		if !ok || strings.EqualFold(k, "id") || strings.EqualFold(k, "schemas") {
			continue
		}
		if p.sub == "" {
			delete(dst, k)
			continue
		}
		if m, ok := v.(map[string]any); ok {
			c := make(map[string]any, len(m))
			for mk, mv := range m {
				if !strings.EqualFold(mk, p.sub) {
					c[mk] = mv
				}
			}
			dst[k] = c
		}
	}
	return out
}

type projPath struct{ ext, name, sub string }

// projectionPath splits "name", "name.sub", "urn:...:User:name" and the enterprise
// extension's "urn:...:enterprise:2.0:User:name.sub".
func projectionPath(s string) (projPath, bool) {
	s = strings.TrimSpace(s)
	var p projPath
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, strings.ToLower(scimproto.SchemaEnterpriseUser)+":"):
		p.ext, s = scimproto.SchemaEnterpriseUser, s[len(scimproto.SchemaEnterpriseUser)+1:]
	case strings.EqualFold(s, scimproto.SchemaEnterpriseUser):
		return projPath{name: scimproto.SchemaEnterpriseUser}, true
	case strings.HasPrefix(lower, strings.ToLower(scimproto.SchemaUser)+":"):
		s = s[len(scimproto.SchemaUser)+1:]
	case strings.HasPrefix(lower, strings.ToLower(scimproto.SchemaGroup)+":"):
		s = s[len(scimproto.SchemaGroup)+1:]
	}
	p.name, p.sub, _ = strings.Cut(s, ".")
	return p, p.name != ""
}
