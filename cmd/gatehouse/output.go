package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/client"
	"github.com/gatehouse/gatehouse/internal/store"
)

// printJSON writes v as indented JSON: what -o json prints, for scripts and jq.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes aligned columns. Cells that are empty print as "-", so that columns stay
// readable and awk-able.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, headers ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(headers...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			c = "-"
		}
		// A tab or newline inside a cell would break the alignment.
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// fields writes "key: value" lines, aligned, for `show` commands.
func fields(w io.Writer, kv ...string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s:\t%s\n", kv[i], v)
	}
	return tw.Flush()
}

// ts formats a time in RFC 3339 UTC, the one time format of the CLI.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func joinRoles(rs []gatehouse.AccessRole) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return strings.Join(out, ",")
}

// listFlags are the paging flags of list commands.
type listFlags struct {
	limit int
	all   bool
}

func (l *listFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&l.limit, "limit", 0, "page size (default 50, at most 1000)")
	cmd.Flags().BoolVar(&l.all, "all", false, "fetch every page, following next_cursor")
}

// collect fetches one page, or with all every page, of a list. fetch gets the cursor and the
// page size.
func collect[T any](l listFlags, fetch func(o client.ListOptions) (*client.Page[T], error)) (*client.Page[T], error) {
	o := client.ListOptions{Limit: l.limit}
	if !l.all {
		page, err := fetch(o)
		if err != nil {
			return nil, err
		}
		page.Items = nonNil(page.Items)
		return page, nil
	}
	if o.Limit == 0 {
		o.Limit = store.MaxLimit // fewer round trips when all pages are wanted
	}
	out := client.Page[T]{Items: []T{}}
	for {
		page, err := fetch(o)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, page.Items...)
		if page.NextCursor == "" {
			return &out, nil
		}
		o.Cursor = page.NextCursor
	}
}

// moreHint tells a person that a list goes on; JSON output carries next_cursor instead.
func (a *app) moreHint(next string) {
	if next != "" && !a.json() {
		fmt.Fprintln(a.stderr, "(more results: pass --all, or a larger --limit)")
	}
}

// identityNames maps identity ids to emails, for tables of grants and tokens, which hold ids.
// It is best effort: a caller who may not list identities sees ids.
func identityNames(ctx context.Context, c *client.Client, ids []string) map[string]string {
	names := map[string]string{}
	var want []string
	for _, id := range ids {
		if _, ok := names[id]; !ok && id != "" {
			names[id] = id
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return names
	}
	if len(want) <= 20 {
		for _, id := range want {
			if i, err := c.GetIdentity(ctx, id); err == nil {
				names[id] = i.Email
			}
		}
		return names
	}
	// Many ids: one listing of everyone is cheaper than a request per id.
	o := client.IdentityFilter{ListOptions: client.ListOptions{Limit: store.MaxLimit}}
	for {
		page, err := c.ListIdentities(ctx, o)
		if err != nil {
			return names
		}
		for _, i := range page.Items {
			if _, ok := names[i.ID]; ok {
				names[i.ID] = i.Email
			}
		}
		if page.NextCursor == "" {
			return names
		}
		o.Cursor = page.NextCursor
	}
}
