package jml

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// AttrLifecycle is the attribute that marks a pre-hire (value LifecyclePreHire): an identity
// with status active whose start date is further away than the lead time. It gets no access
// until an import (or the daily check) finds the start date near enough.
const (
	AttrLifecycle    = "lifecycle"
	LifecyclePreHire = "pre-hire"
)

// Class is what a snapshot means for one person.
type Class string

const (
	Joiner        Class = "joiner"         // new and active: created with birthright access
	PreHire       Class = "pre-hire"       // new (or still) before start_date minus the lead time: created, no access
	NewTerminated Class = "new-terminated" // first seen already terminated: created, no access
	Mover         Class = "mover"          // department/title/manager/location/employment type changed
	Updated       Class = "updated"        // other fields changed, or the birthright result changed
	Leaver        Class = "leaver"         // terminated, end date passed, or missing: every grant revoked
	Leave         Class = "leave"          // went on leave: suspended, grants kept
	Returner      Class = "returner"       // back from leave: birthright recomputed
	Rehire        Class = "rehire"         // terminated before, active again: birthright only
	Missing       Class = "missing"        // not in the snapshot, held for review (MissingHold)
	Skipped       Class = "skipped"        // the employee_id belongs to an identity HR does not own
)

// classOrder is the order items are listed in: what removes access first.
var classOrder = []Class{Leaver, Leave, Missing, Mover, Rehire, Returner, Joiner, PreHire, NewTerminated, Updated, Skipped}

// MissingPolicy says what happens to a known person missing from a snapshot.
type MissingPolicy string

const (
	MissingLeaver MissingPolicy = "leaver" // the default leaver policy (docs/hr.md)
	MissingHold   MissingPolicy = "hold"   // reported for review, nothing changed
)

// Options tune a plan.
type Options struct {
	// LeadTime: a future joiner gets access from start_date minus LeadTime.
	LeadTime time.Duration
	Missing  MissingPolicy
	Guard    gatehouse.LeaverGuard
	// Owned says whether HR may change an existing identity. Default: Kind person with source
	// hr-csv, api, demo or empty — the records HR created or that were created by hand before HR
	// took over; identities of other sources (a SCIM client, say) are never overwritten.
	Owned func(*gatehouse.Identity) bool
	// Partial: the snapshot is a delta (a SCIM client's change to one person, say): identities
	// missing from it are not touched (no leaver, no missing).
	Partial bool
	// Keep, when positive, keeps only the first Keep items of each class (a dry run's answer
	// shows a page of them); the summary still counts every item. An applied plan keeps all.
	Keep int
	// Recent is what the leaver guard adds from earlier imports.
	Recent Recent
	// Chunk is how many rows are planned (and handed to ApplyRows' apply) at a time: what the
	// stored state read for them, and their items, are all a plan holds of the company at once
	// (0: DefaultChunk).
	Chunk int
	// OnTimeDays: a leaver terminated at most this many days after their end date is not late
	// (late.go). 0 for imports; the daily date check, which terminates on the day after the
	// end date by design, allows 1.
	OnTimeDays int
}

// Recent is the removals (terminations and suspensions) earlier imports made within the leaver
// guard's rolling window: a mass termination split into several imports is held too.
type Recent struct {
	Removals int
	Window   time.Duration
}

// DefaultOwned is the default Options.Owned.
func DefaultOwned(i *gatehouse.Identity) bool {
	if i.Kind == gatehouse.KindService {
		return false
	}
	switch i.Source {
	case Source, "api", "demo", "":
		return true
	}
	return false
}

// BirthrightRole is a catalog role with its compiled birthright rule.
type BirthrightRole struct {
	Role *gatehouse.Role
	Rule *policy.Rule
}

// CompileRoles compiles the birthright rules of roles (roles without one are skipped). The
// catalog validated them on apply, so an error here means a stored rule no longer compiles.
func CompileRoles(roles []*gatehouse.Role) ([]BirthrightRole, error) {
	var out []BirthrightRole
	for _, r := range roles {
		if strings.TrimSpace(r.Birthright) == "" {
			continue
		}
		rule, err := policy.CompileBirthright(r.Birthright)
		if err != nil {
			return nil, fmt.Errorf("role %s: birthright: %w", r.ID, err)
		}
		out = append(out, BirthrightRole{Role: r, Rule: rule})
	}
	slices.SortFunc(out, func(a, b BirthrightRole) int { return strings.Compare(a.Role.ID, b.Role.ID) })
	return out, nil
}

