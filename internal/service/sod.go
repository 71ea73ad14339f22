package service

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/store"
)

// SoDViolationFilter narrows the detective SoD listing.
type SoDViolationFilter struct {
	Rule     string `query:"rule"`     // a rule id; "" for every rule
	Identity string `query:"identity"` // id, email or employee_id; "" for everyone
}

// SoDGrantRef is one grant that puts an entitlement on a side of a broken rule.
type SoDGrantRef struct {
	ID            string                `json:"id"`
	EntitlementID string                `json:"entitlement_id"`
	Source        gatehouse.GrantSource `json:"source"`
	Reference     string                `json:"reference,omitempty"`
	GrantedAt     time.Time             `json:"granted_at"`
	ExpiresAt     *time.Time            `json:"expires_at,omitempty"`
}

// SoDViolation is one person holding a conflicting pair today.
type SoDViolation struct {
	Rule        string `json:"rule"`
	Severity    string `json:"severity"`
	OnViolation string `json:"on_violation"`
	IdentityID  string `json:"identity_id"`
	Email       string `json:"email"`
	// Left and Right are the conflicting entitlements (the first in sorted order when the
	// person holds several on a side); the grants are every active grant of them.
	Left        string        `json:"left"`
	Right       string        `json:"right"`
	LeftGrants  []SoDGrantRef `json:"left_grants"`
	RightGrants []SoDGrantRef `json:"right_grants"`
	// Since is when the person first held both: the later of the two sides' earliest grants.
	Since time.Time `json:"since"`
}

// SoDViolations is the detective SoD report: everyone whose active grants break a rule.
type SoDViolations struct {
	Items []*SoDViolation `json:"items"`
	Count int             `json:"count"`
	// Identities is how many distinct people hold at least one conflicting pair.
	Identities int `json:"identities"`
	// ByOnViolation counts violations by the rule's on_violation (block, exception, record).
	ByOnViolation map[string]int `json:"by_on_violation"`
	// RulesChecked and GrantsChecked say what the report covered.
	RulesChecked  int       `json:"rules_checked"`
	GrantsChecked int       `json:"grants_checked"`
	At            time.Time `json:"at"`
}

// SoDViolations lists everyone whose active grants break an SoD rule today (readers), sorted by
// rule, then email. Every rule is reported whatever its on_violation: record rules are exactly
// the ones rolled out detective-first, and block or exception rules can still be broken by access
// granted before the rule existed or outside requests. It reads the active grants once, grouped by
// identity, and checks each person against the compiled rules.
func (s *Catalog) SoDViolations(ctx context.Context, p *gatehouse.Principal, f SoDViolationFilter) (*SoDViolations, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	now := s.now()
	var rules []*gatehouse.SoDRule
	if f.Rule != "" {
		r, err := s.store.GetSoDRule(ctx, f.Rule)
		if err != nil {
			return nil, err
		}
		rules = []*gatehouse.SoDRule{r}
	}
	gf := gatehouse.GrantFilter{Status: "active", Limit: gatehouse.MaxLimit}
	var only *gatehouse.Identity
	if f.Identity != "" {
		id, err := s.store.GetIdentity(ctx, f.Identity)
		if err != nil {
			return nil, err
		}
		only, gf.IdentityID = id, id.ID
	}
	var idx *policy.SoDIndex
	if f.Rule != "" {
		idx = policy.CompileSoD(rules)
	} else {
		var err error
		if idx, err = s.sodIndex(ctx, s.store); err != nil {
			return nil, err
		}
	}
	out := &SoDViolations{Items: []*SoDViolation{}, ByOnViolation: map[string]int{}, RulesChecked: idx.Len(), At: now}
	if idx.Len() == 0 {
		return out, nil
	}
	byIdentity, n, err := activeGrantsBy(ctx, s.store, gf, now)
	if err != nil {
		return nil, err
	}
	out.GrantsChecked = n
	held := make([]string, 0, 64)
	for identityID, grants := range byIdentity {
		held = held[:0]
		for _, g := range grants {
			held = append(held, g.EntitlementID)
		}
		for _, c := range idx.Violations(held) {
			v := &SoDViolation{
				Rule: c.Rule.ID, Severity: c.Rule.Severity, OnViolation: c.Rule.OnViolation,
				IdentityID: identityID, Left: c.Left, Right: c.Right,
				LeftGrants: grantRefs(grants, c.Left), RightGrants: grantRefs(grants, c.Right),
			}
			v.Since = v.LeftGrants[0].GrantedAt
			if r := v.RightGrants[0].GrantedAt; r.After(v.Since) {
				v.Since = r
			}
			out.Items = append(out.Items, v)
		}
	}
	if err := s.nameViolators(ctx, out.Items, only); err != nil {
		return nil, err
	}
	slices.SortFunc(out.Items, func(a, b *SoDViolation) int {
		return cmp.Or(strings.Compare(a.Rule, b.Rule), strings.Compare(a.Email, b.Email), strings.Compare(a.IdentityID, b.IdentityID))
	})
	people := map[string]bool{}
	for _, v := range out.Items {
		people[v.IdentityID] = true
		out.ByOnViolation[v.OnViolation]++
	}
	out.Count, out.Identities = len(out.Items), len(people)
	return out, nil
}

