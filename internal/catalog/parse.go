package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse/gatehouse"
)

// Object kinds, as used in plans, audit events and Document.Pos.
const (
	KindSettings    = "settings"
	KindSystem      = "system"
	KindEntitlement = "entitlement"
	KindRole        = "role"
	KindSoD         = "sod"
)

// listKey is the top-level YAML key of each kind's list, which is also how field paths name
// the kind.
var listKey = map[string]string{
	KindSystem:      "systems",
	KindEntitlement: "entitlements",
	KindRole:        "roles",
	KindSoD:         "sod",
}

// The fields each object may have, in the order docs/catalog.md writes them (used for "unknown field"
// messages and suggestions).
var (
	topFields         = []string{"settings", "systems", "entitlements", "roles", "sod"}
	settingsFields    = []string{"security_approvers", "leaver_guard", "emergency_operators", "emergency_max_duration", "exceptions"}
	leaverGuardFields = []string{"max_fraction", "min_count"}
	exceptionsFields  = []string{"on_expiry"}
	systemFields      = []string{"id", "name", "owner", "tier", "connector", "account_name"}
	namingFields      = []string{"template", "max_length", "charset", "collision"}
	entitlementFields = []string{"id", "system", "name", "description", "external_id", "kind", "risk", "owner", "requestable", "max_duration", "approval", "emergency"}
	roleFields        = []string{"id", "name", "description", "entitlements", "birthright"}
	sodFields         = []string{"id", "description", "left", "right", "severity", "on_violation"}
)

// Defaults Parse applies to fields a catalog leaves out.
var (
	// DefaultApproval is the approval chain of an entitlement that names none. Privileged
	// entitlements get "security" appended to whatever chain they have.
	DefaultApproval = []string{"manager", "owner"}
	// DefaultSeverity and DefaultOnViolation complete SoD rules: safe by default, a rule that
	// says nothing blocks.
	DefaultSeverity    = "high"
	DefaultOnViolation = "block"
)

// maxDuration bounds max_duration: beyond a century it is a typo, not a policy.
const maxDuration = gatehouse.Duration(100 * 365 * 24 * time.Hour)

// Document is a parsed and validated catalog.
type Document struct {
	// Catalog is the desired catalog, defaults applied, each list sorted by id (the order
	// store.Reader.LoadCatalog uses).
	Catalog *gatehouse.Catalog
	// Digest identifies the source files (see Digest).
	Digest string

	locs map[string]*objLoc // by kind + "\x00" + id
}

// Parse reads catalog files, merges them in the order given (lists concatenated; settings from
// the one file that has them), applies defaults and validates the result offline. On any
// problem it returns Problems listing all of them, with file and line, and no Document.
// Connector settings are checked against connectors, the connector types the caller knows
// (connectors.Specs in the binary): this package names no connector.
//
// YAML anchors and aliases are not supported: a catalog is reviewed as text in pull requests,
// and a reviewer should not have to resolve references by hand to see what an entitlement is.
func Parse(files []File, connectors gatehouse.ConnectorSpecs) (*Document, error) {
	p := &parser{bad: map[string]bool{}}
	for _, f := range files {
		p.file(f)
	}
	cat := &p.cat
	if p.locs.settings == nil {
		cat.Settings = gatehouse.DefaultSettings()
		p.locs.settings = newLoc("", 0, "settings")
	}
	applyDefaults(cat, &p.locs)

	v := newValidator(cat, &p.locs, connectors)
	v.skip = func(pr Problem) bool { return p.bad[pr.File+"\x00"+pr.Field] }
	v.run()
	p.probs = append(p.probs, v.probs...)
	if len(p.probs) > 0 {
		sortProblems(p.probs)
		return nil, p.probs
	}

	sortCatalog(cat, &p.locs)
	doc := &Document{Catalog: cat, Digest: Digest(files), locs: map[string]*objLoc{}}
	doc.locs[KindSettings+"\x00"] = p.locs.settings
	index := func(kind string, ids []string, locs []*objLoc) {
		for i, id := range ids {
			doc.locs[kind+"\x00"+id] = locs[i]
		}
	}
	index(KindSystem, ids(cat.Systems, func(s *gatehouse.System) string { return s.ID }), p.locs.systems)
	index(KindEntitlement, ids(cat.Entitlements, func(e *gatehouse.Entitlement) string { return e.ID }), p.locs.entitlements)
	index(KindRole, ids(cat.Roles, func(r *gatehouse.Role) string { return r.ID }), p.locs.roles)
	index(KindSoD, ids(cat.SoD, func(r *gatehouse.SoDRule) string { return r.ID }), p.locs.sod)
	return doc, nil
}

