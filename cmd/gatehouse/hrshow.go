package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/client"
	"github.com/gatehouse/gatehouse/internal/service"
)

// withHRImportChanges extends `hr imports show ID` with the evidence of an applied import: what
// it did to each person, named, a page at a time, after the import's record. With --json the
// answer is {"import": …, "changes": {"items": […], "next_cursor": …}}.
func (a *app) withHRImportChanges(show *cobra.Command) *cobra.Command {
	var (
		f  client.HRChangeFilter
		lf listFlags
	)
	record := show.RunE
	show.Use = "show ID [--class CLASS] [--late] [--limit N | --all]"
	show.Long = `Show an HR import: the file's evidence (name, SHA-256, rows, who, when, the decision), its
counts, and for an applied import what it did to each person, one line each, by name:

  mover    Sam Taylor (E0042): department Finance → Engineering; +github/infra-team; −aws/billing-read

A leaver terminated after their end date is marked "LATE: terminated N days after end date".
One page of people is printed (--limit, default 50); --all prints every one. --class joiner
(or mover, leaver, …) and --late narrow the list. With --json the answer is
{"import": …, "changes": {"items": […], "next_cursor": …}}.`
	show.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := a.client(cmd)
		if err != nil {
			return err
		}
		imp, err := c.GetHRImport(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		page := &client.Page[*gatehouse.HRImportChange]{Items: []*gatehouse.HRImportChange{}}
		if imp.Status == gatehouse.ImportApplied {
			page, err = collect(lf, func(o client.ListOptions) (*client.Page[*gatehouse.HRImportChange], error) {
				return c.ListHRImportChanges(cmd.Context(), imp.ID, f, o)
			})
			if err != nil {
				return err
			}
		}
		if a.json() {
			return printJSON(a.stdout, struct {
				Import  *gatehouse.HRImport                     `json:"import"`
				Changes *client.Page[*gatehouse.HRImportChange] `json:"changes"`
			}{imp, page})
		}
		if err := record(cmd, args); err != nil {
			return err
		}
		writeHRChanges(a, imp, page)
		return nil
	}
	show.Flags().StringVar(&f.Class, "class", "", "only people of this plan class (joiner, mover, leaver, …)")
	show.Flags().BoolVar(&f.Late, "late", false, "only leavers terminated after their end date")
	lf.register(show)
	return show
}

// writeHRChanges prints an import's evidence rows, one person a line.
func writeHRChanges(a *app, imp *gatehouse.HRImport, page *client.Page[*gatehouse.HRImportChange]) {
	w := a.stdout
	var sum struct {
		LateLeavers int `json:"late_leavers"`
	}
	if len(imp.Summary) > 0 && json.Unmarshal(imp.Summary, &sum) == nil && sum.LateLeavers > 0 {
		printf(w, "Late leavers: %d terminated after their end date.\n", sum.LateLeavers)
	}
	switch {
	case imp.Status != gatehouse.ImportApplied:
		fmt.Fprintln(w, "Nothing was applied.")
		return
	case len(page.Items) == 0:
		fmt.Fprintln(w, "People: none listed (none matches, or the import was applied before imports kept what they did; the audit log has it).")
		return
	}
	fmt.Fprintln(w, "People:")
	for _, ch := range page.Items {
		fmt.Fprintln(w, printable(fmt.Sprintf("  %-8s %s", ch.Class, service.HRChangeLine(ch))))
	}
	a.moreHint(page.NextCursor)
}
