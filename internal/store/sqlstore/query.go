package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
)

// querier is what *sql.DB and *sql.Tx have in common, so that every read is written once and
// runs both on the pool and inside a transaction (where it sees the transaction's writes).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conds builds a WHERE clause and numbers its placeholders as they are added. It never edits
// SQL text after the fact. Build the whole query text into a variable before passing c.args to
// a call: within one call's arguments Go does not order a c.arg call against reading c.args.
type conds struct {
	where []string
	args  []any
}

// arg records a value and returns its placeholder.
func (c *conds) arg(v any) string {
	c.args = append(c.args, v)
	return "$" + strconv.Itoa(len(c.args))
}

// add appends a condition written with placeholders from arg.
func (c *conds) add(cond string) { c.where = append(c.where, cond) }

func (c *conds) String() string {
	if len(c.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.where, " AND ")
}

// likeContains returns a LIKE pattern (used with ESCAPE '\') that matches s anywhere.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// searchSep separates fields in a search column, so that a query cannot match across the end of
// one field and the start of the next.
const searchSep = "\x1f"

// searchText is the value of a search column: the lowercased fields, separated.
func searchText(fields ...string) string {
	return strings.ToLower(strings.Join(fields, searchSep))
}

// searchPattern is the LIKE pattern for a user's query over a search column.
func searchPattern(q string) string {
	q = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(q)), searchSep, "")
	return likeContains(q)
}

// timeDest scans a timestamp column of either engine (int64 microseconds from SQLite,
// time.Time from PostgreSQL) into a UTC time.Time.
type timeDest struct{ t *time.Time }

func (d timeDest) Scan(v any) error {
	switch x := v.(type) {
	case int64:
		*d.t = time.UnixMicro(x).UTC()
	case time.Time:
		*d.t = x.UTC()
	case nil:
		*d.t = time.Time{}
	default:
		return fmt.Errorf("timestamp: unexpected %T", v)
	}
	return nil
}

// nullTimeDest scans a nullable timestamp column into a *time.Time (nil for NULL).
type nullTimeDest struct{ t **time.Time }

func (d nullTimeDest) Scan(v any) error {
	if v == nil {
		*d.t = nil
		return nil
	}
	var t time.Time
	if err := (timeDest{&t}).Scan(v); err != nil {
		return err
	}
	*d.t = &t
	return nil
}

// jsonDest scans a JSON TEXT column into v.
type jsonDest struct{ v any }

func (d jsonDest) Scan(src any) error {
	var b []byte
	switch x := src.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	case nil:
		return nil
	default:
		return fmt.Errorf("json column: unexpected %T", src)
	}
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, d.v)
}

// rawDest scans a nullable TEXT column into raw JSON bytes, byte for byte (nil for NULL).
type rawDest struct{ b *json.RawMessage }

func (d rawDest) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		*d.b = nil
	case string:
		*d.b = json.RawMessage(x)
	case []byte:
		*d.b = append(json.RawMessage(nil), x...)
	default:
		return fmt.Errorf("json column: unexpected %T", src)
	}
	return nil
}

// nullStringDest scans a nullable TEXT column into a string ("" for NULL).
type nullStringDest struct{ s *string }

func (d nullStringDest) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		*d.s = ""
	case string:
		*d.s = x
	case []byte:
		*d.s = string(x)
	default:
		return fmt.Errorf("text column: unexpected %T", src)
	}
	return nil
}

// nullIfEmpty stores "" as NULL, for optional references (an orphan account's identity).
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonText encodes v for a JSON TEXT column. Empty slices and maps are stored as [] and {}, so
// that the stored text does not depend on nil versus empty.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// nonNil returns s, or an empty slice for nil, for fields that must encode as [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// nilIfEmpty returns nil for an empty slice, for omitempty fields.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// utc normalizes a time the way it will be stored.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// utcPtr normalizes an optional time the way it will be stored.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

// notFound is the error of a Get, Update, Delete or Revoke that matched nothing.
func notFound(what, key string) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "%s %q not found", what, key)
}

// affected returns the error for an UPDATE or DELETE that matched no row.
func affected(res sql.Result, what, key string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(what, key)
	}
	return nil
}

// collect drains rows with scan, closing them; it returns an empty, non-nil slice for no rows.
func collect[T any](rows *sql.Rows, scan func(*sql.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// stmtTx is a transaction that prepares each distinct write statement once. A bulk change (an
// HR import writes hundreds of thousands of rows and audit events) otherwise spends a fifth of
// its time having SQLite parse the same INSERT again for every row. Queries are not cached:
// their text varies with filters, and they are few per transaction.
type stmtTx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
}

func (t *stmtTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok := t.stmts[query]
	if !ok {
		var err error
		if st, err = t.Tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		if t.stmts == nil {
			t.stmts = map[string]*sql.Stmt{}
		}
		t.stmts[query] = st // closed by the transaction's commit or rollback
	}
	return st.ExecContext(ctx, args...)
}

// getByID runs a one-row lookup by id and answers as every Get method must: ENOTFOUND naming
// the kind and id when there is no row, never (nil, nil), and other errors wrapped with context.
func getByID[T any](ctx context.Context, q querier, scan func(interface{ Scan(...any) error }) (T, error),
	kind, query, id string) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, notFound(kind, id)
	}
	if err != nil {
		var zero T
		return zero, fmt.Errorf("get %s %q: %w", kind, id, err)
	}
	return v, nil
}

// stmtCache is the read pool's querier: it runs each query text through a prepared statement
// kept for the life of the store. SQLite spends longer parsing a short lookup than running it
// (an access request's policy check makes a dozen lookups: parsing was 60% of their time), and
// database/sql prepares again on every call otherwise; a *sql.Stmt is safe for concurrent use
// and prepares itself on each pooled connection once. Query texts built with a varying number of
// placeholders (IN lists) are many; past maxCachedStmts texts, queries run unprepared.
type stmtCache struct {
	*sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

const maxCachedStmts = 512

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{DB: db, stmts: map[string]*sql.Stmt{}} }

// stmt returns the prepared statement for query, or nil to run it unprepared.
func (c *stmtCache) stmt(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	st, ok := c.stmts[query]
	full := len(c.stmts) >= maxCachedStmts
	c.mu.RUnlock()
	if ok || full {
		return st
	}
	st, err := c.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil // the unprepared run reports the error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[query]; ok { // prepared concurrently
		st.Close()
		return prev
	}
	if len(c.stmts) >= maxCachedStmts {
		st.Close()
		return nil
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.DB.QueryContext(ctx, query, args...)
}

func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.DB.QueryRowContext(ctx, query, args...)
}

// close closes the kept statements (before the pool).
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}

// nextNumber takes the next number of a counter table (request_numbers, emergency_numbers,
// exception_numbers: one row, id 1, last). The row is updated in the caller's transaction:
// PostgreSQL holds its lock until commit, so a concurrent writer waits and takes the number
// after; SQLite serializes writers anyway. Numbers are therefore sequential and never shared.
// counter is one of our table names, never input.
func nextNumber(ctx context.Context, q querier, counter string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `INSERT INTO `+counter+` (id, last) VALUES (1, 1)
		ON CONFLICT (id) DO UPDATE SET last = `+counter+`.last + 1 RETURNING last`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("number from %s: %w", counter, err)
	}
	return n, nil
}