// nameViolators fills in emails: one lookup per person when few are involved, else one read of
// every identity.
func (s *Catalog) nameViolators(ctx context.Context, items []*SoDViolation, only *gatehouse.Identity) error {
	emails := map[string]string{}
	if only != nil {
		emails[only.ID] = only.Email
	}
	for _, v := range items {
		if _, ok := emails[v.IdentityID]; !ok {
			emails[v.IdentityID] = ""
		}
	}
	const fewLookups = 100
	if len(emails) > fewLookups {
		all, err := allIdentities(ctx, s.store)
		if err != nil {
			return err
		}
		for _, id := range all {
			if _, ok := emails[id.ID]; ok {
				emails[id.ID] = id.Email
			}
		}
	} else {
		for key, email := range emails {
			if email != "" {
				continue
			}
			id, err := s.store.GetIdentity(ctx, key)
			if err != nil {
				return fmt.Errorf("identity %s: %w", key, err)
			}
			emails[key] = id.Email
		}
	}
	for _, v := range items {
		v.Email = emails[v.IdentityID]
	}
	return nil
}

// grantRefs returns the grants of entitlement among grants, oldest first.
func grantRefs(grants []*gatehouse.Grant, entitlement string) []SoDGrantRef {
	var out []SoDGrantRef
	for _, g := range grants {
		if g.EntitlementID == entitlement {
			out = append(out, SoDGrantRef{ID: g.ID, EntitlementID: g.EntitlementID, Source: g.Source,
				Reference: g.Reference, GrantedAt: g.GrantedAt, ExpiresAt: g.ExpiresAt})
		}
	}
	slices.SortFunc(out, func(a, b SoDGrantRef) int {
		return cmp.Or(a.GrantedAt.Compare(b.GrantedAt), strings.Compare(a.ID, b.ID))
	})
	return out
}

// activeGrantsBy reads the grants f selects that are in force at now, by identity id, a page at
// a time, and says how many there were.
func activeGrantsBy(ctx context.Context, r store.Reader, f gatehouse.GrantFilter, now time.Time) (map[string][]*gatehouse.Grant, int, error) {
	out := map[string][]*gatehouse.Grant{}
	n := 0
	for {
		page, err := r.ListGrants(ctx, f)
		if err != nil {
			return nil, 0, fmt.Errorf("load grants: %w", err)
		}
		for _, g := range page.Items {
			if g.Active(now) {
				out[g.IdentityID] = append(out[g.IdentityID], g)
				n++
			}
		}
		if page.NextCursor == "" {
			return out, n, nil
		}
		f.Cursor = page.NextCursor
	}
}

// sodIndexes caches each Service's compiled SoD rules with the sequence number of the catalog
// apply they come from. Reading and compiling 1,000 rules costs milliseconds, more than the whole
// budget of a request-time check; the cache makes it one indexed read of the newest catalog.apply
// event. Only catalog.Apply writes SoD rules, always with that event in the same transaction, so
// an unchanged sequence means unchanged rules, also when another process applied the catalog.
// Keys are weak so that a Service dropped (in tests) takes its entry with it.
var sodIndexes sync.Map // weak.Pointer[core] → *sodCached

type sodCached struct {
	seq int64
	idx *policy.SoDIndex
}

// sodIndex returns the SoD rules r sees, compiled: from the cache when no catalog apply happened
// since they were compiled. r may be a transaction; the answer is then the transaction's view.
func (s *core) sodIndex(ctx context.Context, r store.Reader) (*policy.SoDIndex, error) {
	page, err := r.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: string(gatehouse.AuditCatalogApply), Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("sod rules: last catalog apply: %w", err)
	}
	var seq int64
	if len(page.Items) > 0 {
		seq = page.Items[0].Seq
	}
	key := weak.Make(s)
	if v, ok := sodIndexes.Load(key); ok && v.(*sodCached).seq == seq {
		return v.(*sodCached).idx, nil
	}
	rules, err := r.ListSoDRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("load sod rules: %w", err)
	}
	idx := policy.CompileSoD(rules)
	if _, loaded := sodIndexes.Swap(key, &sodCached{seq: seq, idx: idx}); !loaded {
		runtime.AddCleanup(s, func(k weak.Pointer[core]) { sodIndexes.Delete(k) }, key)
	}
	return idx, nil
}