func ids[T any](list []T, id func(T) string) []string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = id(x)
	}
	return out
}

// applyDefaults fills in what the catalog left out. Owners default to the system's owner, so it
// runs after every file is read (a system and its entitlements may be in different files).
func applyDefaults(cat *gatehouse.Catalog, locs *locations) {
	owners := map[string]string{}
	for _, s := range cat.Systems {
		if _, ok := owners[s.ID]; !ok {
			owners[s.ID] = s.Owner
		}
	}
	for i, e := range cat.Entitlements {
		l := locs.entitlements[i]
		if e.Owner == "" {
			e.Owner = owners[e.System]
		}
		if !l.given("approval") {
			e.Approval = slices.Clone(DefaultApproval)
		}
		if e.Approval == nil {
			e.Approval = []string{}
		}
		if e.Risk == gatehouse.RiskPrivileged && !slices.Contains(e.Approval, "security") {
			e.Approval = append(e.Approval, "security")
		}
		if !l.given("requestable") {
			e.Requestable = true
		}
	}
	for _, r := range cat.SoD {
		if r.Severity == "" {
			r.Severity = DefaultSeverity
		}
		if r.OnViolation == "" {
			r.OnViolation = DefaultOnViolation
		}
	}
	for _, r := range cat.Roles {
		if r.Entitlements == nil {
			r.Entitlements = []string{}
		}
	}
}

// sortCatalog sorts each list by id, keeping locations aligned.
func sortCatalog(cat *gatehouse.Catalog, locs *locations) {
	sortAligned(cat.Systems, locs.systems, func(s *gatehouse.System) string { return s.ID })
	sortAligned(cat.Entitlements, locs.entitlements, func(e *gatehouse.Entitlement) string { return e.ID })
	sortAligned(cat.Roles, locs.roles, func(r *gatehouse.Role) string { return r.ID })
	sortAligned(cat.SoD, locs.sod, func(r *gatehouse.SoDRule) string { return r.ID })
}

func sortAligned[T any](list []T, locs []*objLoc, id func(T) string) {
	type pair struct {
		v T
		l *objLoc
	}
	pairs := make([]pair, len(list))
	for i := range list {
		pairs[i] = pair{list[i], locs[i]}
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return strings.Compare(id(a.v), id(b.v)) })
	for i, pr := range pairs {
		list[i], locs[i] = pr.v, pr.l
	}
}

// parser turns YAML nodes into domain objects, reporting structural problems (syntax, types,
// unknown and duplicate fields). Meaning (references, enums, required fields) is the
// validator's job, so that it also applies to catalogs that never were YAML.
type parser struct {
	probs Problems
	// bad holds file + "\x00" + field path of every structural problem, so the validator does
	// not report "required" for a field that was there but had the wrong type.
	bad map[string]bool
	cat gatehouse.Catalog

	locs locations
}

