package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestPostgres runs the conformance suite on $GATEHOUSE_TEST_POSTGRES, one schema per test. It
// skips when PostgreSQL is unreachable, except under CI=true, where that is a failure.
func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.PostgresURL(t)
	storetest.Run(t, func(t *testing.T) storetest.Harness { return storetest.NewPostgres(t) })
}

// TestPostgresReadOnlyTransaction: a PostgreSQL session whose transactions are read-only (a
// standby, or default_transaction_read_only) answers writes with 503 "database is read-only"
// (SQLSTATE 25006), and Ping keeps failing until writes succeed again.
func TestPostgresReadOnlyTransaction(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// One connection, so that the session setting applies to every statement of the store.
	st, err := sqlstore.Open(ctx, storetest.NewPostgresSchema(t), sqlstore.WithMaxOpenConns(1))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.(interface{ DB() *sql.DB }).DB()
	write := func(email string) error {
		return st.Update(ctx, func(tx store.Tx) error {
			i := &gatehouse.Identity{Email: email, FirstName: "A", LastName: "B", Status: gatehouse.StatusActive}
			if err := tx.CreateIdentity(ctx, i); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.write", ObjectType: "identity", ObjectID: i.ID})
		})
	}
	if err := write("a@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	err = write("b@example.com")
	if gatehouse.ErrorCode(err) != gatehouse.EUNAVAILABLE || gatehouse.ErrorMessage(err) != "database is read-only: nothing was changed; try again when it takes writes" {
		t.Fatalf("write in a read-only transaction: %v", err)
	}
	if err := st.Ping(ctx); gatehouse.ErrorCode(err) != gatehouse.EUNAVAILABLE {
		t.Fatalf("Ping while read-only = %v, want unavailable", err)
	}
	if _, err := db.ExecContext(ctx, `SET default_transaction_read_only = off`); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping once writable again: %v", err)
	}
	if err := write("b@example.com"); err != nil {
		t.Fatal(err)
	}
}

// TestPostgresPagePlansWithoutStatistics: right after a bulk load that nothing has analyzed
// (200,000 grants of 100,000 people, 200,000 audit events), the keyset pages an HR import and
// the lists read — active grants, identities, the audit log — are planned as an index scan in
// key order that stops after the page, not a scan and sort of the whole table (migration 0026).
func TestPostgresPagePlansWithoutStatistics(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, storetest.NewPostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	loadUnanalyzed(t, st)
	cursor := func(list func(store.Reader) (string, error)) string {
		next, err := list(st)
		if err != nil || next == "" {
			t.Fatalf("first page: cursor %q, %v", next, err)
		}
		return next
	}
	grantsPage := func(r store.Reader) (string, error) {
		p, err := r.ListGrants(ctx, gatehouse.GrantFilter{Status: "active", Limit: gatehouse.MaxLimit})
		return p.NextCursor, err
	}
	identitiesPage := func(r store.Reader) (string, error) {
		p, err := r.ListIdentities(ctx, gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit})
		return p.NextCursor, err
	}
	auditPage := func(r store.Reader) (string, error) {
		p, err := r.ListAuditEvents(ctx, gatehouse.AuditFilter{Limit: gatehouse.MaxLimit})
		return p.NextCursor, err
	}
	gc, ic, ac := cursor(grantsPage), cursor(identitiesPage), cursor(auditPage)
	for name, list := range map[string]func(store.Reader){
		"active grants, first page": func(r store.Reader) {
			r.ListGrants(ctx, gatehouse.GrantFilter{Status: "active", Limit: gatehouse.MaxLimit})
		},
		"active grants, second page": func(r store.Reader) {
			r.ListGrants(ctx, gatehouse.GrantFilter{Status: "active", Limit: gatehouse.MaxLimit, Cursor: gc})
		},
		"identities, second page": func(r store.Reader) {
			r.ListIdentities(ctx, gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit, Cursor: ic})
		},
		"audit events, second page": func(r store.Reader) {
			r.ListAuditEvents(ctx, gatehouse.AuditFilter{Limit: gatehouse.MaxLimit, Cursor: ac})
		},
	} {
		plans := sqlstore.PlansOf(ctx, st, list)
		if len(plans) != 1 {
			t.Fatalf("%s: %d queries, want 1", name, len(plans))
		}
		plan := plans[0]
		if !strings.Contains(plan, `"Node Type": "Index Scan"`) || strings.Contains(plan, `"Seq Scan"`) || strings.Contains(plan, `"Node Type": "Sort"`) {
			t.Errorf("%s is not planned as an index scan in key order without statistics:\n%s", name, plan)
		}
	}
}

