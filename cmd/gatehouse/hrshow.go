package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// hrImportShowCommand is `hr imports show ID`: the import's record, then for an applied import
// the evidence of what it did to each person, named, a page at a time. With --json the answer
// is {"import": …, "changes": {"items": […], "next_cursor": …}}.
func (a *app) hrImportShowCommand() *cobra.Command {
	var (
		f  gatehouse.HRImportChangeFilter
		lf listFlags
	)
	show := &cobra.Command{
		Use:   "show ID [--class CLASS] [--late] [--limit N | --all]",
		Short: "Show one HR import: the file's evidence, snapshot or delta, and what it did",
		Long: `Show an HR import: the file's evidence (name, SHA-256, rows, who, when, the decision), its
counts, and for an applied import what it did to each person, one line each, by name:

  mover    Sam Taylor (E0042): department Finance → Engineering; +github/infra-team; −aws/billing-read

A leaver terminated after their end date is marked "LATE: terminated N days after end date".
One page of people is printed (--limit, default 50); --all prints every one. --class joiner
(or mover, leaver, …) and --late narrow the list. With --json the answer is
{"import": …, "changes": {"items": […], "next_cursor": …}}.`,
		Args: exactArgs(1, "ID"),
	}
	show.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := a.client(cmd)
		if err != nil {
			return err
		}
		imp, err := c.GetHRImport(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		page := &gatehouse.Page[*gatehouse.HRImportChange]{Items: []*gatehouse.HRImportChange{}}
		if imp.Status == gatehouse.ImportApplied {
			page, err = collect(lf, func(o pageAt) (*gatehouse.Page[*gatehouse.HRImportChange], error) {
				f.ImportID, f.Limit, f.Cursor = imp.ID, o.Limit, o.Cursor
				return c.ListHRImportChanges(cmd.Context(), f)
			})
			if err != nil {
				return err
			}
		}
		if a.json() {
			return printJSON(a.stdout, struct {
				Import  *gatehouse.HRImport                        `json:"import"`
				Changes *gatehouse.Page[*gatehouse.HRImportChange] `json:"changes"`
			}{imp, page})
		}
		writeHRImport(a.stdout, imp)
		writeHRChanges(a, imp, page)
		return nil
	}
	show.Flags().StringVar(&f.Class, "class", "", "only people of this plan class (joiner, mover, leaver, …)")
	show.Flags().BoolVar(&f.Late, "late", false, "only leavers terminated after their end date")
	lf.register(show)
	return show
}

// writeHRImport prints an import's record: the file's evidence, who decided, its counts.
func writeHRImport(w io.Writer, imp *gatehouse.HRImport) {
	printf(w, "Import:   %s\n", imp.ID)
	printf(w, "File:     %s (%s, %s)\n", imp.FileName, imp.Format, importMode(imp))
	printf(w, "SHA-256:  %s\n", imp.SHA256)
	printf(w, "Rows:     %d\n", imp.RowCount)
	printf(w, "Status:   %s\n", imp.Status)
	printf(w, "Created:  %s by %s\n", ts(imp.CreatedAt), imp.CreatedBy)
	if imp.DecidedBy != "" && imp.DecidedAt != nil {
		printf(w, "Decided:  %s by %s\n", ts(*imp.DecidedAt), imp.DecidedBy)
	}
	if imp.Reason != "" {
		printf(w, "Reason:   %s\n", imp.Reason)
	}
	var sum service.HRSummary
	if len(imp.Summary) > 0 && json.Unmarshal(imp.Summary, &sum) == nil {
		s := sum.Summary
		printf(w, "Summary:  %d joiners, %d pre-hires, %d movers, %d leavers, %d on leave, %d rehires, %d back from leave, %d updated, %d missing, %d skipped, %d unchanged; grants +%d -%d\n",
			s.Joiners+s.NewTerminated, s.PreHires, s.Movers, s.Leavers, s.Leave, s.Rehires, s.Returners, s.Updated, s.Missing, s.Skipped,
			s.Unchanged, s.GrantsGained, s.GrantsLost)
		for _, warn := range sum.Warnings {
			printf(w, "warning: %s\n", warn)
		}
	}
}

// writeHRChanges prints an import's evidence rows, one person a line.
func writeHRChanges(a *app, imp *gatehouse.HRImport, page *gatehouse.Page[*gatehouse.HRImportChange]) {
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
