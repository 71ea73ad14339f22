package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Every List method pages by keyset, not OFFSET: rows are ordered by a unique key, a cursor
// carries the last key of a page, and the next page starts after it, so pages stay stable while
// rows are added and a deep page costs what the first does. listPage is that scaffolding, once.

// rowScanner is what *sql.Row and *sql.Rows have in common; the scan functions take it.
type rowScanner = interface{ Scan(...any) error }

// keyset describes one paged list.
type keyset[T any] struct {
	what   string // in errors: "list <what>: …"
	tag    string // names the list in its cursors
	sel    string // SELECT <columns> FROM <table>, without WHERE or ORDER BY
	key    string // the unique key expression the list is ordered by, e.g. "id", "lower(display_name)"
	desc   bool   // newest first
	scan   func(rowScanner) (T, error)
	keyOf  func(T) string // the key of an item, as its cursor carries it
	number bool           // the key is an integer: the cursor's key is parsed and bound as one
	// badNumber is the error text for a cursor whose key does not parse as an integer; empty
	// means the same error as for a cursor of another list.
	badNumber string
}

// pageQuery is where a page starts and how long it is, as a filter carries them.
type pageQuery struct {
	cursor string
	limit  int
	offset int // rows to skip after the cursor; only identities offer it
}

// listPage runs l with the conditions in c (which it extends with the cursor's and the limit's
// placeholders): it fetches one row more than the page holds, and the extra row's presence is
// what sets the next cursor.
func listPage[T any](ctx context.Context, q querier, l keyset[T], c *conds, p pageQuery) (gatehouse.Page[T], error) {
	var none gatehouse.Page[T]
	if p.cursor != "" {
		key, err := decodeCursor(l.tag, p.cursor)
		if err != nil {
			return none, err
		}
		var after any = key
		if l.number {
			n, err := strconv.ParseInt(key, 10, 64)
			if err != nil {
				if l.badNumber == "" {
					return none, gatehouse.Errorf(gatehouse.EINVALID, "cursor: %q is not a cursor of this %s list", p.cursor, l.tag)
				}
				return none, gatehouse.Errorf(gatehouse.EINVALID, "%s", l.badNumber)
			}
			after = n
		}
		cmp := ">"
		if l.desc {
			cmp = "<"
		}
		c.add(l.key + ` ` + cmp + ` ` + c.arg(after))
	}
	limit := pageLimit(p.limit)
	order := l.key
	if l.desc {
		order += ` DESC`
	}
	query := l.sel + c.String() + ` ORDER BY ` + order + ` LIMIT ` + c.arg(limit+1)
	if p.offset > 0 {
		query += ` OFFSET ` + c.arg(p.offset)
	}
	rows, err := q.QueryContext(ctx, query, c.args...)
	if err != nil {
		return none, fmt.Errorf("list %s: %w", l.what, err)
	}
	items, err := collect(rows, func(rows *sql.Rows) (T, error) { return l.scan(rows) })
	if err != nil {
		return none, fmt.Errorf("list %s: %w", l.what, err)
	}
	return page(items, limit, l.tag, l.keyOf), nil
}

// pageLimit applies the default and the maximum page size.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return gatehouse.DefaultLimit
	case n > gatehouse.MaxLimit:
		return gatehouse.MaxLimit
	}
	return n
}

// Cursors are opaque to callers: base64 of a tag naming the list and the last key seen. The tag
// turns a cursor passed to the wrong list into a clear error instead of a wrong page.
func encodeCursor(tag, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tag + ":" + key))
}

func decodeCursor(tag, cursor string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil {
		if key, ok := strings.CutPrefix(string(b), tag+":"); ok && key != "" {
			return key, nil
		}
	}
	return "", gatehouse.Errorf(gatehouse.EINVALID, "cursor: %q is not a cursor of this %s list", cursor, tag)
}

// page cuts a result fetched with limit+1 rows into a page, with a cursor if there is more.
func page[T any](items []T, limit int, tag string, key func(T) string) gatehouse.Page[T] {
	p := gatehouse.Page[T]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = encodeCursor(tag, key(items[limit-1]))
	}
	return p
}
