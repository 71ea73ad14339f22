package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// benchSCIMStore returns a store with n identities (ids sorted) for the SCIM group benchmarks.
func benchSCIMStore(b *testing.B, open func(testing.TB) store.Store, n int) (store.Store, []string) {
	s := open(b)
	seedIdentities(b, s, n)
	var ids []string
	f := gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit}
	for {
		p, err := s.ListIdentities(context.Background(), f)
		if err != nil {
			b.Fatal(err)
		}
		for _, i := range p.Items {
			ids = append(ids, i.ID)
		}
		if p.NextCursor == "" {
			break
		}
		f.Cursor = p.NextCursor
	}
	slices.Sort(ids)
	return s, ids
}

func benchAudited(b *testing.B, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "bench", Action: "scim_group.bench", ObjectType: "scim_group", ObjectID: "x"})
	}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSCIMGroupCreate10k creates a group of 10,000 members (an IdP's "everyone").
func BenchmarkSCIMGroupCreate10k(b *testing.B) {
	for _, eng := range benchEngines {
		b.Run(eng.name, func(b *testing.B) {
			s, ids := benchSCIMStore(b, eng.open, 10_000)
			n := 0
			for b.Loop() {
				n++
				benchAudited(b, s, func(ctx context.Context, tx store.Tx) error {
					return tx.CreateSCIMGroup(ctx, &gatehouse.SCIMGroup{DisplayName: fmt.Sprintf("everyone-%d", n), Members: ids})
				})
			}
		})
	}
}

// BenchmarkSCIMGroupReplace10k replaces the members of a 10,000-member group, 10 in and 10
// out: the usual change an IdP pushes.
func BenchmarkSCIMGroupReplace10k(b *testing.B) {
	for _, eng := range benchEngines {
		b.Run(eng.name, func(b *testing.B) {
			s, ids := benchSCIMStore(b, eng.open, 10_010)
			g := &gatehouse.SCIMGroup{DisplayName: "everyone", Members: ids[:10_000]}
			benchAudited(b, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSCIMGroup(ctx, g) })
			n := 0
			for b.Loop() {
				n++
				if n%2 == 1 {
					g.Members = ids[10:]
				} else {
					g.Members = ids[:10_000]
				}
				benchAudited(b, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateSCIMGroup(ctx, g) })
			}
		})
	}
}

// BenchmarkSCIMGroupList1000 lists a page of 1,000 groups of 20 members each.
func BenchmarkSCIMGroupList1000(b *testing.B) {
	for _, eng := range benchEngines {
		b.Run(eng.name, func(b *testing.B) {
			s, ids := benchSCIMStore(b, eng.open, 2_000)
			benchAudited(b, s, func(ctx context.Context, tx store.Tx) error {
				for k := range 1000 {
					g := &gatehouse.SCIMGroup{DisplayName: fmt.Sprintf("group-%04d", k)}
					for m := range 20 {
						g.Members = append(g.Members, ids[(k*7+m*97)%len(ids)])
					}
					if err := tx.CreateSCIMGroup(ctx, g); err != nil {
						return err
					}
				}
				return nil
			})
			for b.Loop() {
				p, err := s.ListSCIMGroups(context.Background(), gatehouse.SCIMGroupFilter{Limit: 1000})
				if err != nil || len(p.Items) != 1000 {
					b.Fatalf("list: %d groups, %v", len(p.Items), err)
				}
			}
		})
	}
}
