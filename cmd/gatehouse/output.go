package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/client"
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
		// A tab or newline inside a cell would break the alignment or forge a row.
		cells[i] = printable(c)
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
		fmt.Fprintf(tw, "%s:\t%s\n", printable(kv[i]), printable(v))
	}
	return tw.Flush()
}

// printable is s made safe to print on a terminal: every printer of data (table, fields, and the
// few direct Printf calls) passes values through it, so data can never move the cursor, colour
// the screen, reorder text or forge a line of output ("Sam\n    roles: admin" prints as one
// line, with the \n visible). Control characters become Go-style escapes (\n, \t, \x1b),
// bidirectional controls and C1 controls \u escapes, and bytes that are not UTF-8 \x escapes; a
// backslash is left as it is, since names and paths carry them and escapes are only a display.
// JSON output (-o json) needs none of this: the encoder escapes control characters itself.
func printable(s string) string {
	i := 0
	for i < len(s) {
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 || unsafeRune(c) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s // the common case: nothing to escape, no allocation
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for i < len(s) {
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x80 && unsafeRune(c):
			fmt.Fprintf(&b, `\x%02x`, c)
		case unsafeRune(c):
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// printf is fmt.Fprintf for lines that carry data: every string, error and fmt.Stringer
// argument passes through printable first. The format itself is ours and is printed as it is.
func printf(w io.Writer, format string, args ...any) {
	for i, v := range args {
		switch x := v.(type) {
		case string:
			args[i] = printable(x)
		case error:
			args[i] = printable(x.Error())
		case fmt.Stringer:
			args[i] = printable(x.String())
		}
	}
	fmt.Fprintf(w, format, args...)
}

// printableLines escapes each line of a text that is meant to span lines (an error message
// that lists problems), keeping its line breaks.
func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = printable(l)
	}
	return strings.Join(lines, "\n")
}

// unsafeRune reports the characters a terminal acts on or that change how text around them is
// shown: C0 and C1 controls, DEL, bidirectional embeddings, overrides, isolates and marks, the
// line and paragraph separators, and the zero-width space and BOM, which hide text. (The
// zero-width joiners stay: Persian and Indic names and emoji need them.)
func unsafeRune(c rune) bool {
	switch {
	case c < 0x20, c >= 0x7f && c < 0xa0:
		return true
	case c >= 0x202a && c <= 0x202e, c >= 0x2066 && c <= 0x2069, c == 0x200e, c == 0x200f, c == 0x061c:
		return true
	case c == 0x2028, c == 0x2029, c == 0xfeff, c == 0x200b:
		return true
	}
	return false
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

// pageAt is the page of a list to fetch: its size and the cursor of the previous page.
type pageAt struct {
	Limit  int
	Cursor string
}

// collect fetches one page, or with all every page, of a list. fetch gets the cursor and the
// page size.
func collect[T any](l listFlags, fetch func(o pageAt) (*gatehouse.Page[T], error)) (*gatehouse.Page[T], error) {
	o := pageAt{Limit: l.limit}
	if !l.all {
		page, err := fetch(o)
		if err != nil {
			return nil, err
		}
		page.Items = nonNil(page.Items)
		return page, nil
	}
	if o.Limit == 0 {
		o.Limit = gatehouse.MaxLimit // fewer round trips when all pages are wanted
	}
	out := gatehouse.Page[T]{Items: []T{}}
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
	o := gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit}
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

// outputIsFile is the PersistentPreRunE of the commands where -o names a file to write, not
// table or json: it skips the root's check of -o.
func outputIsFile(*cobra.Command, []string) error { return nil }

// outputFile is the file -o names on the commands whose PersistentPreRunE is outputIsFile;
// "" (or "-") is standard output.
func (a *app) outputFile(cmd *cobra.Command) string {
	if cmd.Flags().Changed("output") && a.output != "-" {
		return a.output
	}
	return ""
}

// writePrivateFile writes path readable by the user only (mode 0600): write fills a temporary
// file beside it, renamed over path once complete, so a reader never sees half of it and a
// failed write leaves path as it was. Errors of write are returned as they are.
func writePrivateFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gatehouse-*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done = true
	return nil
}
