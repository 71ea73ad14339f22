package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Run runs the conformance suite. open must return a fresh, empty database for each call; every
// test calls it (some several times) and runs in parallel with the others.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) Harness)
	}{
		{"IdentityCRUD", testIdentityCRUD},
		{"IdentityConflicts", testIdentityConflicts},
		{"IdentityFilters", testIdentityFilters},
		{"IdentityPagination", testIdentityPagination},
		{"Settings", testSettings},
		{"CatalogRoundTrip", testCatalogRoundTrip},
		{"EntitlementFilters", testEntitlementFilters},
		{"Grants", testGrants},
		{"GrantFilters", testGrantFilters},
		{"CountActiveGrants", testCountActiveGrants},
		{"ReadsByKeys", testReadsByKeys}, // an HR import's chunks
		{"Accounts", testAccounts},
		{"Tokens", testTokens},
		{"RevokeTokensOf", testRevokeTokensOf},           // termination (service/termination.go)
		{"EndDelegations", testEndDelegations},           // termination
		{"SCIMSourceMigration", testSCIMSourceMigration}, // migration 0016
		{"Sessions", testSessions},                       // web UI sign-ins
		{"HRImports", testHRImports},
		{"HRImportChanges", testHRImportChanges},
		{"Leases", testLeases}, // one HR import at a time, across replicas
		{"Confirmations", testConfirmations},
		{"Operations", testOperations}, // provisioning evidence
		{"Tasks", testTasks},           // manual fulfillment tasks
		{"Requests", testRequests},     // access requests and delegations
		{"RequestNumbersConcurrent", testRequestNumbersConcurrent},
		{"CountPeers", testCountPeers},
		{"EmergencyReviews", testEmergencyReviews}, // break-glass post-event reviews
		{"EmergencyNumbersConcurrent", testEmergencyNumbersConcurrent},
		{"Exceptions", testExceptions}, // exceptions register
		{"ExceptionNumbersConcurrent", testExceptionNumbersConcurrent},
		{"SCIMGroups", testSCIMGroups},
		{"SCIMGroupPagination", testSCIMGroupPagination},
		{"SCIMGroupLargeMembership", testSCIMGroupLargeMembership},
		{"SCIMGroupWritesNeedAudit", testSCIMGroupWritesNeedAudit},
		{"SCIMGroupConcurrentUpdates", testSCIMGroupConcurrentUpdates},
		{"WriteFaults", testWriteFaults}, // full or read-only database: 503 and not ready
		{"UpdateRollsBackOnError", testUpdateRollsBackOnError},
		{"UpdateRefusesUnauditedWrites", testUpdateRefusesUnauditedWrites},
		{"UpdateRollsBackOnPanic", testUpdateRollsBackOnPanic},
		{"TxReadsOwnWrites", testTxReadsOwnWrites},
		{"TimeRoundTrip", testTimeRoundTrip},
		{"AuditAppendAndList", testAuditAppendAndList},
		{"AuditConcurrentAppends", testAuditConcurrentAppends},
		{"AuditTamper", testAuditTamper},
		{"AuditAppendBatch", testAuditAppendBatch},
		{"AuditEventBySeq", testAuditEventBySeq}, // a signed checkpoint's event
		{"BulkIdentities", testBulkIdentities},   // batch writes (PostgreSQL: statements over arrays)
		{"BulkGrants", testBulkGrants},
		{"BulkAudit", testBulkAudit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// audited runs fn in a transaction and appends one audit event, as every real change does.
func audited(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	ctx := t.Context()
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "storetest", Action: "test.write", ObjectType: "test", ObjectID: t.Name()})
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
}

// auditedErr is audited for a write expected to fail: it returns the error of fn.
func auditedErr(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) error {
	t.Helper()
	ctx := t.Context()
	return s.Update(ctx, func(tx store.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "storetest", Action: "test.write", ObjectType: "test", ObjectID: t.Name()})
	})
}

// wantCode fails unless err carries the gatehouse error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := gatehouse.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
}

// wantError fails unless err has the code and exactly the message.
func wantError(t *testing.T, err error, code, message string) {
	t.Helper()
	wantCode(t, err, code)
	if got := gatehouse.ErrorMessage(err); got != message {
		t.Fatalf("error message = %q, want %q", got, message)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustGet[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// equal fails with both values as JSON-ish text when they differ.
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %s\n want %s", what, dump(got), dump(want))
	}
}

func dump(v any) string {
	return strings.ReplaceAll(fmt.Sprintf("%+v", deref(v)), "\n", " ")
}

func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface()
	}
	if rv.Kind() == reflect.Slice {
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = deref(rv.Index(i).Interface())
		}
		return out
	}
	return v
}

// wantUUIDv7 fails unless id is a UUID v7, the time-ordered ids the store generates.
func wantUUIDv7(t *testing.T, what, id string) {
	t.Helper()
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		t.Fatalf("%s id %q is not a UUID v7", what, id)
	}
}

// wantStored fails unless tm is how the store keeps times: UTC, whole microseconds, set.
func wantStored(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.IsZero() || tm.Location() != time.UTC || tm.Nanosecond()%1000 != 0 {
		t.Fatalf("%s = %v: want a non-zero UTC time in whole microseconds", what, tm)
	}
}

// pageAll follows cursors from the first page to the last and returns every item, failing on a
// duplicate key or a page out of order.
func pageAll[T any](t *testing.T, list func(cursor string) (gatehouse.Page[T], error), key func(T) string, limit int) []T {
	t.Helper()
	var all []T
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("pagination does not end")
		}
		p, err := list(cursor)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("page %d has %d items, limit %d", pages+1, len(p.Items), limit)
		}
		if p.NextCursor != "" && len(p.Items) != limit {
			t.Fatalf("page %d has %d items and a next cursor; a page before the last must be full (%d)", pages+1, len(p.Items), limit)
		}
		for _, it := range p.Items {
			k := key(it)
			if seen[k] {
				t.Fatalf("page %d repeats %s", pages+1, k)
			}
			seen[k] = true
			all = append(all, it)
		}
		if p.NextCursor == "" {
			return all
		}
		cursor = p.NextCursor
	}
}

// sortedKeys returns the keys of items, sorted, for comparing sets.
func sortedKeys[T any](items []T, key func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, key(it))
	}
	slices.Sort(out)
	return out
}

// person returns a valid person with fields derived from n.
func person(n int) *gatehouse.Identity {
	return &gatehouse.Identity{
		EmployeeID:     fmt.Sprintf("E%05d", n),
		Email:          fmt.Sprintf("user%05d@example.com", n),
		FirstName:      fmt.Sprintf("First%d", n),
		LastName:       fmt.Sprintf("Last%d", n),
		Department:     "Engineering",
		Title:          "Engineer",
		Location:       "Berlin",
		EmploymentType: gatehouse.Employee,
		Status:         gatehouse.StatusActive,
		StartDate:      "2024-01-15",
		Kind:           gatehouse.KindPerson,
		Source:         "storetest",
	}
}

func createIdentities(t *testing.T, s store.Store, ids ...*gatehouse.Identity) {
	t.Helper()
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, i := range ids {
			if err := tx.CreateIdentity(ctx, i); err != nil {
				return err
			}
		}
		return nil
	})
}

func ptr[T any](v T) *T { return &v }
