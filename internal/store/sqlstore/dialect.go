package sqlstore

import (
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// dialect is everything that differs between the engines. The SQL itself is shared: both
// drivers accept $1-style placeholders, ON CONFLICT upserts, RETURNING, partial and expression
// indexes.
type dialect struct {
	name string // "sqlite" or "postgres", as returned by Engine
	// migrations is the directory of this engine's migrations in the embedded filesystem.
	migrations string
	// migrateLock, run first in the migration transaction, keeps two processes from migrating
	// at once. SQLite needs none: its transactions begin IMMEDIATE, which already excludes
	// other writers.
	migrateLock string
	// forUpdate locks the rows a SELECT reads until the transaction ends. SQLite has no row
	// locks (and no such syntax): its write transactions are already serialized.
	forUpdate string
	// activeGrant is the condition of a grant not revoked (ListGrants' status active): on
	// PostgreSQL the generated column of migration 0026, whose plan is right without statistics.
	activeGrant string
	// snapshot are the options of a read transaction that sees one consistent state.
	snapshot *sql.TxOptions
	// bindTime converts a time to the value stored in a timestamp column.
	bindTime func(time.Time) any
	// violation classifies a constraint error: which kind, and a text naming the constraint
	// (index or column names) so that callers can say which value clashed.
	violation func(error) (kind violationKind, detail string)
	// fault classifies a write the database refused for lack of space or of write access:
	// faultFull, faultReadOnly, or "" for any other error (see sqlStore.writeFailed).
	fault func(error) string
}

// Write faults: the request was fine, the database cannot take it now.
const (
	faultFull     = "full"
	faultReadOnly = "read-only"
)

type violationKind int

const (
	noViolation violationKind = iota
	uniqueViolation
	foreignKeyViolation
)

func sqliteDialect() *dialect {
	return &dialect{
		name:        "sqlite",
		migrations:  "migrations/sqlite",
		activeGrant: "revoked_at IS NULL",
		snapshot:    &sql.TxOptions{ReadOnly: true},
		bindTime:    func(t time.Time) any { return t.UTC().Truncate(time.Microsecond).UnixMicro() },
		violation: func(err error) (violationKind, string) {
			var e *sqlite.Error
			if !errors.As(err, &e) {
				return noViolation, ""
			}
			// Extended result codes (enabled by the driver): SQLITE_CONSTRAINT_UNIQUE,
			// SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_FOREIGNKEY. The message names
			// the columns ("identities.employee_id") or the index ("index 'identities_email_key'").
			switch e.Code() {
			case 2067, 1555:
				return uniqueViolation, e.Error()
			case 787:
				return foreignKeyViolation, e.Error()
			}
			return noViolation, ""
		},
		fault: func(err error) string {
			var e *sqlite.Error
			if !errors.As(err, &e) {
				return ""
			}
			// The primary result code is the low byte of the extended one: SQLITE_FULL (13) is
			// also what the unix VFS reports for ENOSPC and what PRAGMA max_page_count gives;
			// SQLITE_READONLY (8) covers a file or directory without write access, a read-only
			// mount and PRAGMA query_only.
			switch e.Code() & 0xff {
			case 13:
				return faultFull
			case 8:
				return faultReadOnly
			}
			return ""
		},
	}
}

func postgresDialect() *dialect {
	return &dialect{
		name:        "postgres",
		migrations:  "migrations/postgres",
		activeGrant: "active",
		// Scoped to the schema, so that test schemas in one database migrate in parallel while
		// two replicas on one schema still take turns. Released at commit.
		migrateLock: `SELECT pg_advisory_xact_lock(hashtextextended('gatehouse.migrate.' || current_schema(), 0))`,
		forUpdate:   " FOR UPDATE",
		snapshot:    &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
		bindTime:    func(t time.Time) any { return t.UTC().Truncate(time.Microsecond) },
		violation: func(err error) (violationKind, string) {
			var e *pgconn.PgError
			if !errors.As(err, &e) {
				return noViolation, ""
			}
			switch e.Code {
			case "23505":
				return uniqueViolation, e.ConstraintName
			case "23503":
				return foreignKeyViolation, e.ConstraintName
			}
			return noViolation, ""
		},
		fault: func(err error) string {
			var e *pgconn.PgError
			if !errors.As(err, &e) {
				return ""
			}
			switch e.Code {
			case "53100": // disk_full
				return faultFull
			case "25006": // read_only_sql_transaction: a standby, or default_transaction_read_only
				return faultReadOnly
			}
			return ""
		},
	}
}

// nullTime binds an optional time.
func (d *dialect) nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.bindTime(*t)
}

// isUnique reports whether err is a unique violation whose constraint text mentions any of
// the given column or index names.
func (d *dialect) isUnique(err error, names ...string) bool {
	kind, detail := d.violation(err)
	if kind != uniqueViolation {
		return false
	}
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		if strings.Contains(detail, n) {
			return true
		}
	}
	return false
}

// isForeignKey reports whether err is a foreign key violation.
func (d *dialect) isForeignKey(err error) bool {
	kind, _ := d.violation(err)
	return kind == foreignKeyViolation
}
