package sqlstore

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Bulk writes. A company-wide change (an HR import of 100,000 people, a catalog apply that gives
// everyone a birthright) writes hundreds of thousands of rows in one transaction. On SQLite,
// in the process, one prepared INSERT a row is the fastest there is (multi-row INSERTs were
// measured slower: the driver looks up every parameter's name when it binds). On PostgreSQL each
// statement is a round trip and an executor start, so there a batch is one statement over
// arrays — INSERT … SELECT FROM unnest($1::text[], …), UPDATE … FROM unnest(…) — bulkRows rows
// at a time, with a handful of parameters whatever the batch's size.
//
// A batch that fails tells which row from the database's own words: PostgreSQL names the key
// that clashed or is missing in the error's detail, and the row is the first of the batch with
// that key (the second, when two rows of the batch share it: the first went in). Its error is
// the one the one-row method gives, as a *store.RowError with the row's index. No savepoint is
// taken to retry rows one by one: each would be a subtransaction, and past 64 of them in one
// transaction every other session's snapshot pays for them.

// bulkRows is the rows one PostgreSQL bulk statement carries: enough that the round trip and
// executor start vanish, few enough that one statement's arrays stay a few MiB.
const bulkRows = 5000

// postgresBulk reports whether batches go to the database as array statements.
func (t *tx) postgresBulk() bool { return t.d.name == "postgres" }

// eachRow runs one for rows [0, n), stopping at the first error, as a *store.RowError.
func eachRow(n int, one func(i int) error) error {
	for i := range n {
		if err := one(i); err != nil {
			return &store.RowError{Index: i, Err: err}
		}
	}
	return nil
}

// inChunks runs fn for each chunk [lo, hi) of n rows of at most bulkRows.
func inChunks(n int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += bulkRows {
		if err := fn(lo, min(lo+bulkRows, n)); err != nil {
			return err
		}
	}
	return nil
}

// violationKey is the key value a PostgreSQL constraint error names in its detail — "Key
// (lower(email))=(a@example.com) already exists.", "Key (identity_id)=(…) is not present in
// table …" — for a key of one column: the text between the first ")=(" and the last ")".
func violationKey(err error) (string, bool) {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return "", false
	}
	_, rest, ok := strings.Cut(e.Detail, ")=(")
	if !ok {
		return "", false
	}
	end := strings.LastIndex(rest, ")")
	if end < 0 {
		return "", false
	}
	return rest[:end], true
}

// offendingRow is the row of [lo, hi) a batch's constraint error is about: the first whose key
// (as keyOf gives it, spelled as the constraint's expression) is the one the error names, or the
// second such row when the batch itself holds the key twice. -1 when none is found.
func offendingRow(err error, lo, hi int, keyOf func(i int) string) int {
	key, ok := violationKey(err)
	if !ok {
		return -1
	}
	first := -1
	for i := lo; i < hi; i++ {
		if keyOf(i) != key {
			continue
		}
		if first >= 0 {
			return i
		}
		first = i
	}
	return first
}

// batchError turns a failed batch statement of rows [lo, hi) into the error of its row: the
// one-row error rowErr gives for row i (nil when it does not know the error), else err wrapped
// with what.
func batchError(err error, lo, hi int, keyOf func(i int) string, rowErr func(i int, err error) error, what string) error {
	if i := offendingRow(err, lo, hi, keyOf); i >= 0 {
		if rerr := rowErr(i, err); rerr != nil {
			return &store.RowError{Index: i, Err: rerr}
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// pgTimes binds times as a timestamptz[] the way bindTime binds one.
func pgTimes(ts []time.Time) []time.Time {
	for i, t := range ts {
		ts[i] = t.UTC().Truncate(time.Microsecond)
	}
	return ts
}

// pgNullTime is an optional time as an element of a timestamptz[] (nil is NULL).
func pgNullTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}