func (p *parser) add(file string, line int, field, format string, args ...any) {
	p.probs = append(p.probs, Problem{File: file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	p.bad[file+"\x00"+field] = true
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a YAML syntax error into a problem with its line.
func (p *parser) yamlError(file string, content []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	p.add(file, syntaxLine(content, line, msg), "", "YAML syntax: %s", msg)
}

// syntaxBudget bounds the bytes syntaxLine parses, so that a syntax error in a huge file costs
// at most a fraction of a second before falling back to the line the YAML library reported.
const syntaxBudget = 32 << 20

// syntaxLine finds the line of a YAML syntax error. The YAML library reports the line where
// the enclosing block starts (0-based, for parser errors), which for an indentation mistake
// in a long list can be far above the offending line. The offending line ends the shortest
// prefix of the file (in whole lines, from the reported one on) that fails with the same
// message; once a prefix holds the error every longer one fails the same way, so a galloping
// then binary search finds it in a logarithmic number of parses.
func syntaxLine(content []byte, reported int, msg string) int {
	ends := []int{0} // ends[k]: byte offset of the end of line k
	for off := 0; off < len(content); {
		next := bytes.IndexByte(content[off:], '\n')
		if next < 0 {
			off = len(content)
		} else {
			off += next + 1
		}
		ends = append(ends, off)
	}
	total := len(ends) - 1
	budget := syntaxBudget
	fails := func(k int) bool {
		budget -= ends[k]
		err := parseAll(content[:ends[k]])
		return err != nil && strings.HasSuffix(err.Error(), msg)
	}
	fallback := min(max(reported, 1), max(total, 1))
	lo, hi, step := max(reported, 1)-1, max(reported, 1), 1
	for {
		if hi > total {
			hi = total
		}
		if hi <= lo || budget < 0 {
			return fallback
		}
		if fails(hi) {
			break
		}
		if hi == total {
			return fallback
		}
		lo, hi, step = hi, hi+step, step*2
	}
	for hi-lo > 1 && budget >= 0 { // invariant: prefix lo passes, prefix hi fails
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// parseAll parses every document in b, returning the first error.
func parseAll(b []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func (p *parser) file(f File) {
	dec := yaml.NewDecoder(bytes.NewReader(f.Content))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if !errors.Is(err, io.EOF) { // EOF: an empty file, which adds nothing
			p.yamlError(f.Name, f.Content, err)
		}
		return
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		p.add(f.Name, max(extra.Line, 1), "", "a file may hold one YAML document (found a second one after ---); split the catalog into files instead")
	case !errors.Is(err, io.EOF):
		p.yamlError(f.Name, f.Content, err)
	}
	top := &root
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		top = root.Content[0]
	}
	if isNull(top) {
		return // a file of comments only
	}
	if top.Kind != yaml.MappingNode {
		p.add(f.Name, top.Line, "", "the top level must be a mapping with %s, got %s", strings.Join(topFields, ", "), describe(top))
		return
	}
	p.fields(f.Name, top, "", topFields, func(name string, k, v *yaml.Node) {
		switch name {
		case "settings":
			p.settings(f.Name, k, v)
		case "systems":
			p.list(f.Name, name, v, p.system)
		case "entitlements":
			p.list(f.Name, name, v, p.entitlement)
		case "roles":
			p.list(f.Name, name, v, p.role)
		case "sod":
			p.list(f.Name, name, v, p.sod)
		}
	})
}

// list walks a top-level list, calling item for each element with its object location.
func (p *parser) list(file, key string, n *yaml.Node, item func(file string, n *yaml.Node, loc *objLoc)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.add(file, n.Line, key, "must be a list, got %s", describe(n))
		return
	}
	for i, el := range n.Content {
		path := fmt.Sprintf("%s[%d]", key, i)
		if el.Kind == yaml.MappingNode {
			// Name the object by its id when it has a usable one: "systems[wiki].tier" is
			// easier to find than "systems[7].tier".
			for j := 0; j+1 < len(el.Content); j += 2 {
				k, v := el.Content[j], el.Content[j+1]
				if k.Value == "id" && v.Kind == yaml.ScalarNode && v.Value != "" && !strings.ContainsAny(v.Value, "[]\n") {
					path = key + "[" + v.Value + "]"
					break
				}
			}
		}
		if el.Kind != yaml.MappingNode {
			p.add(file, el.Line, path, "must be a mapping (id: …, name: …), got %s", describe(el))
			continue
		}
		item(file, el, newLoc(file, el.Line, path))
	}
}

// fields walks a mapping, reporting non-string, duplicate and unknown keys, and calls fn for
// each known key with a usable value, after recording the key's line in loc (if any).
func (p *parser) fields(file string, n *yaml.Node, path string, known []string, fn func(name string, k, v *yaml.Node)) {
	p.walkMap(file, n, path, func(name string, k, v *yaml.Node) {
		if !slices.Contains(known, name) {
			p.add(file, k.Line, join(path, name), "unknown field%s (known: %s)", didYouMean(name, known), strings.Join(known, ", "))
			return
		}
		fn(name, k, v)
	})
}

// objFields is fields for a mapping of the object at loc: its own (prefix "") or one nested
// under prefix ("account_name", "exceptions"). Each known field's line (and whether it is null)
// is recorded in loc, and fn gets the field's name and its path for problems.
func (p *parser) objFields(file string, n *yaml.Node, loc *objLoc, prefix string, known []string, fn func(name, fp string, v *yaml.Node)) {
	p.fields(file, n, loc.fieldPath(prefix), known, func(name string, k, v *yaml.Node) {
		f := join(prefix, name)
		record(loc, f, k, v)
		fn(name, loc.fieldPath(f), v)
	})
}

// walkMap walks a mapping's keys, reporting what no mapping in a catalog may have.
func (p *parser) walkMap(file string, n *yaml.Node, path string, fn func(name string, k, v *yaml.Node)) bool {
	if n.Kind == yaml.AliasNode {
		p.add(file, n.Line, path, "YAML aliases (*name) are not supported; write the value out")
		return false
	}
	if n.Kind != yaml.MappingNode {
		p.add(file, n.Line, path, "must be a mapping, got %s", describe(n))
		return false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			p.add(file, k.Line, path, "keys must be plain names, got %s", describe(k))
			continue
		}
		name := k.Value
		fp := join(path, name)
		if k.ShortTag() == "!!merge" {
			p.add(file, k.Line, path, "YAML merge keys (<<) are not supported; write the fields out")
			continue
		}
		if first, dup := seen[name]; dup {
			p.add(file, k.Line, fp, "duplicate field (first at line %d)", first)
			continue
		}
		seen[name] = k.Line
		if v.Kind == yaml.AliasNode {
			p.add(file, v.Line, fp, "YAML aliases (*name) are not supported; write the value out")
			continue
		}
		fn(name, k, v)
	}
	return true
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names a node's YAML type for messages. It never quotes the value: the value may be
// a secret someone pasted into the wrong field.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!bool":
		return "a bool"
	case "!!int", "!!float":
		return "a number"
	case "!!str":
		return "a string"
	case "!!timestamp":
		return "a timestamp"
	}
	return "a value tagged " + n.ShortTag()
}

// record notes that field of loc was written at k's line.
func record(loc *objLoc, field string, k, v *yaml.Node) {
	loc.fields[field] = k.Line
	if isNull(v) {
		loc.nulls[field] = true
	}
}

// str reads a string field. Numbers are accepted as their text (an external_id of 1234, a
// max_duration of 0); bools are not (a "name: yes" is almost surely a mistake). An empty value
// is "".
func (p *parser) str(file, path string, n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!int", "!!float", "!!timestamp":
			return n.Value
		case "!!null":
			return ""
		case "!!bool":
			p.add(file, n.Line, path, "must be a string, got a bool; quote it if you mean the text")
			return ""
		}
	}
	p.add(file, n.Line, path, "must be a string, got %s", describe(n))
	return ""
}

