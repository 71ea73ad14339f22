package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Enumerations of the catalog format.
var (
	tiers         = []string{string(gatehouse.TierCritical), string(gatehouse.TierHigh), string(gatehouse.TierStandard)}
	kinds         = []string{string(gatehouse.KindGroup), string(gatehouse.KindRole), string(gatehouse.KindLicense), string(gatehouse.KindPermissionSet)}
	risks         = []string{string(gatehouse.RiskStandard), string(gatehouse.RiskSensitive), string(gatehouse.RiskPrivileged)}
	severities    = []string{"low", "medium", "high", "critical"}
	onViolations  = []string{"block", "exception", "record"}
	approvalSteps = []string{"manager", "owner", "security"}
)

// Validate checks a whole catalog, as it would be stored, without its YAML: required fields,
// id syntax, enumerations, references between objects, privileged access being time-bound and
// security-approved, connector settings (no inline secrets) and birthright rules. It does not
// apply defaults (Parse does) and does not look up identities (MakePlan does). Connector
// settings are checked against the specs of connectors (connectors.Specs in the binary). It
// returns Problems, whose positions are empty, or nil.
func Validate(c *gatehouse.Catalog, connectors gatehouse.ConnectorSpecs) error {
	if c == nil {
		return Problems{{Message: "no catalog"}}
	}
	v := newValidator(c, nil, connectors)
	v.run()
	if len(v.probs) > 0 {
		sortProblems(v.probs)
		return v.probs
	}
	return nil
}

type validator struct {
	c     *gatehouse.Catalog
	specs gatehouse.ConnectorSpecs // the connector types known, each declaring its settings
	locs  *locations
	skip  func(Problem) bool
	probs Problems

	systems      map[string]*gatehouse.System
	entitlements map[string]*gatehouse.Entitlement
	entIDs       []string // for suggestions
	sysIDs       []string
}

func newValidator(c *gatehouse.Catalog, locs *locations, specs gatehouse.ConnectorSpecs) *validator {
	if locs == nil {
		locs = &locations{}
	}
	return &validator{c: c, specs: specs, locs: locs, systems: map[string]*gatehouse.System{}, entitlements: map[string]*gatehouse.Entitlement{}}
}

// at returns the location of the idx-th object of a kind, or a synthetic one.
func (v *validator) at(kind string, idx int, id string) *objLoc {
	var list []*objLoc
	switch kind {
	case KindSettings:
		if v.locs.settings != nil {
			return v.locs.settings
		}
		return synthLoc(kind, "", 0)
	case KindSystem:
		list = v.locs.systems
	case KindEntitlement:
		list = v.locs.entitlements
	case KindRole:
		list = v.locs.roles
	case KindSoD:
		list = v.locs.sod
	}
	if idx < len(list) {
		return list[idx]
	}
	return synthLoc(kind, id, idx)
}

func (v *validator) problem(l *objLoc, field, format string, args ...any) {
	pr := Problem{File: l.file, Line: l.lineOf(field), Field: l.fieldPath(field), Message: fmt.Sprintf(format, args...)}
	if v.skip != nil && v.skip(pr) {
		return
	}
	v.probs = append(v.probs, pr)
}

