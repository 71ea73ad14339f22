package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Change operations.
const (
	OpAdd    = "add"
	OpChange = "change"
	OpRemove = "remove"
)

// Change is one difference between the stored catalog and a document.
type Change struct {
	Op   string `json:"op"`   // add | change | remove
	Kind string `json:"kind"` // settings | system | entitlement | role | sod
	ID   string `json:"id"`   // "settings" for the settings
	// Fields are the top-level fields that differ (JSON names, in declaration order), for a
	// change.
	Fields []string `json:"fields,omitempty"`
	// Before and After are the domain objects (*gatehouse.System, gatehouse.Settings, …); nil
	// when absent.
	Before any `json:"before,omitempty"`
	After  any `json:"after,omitempty"`
	// ActiveGrants counts unrevoked grants of a removed entitlement: removing it revokes them.
	ActiveGrants int `json:"active_grants,omitempty"`
}

// Plan is what applying a document would change, in the order Apply carries it out: adds and
// changes in dependency order (settings, systems, entitlements, roles, SoD rules), then removals
// in reverse dependency order, so that no step refers to something not (or no longer) there.
type Plan struct {
	Changes []Change `json:"changes"`
	// Digest is the document's digest (see Digest).
	Digest string `json:"digest"`
	// Base identifies the stored catalog the plan was made against. Apply refuses a plan whose
	// base is no longer what is stored: a plan shown to a person must be the plan applied.
	Base string `json:"base"`
	// Pins are the designated emails the plan pins to a person for the first time, or to a
	// different person than the stored catalog does (see Pin). Unchanged pins are not listed.
	Pins []Pin `json:"pins,omitempty"`
	// SecretRebinds are the systems whose connector URL changes while their secret references
	// stay: apply refuses them unless it is told to rebind (see SecretRebind).
	SecretRebinds []SecretRebind `json:"secret_rebinds,omitempty"`
	// Revocations are the grants applying the plan revokes (with prune), and the confirmation
	// an apply needs to revoke them; nil when it revokes none. The server fills them in (it
	// alone evaluates birthright rules over people); MakePlan leaves them nil.
	Revocations *Revocations `json:"revocations,omitempty"`
}

// Counts are the changes of one kind.
type Counts struct {
	Added   int `json:"added"`
	Changed int `json:"changed"`
	Removed int `json:"removed"`
}

// Summary counts a plan's changes per kind.
type Summary struct {
	Settings     Counts `json:"settings"`
	Systems      Counts `json:"systems"`
	Entitlements Counts `json:"entitlements"`
	Roles        Counts `json:"roles"`
	SoD          Counts `json:"sod"`
}

// Total adds up the counts of all kinds.
func (s Summary) Total() Counts {
	var t Counts
	for _, c := range []Counts{s.Settings, s.Systems, s.Entitlements, s.Roles, s.SoD} {
		t.Added += c.Added
		t.Changed += c.Changed
		t.Removed += c.Removed
	}
	return t
}

func (s *Summary) of(kind string) *Counts {
	switch kind {
	case KindSettings:
		return &s.Settings
	case KindSystem:
		return &s.Systems
	case KindEntitlement:
		return &s.Entitlements
	case KindRole:
		return &s.Roles
	}
	return &s.SoD
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Summary counts the plan's changes.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		n := s.of(c.Kind)
		switch c.Op {
		case OpAdd:
			n.Added++
		case OpChange:
			n.Changed++
		case OpRemove:
			n.Removed++
		}
	}
	return s
}

// Blocked lists the entitlement removals that would revoke active grants. Apply refuses them
// unless told to prune: removing an entitlement from the catalog must not silently take access
// away from people.
func (p *Plan) Blocked() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Op == OpRemove && c.ActiveGrants > 0 {
			out = append(out, c)
		}
	}
	return out
}

