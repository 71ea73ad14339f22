package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The identity filters the SCIM server uses (kind, source, an attribute, offset), on both
// engines.
func TestIdentityFiltersForSCIM(t *testing.T) {
	t.Parallel()
	for _, e := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := e.open(t)
			err := st.Update(ctx, func(tx store.Tx) error {
				for n := range 10 {
					i := &gatehouse.Identity{EmployeeID: fmt.Sprintf("E%d", n), Email: fmt.Sprintf("p%d@example.com", n),
						Kind: gatehouse.KindPerson, EmploymentType: gatehouse.Employee, Status: gatehouse.StatusActive, Source: "scim:a"}
					switch {
					case n == 0:
						i.Kind, i.EmployeeID = gatehouse.KindService, ""
					case n%3 == 0:
						i.Source = "hr-csv"
					}
					if n%2 == 0 {
						// Values that need escaping in LIKE and JSON must match only themselves.
						i.Attributes = map[string]string{"scim.deleted": "true", "x": `50%_"q"`}
					} else {
						i.Attributes = map[string]string{"scim.externalId": "Ext-1"}
					}
					if err := tx.CreateIdentity(ctx, i); err != nil {
						return err
					}
				}
				return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "t", Action: "t.seed", ObjectType: "t", ObjectID: "t"})
			})
			if err != nil {
				t.Fatal(err)
			}
			deleted := &gatehouse.AttributeValue{Key: "scim.deleted", Value: "true"}
			for _, tc := range []struct {
				name string
				f    gatehouse.IdentityFilter
				want int
			}{
				{"kind", gatehouse.IdentityFilter{Kind: gatehouse.KindPerson}, 9},
				{"source", gatehouse.IdentityFilter{Source: "hr-csv"}, 3},
				{"attribute", gatehouse.IdentityFilter{Attribute: deleted}, 5},
				{"without attribute", gatehouse.IdentityFilter{Kind: gatehouse.KindPerson, WithoutAttribute: deleted}, 5},
				{"escaped value", gatehouse.IdentityFilter{Attribute: &gatehouse.AttributeValue{Key: "x", Value: `50%_"q"`}}, 5},
				{"no partial match", gatehouse.IdentityFilter{Attribute: &gatehouse.AttributeValue{Key: "x", Value: `50`}}, 0},
				{"wildcards are literal", gatehouse.IdentityFilter{Attribute: &gatehouse.AttributeValue{Key: "x", Value: `5_%_"q"`}}, 0},
				{"employee id", gatehouse.IdentityFilter{EmployeeID: "E3"}, 1},
				{"scim externalId, shared", gatehouse.IdentityFilter{SCIMExternalID: "Ext-1"}, 5},
				{"scim externalId is case-exact", gatehouse.IdentityFilter{SCIMExternalID: "ext-1"}, 0},
				{"scim externalId, no partial match", gatehouse.IdentityFilter{SCIMExternalID: "Ext"}, 0},
			} {
				n, err := st.CountIdentities(ctx, tc.f)
				if err != nil || n != tc.want {
					t.Errorf("%s: count = %d, %v; want %d", tc.name, n, err, tc.want)
				}
				tc.f.Limit = 100
				page, err := st.ListIdentities(ctx, tc.f)
				if err != nil || len(page.Items) != tc.want {
					t.Errorf("%s: list = %d, %v; want %d", tc.name, len(page.Items), err, tc.want)
				}
			}
			all, err := st.ListIdentities(ctx, gatehouse.IdentityFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			page, err := st.ListIdentities(ctx, gatehouse.IdentityFilter{Offset: 4, Limit: 3})
			if err != nil || len(page.Items) != 3 || page.Items[0].ID != all.Items[4].ID || page.Items[2].ID != all.Items[6].ID || page.NextCursor == "" {
				t.Fatalf("offset page: %v %v", page, err)
			}
			next, err := st.ListIdentities(ctx, gatehouse.IdentityFilter{Cursor: page.NextCursor, Limit: 3})
			if err != nil || next.Items[0].ID != all.Items[7].ID {
				t.Fatalf("cursor after an offset page: %v %v", next, err)
			}
		})
	}
}
