package catalog

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse/gatehouse"
)

// Format writes a catalog as catalog YAML, in the field order of docs/catalog.md, such that Parse of
// the output gives the same catalog back. It is how a stored catalog is exported to start
// managing it as code. Every field that has a default is written out (owner, approval,
// requestable), so the output does not change meaning if defaults change.
func Format(c *gatehouse.Catalog) ([]byte, error) {
	root := mapping()
	settings := mapping()
	add(settings, "security_approvers", flowList(c.Settings.SecurityApprovers))
	lg := mapping()
	lg.Style = yaml.FlowStyle
	add(lg, "max_fraction", scalar(c.Settings.LeaverGuard.MaxFraction))
	add(lg, "min_count", scalar(c.Settings.LeaverGuard.MinCount))
	add(settings, "leaver_guard", lg)
	if len(c.Settings.EmergencyOperators) > 0 {
		add(settings, "emergency_operators", flowList(c.Settings.EmergencyOperators))
	}
	if c.Settings.EmergencyMaxDuration != 0 {
		add(settings, "emergency_max_duration", str(formatDuration(c.Settings.EmergencyMaxDuration)))
	}
	if c.Settings.Exceptions.OnExpiry != "" {
		ex := mapping()
		ex.Style = yaml.FlowStyle
		add(ex, "on_expiry", str(string(c.Settings.Exceptions.OnExpiry)))
		add(settings, "exceptions", ex)
	}
	add(root, "settings", settings)

	if len(c.Systems) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, s := range c.Systems {
			m := mapping()
			add(m, "id", str(s.ID))
			add(m, "name", str(s.Name))
			add(m, "owner", str(s.Owner))
			add(m, "tier", str(string(s.Tier)))
			conn := mapping()
			add(conn, "type", str(s.Connector.Type))
			for _, k := range sortedKeys(s.Connector.Settings) {
				val, err := valueNode(s.Connector.Settings[k])
				if err != nil {
					return nil, fmt.Errorf("catalog: format system %s: connector.%s: %w", s.ID, k, err)
				}
				add(conn, k, val)
			}
			add(m, "connector", conn)
			if r := s.AccountName; r != nil {
				an := mapping()
				if r.Template != "" {
					add(an, "template", str(r.Template))
				}
				if r.MaxLength != 0 {
					add(an, "max_length", scalar(r.MaxLength))
				}
				if r.Charset != "" {
					add(an, "charset", str(r.Charset))
				}
				if r.Collision != "" {
					add(an, "collision", str(r.Collision))
				}
				add(m, "account_name", an)
			}
			list.Content = append(list.Content, m)
		}
		add(root, "systems", list)
	}
	if len(c.Entitlements) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range c.Entitlements {
			m := mapping()
			add(m, "id", str(e.ID))
			add(m, "system", str(e.System))
			add(m, "name", str(e.Name))
			addOpt(m, "description", e.Description)
			addOpt(m, "external_id", e.ExternalID)
			add(m, "kind", str(string(e.Kind)))
			add(m, "risk", str(string(e.Risk)))
			add(m, "owner", str(e.Owner))
			add(m, "requestable", scalar(e.Requestable))
			if e.MaxDuration != 0 {
				add(m, "max_duration", str(formatDuration(e.MaxDuration)))
			}
			add(m, "approval", flowList(e.Approval))
			if e.Emergency {
				add(m, "emergency", scalar(true))
			}
			list.Content = append(list.Content, m)
		}
		add(root, "entitlements", list)
	}
	if len(c.Roles) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range c.Roles {
			m := mapping()
			add(m, "id", str(r.ID))
			add(m, "name", str(r.Name))
			addOpt(m, "description", r.Description)
			add(m, "entitlements", flowList(r.Entitlements))
			addOpt(m, "birthright", r.Birthright)
			list.Content = append(list.Content, m)
		}
		add(root, "roles", list)
	}
	if len(c.SoD) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range c.SoD {
			m := mapping()
			add(m, "id", str(r.ID))
			addOpt(m, "description", r.Description)
			add(m, "left", flowList(r.Left))
			add(m, "right", flowList(r.Right))
			add(m, "severity", str(r.Severity))
			add(m, "on_violation", str(r.OnViolation))
			list.Content = append(list.Content, m)
		}
		add(root, "sod", list)
	}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("catalog: format: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("catalog: format: %w", err)
	}
	return buf.Bytes(), nil
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func add(m *yaml.Node, key string, val *yaml.Node) {
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, val)
}

func addOpt(m *yaml.Node, key, val string) {
	if val != "" {
		add(m, key, str(val))
	}
}

// str makes a string node; the encoder quotes it if it would otherwise read as another type
// ("0", "true", "null").
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func scalar(v any) *yaml.Node {
	n := &yaml.Node{}
	_ = n.Encode(v) // bools and numbers always encode
	return n
}

func flowList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}

// formatDuration writes a duration the way people write them in a catalog: "30d", "8h",
// "1h30m", rather than Go's "720h0m0s".
func formatDuration(d gatehouse.Duration) string {
	const day = 24 * time.Hour
	td := time.Duration(d)
	if td >= day && td%day == 0 {
		return fmt.Sprintf("%dd", td/day)
	}
	s := td.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// valueNode encodes a connector setting so that it parses back with the same Go type: a
// float that happens to be whole is written as 1000.0, not 1000, which would read as an int.
func valueNode(v any) (*yaml.Node, error) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v is not a finite number", x)
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s}, nil
	case string:
		return str(x), nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, el := range x {
			c, err := valueNode(el)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case map[string]any:
		n := mapping()
		for _, k := range sortedKeys(x) {
			c, err := valueNode(x[k])
			if err != nil {
				return nil, err
			}
			add(n, k, c)
		}
		return n, nil
	}
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return n, nil
}