// Change is one field that changes.
type Change struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// GrantChange is a grant gained or lost. A gained grant has no GrantID yet.
type GrantChange struct {
	EntitlementID string                `json:"entitlement_id"`
	Role          string                `json:"role,omitempty"` // the birthright role
	Source        gatehouse.GrantSource `json:"source"`
	GrantID       string                `json:"grant_id,omitempty"`
}

// Item is what the plan does to one person.
type Item struct {
	Class      Class  `json:"class"`
	EmployeeID string `json:"employee_id"`
	Email      string `json:"email"`
	IdentityID string `json:"identity_id,omitempty"` // "" for a new identity
	Reason     string `json:"reason,omitempty"`
	// Identity is the identity as it will be stored (nil when it is not written); Before is the
	// stored identity it was planned from (nil for a new person).
	Identity *gatehouse.Identity `json:"-"`
	Before   *gatehouse.Identity `json:"-"`
	Changes  []Change            `json:"changes,omitempty"`
	Gain     []GrantChange       `json:"gain,omitempty"`
	Lose     []GrantChange       `json:"lose,omitempty"`
	// Confirm lists a mover's request-sourced grants, kept but to be confirmed by ConfirmBy
	// (the new manager's employee_id).
	Confirm   []GrantChange `json:"confirm,omitempty"`
	ConfirmBy string        `json:"confirm_by,omitempty"`
	// LateDays, for a leaver this plan terminates after their end date, is how many days
	// after it; Late says so in words (late.go).
	LateDays int    `json:"late_days,omitempty"`
	Late     string `json:"late,omitempty"`
}

// statusChanged reports whether the item changes the identity's status.
func (it *Item) statusChanged() bool {
	for _, c := range it.Changes {
		if c.Field == "status" {
			return true
		}
	}
	return false
}

// Write reports whether the item changes the stored identity.
func (it *Item) Write() bool { return it.Identity != nil }

// Summary counts a plan.
type Summary struct {
	Rows          int `json:"rows"`
	Joiners       int `json:"joiners"`
	PreHires      int `json:"pre_hires"`
	NewTerminated int `json:"new_terminated"`
	Movers        int `json:"movers"`
	Updated       int `json:"updated"`
	Leavers       int `json:"leavers"`
	Leave         int `json:"leave"`
	Returners     int `json:"returners"`
	Rehires       int `json:"rehires"`
	Missing       int `json:"missing"`
	Skipped       int `json:"skipped"`
	Unchanged     int `json:"unchanged"`
	GrantsGained  int `json:"grants_gained"`
	GrantsLost    int `json:"grants_lost"`
	ToConfirm     int `json:"to_confirm"`
	// Removals is what the leaver guard counts: people terminated or suspended by this import.
	Removals int `json:"removals"`
	// LateLeavers counts the leavers terminated after their end date (Item.LateDays).
	LateLeavers int `json:"late_leavers"`
	// RuleErrors counts birthright evaluations that failed (the first maxWarnings are in
	// Plan.Warnings); the grants of a failed rule are left as they are.
	RuleErrors int `json:"rule_errors"`
	GuardLimit int `json:"guard_limit"`
	// RecentRemovals is the removals earlier HR imports made within the leaver guard's window;
	// the guard counts them with Removals.
	RecentRemovals int `json:"recent_removals"`
}

// maxWarnings bounds Plan.Warnings: a rule over a column the feed lacks fails for everyone.
const maxWarnings = 100

