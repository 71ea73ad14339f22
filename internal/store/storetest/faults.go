package storetest

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Write faults SetFault can simulate.
const (
	FaultNone     = ""
	FaultFull     = "full"      // the disk (or the database's quota) is full
	FaultReadOnly = "read-only" // a read-only file or mount, a standby, a read-only transaction
)

// SetFault makes s's database refuse writes as a full or read-only one does, or (FaultNone)
// take them again. On SQLite it sets the write connection's PRAGMA max_page_count to the pages
// the file has now (so any growth fails with SQLITE_FULL, as a full disk does) or PRAGMA
// query_only (SQLITE_READONLY). On PostgreSQL it adds triggers to the test schema that raise
// the server's own codes, 53100 disk_full or 25006 read_only_sql_transaction, on every
// audited write, token use and write probe.
func SetFault(tb testing.TB, s store.Store, fault string) {
	tb.Helper()
	db, ok := s.(interface{ DB() *sql.DB })
	if !ok {
		tb.Fatalf("SetFault: the store does not expose its database")
	}
	ctx := context.Background()
	exec := func(q string) {
		tb.Helper()
		if _, err := db.DB().ExecContext(ctx, q); err != nil {
			tb.Fatalf("SetFault %q: %s: %v", fault, q, err)
		}
	}
	switch s.Engine() {
	case "sqlite":
		// Pragmas are per connection: DB() is the store's one write connection.
		exec(`PRAGMA query_only = 0`)
		exec(`PRAGMA max_page_count = 1073741823`)
		switch fault {
		case FaultFull:
			var pages int64
			if err := db.DB().QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
				tb.Fatal(err)
			}
			var free int64
			if err := db.DB().QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
				tb.Fatal(err)
			}
			if free > 0 {
				// Free pages would take a small write: use them up first, as a full disk would have.
				exec(`VACUUM`)
				_ = db.DB().QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages)
			}
			if _, err := db.DB().ExecContext(ctx, `PRAGMA max_page_count = `+strconv.FormatInt(pages, 10)); err != nil {
				tb.Fatal(err)
			}
		case FaultReadOnly:
			exec(`PRAGMA query_only = 1`)
		}
	case "postgres":
		exec(`DROP TRIGGER IF EXISTS gh_fault ON audit_events`)
		exec(`DROP TRIGGER IF EXISTS gh_fault ON tokens`)
		exec(`DROP TRIGGER IF EXISTS gh_fault ON write_probe`)
		exec(`DROP TRIGGER IF EXISTS gh_fault ON leases`)
		if fault == FaultNone {
			return
		}
		code, msg := "53100", "could not extend file: No space left on device"
		if fault == FaultReadOnly {
			code, msg = "25006", "cannot execute INSERT in a read-only transaction"
		}
		exec(`CREATE OR REPLACE FUNCTION gh_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			RAISE EXCEPTION '` + msg + `' USING ERRCODE = '` + code + `'; END $$`)
		for _, table := range []string{"audit_events", "tokens", "write_probe", "leases"} {
			exec(`CREATE TRIGGER gh_fault BEFORE INSERT OR UPDATE OR DELETE ON ` + table +
				` FOR EACH STATEMENT EXECUTE FUNCTION gh_fault()`)
		}
	default:
		tb.Fatalf("SetFault: unknown engine %q", s.Engine())
	}
}

// testWriteFaults: a full or read-only database is EUNAVAILABLE with a message that says which
// (503 "database is full"), and Ping (/readyz) fails until a write succeeds again.
func testWriteFaults(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	createIdentities(t, s, person(1))
	must(t, s.Ping(ctx))
	n := 2
	write := func() error {
		p := person(n)
		n++
		// Big enough to need new pages on SQLite, as a real change on a full disk does.
		p.Attributes = map[string]string{"notes": strings.Repeat("x", 64<<10)}
		return s.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateIdentity(ctx, p); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "storetest", Action: "test.write", ObjectType: "identity", ObjectID: p.ID})
		})
	}
	for _, fault := range []string{FaultFull, FaultReadOnly} {
		SetFault(t, s, fault)
		err := write()
		wantError(t, err, gatehouse.EUNAVAILABLE, "database is "+fault+": nothing was changed; try again when it takes writes")
		// Not ready while the fault lasts, however often it is asked.
		for range 2 {
			err = s.Ping(ctx)
			wantError(t, err, gatehouse.EUNAVAILABLE, "database is "+fault+": nothing was changed; try again when it takes writes")
		}
		SetFault(t, s, FaultNone)
		must(t, s.Ping(ctx)) // the write probe succeeds: ready again
		must(t, write())
		must(t, s.Ping(ctx))
	}
	// A fault that ends by itself is found by the next write too, without a probe.
	SetFault(t, s, FaultReadOnly)
	wantCode(t, write(), gatehouse.EUNAVAILABLE)
	SetFault(t, s, FaultNone)
	must(t, write())
	must(t, s.Ping(ctx))
}