// Write renders the plan for people: one line per change ("+ entitlement corp-ldap/vpn",
// "~ system wiki (owner, tier)", "- role x"), a line per blocked removal, and a total.
func (p *Plan) Write(w io.Writer) error {
	var b strings.Builder
	short := p.Digest
	if len(short) > 12 {
		short = short[:12]
	}
	if p.Empty() {
		fmt.Fprintf(&b, "No changes: the stored catalog matches catalog %s.\n", short)
		_, err := io.WriteString(w, b.String())
		return err
	}
	for _, c := range p.Changes {
		sign := map[string]string{OpAdd: "+", OpChange: "~", OpRemove: "-"}[c.Op]
		name := c.Kind + " " + c.ID
		if c.Kind == KindSettings {
			name = KindSettings
		}
		fmt.Fprintf(&b, "%s %s", sign, name)
		if len(c.Fields) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(c.Fields, ", "))
		}
		if c.ActiveGrants > 0 {
			fmt.Fprintf(&b, " [%d active grants]", c.ActiveGrants)
		}
		b.WriteString("\n")
	}
	for _, pin := range p.Pins {
		b.WriteString(pin.String() + "\n")
	}
	for _, c := range p.Blocked() {
		fmt.Fprintf(&b, "! %s %s has %d active grant(s); re-run with --prune to revoke them\n", c.Kind, c.ID, c.ActiveGrants)
	}
	for _, rb := range p.SecretRebinds {
		fmt.Fprintf(&b, "! system %s: %s changes but its secrets (%s) stay; apply needs --rebind-secrets %s\n",
			rb.System, strings.Join(rb.Settings, ", "), strings.Join(rb.Secrets, ", "), rb.System)
	}
	t := p.Summary().Total()
	fmt.Fprintf(&b, "Plan for catalog %s: %d to add, %d to change, %d to remove.\n", short, t.Added, t.Changed, t.Removed)
	_, err := io.WriteString(w, b.String())
	return err
}

// MakePlan compares the catalog stored in r with doc and says what applying doc would change.
// It also checks what only the server can check: every owner and approver email must belong to
// a known identity. Unknown ones are Problems, with the file and line they were written on.
//
// To apply a plan, make it with the write transaction as r and pass it to Apply in the same
// transaction, so the plan applied is exactly the plan computed.
func MakePlan(ctx context.Context, r store.Reader, doc *Document) (*Plan, error) {
	if doc == nil || doc.Catalog == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "catalog: no document to plan")
	}
	stored, err := r.LoadCatalog(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog plan: %w", err)
	}
	pins, err := pinPeople(ctx, r, doc, stored)
	if err != nil {
		return nil, err
	}
	base, err := baseDigest(stored)
	if err != nil {
		return nil, fmt.Errorf("catalog plan: %w", err)
	}
	want := doc.Catalog
	plan := &Plan{Digest: doc.Digest, Base: base, Changes: []Change{}, Pins: pins}

	// Settings always exist (a store without settings reports the defaults), so they only
	// ever change.
	if fields, err := diffFields(stored.Settings, want.Settings); err != nil {
		return nil, fmt.Errorf("catalog plan: settings: %w", err)
	} else if len(fields) > 0 {
		plan.Changes = append(plan.Changes, Change{Op: OpChange, Kind: KindSettings, ID: KindSettings,
			Fields: fields, Before: stored.Settings, After: want.Settings})
	}

	var removals [][]Change // per kind, in dependency order; appended in reverse below
	diffKind := func(kind string, old, cur []any, id func(any) string) error {
		adds, rems, err := diffList(kind, old, cur, id)
		if err != nil {
			return fmt.Errorf("catalog plan: %w", err)
		}
		plan.Changes = append(plan.Changes, adds...)
		removals = append(removals, rems)
		return nil
	}
	if err := diffKind(KindSystem, anys(stored.Systems), anys(want.Systems), func(v any) string { return v.(*gatehouse.System).ID }); err != nil {
		return nil, err
	}
	if err := diffKind(KindEntitlement, anys(stored.Entitlements), anys(want.Entitlements), func(v any) string { return v.(*gatehouse.Entitlement).ID }); err != nil {
		return nil, err
	}
	if err := diffKind(KindRole, anys(stored.Roles), anys(want.Roles), func(v any) string { return v.(*gatehouse.Role).ID }); err != nil {
		return nil, err
	}
	if err := diffKind(KindSoD, anys(stored.SoD), anys(want.SoD), func(v any) string { return v.(*gatehouse.SoDRule).ID }); err != nil {
		return nil, err
	}
	for _, rems := range slices.Backward(removals) {
		plan.Changes = append(plan.Changes, rems...)
	}

	var gone []string
	for _, c := range plan.Changes {
		if c.Op == OpRemove && c.Kind == KindEntitlement {
			gone = append(gone, c.ID)
		}
	}
	if len(gone) > 0 {
		counts, err := r.CountActiveGrants(ctx, gone)
		if err != nil {
			return nil, fmt.Errorf("catalog plan: %w", err)
		}
		for i := range plan.Changes {
			if c := &plan.Changes[i]; c.Op == OpRemove && c.Kind == KindEntitlement {
				c.ActiveGrants = counts[c.ID]
			}
		}
	}
	plan.SecretRebinds = secretRebinds(plan)
	return plan, nil
}