// Plan is what a snapshot changes. Items are sorted by class (removals first), then employee_id.
type Plan struct {
	Items      []*Item  `json:"items"`
	Summary    Summary  `json:"summary"`
	Held       bool     `json:"held"`
	HeldReason string   `json:"held_reason,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
	// Page says which items an answer carries when it does not carry them all (nil: all).
	Page    *Page `json:"page,omitempty"`
	keep    int
	current int // CurrentPeople
}

// MakePlan compares snapshot (a parsed HR feed) with the current identities and their active
// grants (grants maps identity id → its unrevoked grants), evaluating the birthright roles.
// now decides pre-hires and passed end dates (in UTC dates).
func MakePlan(now time.Time, current []*gatehouse.Identity, snapshot []*gatehouse.Identity, roles []BirthrightRole, grants map[string][]*gatehouse.Grant, opts Options) *Plan {
	return PlanRows(now, current, newIdentityRows(snapshot), roles, grants, opts)
}

// DefaultChunk is Options.Chunk's default: enough rows to keep every CPU busy evaluating
// birthright rules, and few enough that their people, grants and items stay small.
const DefaultChunk = 4096

// PlanRows is MakePlan over a snapshot read a person at a time (a Feed): only the people who
// change are kept, as items, and with Options.Keep only the first Keep of each class.
func PlanRows(now time.Time, current []*gatehouse.Identity, snapshot Rows, roles []BirthrightRole, grants map[string][]*gatehouse.Grant, opts Options) *Plan {
	p, _ := ApplyRows(context.Background(), now, Current(current, grants), snapshot, roles, opts, nil)
	return p // Current reads from memory: no error
}

// ApplyRows is PlanRows against stored state read as it goes, handing the items to apply (when
// not nil) as they are planned, a chunk of rows at a time in file order (the people missing
// from the snapshot last), so that a company-wide change is written while it is planned and,
// with Options.Keep, no more than a page of its items outlives its chunk. The items are
// counted before apply sees them; apply may fill in the ids it writes (IdentityID,
// GrantChange.GrantID). An error from stored or apply ends the plan and is returned. The leaver
// guard is decided at the end, over every item: a caller that must not apply a held plan
// applies inside a transaction it rolls back when Plan.Held.
//
// stored is read before apply writes anything that could change what it answers: the counts
// the guard and NotePartial need first, each chunk's people before the chunk is applied, and
// the missing people (whom no row names, so whom apply has not touched) last.
func ApplyRows(ctx context.Context, now time.Time, stored Stored, snapshot Rows, roles []BirthrightRole, opts Options, apply func([]*Item) error) (*Plan, error) {
	if opts.Owned == nil {
		opts.Owned = DefaultOwned
	}
	if opts.Missing == "" {
		opts.Missing = MissingLeaver
	}
	p := &Plan{Items: []*Item{}, keep: opts.Keep}
	n := snapshot.Len()
	p.Summary.Rows = n
	today := now.UTC().Format(gatehouse.DateLayout)
	provisionFrom := now.UTC().Add(opts.LeadTime).Format(gatehouse.DateLayout)

	active := 0
	err := stored.Each(ctx, func(page []*gatehouse.Identity) error {
		for _, c := range page {
			if c.Status == gatehouse.StatusActive {
				active++
			}
			if c.Status != gatehouse.StatusTerminated && c.EmployeeID != "" && DefaultOwned(c) {
				p.current++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Evaluating the birthright rules is most of a plan's work, and independent per person:
	// it runs on every CPU, a chunk of rows at a time, and the classification is collected after
	// each chunk in file order. Only the items of people who change outlive their chunk.
	chunk := cmp.Or(opts.Chunk, DefaultChunk)
	type outcome struct {
		item *Item
		log  *ruleLog
	}
	out := make([]outcome, min(n, chunk))
	for base := 0; base < n; base += chunk {
		m := min(chunk, n-base)
		byEmp, grants, err := chunkState(ctx, stored, snapshot, base, m)
		if err != nil {
			return nil, err
		}
		parallel(m, func(k int) {
			s := snapshot.Identity(base + k)
			cur := byEmp[s.EmployeeID]
			if cur != nil && !opts.Owned(cur) {
				out[k] = outcome{item: &Item{Class: Skipped, EmployeeID: s.EmployeeID, Email: s.Email, IdentityID: cur.ID,
					Before: cur, Reason: fmt.Sprintf("identity has source %q, which HR does not own", cur.Source)}}
				return
			}
			pr := prepare(cur, s, today, provisionFrom, roles, grants)
			o := outcome{item: planPerson(cur, s, pr, grants)}
			if o.item != nil {
				o.item.markLate(now, opts.OnTimeDays)
			}
			if pr.log.errors > 0 {
				o.log = &pr.log
			}
			out[k] = o
		})
		var items []*Item
		for k := range m {
			if out[k].log != nil {
				p.merge(out[k].log)
			}
			if out[k].item != nil {
				items = append(items, out[k].item)
			} else {
				p.Summary.Unchanged++
			}
			out[k] = outcome{}
		}
		if err := p.handOver(items, apply); err != nil {
			return nil, err
		}
	}
	if !opts.Partial {
		err := stored.Each(ctx, func(page []*gatehouse.Identity) error {
			var gone []*gatehouse.Identity
			var ids []string
			for _, c := range page {
				if c.EmployeeID == "" || snapshot.Contains(c.EmployeeID) || !opts.Owned(c) || c.Status == gatehouse.StatusTerminated {
					continue
				}
				gone = append(gone, c)
				ids = append(ids, c.ID)
			}
			if len(gone) == 0 {
				return nil
			}
			grants, err := stored.Grants(ctx, ids)
			if err != nil {
				return err
			}
			items := make([]*Item, len(gone))
			for i, c := range gone {
				items[i] = p.missing(c, grants[c.ID], now, opts)
			}
			return p.handOver(items, apply)
		})
		if err != nil {
			return nil, err
		}
	}
	p.trim()
	p.guard(active, opts.Guard, opts.Recent)
	return p, nil
}

// chunkState reads the stored people of rows [base, base+m) of snapshot, by employee_id, and
// their grants in force.
func chunkState(ctx context.Context, stored Stored, snapshot Rows, base, m int) (map[string]*gatehouse.Identity, map[string][]*gatehouse.Grant, error) {
	ids := make([]string, 0, m)
	for k := range m {
		if e := snapshot.EmployeeID(base + k); e != "" {
			ids = append(ids, e)
		}
	}
	people, err := stored.People(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	byEmp := make(map[string]*gatehouse.Identity, len(people))
	held := make([]string, len(people))
	for i, c := range people {
		byEmp[c.EmployeeID] = c
		held[i] = c.ID
	}
	grants, err := stored.Grants(ctx, held)
	if err != nil {
		return nil, nil, err
	}
	return byEmp, grants, nil
}

// missing is the item of a stored person c, who holds grants, missing from a snapshot.
func (p *Plan) missing(c *gatehouse.Identity, grants []*gatehouse.Grant, now time.Time, opts Options) *Item {
	it := &Item{EmployeeID: c.EmployeeID, Email: c.Email, IdentityID: c.ID, Before: c}
	if opts.Missing == MissingHold {
		it.Class, it.Reason = Missing, "not in the snapshot; held for review"
		return it
	}
	it.Class, it.Reason = Leaver, "not in the snapshot"
	next := cloneIdentity(c)
	next.Status = gatehouse.StatusTerminated
	it.Identity = next
	it.Changes = []Change{{Field: "status", From: string(c.Status), To: string(gatehouse.StatusTerminated)}}
	it.Lose = loseAll(grants)
	it.markLate(now, opts.OnTimeDays)
	return it
}

// handOver counts items into the plan (keeping what Options.Keep keeps) and gives them to
// apply, when there is one.
func (p *Plan) handOver(items []*Item, apply func([]*Item) error) error {
	for _, it := range items {
		p.add(it)
	}
	if apply == nil || len(items) == 0 {
		return nil
	}
	return apply(items)
}

// CurrentPeople is the number of HR's people not terminated (active or on leave) before the
// plan, what NotePartial measures a snapshot against.
func (p *Plan) CurrentPeople() int { return p.current }

// trim sorts the items (removals first, then by employee_id) and, with a Keep, drops all but
// the first Keep of each class.
func (p *Plan) trim() {
	slices.SortFunc(p.Items, func(a, b *Item) int {
		if c := cmp.Compare(slices.Index(classOrder, a.Class), slices.Index(classOrder, b.Class)); c != 0 {
			return c
		}
		return strings.Compare(a.EmployeeID, b.EmployeeID)
	})
	if p.keep <= 0 {
		return
	}
	kept := p.Items[:0]
	var class Class
	n := 0
	for _, it := range p.Items {
		if it.Class != class {
			class, n = it.Class, 0
		}
		if n < p.keep {
			kept = append(kept, it)
		}
		n++
	}
	clear(p.Items[len(kept):])
	p.Items = kept
}

// add records an item and counts it.
func (p *Plan) add(it *Item) {
	p.Items = append(p.Items, it)
	if p.keep > 0 && len(p.Items) >= 2*p.keep*len(classOrder)+1024 {
		p.trim() // a kept item is among the first Keep of its class: what trim drops never comes back
	}
	s := &p.Summary
	switch it.Class {
	case Joiner:
		s.Joiners++
	case PreHire:
		s.PreHires++
	case NewTerminated:
		s.NewTerminated++
	case Mover:
		s.Movers++
	case Updated:
		s.Updated++
	case Leaver:
		s.Leavers++
		if it.IdentityID == "" || it.Identity == nil || it.Identity.Status != gatehouse.StatusTerminated || !it.statusChanged() {
			break
		}
		s.Removals++
	case Leave:
		s.Leave++
		s.Removals++
	case Returner:
		s.Returners++
	case Rehire:
		s.Rehires++
	case Missing:
		s.Missing++
	case Skipped:
		s.Skipped++
	}
	if it.LateDays > 0 {
		s.LateLeavers++
	}
	s.GrantsGained += len(it.Gain)
	s.GrantsLost += len(it.Lose)
	s.ToConfirm += len(it.Confirm)
}

// guard applies the leaver guard: more removals than max(MinCount, MaxFraction × active) holds
// the import for an admin. recent is the removals earlier imports made within the guard's
// rolling window (Options.Recent): they count with this import's, and the population is
// counted as it was before them.
func (p *Plan) guard(active int, g gatehouse.LeaverGuard, recent Recent) {
	active += recent.Removals
	limit := max(g.MinCount, int(math.Floor(g.MaxFraction*float64(active))))
	p.Summary.GuardLimit = limit
	p.Summary.RecentRemovals = recent.Removals
	total := p.Summary.Removals + recent.Removals
	if p.Summary.Removals == 0 || total <= limit {
		return
	}
	p.Held = true
	if recent.Removals == 0 {
		p.HeldReason = fmt.Sprintf("the import would terminate or suspend %d people, more than the leaver guard allows: max(min_count %d, max_fraction %g × %d active) = %d",
			p.Summary.Removals, g.MinCount, g.MaxFraction, active, limit)
		return
	}
	p.HeldReason = fmt.Sprintf("the import would terminate or suspend %d people, %d with the %d that HR imports did within the last %s, more than the leaver guard allows: max(min_count %d, max_fraction %g × %d active) = %d",
		p.Summary.Removals, total, recent.Removals, recent.Window, g.MinCount, g.MaxFraction, active, limit)
}

// Only returns a plan with the items of the given classes, counted again; the leaver guard's
// decision and the warnings are kept.
func (p *Plan) Only(classes ...Class) *Plan {
	out := &Plan{Items: []*Item{}, Held: p.Held, HeldReason: p.HeldReason, Warnings: p.Warnings}
	out.Summary.Rows, out.Summary.GuardLimit, out.Summary.RuleErrors = p.Summary.Rows, p.Summary.GuardLimit, p.Summary.RuleErrors
	for _, it := range p.Items {
		if slices.Contains(classes, it.Class) {
			out.add(it)
		}
	}
	out.Summary.Unchanged = out.Summary.Rows - len(out.Items)
	return out
}

// ruleLog collects the birthright rule errors of one person.
type ruleLog struct {
	errors   int
	warnings []string
}

// merge adds a person's rule errors to the plan.
func (p *Plan) merge(l *ruleLog) {
	p.Summary.RuleErrors += l.errors
	for _, w := range l.warnings {
		if len(p.Warnings) < maxWarnings {
			p.Warnings = append(p.Warnings, w)
		}
	}
}

// parallel calls fn(i) for i in [0, n) on every CPU.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+63)/64)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				fn(i)
			}
		})
	}
	wg.Wait()
}