func (v *validator) run() {
	v.texts() // text.go: NULs, control characters and lengths
	v.settings()
	firstSys := map[string]*objLoc{}
	for i, s := range v.c.Systems {
		if s == nil {
			v.problem(v.at(KindSystem, i, ""), "", "empty system")
			continue
		}
		l := v.at(KindSystem, i, s.ID)
		v.system(l, s)
		if s.ID == "" {
			continue
		}
		if first, dup := firstSys[s.ID]; dup {
			v.problem(l, "id", "duplicate id %s, first defined at %s", s.ID, first.pos())
			continue
		}
		firstSys[s.ID] = l
		v.systems[s.ID] = s
		v.sysIDs = append(v.sysIDs, s.ID)
	}
	firstEnt := map[string]*objLoc{}
	for i, e := range v.c.Entitlements {
		if e == nil {
			v.problem(v.at(KindEntitlement, i, ""), "", "empty entitlement")
			continue
		}
		l := v.at(KindEntitlement, i, e.ID)
		if e.ID == "" {
			continue
		}
		if first, dup := firstEnt[e.ID]; dup {
			v.problem(l, "id", "duplicate id %s, first defined at %s", e.ID, first.pos())
			continue
		}
		firstEnt[e.ID] = l
		v.entitlements[e.ID] = e
		v.entIDs = append(v.entIDs, e.ID)
	}
	var needSecurity []*objLoc
	for i, e := range v.c.Entitlements {
		if e == nil {
			continue
		}
		l := v.at(KindEntitlement, i, e.ID)
		v.entitlement(l, e)
		if slices.Contains(e.Approval, "security") {
			needSecurity = append(needSecurity, l)
		}
	}
	if len(needSecurity) > 0 && len(v.c.Settings.SecurityApprovers) == 0 {
		// Reported once, where the fix goes when there are settings: every privileged
		// entitlement has the same cause.
		l := v.at(KindSettings, 0, "")
		if l.file == "" && len(v.locs.entitlements) > 0 {
			l = needSecurity[0]
			v.problem(l, "approval", "needs security approval, but settings.security_approvers is empty (%d entitlement(s) need it); add settings: {security_approvers: [...]}", len(needSecurity))
		} else {
			v.problem(l, "security_approvers", "required: %d entitlement(s) need security approval (privileged ones always do), first %s", len(needSecurity), needSecurity[0].path)
		}
	}
	firstRole := map[string]*objLoc{}
	for i, r := range v.c.Roles {
		if r == nil {
			v.problem(v.at(KindRole, i, ""), "", "empty role")
			continue
		}
		l := v.at(KindRole, i, r.ID)
		v.role(l, r)
		if r.ID == "" {
			continue
		}
		if first, dup := firstRole[r.ID]; dup {
			v.problem(l, "id", "duplicate id %s, first defined at %s", r.ID, first.pos())
			continue
		}
		firstRole[r.ID] = l
	}
	firstSoD := map[string]*objLoc{}
	for i, r := range v.c.SoD {
		if r == nil {
			v.problem(v.at(KindSoD, i, ""), "", "empty SoD rule")
			continue
		}
		l := v.at(KindSoD, i, r.ID)
		v.sod(l, r)
		if r.ID == "" {
			continue
		}
		if first, dup := firstSoD[r.ID]; dup {
			v.problem(l, "id", "duplicate id %s, first defined at %s", r.ID, first.pos())
			continue
		}
		firstSoD[r.ID] = l
	}
}

func (v *validator) settings() {
	s := v.c.Settings
	l := v.at(KindSettings, 0, "")
	v.emails(l, "security_approvers", s.SecurityApprovers)
	v.emails(l, "emergency_operators", s.EmergencyOperators)
	if f := s.LeaverGuard.MaxFraction; !(f > 0 && f <= 1) {
		v.problem(l, "leaver_guard.max_fraction", "must be more than 0 and at most 1 (a share of active identities, e.g. 0.05), got %v", f)
	}
	if s.LeaverGuard.MinCount < 0 {
		v.problem(l, "leaver_guard.min_count", "must not be negative, got %d", s.LeaverGuard.MinCount)
	}
}

// emails checks a list of email addresses: each valid, none twice.
func (v *validator) emails(l *objLoc, field string, list []string) {
	seen := map[string]bool{}
	for i, e := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case e == "":
			v.problem(l, f, "empty email")
		case !gatehouse.ValidEmail(e):
			v.problem(l, f, "%q is not an email address", e)
		case seen[strings.ToLower(e)]:
			v.problem(l, f, "%s is listed twice", e)
		}
		seen[strings.ToLower(e)] = true
	}
}

