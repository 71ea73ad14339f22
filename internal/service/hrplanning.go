package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Planning an HR feed: what a plan is made against (the catalog's birthright roles and the
// stored people, read a chunk of the feed at a time), and the warnings that look at every item.

// planHR loads identities, active grants, birthright roles and settings from r and plans
// snapshot against them.
func (s *HR) planHR(ctx context.Context, r store.Reader, snapshot jml.Rows, tune ...func(*jml.Options)) (*jml.Plan, *hrState, error) {
	in, err := s.loadHR(ctx, r, snapshot, tune...)
	if err != nil {
		return nil, nil, err
	}
	plan, err := in.plan(snapshot, nil)
	if err != nil {
		return nil, nil, err
	}
	return plan, in.st, nil
}

// hrPlanning is what an HR plan is made against.
type hrPlanning struct {
	ctx     context.Context
	now     time.Time
	stored  jml.Stored
	current []*gatehouse.Identity // every stored identity, read for a delta only
	roles   []jml.BirthrightRole
	opts    jml.Options
	feed    *jml.Feed // nil when the snapshot is not a file
	st      *hrState
}

// loadHR prepares planning snapshot against r. A snapshot's plan reads the stored people as it
// goes (storedPeople); a delta's reads them all first, since its managers may be anybody
// stored (hrdelta.go).
func (s *HR) loadHR(ctx context.Context, r store.Reader, snapshot jml.Rows, tune ...func(*jml.Options)) (*hrPlanning, error) {
	in := &hrPlanning{ctx: ctx, now: s.now()}
	cat, err := r.LoadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	if in.roles, err = jml.CompileRoles(cat.Roles); err != nil {
		return nil, err
	}
	in.st = &hrState{entitlements: make(map[string]*gatehouse.Entitlement, len(cat.Entitlements))}
	for _, e := range cat.Entitlements {
		in.st.entitlements[e.ID] = e
	}
	in.opts = s.hrOptions(cat.Settings)
	for _, t := range tune {
		t(&in.opts)
	}
	in.stored = &storedPeople{r: r, now: in.now}
	in.feed, _ = snapshot.(*jml.Feed)
	if in.feed != nil && in.feed.Delta() {
		// A delta's rows are upserts: the people it does not list are left alone, and its
		// managers may be stored people (hrdelta.go).
		in.opts.Partial = true
		if in.current, err = allIdentities(ctx, r); err != nil {
			return nil, err
		}
		if err := checkDeltaManagers(in.feed, in.current); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// plan plans snapshot, handing its items to apply a chunk at a time as they are planned (nil:
// plan only; jml.ApplyRows), and adds the warnings that look at every item.
func (in *hrPlanning) plan(snapshot jml.Rows, apply func([]*jml.Item) error) (*jml.Plan, error) {
	var ext endExtensions
	plan, err := jml.ApplyRows(in.ctx, in.now, in.stored, snapshot, in.roles, in.opts, func(items []*jml.Item) error {
		ext.visit(in.now, items)
		if apply == nil {
			return nil
		}
		return apply(items)
	})
	if err != nil {
		return nil, err
	}
	feed := in.feed
	if feed != nil && feed.Delta() {
		plan.Warnings = append(plan.Warnings, terminatedManagerWarnings(feed, in.current)...)
	}
	if feed != nil {
		plan.Warnings = append(plan.Warnings, ext.warnings()...)
	}
	if feed != nil && !in.opts.Partial {
		plan.NotePartial(plan.CurrentPeople()) // a file of changes sent as a snapshot
	}
	return plan, nil
}

// storedPeople is jml.Stored over a store reader (the import's transaction): the people of a
// chunk of rows by employee_id, their grants in force at now, and everyone a page at a time.
type storedPeople struct {
	r   store.Reader
	now time.Time
}

func (sp *storedPeople) People(ctx context.Context, ids []string) ([]*gatehouse.Identity, error) {
	out, err := sp.r.IdentitiesByEmployeeID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load identities: %w", err)
	}
	return out, nil
}

func (sp *storedPeople) Grants(ctx context.Context, identityIDs []string) (map[string][]*gatehouse.Grant, error) {
	gs, err := sp.r.ActiveGrantsOf(ctx, identityIDs)
	if err != nil {
		return nil, fmt.Errorf("load grants: %w", err)
	}
	out := make(map[string][]*gatehouse.Grant, len(identityIDs))
	for _, g := range gs {
		if g.Active(sp.now) {
			out[g.IdentityID] = append(out[g.IdentityID], g)
		}
	}
	// In id order, as a page of grants is: the plan lists a person's grants in this order.
	for _, held := range out {
		slices.SortFunc(held, func(a, b *gatehouse.Grant) int { return strings.Compare(a.ID, b.ID) })
	}
	return out, nil
}

func (sp *storedPeople) Each(ctx context.Context, fn func([]*gatehouse.Identity) error) error {
	return eachIdentityPage(ctx, sp.r, fn)
}
