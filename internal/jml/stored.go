package jml

import (
	"context"

	"github.com/gatehouse/gatehouse"
)

// Stored is the stored state a plan is made against, read as the plan goes: the people of each
// chunk of rows and their grants, then everyone, a page at a time, for the people missing from
// the snapshot. A plan of the whole company then holds a chunk of it, not all of it twice over
// (as identities and as grants). The store implements it in the import's transaction; Current
// over slices in memory.
type Stored interface {
	// People returns the stored identities whose employee_id is one of ids (exactly).
	People(ctx context.Context, ids []string) ([]*gatehouse.Identity, error)
	// Grants returns the grants in force of these identities, by identity id.
	Grants(ctx context.Context, identityIDs []string) (map[string][]*gatehouse.Grant, error)
	// Each calls fn with every stored identity, a page at a time, in a stable order.
	Each(ctx context.Context, fn func([]*gatehouse.Identity) error) error
}

// Current is a Stored over identities and their grants in force (by identity id) in memory.
func Current(current []*gatehouse.Identity, grants map[string][]*gatehouse.Grant) Stored {
	m := &memStored{current: current, grants: grants, byEmp: make(map[string]*gatehouse.Identity, len(current))}
	for _, c := range current {
		if c.EmployeeID != "" {
			m.byEmp[c.EmployeeID] = c
		}
	}
	return m
}

type memStored struct {
	current []*gatehouse.Identity
	grants  map[string][]*gatehouse.Grant
	byEmp   map[string]*gatehouse.Identity
}

func (m *memStored) People(_ context.Context, ids []string) ([]*gatehouse.Identity, error) {
	var out []*gatehouse.Identity
	for _, id := range ids {
		if c := m.byEmp[id]; c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memStored) Grants(_ context.Context, ids []string) (map[string][]*gatehouse.Grant, error) {
	out := make(map[string][]*gatehouse.Grant, len(ids))
	for _, id := range ids {
		if g := m.grants[id]; len(g) > 0 {
			out[id] = g
		}
	}
	return out, nil
}

func (m *memStored) Each(_ context.Context, fn func([]*gatehouse.Identity) error) error {
	const page = 4096
	for i := 0; i < len(m.current); i += page {
		if err := fn(m.current[i:min(i+page, len(m.current))]); err != nil {
			return err
		}
	}
	return nil
}