// TestPostgresAnalyzeAfterBulkWrite: a transaction that writes many rows of a table has it
// analyzed after its commit, so that the planner knows the table as it now is.
func TestPostgresAnalyzeAfterBulkWrite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, storetest.NewPostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.(interface{ DB() *sql.DB }).DB()
	if _, err := db.ExecContext(ctx, `ALTER TABLE grants SET (autovacuum_enabled = false)`); err != nil {
		t.Fatal(err)
	}
	analyzed := func() bool {
		var at sql.NullTime
		if err := db.QueryRowContext(ctx, `SELECT last_analyze FROM pg_stat_user_tables
			WHERE schemaname = current_schema() AND relname = 'grants'`).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at.Valid
	}
	write := func(n int) {
		err := st.Update(ctx, func(tx store.Tx) error {
			who := &gatehouse.Identity{Email: fmt.Sprintf("p%d@example.com", n), Kind: gatehouse.KindPerson}
			if err := tx.CreateIdentity(ctx, who); err != nil {
				return err
			}
			gs := make([]*gatehouse.Grant, n)
			for k := range gs {
				gs[k] = &gatehouse.Grant{IdentityID: who.ID, EntitlementID: fmt.Sprintf("app/%d", k), Source: gatehouse.SourceBirthright}
			}
			if err := tx.CreateGrants(ctx, gs); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.bulk", ObjectType: "grant"})
		})
		if err != nil {
			t.Fatal(err)
		}
		st.(interface{ WaitAnalyzed() }).WaitAnalyzed()
	}
	write(100)
	if analyzed() {
		t.Fatal("grants analyzed after a write of 100 rows")
	}
	write(20_000)
	// The statistics collector reports the ANALYZE a moment after it ends.
	for deadline := time.Now().Add(10 * time.Second); !analyzed(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("grants not analyzed after a write of 20,000 rows")
		}
	}
}

// loadUnanalyzed fills st (PostgreSQL) as a bulk load leaves it before anything analyzed it:
// 100,000 identities, 200,000 active grants and 200,000 audit events, autovacuum off for the
// three tables, and no column statistics.
func loadUnanalyzed(tb testing.TB, st store.Store) {
	ctx := context.Background()
	db := st.(interface{ DB() *sql.DB }).DB()
	for _, q := range []string{
		`ALTER TABLE identities SET (autovacuum_enabled = false)`,
		`ALTER TABLE grants SET (autovacuum_enabled = false)`,
		`ALTER TABLE audit_events SET (autovacuum_enabled = false)`,
		`INSERT INTO identities (id, employee_id, email, status, kind, created_at, updated_at)
			SELECT 'i' || lpad(n::text, 8, '0'), 'E' || n, 'p' || n || '@example.com', 'active', 'person', now(), now()
			FROM generate_series(1, 100000) AS n`,
		`INSERT INTO grants (id, identity_id, entitlement_id, source, granted_at)
			SELECT 'g' || lpad(n::text, 8, '0'), 'i' || lpad((1 + n % 100000)::text, 8, '0'), 'app/e' || (n % 20), 'birthright', now()
			FROM generate_series(1, 200000) AS n`,
		`INSERT INTO audit_events (seq, time, actor, action, object_type, object_id, reason, reference, prev_hash, hash)
			SELECT n, now(), 'system:hr', 'grant.create', 'grant', 'g' || n, '', 'hr-import:x', '', ''
			FROM generate_series(1, 200000) AS n`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	var stats int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stats WHERE schemaname = current_schema()
		AND tablename IN ('identities', 'grants', 'audit_events')`).Scan(&stats); err != nil || stats != 0 {
		tb.Fatalf("the tables have %d column statistics (%v): the plans would not be planned without them", stats, err)
	}
}

// BenchmarkActiveGrantsPageUnanalyzed: a page of 1,000 active grants from the middle of 200,000
// right after a bulk load, before anything analyzed the table, as the store asks for it
// ("store") and in the query shape before migration 0026 ("revoked_at-is-null"), on the same table:
//
//	go test -run '^$' -bench ActiveGrantsPageUnanalyzed ./internal/store/sqlstore
func BenchmarkActiveGrantsPageUnanalyzed(b *testing.B) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, storetest.NewPostgresSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	loadUnanalyzed(b, st)
	db := st.(interface{ DB() *sql.DB }).DB()
	const mid = "g00100000"
	cursor := base64.RawURLEncoding.EncodeToString([]byte("grants:" + mid))
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			p, err := st.ListGrants(ctx, gatehouse.GrantFilter{Status: "active", Limit: gatehouse.MaxLimit, Cursor: cursor})
			if err != nil || len(p.Items) != gatehouse.MaxLimit {
				b.Fatalf("%d grants, %v", len(p.Items), err)
			}
		}
	})
	b.Run("revoked_at-is-null", func(b *testing.B) {
		for b.Loop() {
			rows, err := db.QueryContext(ctx, `SELECT id, identity_id, entitlement_id, source, reference, granted_by, granted_at,
				expires_at, revoked_at, revoked_by, revoke_reason FROM grants WHERE revoked_at IS NULL AND id > $1 ORDER BY id LIMIT 1001`, mid)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if n != gatehouse.MaxLimit+1 {
				b.Fatalf("%d rows", n)
			}
		}
	})
}
