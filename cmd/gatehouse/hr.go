package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/client"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *app) hrCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hr",
		Short: "Import the HR feed (joiners, movers, leavers), export it, and decide held imports",
		Long: `The HR feed is a CSV snapshot of everyone (see docs/hr.md): import it, and Gatehouse creates
joiners, updates movers, terminates leavers and recomputes birthright access. A file of
changes only is imported with --delta. Export writes the current people in the same format:

  gatehouse hr import people.csv --dry-run     # the plan, nothing changed
  gatehouse hr import people.csv
  gatehouse hr import changes.csv --delta      # only the people it lists
  gatehouse hr export -o people.csv            # edit, then import it again
  gatehouse hr imports list --status held     # held by the leaver guard
  gatehouse hr imports approve ID`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(a.hrImportCommand(), a.hrExportCommand(), a.hrImportsCommand(), a.hrDatesCommand())
	return cmd
}

func (a *app) hrImportCommand() *cobra.Command {
	var (
		dryRun, delta bool
		max           int
	)
	cmd := &cobra.Command{
		Use:   "import FILE.csv [--dry-run] [--delta]",
		Short: "Import an HR feed snapshot (or a delta) and print its joiner/mover/leaver plan (operators)",
		Long: `Import an HR feed CSV. The plan is printed by class — leavers, leave, movers (with what
changes), rehires, returners, joiners, pre-hires — with the birthright grants each person gains
(+) and loses (-), then a summary.

By default the file is a full snapshot of everyone: a person it does not list is a leaver, and
every manager_id must be the employee_id of a row. With --delta the file lists only changes:
each row creates or updates its person, the people it does not list are left alone, a leaver
is a row with status terminated, and a manager_id may name a person already stored. Both share
the plan, the leaver guard and the evidence; 'hr imports list' shows which an import was.

A file with any invalid row is rejected as a whole: every problem is listed as
"file: line N: field: reason" and the exit code is 1. An import that would terminate or suspend
more people than the catalog's leaver_guard allows is held: nothing is applied, the exit code
is 1 (a dry run says it would be held, and exits 0), and an admin approves or rejects it with 'gatehouse hr imports approve|reject ID'.
The guard counts the removals of the HR imports of the last 24 hours with this file's.

The file may be up to 64 MiB (the server's --hr-max-mib). One import runs at a time: while another (or its dry run) runs,
this one is refused naming it; try again when it is done. The server answers the counts of
everyone and a page of people per class (--max of them); a dry run with --max 0 fetches every
page, sending the file again for each.`,
		Args: exactArgs(1, "FILE.csv"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if max < 0 {
				return usageErrorf(cmd, "--max %d: use 0 (all) or more", max)
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			res, err := importHRPages(cmd, c, args[0], data, gatehouse.HRImportQuery{DryRun: dryRun, Delta: delta}, max)
			if err != nil {
				// An HR file's problems read "file: line N: field: reason".
				return importOutcome(worded(err, jml.ProblemText))
			}
			if a.json() {
				if err := printJSON(a.stdout, res); err != nil {
					return err
				}
			} else {
				writeHRResult(a.stdout, res, max)
			}
			if res.Plan != nil && res.Plan.Held && !res.DryRun {
				return errFindings
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan and change nothing")
	cmd.Flags().BoolVar(&delta, "delta", false, "the file lists only changes: upsert its rows, leave everyone else alone")
	cmd.Flags().IntVar(&max, "max", 50, "list at most this many people per class (0: all, which a dry run fetches page by page; an import lists up to 1000 per class, the audit log has every change)")
	return cmd
}

// hrPageMax is the most plan items per class the server answers at once.
const hrPageMax = 1000

// importHRPages imports (or dry-runs) a file and fetches the plan items that --max asks for:
// the server answers a page of each class, never the whole company. A dry run with --max 0 is
// asked again, with the same file, for each further page; an import is sent once.
func importHRPages(cmd *cobra.Command, c *client.Client, name string, data []byte, q gatehouse.HRImportQuery, max int) (*service.HRImportResult, error) {
	limit := max
	if limit == 0 || limit > hrPageMax {
		limit = hrPageMax
	}
	q.Limit = limit
	res, err := c.ImportHR(cmd.Context(), name, data, q)
	if err != nil || !q.DryRun || max != 0 || res.Plan == nil {
		return res, err
	}
	for res.Plan.Page != nil && res.Plan.Page.NextOffset > 0 {
		q.Offset = res.Plan.Page.NextOffset
		next, err := c.ImportHR(cmd.Context(), name, data, q)
		if err != nil {
			return nil, err
		}
		res.Plan.Items = append(res.Plan.Items, next.Plan.Items...)
		res.Plan.Page = next.Plan.Page
	}
	order := jml.Classes()
	slices.SortStableFunc(res.Plan.Items, func(a, b *jml.Item) int {
		return cmp.Compare(slices.Index(order, a.Class), slices.Index(order, b.Class))
	})
	if res.Plan.Page != nil {
		res.Plan.Page.Offset, res.Plan.Page.Limit, res.Plan.Page.Returned = 0, 0, len(res.Plan.Items)
	}
	return res, nil
}

// classTitles are the plan's sections, in the order the plan sorts items.
var classTitles = map[jml.Class]string{
	jml.Leaver: "Leavers", jml.Leave: "On leave (suspended, grants kept)", jml.Missing: "Missing from the feed (held for review)",
	jml.Mover: "Movers", jml.Rehire: "Rehires", jml.Returner: "Back from leave", jml.Joiner: "Joiners",
	jml.PreHire: "Pre-hires (nothing provisioned yet)", jml.NewTerminated: "First seen already terminated (nothing granted)",
	jml.Updated: "Updated", jml.Skipped: "Skipped (not owned by HR)",
}

func grantList(cs []jml.GrantChange) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.EntitlementID
		if c.Role != "" {
			parts[i] += " (" + c.Role + ")"
		} else if c.Source != "" {
			parts[i] += " (" + string(c.Source) + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// writeHRResult prints an import's plan for people.
func writeHRResult(w io.Writer, res *service.HRImportResult, max int) {
	p := res.Plan
	if p == nil {
		return
	}
	var class jml.Class
	shown := 0
	// The answer carries a page of each class at most: the summary counts the rest.
	flushHidden := func() {
		if class == "" {
			return
		}
		if hidden := p.Summary.Count(class) - shown; hidden > 0 {
			more := "--max 0 for all"
			if res.Import != nil {
				more = "every change is in the audit log, with reference hr-import:" + res.Import.ID
			} else if !res.DryRun {
				more = "the answer lists a page of each class"
			}
			printf(w, "  … and %d more (%s)\n", hidden, more)
		}
	}
	for _, it := range p.Items {
		if it.Class != class {
			flushHidden()
			class, shown = it.Class, 0
			printf(w, "%s:\n", classTitles[it.Class])
		}
		if max > 0 && shown >= max {
			continue
		}
		shown++
		line := "  " + it.EmployeeID + " " + it.Email
		var notes []string
		if it.Late != "" { // auditors count late leavers
			notes = append(notes, "LATE: "+it.Late)
		}
		if it.Reason != "" {
			notes = append(notes, it.Reason)
		}
		for _, ch := range it.Changes {
			from, to := ch.From, ch.To
			if from == "" {
				from = `""`
			}
			if to == "" {
				to = `""`
			}
			notes = append(notes, ch.Field+" "+from+" → "+to)
		}
		if len(notes) > 0 {
			line += ": " + strings.Join(notes, "; ")
		}
		fmt.Fprintln(w, printable(line))
		if len(it.Gain) > 0 {
			printf(w, "      + %s\n", grantList(it.Gain))
		}
		if len(it.Lose) > 0 {
			printf(w, "      - %s\n", grantList(it.Lose))
		}
		if len(it.Confirm) > 0 {
			printf(w, "      ? to be confirmed by the new manager %s: %s\n", it.ConfirmBy, grantList(it.Confirm))
		}
	}
	flushHidden()
	for _, warn := range p.Warnings {
		printf(w, "warning: %s\n", warn)
	}
	s := p.Summary
	printf(w, "Summary: %d rows; %d joiners, %d pre-hires, %d movers, %d leavers, %d on leave, %d rehires, %d back from leave, %d updated, %d missing, %d skipped, %d unchanged; grants +%d -%d; %d to confirm.\n",
		s.Rows, s.Joiners+s.NewTerminated, s.PreHires, s.Movers, s.Leavers, s.Leave, s.Rehires, s.Returners, s.Updated, s.Missing, s.Skipped,
		s.Unchanged, s.GrantsGained, s.GrantsLost, s.ToConfirm)
	if s.LateLeavers > 0 {
		printf(w, "Late leavers: %d terminated after their end date.\n", s.LateLeavers)
	}
	switch {
	case res.DryRun && p.Held:
		printf(w, "Dry run: nothing changed. Applying this file would be held: %s.\n", p.HeldReason)
	case res.DryRun:
		fmt.Fprintln(w, "Dry run: nothing changed.")
	case res.Import != nil && res.Import.Status == gatehouse.ImportHeld:
		printf(w, "Held as import %s: %s.\nNothing was applied; an admin runs 'gatehouse hr imports approve %s' or 'reject %s'.\n",
			res.Import.ID, p.HeldReason, res.Import.ID, res.Import.ID)
	case res.Import != nil:
		printf(w, "Applied as import %s (sha256 %s).\n", res.Import.ID, res.Import.SHA256)
	}
}

func (a *app) hrImportsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "imports",
		Short: "List HR imports; approve or reject held ones (admins)",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRun,
	}
	cmd.AddCommand(a.hrImportsListCommand(), a.hrImportShowCommand(), a.hrImportsApproveCommand(), a.hrImportsRejectCommand())
	return cmd
}

func (a *app) hrImportsListCommand() *cobra.Command {
	var (
		status string
		lf     listFlags
	)
	list := &cobra.Command{
		Use:   "list [--status applied|held|rejected]",
		Short: "List HR imports, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			page, err := collect(lf, func(o pageAt) (*gatehouse.Page[*gatehouse.HRImport], error) {
				return c.ListHRImports(cmd.Context(), gatehouse.HRImportFilter{Status: gatehouse.HRImportStatus(status), Limit: o.Limit, Cursor: o.Cursor})
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			t := newTable(a.stdout, "ID", "CREATED", "BY", "FILE", "MODE", "ROWS", "STATUS", "REASON")
			for _, imp := range page.Items {
				t.row(imp.ID, ts(imp.CreatedAt), imp.CreatedBy, imp.FileName, importMode(imp), fmt.Sprint(imp.RowCount), string(imp.Status), truncate(imp.Reason, 60))
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	list.Flags().StringVar(&status, "status", "", "only imports with this status: applied, held or rejected")
	lf.register(list)
	return list
}

func (a *app) hrImportsApproveCommand() *cobra.Command {
	var reason string
	approve := &cobra.Command{
		Use:   "approve ID [--reason TEXT]",
		Short: "Apply a held import, planned again against the current state (admins)",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			res, err := c.ApproveHRImport(cmd.Context(), args[0], reason)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, res)
			}
			writeHRResult(a.stdout, res, 50)
			return nil
		},
	}
	approve.Flags().StringVar(&reason, "reason", "", "why, for the audit log")
	return approve
}

func (a *app) hrImportsRejectCommand() *cobra.Command {
	var reason string
	reject := &cobra.Command{
		Use:   "reject ID [--reason TEXT]",
		Short: "Close a held import without applying it (admins)",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			imp, err := c.RejectHRImport(cmd.Context(), args[0], reason)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, imp)
			}
			printf(a.stdout, "Rejected import %s (%s); nothing was applied.\n", imp.ID, imp.FileName)
			return nil
		},
	}
	reject.Flags().StringVar(&reason, "reason", "", "why, for the audit log")
	return reject
}