// slug checks a required slug field.
func (v *validator) slug(l *objLoc, field, val string) {
	switch {
	case val == "":
		v.problem(l, field, "required")
	case !gatehouse.SlugPattern.MatchString(val):
		v.problem(l, field, "%q is not a valid id: use lowercase letters, digits and dashes, starting with a letter or digit", val)
	}
}

func (v *validator) required(l *objLoc, field, val string) bool {
	if strings.TrimSpace(val) == "" {
		v.problem(l, field, "required")
		return false
	}
	return true
}

// oneOf checks a required enumerated field.
func (v *validator) oneOf(l *objLoc, field, val string, allowed []string) {
	if !v.required(l, field, val) {
		return
	}
	if !slices.Contains(allowed, val) {
		v.problem(l, field, "%q is not one of %s%s", val, strings.Join(allowed, ", "), didYouMean(val, allowed))
	}
}

func (v *validator) email(l *objLoc, field, val string) {
	if v.required(l, field, val) && !gatehouse.ValidEmail(val) {
		v.problem(l, field, "%q is not an email address", val)
	}
}

func (v *validator) system(l *objLoc, s *gatehouse.System) {
	v.slug(l, "id", s.ID)
	v.required(l, "name", s.Name)
	v.email(l, "owner", s.Owner)
	v.oneOf(l, "tier", string(s.Tier), tiers)
	v.connector(l, s.Connector)
	for _, pr := range s.NamingProblems(v.specs) {
		f := "account_name"
		if pr.Field != "" {
			f += "." + pr.Field
		}
		v.problem(l, f, "%s", pr.Message)
	}
}

func (v *validator) entitlement(l *objLoc, e *gatehouse.Entitlement) {
	if v.required(l, "id", e.ID) {
		sys, slug, ok := strings.Cut(e.ID, "/")
		switch {
		case !ok || !gatehouse.SlugPattern.MatchString(sys) || !gatehouse.SlugPattern.MatchString(slug):
			v.problem(l, "id", "%q is not <system>/<slug> (lowercase letters, digits and dashes, e.g. corp-ldap/engineering)", e.ID)
		case e.System != "" && sys != e.System:
			v.problem(l, "id", "%q starts with %s/ but its system is %s; an entitlement's id is <system>/<slug>", e.ID, sys, e.System)
		}
	}
	sys := v.systems[e.System]
	if v.required(l, "system", e.System) && sys == nil {
		v.problem(l, "system", "unknown system %s%s", e.System, didYouMean(e.System, v.sysIDs))
	}
	v.required(l, "name", e.Name)
	v.oneOf(l, "kind", string(e.Kind), kinds)
	v.oneOf(l, "risk", string(e.Risk), risks)
	// An owner copied from the system is checked (and reported) there, once; without a known
	// system there is no default, and "unknown system" says why.
	defaulted := l.file != "" && !l.given("owner")
	if (e.Owner != "" || sys != nil) && !(defaulted && sys != nil) {
		v.email(l, "owner", e.Owner)
	}
	if e.MaxDuration < 0 {
		v.problem(l, "max_duration", "must not be negative")
	}
	if e.Emergency {
		// Break-glass access is short by construction: the entitlement says how short.
		limit := v.c.Settings.EmergencyLimit()
		switch {
		case e.MaxDuration == 0:
			v.problem(l, "max_duration", "emergency access is always time-bound: set a max_duration of at most %s (settings.emergency_max_duration)", limit)
		case time.Duration(e.MaxDuration) > limit:
			v.problem(l, "max_duration", "emergency access may last at most %s (settings.emergency_max_duration), got %s", limit, time.Duration(e.MaxDuration))
		}
	}
	if e.Risk == gatehouse.RiskPrivileged {
		if e.MaxDuration == 0 {
			v.problem(l, "max_duration", "privileged access is always time-bound: set a max_duration such as 8h or 30d")
		}
		if !slices.Contains(e.Approval, "security") {
			v.problem(l, "approval", "privileged access needs security approval: add security")
		}
	}
	seen := map[string]bool{}
	for i, step := range e.Approval {
		f := fmt.Sprintf("approval[%d]", i)
		switch {
		case seen[strings.ToLower(step)]:
			v.problem(l, f, "%s is listed twice", step)
		case slices.Contains(approvalSteps, step):
		case strings.Contains(step, "@"):
			if !gatehouse.ValidEmail(step) {
				v.problem(l, f, "%q is not an email address", step)
			}
		default:
			v.problem(l, f, "%q is not manager, owner, security or an email%s", step, didYouMean(step, approvalSteps))
		}
		seen[strings.ToLower(step)] = true
	}
}