func (p *parser) boolean(file, path string, n *yaml.Node) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		p.add(file, n.Line, path, "must be true or false, got %s", describe(n))
	}
	return b
}

func (p *parser) float(file, path string, n *yaml.Node) float64 {
	var f float64
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!float" && n.ShortTag() != "!!int") || n.Decode(&f) != nil {
		p.add(file, n.Line, path, "must be a number, got %s", describe(n))
		return 0
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		p.add(file, n.Line, path, "must be a finite number")
		return 0
	}
	return f
}

func (p *parser) integer(file, path string, n *yaml.Node) int {
	var i int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		p.add(file, n.Line, path, "must be a whole number, got %s", describe(n))
	}
	return i
}

// strList reads a list of strings, recording each item's line as field[i].
func (p *parser) strList(file string, loc *objLoc, field string, n *yaml.Node) []string {
	path := loc.fieldPath(field)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.add(file, n.Line, path, "must be a list ([a, b]), got %s", describe(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, el := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		loc.fields[f] = el.Line
		if el.Kind == yaml.AliasNode {
			p.add(file, el.Line, loc.fieldPath(f), "YAML aliases (*name) are not supported; write the value out")
			continue
		}
		out = append(out, p.str(file, loc.fieldPath(f), el))
	}
	return out
}