func (a *app) hrDatesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "dates",
		Short: "Apply passed end dates (leavers) and reached start dates (pre-hires) now, without a feed (operators)",
		Long: `Apply what the calendar changes without a new feed: active people whose end_date has passed
become leavers (every grant revoked), pre-hires whose start date minus the lead time has come
become joiners (birthright granted). 'gatehouse serve' does this every hour; running it again
changes nothing. Exit code 1 when the leaver guard holds it.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			plan, err := c.ApplyHRDates(cmd.Context())
			if err != nil {
				return needAnswer(err) // held exits 1
			}
			if a.json() {
				if err := printJSON(a.stdout, plan); err != nil {
					return err
				}
			} else if len(plan.Items) == 0 && !plan.Held {
				fmt.Fprintln(a.stdout, "Nothing to do: no end date passed and no start date reached.")
			} else {
				writeHRResult(a.stdout, &service.HRImportResult{Plan: plan}, 50)
				if plan.Held {
					printf(a.stdout, "Nothing applied: %s.\n", plan.HeldReason)
				} else {
					fmt.Fprintln(a.stdout, "Applied.")
				}
			}
			if plan.Held {
				return errFindings
			}
			return nil
		},
	}
}

// importMode says whether an import was a full snapshot or a delta.
func importMode(imp *gatehouse.HRImport) string {
	if imp.Delta {
		return "delta"
	}
	return "snapshot"
}

// importOutcome is what an import whose answer could not be read reports, from the status the
// server sent in the answer's header: applied is done (exit 0 with a warning; importing the
// file again is not needed), held exits 1 as a held import does; without it (an older server, a
// dry run) the command cannot say.
func importOutcome(err error) error {
	var answer *client.AnswerError
	if !errors.As(err, &answer) || answer.Query.Get("dry_run") == "true" {
		return needAnswer(err)
	}
	switch answer.Header.Get("X-Gatehouse-Import-Status") {
	case string(gatehouse.ImportApplied):
		return err
	case string(gatehouse.ImportHeld):
		return fmt.Errorf("the import was held for an admin, nothing applied (%s), but the answer could not be read: %w",
			answer.Header.Get("Location"), answer.Err)
	}
	return needAnswer(err)
}
