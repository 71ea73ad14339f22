package catalog

import (
	"fmt"
	"math"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse/gatehouse"
)

// Parsing of each kind of catalog object (settings, systems and their connectors,
// entitlements, roles, SoD rules) from its YAML node, every problem recorded with file and line.

func (p *parser) settings(file string, k, n *yaml.Node) {
	if p.locs.settings != nil {
		p.add(file, k.Line, "settings", "settings are already defined at %s; only one file may hold them", p.locs.settings.pos())
		return
	}
	loc := newLoc(file, k.Line, "settings")
	p.locs.settings = loc
	s := gatehouse.DefaultSettings()
	if !isNull(n) {
		p.objFields(file, n, loc, "", settingsFields, func(name, fp string, v *yaml.Node) {
			switch name {
			case "security_approvers":
				if l := p.strList(file, loc, name, v); l != nil {
					s.SecurityApprovers = l
				}
			case "emergency_operators":
				if l := p.strList(file, loc, name, v); l != nil {
					s.EmergencyOperators = l
				}
			case "emergency_max_duration":
				if str := p.str(file, fp, v); str != "" {
					d, err := gatehouse.ParseDuration(str)
					switch {
					case err != nil:
						p.add(file, v.Line, fp, "%v", err)
					case d <= 0 || d > maxDuration:
						p.add(file, v.Line, fp, "%q is out of range (more than 0, at most %dd)", str, maxDuration/gatehouse.Duration(24*time.Hour))
					default:
						s.EmergencyMaxDuration = d
					}
				}
			case "exceptions":
				if isNull(v) {
					return
				}
				p.objFields(file, v, loc, "exceptions", exceptionsFields, func(name, fp string, v *yaml.Node) {
					if name == "on_expiry" && !isNull(v) {
						o := gatehouse.OnExpiry(p.str(file, fp, v))
						if !o.Valid() {
							p.add(file, v.Line, fp, "%q is not revoke or review", o)
							return
						}
						s.Exceptions.OnExpiry = o
					}
				})
			case "leaver_guard":
				if isNull(v) {
					return
				}
				p.objFields(file, v, loc, "leaver_guard", leaverGuardFields, func(name, fp string, v *yaml.Node) {
					if isNull(v) {
						return // keep the default
					}
					switch name {
					case "max_fraction":
						s.LeaverGuard.MaxFraction = p.float(file, fp, v)
					case "min_count":
						s.LeaverGuard.MinCount = p.integer(file, fp, v)
					}
				})
			}
		})
	}
	p.cat.Settings = s
}

func (p *parser) system(file string, n *yaml.Node, loc *objLoc) {
	s := &gatehouse.System{}
	p.objFields(file, n, loc, "", systemFields, func(name, fp string, v *yaml.Node) {
		switch name {
		case "id":
			s.ID = p.str(file, fp, v)
		case "name":
			s.Name = p.str(file, fp, v)
		case "owner":
			s.Owner = p.str(file, fp, v)
		case "tier":
			s.Tier = gatehouse.Tier(p.str(file, fp, v))
		case "connector":
			s.Connector = p.connector(file, loc, v)
		case "account_name":
			s.AccountName = p.naming(file, loc, v)
		}
	})
	p.cat.Systems = append(p.cat.Systems, s)
	p.locs.systems = append(p.locs.systems, loc)
}

// naming reads a system's account_name rule; an empty mapping is no rule (the defaults).
func (p *parser) naming(file string, loc *objLoc, n *yaml.Node) *gatehouse.AccountNaming {
	if isNull(n) {
		return nil
	}
	r := &gatehouse.AccountNaming{}
	p.objFields(file, n, loc, "account_name", namingFields, func(name, fp string, v *yaml.Node) {
		switch name {
		case "template":
			r.Template = p.str(file, fp, v)
		case "max_length":
			r.MaxLength = p.integer(file, fp, v)
		case "charset":
			r.Charset = p.str(file, fp, v)
		case "collision":
			r.Collision = p.str(file, fp, v)
		}
	})
	if *r == (gatehouse.AccountNaming{}) {
		return nil
	}
	return r
}

// connector reads a connector mapping: type into Type, every other key into Settings with its
// YAML type (string, int, bool, float; lists and mappings of those). Keys with an empty value
// are left out, as if not written.
func (p *parser) connector(file string, loc *objLoc, n *yaml.Node) gatehouse.Connector {
	var c gatehouse.Connector
	if isNull(n) {
		return c
	}
	p.walkMap(file, n, loc.fieldPath("connector"), func(name string, k, v *yaml.Node) {
		f := "connector." + name
		record(loc, f, k, v)
		if name == "type" {
			c.Type = p.str(file, loc.fieldPath(f), v)
			return
		}
		val, ok := p.value(file, loc, f, v)
		if !ok || val == nil {
			return
		}
		if c.Settings == nil {
			c.Settings = map[string]any{}
		}
		c.Settings[name] = val
	})
	return c
}