func anys[T any](list []T) []any {
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out
}

// diffList compares two lists of one kind by id. It returns adds and changes (sorted by id)
// and removals (sorted by id).
func diffList(kind string, old, cur []any, id func(any) string) (adds, removals []Change, err error) {
	before := make(map[string]any, len(old))
	for _, v := range old {
		before[id(v)] = v
	}
	seen := make(map[string]bool, len(cur))
	for _, v := range cur {
		k := id(v)
		seen[k] = true
		prev, ok := before[k]
		if !ok {
			adds = append(adds, Change{Op: OpAdd, Kind: kind, ID: k, After: v})
			continue
		}
		fields, err := diffFields(prev, v)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", kind, k, err)
		}
		if len(fields) > 0 {
			adds = append(adds, Change{Op: OpChange, Kind: kind, ID: k, Fields: fields, Before: prev, After: v})
		}
	}
	for _, v := range old {
		if k := id(v); !seen[k] {
			removals = append(removals, Change{Op: OpRemove, Kind: kind, ID: k, Before: v})
		}
	}
	byID := func(a, b Change) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(adds, byID)
	slices.SortFunc(removals, byID)
	return adds, removals, nil
}

// diffFields compares two objects of one type by their canonical JSON and returns the JSON
// names of the top-level fields that differ, in declaration order. Comparing JSON, not Go
// values, makes what was stored and read back (ints that came back as floats, empty lists that
// came back as nil) compare equal to what was parsed.
func diffFields(a, b any) ([]string, error) {
	ja, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	jb, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(ja, jb) {
		return nil, nil // the common case, and cheap
	}
	ca, err := canonical(ja)
	if err != nil {
		return nil, err
	}
	cb, err := canonical(jb)
	if err != nil {
		return nil, err
	}
	var fields []string
	for _, f := range jsonFields(reflect.TypeOf(b)) {
		if !reflect.DeepEqual(ca[f], cb[f]) {
			fields = append(fields, f)
		}
	}
	// A pin that changed with its email says nothing more (the plan's Pins name the person);
	// a pin that changed alone is listed: the address now names someone else.
	all := slices.Clone(fields)
	return slices.DeleteFunc(fields, func(f string) bool {
		email, ok := pinOf[f]
		return ok && slices.Contains(all, email)
	}), nil
}

// pinOf maps the JSON name of each pin field to the email field it pins.
var pinOf = map[string]string{
	"security_approver_ids": "security_approvers", "emergency_operator_ids": "emergency_operators",
	"owner_id": "owner", "approver_ids": "approval",
}

// canonical decodes a JSON object and drops empty values (null, "", [], {}), which mean the
// same as absent in the catalog.
func canonical(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	prune(m)
	return m, nil
}

func prune(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		for _, el := range x {
			prune(el)
		}
		return len(x) == 0
	case map[string]any:
		for k, el := range x {
			if prune(el) {
				delete(x, k)
			}
		}
		return len(x) == 0
	case json.Number:
		// Compare numbers by value: 1 and 1.0 are the same setting.
		return false
	}
	return false
}

// jsonFields lists a struct type's JSON field names in declaration order.
func jsonFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// baseDigest identifies a stored catalog by the hash of its JSON (lists sorted by id, map keys
// sorted), so two reads of the same state give the same digest.
func baseDigest(c *gatehouse.Catalog) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