// entRefs checks a list of entitlement references.
func (v *validator) entRefs(l *objLoc, field string, list []string) {
	if len(list) == 0 {
		v.problem(l, field, "required: name at least one entitlement")
		return
	}
	seen := map[string]bool{}
	for i, id := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case id == "":
			v.problem(l, f, "empty entitlement id")
		case seen[id]:
			v.problem(l, f, "%s is listed twice", id)
		case v.entitlements[id] == nil:
			v.problem(l, f, "unknown entitlement %s%s", id, didYouMean(id, v.entIDs))
		}
		seen[id] = true
	}
}

func (v *validator) role(l *objLoc, r *gatehouse.Role) {
	v.slug(l, "id", r.ID)
	v.required(l, "name", r.Name)
	v.entRefs(l, "entitlements", r.Entitlements)
	if r.Birthright != "" {
		if _, err := policy.CompileBirthright(r.Birthright); err != nil {
			v.problem(l, "birthright", "%v", err)
		}
		v.birthrightGrants(l, r)
	}
}

// birthrightGrants keeps a birthright rule from granting what needs a decision: a birthright
// grant has no request, no approver and no expiry, and a rule can name one person (its author,
// say). So a birthright role holds no privileged entitlement (privileged access is requested
// and security-approved), nor both sides of a preventive SoD rule (block, or exception: nobody
// approved one).
func (v *validator) birthrightGrants(l *objLoc, r *gatehouse.Role) {
	for i, id := range r.Entitlements {
		if e := v.entitlements[id]; e != nil && e.Risk == gatehouse.RiskPrivileged {
			v.problem(l, fmt.Sprintf("entitlements[%d]", i), "%s is privileged: privileged access is requested and security-approved, never a birthright", id)
		}
	}
	for _, rule := range v.c.SoD {
		if rule == nil || (rule.OnViolation != "block" && rule.OnViolation != "exception") {
			continue
		}
		left := slices.ContainsFunc(rule.Left, func(id string) bool { return slices.Contains(r.Entitlements, id) })
		right := slices.ContainsFunc(rule.Right, func(id string) bool { return slices.Contains(r.Entitlements, id) })
		if left && right {
			v.problem(l, "entitlements", "holds both sides of SoD rule %s (on_violation: %s): a birthright role cannot grant them together", rule.ID, rule.OnViolation)
		}
	}
}

func (v *validator) sod(l *objLoc, r *gatehouse.SoDRule) {
	v.slug(l, "id", r.ID)
	v.entRefs(l, "left", r.Left)
	v.entRefs(l, "right", r.Right)
	for i, id := range r.Right {
		if id != "" && slices.Contains(r.Left, id) {
			v.problem(l, fmt.Sprintf("right[%d]", i), "%s is on both sides; nobody could hold it", id)
		}
	}
	v.oneOf(l, "severity", r.Severity, severities)
	v.oneOf(l, "on_violation", r.OnViolation, onViolations)
}

// sortedKeys returns a map's keys in order, so problems come out in a stable order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