// value converts a connector setting to a plain Go value that survives a JSON round trip
// through the store.
func (p *parser) value(file string, loc *objLoc, field string, n *yaml.Node) (any, bool) {
	path := loc.fieldPath(field)
	switch n.Kind {
	case yaml.AliasNode:
		p.add(file, n.Line, path, "YAML aliases (*name) are not supported; write the value out")
		return nil, false
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, el := range n.Content {
			f := fmt.Sprintf("%s[%d]", field, i)
			loc.fields[f] = el.Line
			v, ok := p.value(file, loc, f, el)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case yaml.MappingNode:
		out := map[string]any{}
		good := p.walkMap(file, n, path, func(name string, k, v *yaml.Node) {
			f := field + "." + name
			record(loc, f, k, v)
			if val, ok := p.value(file, loc, f, v); ok && val != nil {
				out[name] = val
			}
		})
		return out, good
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!str", "!!timestamp", "!!binary":
			return n.Value, true
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				p.add(file, n.Line, path, "must be true or false")
				return nil, false
			}
			return b, true
		case "!!int":
			var i int
			if err := n.Decode(&i); err != nil {
				p.add(file, n.Line, path, "number out of range")
				return nil, false
			}
			return i, true
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				p.add(file, n.Line, path, "must be a finite number")
				return nil, false
			}
			return f, true
		}
	}
	p.add(file, n.Line, path, "unsupported value: %s", describe(n))
	return nil, false
}

func (p *parser) entitlement(file string, n *yaml.Node, loc *objLoc) {
	e := &gatehouse.Entitlement{}
	p.objFields(file, n, loc, "", entitlementFields, func(name, fp string, v *yaml.Node) {
		switch name {
		case "id":
			e.ID = p.str(file, fp, v)
		case "system":
			e.System = p.str(file, fp, v)
		case "name":
			e.Name = p.str(file, fp, v)
		case "description":
			e.Description = p.str(file, fp, v)
		case "external_id":
			e.ExternalID = p.str(file, fp, v)
		case "kind":
			e.Kind = gatehouse.EntitlementKind(p.str(file, fp, v))
		case "risk":
			e.Risk = gatehouse.Risk(p.str(file, fp, v))
		case "owner":
			e.Owner = p.str(file, fp, v)
		case "requestable":
			if !isNull(v) {
				e.Requestable = p.boolean(file, fp, v)
			}
		case "max_duration":
			if s := p.str(file, fp, v); s != "" {
				d, err := gatehouse.ParseDuration(s)
				switch {
				case err != nil:
					p.add(file, v.Line, fp, "%v", err)
				case d < 0 || d > maxDuration:
					// gatehouse.ParseDuration multiplies days without an overflow check.
					p.add(file, v.Line, fp, "%q is out of range (at most %dd)", s, maxDuration/gatehouse.Duration(24*time.Hour))
				default:
					e.MaxDuration = d
				}
			}
		case "approval":
			e.Approval = p.strList(file, loc, name, v)
		case "emergency":
			if !isNull(v) {
				e.Emergency = p.boolean(file, fp, v)
			}
		}
	})
	p.cat.Entitlements = append(p.cat.Entitlements, e)
	p.locs.entitlements = append(p.locs.entitlements, loc)
}

func (p *parser) role(file string, n *yaml.Node, loc *objLoc) {
	r := &gatehouse.Role{}
	p.objFields(file, n, loc, "", roleFields, func(name, fp string, v *yaml.Node) {
		switch name {
		case "id":
			r.ID = p.str(file, fp, v)
		case "name":
			r.Name = p.str(file, fp, v)
		case "description":
			r.Description = p.str(file, fp, v)
		case "entitlements":
			r.Entitlements = p.strList(file, loc, name, v)
		case "birthright":
			r.Birthright = strings.TrimSpace(p.str(file, fp, v))
		}
	})
	p.cat.Roles = append(p.cat.Roles, r)
	p.locs.roles = append(p.locs.roles, loc)
}

func (p *parser) sod(file string, n *yaml.Node, loc *objLoc) {
	r := &gatehouse.SoDRule{}
	p.objFields(file, n, loc, "", sodFields, func(name, fp string, v *yaml.Node) {
		switch name {
		case "id":
			r.ID = p.str(file, fp, v)
		case "description":
			r.Description = p.str(file, fp, v)
		case "left":
			r.Left = p.strList(file, loc, name, v)
		case "right":
			r.Right = p.strList(file, loc, name, v)
		case "severity":
			r.Severity = p.str(file, fp, v)
		case "on_violation":
			r.OnViolation = p.str(file, fp, v)
		}
	})
	p.cat.SoD = append(p.cat.SoD, r)
	p.locs.sod = append(p.locs.sod, loc)
}
