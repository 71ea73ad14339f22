package catalog

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// texts reports the catalog's text values that break the rules of docs/api.md ("Limits"): a
// NUL byte or a control character in a one-line value (ids, names, emails: a line break in a
// name would forge a line wherever it is printed), and values over their length limit.
// Descriptions and birthright rules are free text and may span lines.
func (v *validator) texts() {
	line := func(l *objLoc, field, val string, max int) {
		v.textProblem(l, field, gatehouse.CheckLine(field, val, max))
	}
	text := func(l *objLoc, field, val string, max int) {
		v.textProblem(l, field, gatehouse.CheckText(field, val, max))
	}
	list := func(l *objLoc, field string, vals []string, max int) {
		for i, s := range vals {
			line(l, fmt.Sprintf("%s[%d]", field, i), s, max)
		}
	}
	st := v.c.Settings
	sl := v.at(KindSettings, 0, "")
	list(sl, "security_approvers", st.SecurityApprovers, gatehouse.MaxEmailLength)
	list(sl, "emergency_operators", st.EmergencyOperators, gatehouse.MaxEmailLength)
	for i, s := range v.c.Systems {
		if s == nil {
			continue
		}
		l := v.at(KindSystem, i, s.ID)
		line(l, "id", s.ID, gatehouse.MaxIDLength)
		line(l, "name", s.Name, gatehouse.MaxNameLength)
		line(l, "owner", s.Owner, gatehouse.MaxEmailLength)
		v.settingTexts(l, "connector.settings", s.Connector.Settings)
	}
	for i, e := range v.c.Entitlements {
		if e == nil {
			continue
		}
		l := v.at(KindEntitlement, i, e.ID)
		line(l, "id", e.ID, gatehouse.MaxIDLength)
		line(l, "name", e.Name, gatehouse.MaxNameLength)
		text(l, "description", e.Description, gatehouse.MaxDescriptionLength)
		line(l, "external_id", e.ExternalID, gatehouse.MaxDescriptionLength) // a DN can be long
		line(l, "owner", e.Owner, gatehouse.MaxEmailLength)
		list(l, "approval", e.Approval, gatehouse.MaxEmailLength)
	}
	for i, r := range v.c.Roles {
		if r == nil {
			continue
		}
		l := v.at(KindRole, i, r.ID)
		line(l, "id", r.ID, gatehouse.MaxIDLength)
		line(l, "name", r.Name, gatehouse.MaxNameLength)
		text(l, "description", r.Description, gatehouse.MaxDescriptionLength)
		text(l, "birthright", r.Birthright, gatehouse.MaxDescriptionLength)
	}
	for i, r := range v.c.SoD {
		if r == nil {
			continue
		}
		l := v.at(KindSoD, i, r.ID)
		line(l, "id", r.ID, gatehouse.MaxIDLength)
		text(l, "description", r.Description, gatehouse.MaxDescriptionLength)
	}
}

// settingTexts refuses NULs and control characters other than tabs and line breaks in a
// connector's settings, at any depth.
func (v *validator) settingTexts(l *objLoc, path string, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var walk func(field string, x any)
	walk = func(field string, x any) {
		switch x := x.(type) {
		case string:
			v.textProblem(l, field, gatehouse.CheckText(field, x, 0)) // a CA certificate spans lines
		case []any:
			for i, y := range x {
				walk(fmt.Sprintf("%s[%d]", field, i), y)
			}
		case map[string]any:
			v.settingTexts(l, field, x)
		}
	}
	for _, k := range keys {
		walk(path+"."+k, m[k])
	}
}

// textProblem records err (from gatehouse.CheckLine or CheckText) as a problem of field, if any.
func (v *validator) textProblem(l *objLoc, field string, err error) {
	if err != nil {
		v.problem(l, field, "%s", strings.TrimPrefix(gatehouse.ErrorMessage(err), field+": "))
	}
}
