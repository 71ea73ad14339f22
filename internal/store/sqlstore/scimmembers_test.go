package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestSCIMGroupsHideDeletedMembers: a person a SCIM client deleted (attribute scim.deleted) is
// never listed as a group member, even when a member row is left from before deletions ended
// memberships, and cannot be added; on both engines.
func TestSCIMGroupsHideDeletedMembers(t *testing.T) {
	t.Parallel()
	for _, e := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := e.open(t)
			write := func(fn func(tx store.Tx) error) error {
				return st.Update(ctx, func(tx store.Tx) error {
					if err := fn(tx); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "t", Action: "t.write", ObjectType: "t", ObjectID: "t"})
				})
			}
			var ann, bob, gone gatehouse.Identity
			g := &gatehouse.SCIMGroup{DisplayName: "Eng", Source: "scim:a"}
			err := write(func(tx store.Tx) error {
				for _, p := range []struct {
					i     *gatehouse.Identity
					email string
					attrs map[string]string
				}{{&ann, "ann", nil}, {&bob, "bob", map[string]string{"scim.externalId": "x"}}, {&gone, "gone", map[string]string{"scim.deleted": "true"}}} {
					*p.i = gatehouse.Identity{EmployeeID: p.email, Email: p.email + "@example.com", Kind: gatehouse.KindPerson,
						EmploymentType: gatehouse.Employee, Status: gatehouse.StatusActive, Attributes: p.attrs}
					if err := tx.CreateIdentity(ctx, p.i); err != nil {
						return err
					}
				}
				g.Members = []string{ann.ID, bob.ID}
				return tx.CreateSCIMGroup(ctx, g)
			})
			if err != nil {
				t.Fatal(err)
			}
			// A deleted person cannot be added, by create or by update.
			err = write(func(tx store.Tx) error {
				return tx.CreateSCIMGroup(ctx, &gatehouse.SCIMGroup{DisplayName: "Gone", Members: []string{gone.ID}})
			})
			if gatehouse.ErrorCode(err) != gatehouse.EINVALID || !strings.Contains(err.Error(), gone.ID) {
				t.Errorf("group with a deleted member: %v", err)
			}
			err = write(func(tx store.Tx) error {
				u := *g
				u.Members = []string{ann.ID, bob.ID, gone.ID}
				return tx.UpdateSCIMGroup(ctx, &u)
			})
			if gatehouse.ErrorCode(err) != gatehouse.EINVALID || !strings.Contains(err.Error(), gone.ID) {
				t.Errorf("adding a deleted member: %v", err)
			}
			// A member deleted afterwards (the row kept) is not listed.
			err = write(func(tx store.Tx) error {
				bob.Attributes = map[string]string{"scim.externalId": "x", "scim.deleted": "true"}
				return tx.UpdateIdentity(ctx, &bob)
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := st.GetSCIMGroup(ctx, g.ID)
			if err != nil || !slices.Equal(got.Members, []string{ann.ID}) {
				t.Errorf("GetSCIMGroup members = %v, %v; want [%s]", got.Members, err, ann.ID)
			}
			page, err := st.ListSCIMGroups(ctx, gatehouse.SCIMGroupFilter{Limit: 10})
			if err != nil || len(page.Items) != 1 || !slices.Equal(page.Items[0].Members, []string{ann.ID}) {
				t.Errorf("ListSCIMGroups = %+v, %v", page.Items, err)
			}
		})
	}
}
