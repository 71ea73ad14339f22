package main

// Manual fulfillment tasks: list the queue, complete a task with a note and evidence.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *app) tasksCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tasks",
		Short: "Manual fulfillment tasks: changes in systems without an API, done by people",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRun,
	}
	cmd.AddCommand(a.tasksListCommand(), a.tasksShowCommand(), a.tasksCompleteCommand())
	return cmd
}

func (a *app) tasksListCommand() *cobra.Command {
	var (
		f        service.TaskQuery
		all      bool
		limit    int
		listDesc = `List manual tasks, most urgent first: what to change in which system, for whom, and
when it is due (critical systems 4h, high 24h, standard 72h after the change was asked for).
Open tasks only unless --all. Overdue tasks are marked and counted; with --overdue only those.`
	)
	list := &cobra.Command{
		Use:     "list [--system ID] [--overdue] [--all]",
		Short:   "List manual tasks, most urgent first (readers, and a system's assignee)",
		Long:    listDesc,
		Example: "  gatehouse tasks list --overdue\n  gatehouse tasks list --system badge --all -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			f.Status = gatehouse.TaskOpen
			if all {
				f.Status = ""
			}
			f.Limit = limit
			page, err := c.ListTasks(cmd.Context(), f)
			if err != nil {
				return err
			}
			if page.Items == nil {
				page.Items = []*gatehouse.ManualTask{}
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			now := time.Now()
			t := newTable(a.stdout, "TASK", "DUE", "SYSTEM", "OPERATION", "ACCOUNT", "GROUP", "STATUS", "ASSIGNEE")
			for _, tk := range page.Items {
				status := string(tk.Status)
				if tk.Overdue(now) {
					status = "OVERDUE"
				}
				t.row(tk.Ref(), ts(tk.DueAt), tk.SystemID, tk.Kind, tk.Account, tk.Group, status, tk.Assignee)
			}
			_ = t.flush()
			printf(a.stderr, "%d tasks, %d overdue\n", len(page.Items), page.Overdue)
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	list.Flags().StringVar(&f.SystemID, "system", "", "system id")
	list.Flags().BoolVar(&f.Overdue, "overdue", false, "only open tasks past their due time")
	list.Flags().BoolVar(&all, "all", false, "tasks of every status, done and cancelled included")
	list.Flags().IntVar(&limit, "limit", 0, "page size (default 50, at most 1000)")
	return list
}

func (a *app) tasksShowCommand() *cobra.Command {
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one task, with the system's instructions",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			tk, err := c.GetTask(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printTask(tk)
		},
	}
	return show
}

func (a *app) tasksCompleteCommand() *cobra.Command {
	var note, evidence, evidenceFile string
	complete := &cobra.Command{
		Use:   "complete ID --note TEXT [--evidence-sha256 HEX | --evidence-file PATH]",
		Short: "Record that you did a task (operators)",
		Long: `Record that a manual task was done: the note says what was done and where; the evidence
is the SHA-256 of a file (a screenshot, an export) kept wherever your team keeps evidence.
--evidence-file computes the hash locally; the file itself is not uploaded. The operation the
task stood for is then applied, and the system's next reconcile reads it as done. A task about
your own account is for someone else to complete.`,
		Example: `  gatehouse tasks complete TASK-000123 --note "Badge issued at the front desk" --evidence-file badge.png`,
		Args:    exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if note == "" {
				return usageErrorf(cmd, "--note is required: say what was done")
			}
			if evidence != "" && evidenceFile != "" {
				return usageErrorf(cmd, "give --evidence-sha256 or --evidence-file, not both")
			}
			if evidenceFile != "" {
				sum, err := fileSHA256(evidenceFile)
				if err != nil {
					return err
				}
				evidence = sum
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			tk, err := c.CompleteTask(cmd.Context(), args[0], note, evidence)
			if err != nil {
				return err
			}
			return a.printTask(tk)
		},
	}
	complete.Flags().StringVar(&note, "note", "", "what was done (required)")
	complete.Flags().StringVar(&evidence, "evidence-sha256", "", "SHA-256 of an evidence file, 64 hex digits")
	complete.Flags().StringVar(&evidenceFile, "evidence-file", "", "an evidence file whose SHA-256 is recorded (computed locally)")
	return complete
}

func (a *app) printTask(tk *gatehouse.ManualTask) error {
	if a.json() {
		return printJSON(a.stdout, tk)
	}
	status := string(tk.Status)
	if tk.Overdue(time.Now()) {
		status += " (overdue)"
	}
	return fields(a.stdout, "Task", tk.Ref(), "System", tk.SystemID, "Operation", tk.Kind, "Account", tk.Account,
		"Group", tk.Group, "Entitlement", tk.EntitlementID, "Cause", tk.Cause, "Due", ts(tk.DueAt), "Status", status,
		"Assignee", tk.Assignee, "Instructions", tk.Instructions, "Completed by", tk.CompletedBy,
		"Completed at", tsp(tk.CompletedAt), "Note", tk.Note, "Evidence SHA-256", tk.EvidenceSHA256)
}

// fileSHA256 hashes an evidence file on the operator's machine: the hash is the evidence's
// fingerprint in the audit log, and the file never leaves the machine.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("evidence file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("evidence file %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
