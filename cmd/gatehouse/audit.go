package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/client"
)

func (a *app) auditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read and verify the tamper-evident audit log",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRun,
	}
	cmd.AddCommand(a.auditListCommand(), a.auditVerifyCommand())
	return cmd
}

// parseWhen reads a --since/--until value: an RFC 3339 time, a date (YYYY-MM-DD, midnight UTC),
// or a duration back from now ("24h", "7d").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(gatehouse.DateLayout, s); err == nil {
		return t, nil
	}
	if d, err := gatehouse.ParseDuration(s); err == nil {
		return now.Add(-time.Duration(d)), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-01-31T09:00:00Z), a date (2026-01-31) or a duration back from now (24h, 7d)", s)
}

func (a *app) auditListCommand() *cobra.Command {
	var (
		f            client.AuditFilter
		lf           listFlags
		since, until string
		object       string
		asc          bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit events, newest first (auditors, operators, admins)",
		Example: `  gatehouse audit list --since 24h
  gatehouse audit list --actor priya.raman@example.com --action grant.
  gatehouse audit list --object identity:sam.taylor@example.com
  gatehouse audit list --since 2026-01-01 --until 2026-02-01 --all -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			var err error
			if since != "" {
				if f.Since, err = parseWhen(since, now); err != nil {
					return usageErrorf(cmd, "--since: %v", err)
				}
			}
			if until != "" {
				if f.Until, err = parseWhen(until, now); err != nil {
					return usageErrorf(cmd, "--until: %v", err)
				}
			}
			f.Ascending = asc
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if object != "" {
				typ, id, ok := strings.Cut(object, ":")
				if !ok {
					typ, id = "", object
				}
				f.ObjectType, f.ObjectID = typ, id
				// People name identities by email; events name them by id.
				if typ == "identity" && strings.Contains(id, "@") {
					if i, err := c.GetIdentity(ctx, id); err == nil {
						f.ObjectID = i.ID
					}
				}
			}
			page, err := collect(lf, func(o client.ListOptions) (*client.Page[*gatehouse.AuditEvent], error) {
				f.ListOptions = o
				return c.ListAuditEvents(ctx, f)
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			t := newTable(a.stdout, "SEQ", "TIME", "ACTOR", "ACTION", "OBJECT", "REFERENCE", "REASON")
			for _, ev := range page.Items {
				t.row(strconv.FormatInt(ev.Seq, 10), ts(ev.Time), ev.Actor, ev.Action,
					ev.ObjectType+":"+ev.ObjectID, truncate(ev.Reference, 24), truncate(ev.Reason, 48))
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&since, "since", "", "from this time: RFC 3339, a date, or a duration back from now (24h, 7d)")
	fl.StringVar(&until, "until", "", "up to this time (same forms as --since)")
	fl.StringVar(&f.Actor, "actor", "", "who: an email, bootstrap-admin or system:<component>")
	fl.StringVar(&f.Action, "action", "", "exact action (grant.revoke) or a prefix ending in a dot (grant.)")
	fl.StringVar(&object, "object", "", "TYPE:ID (identity:…, grant:…, token:…, entitlement:…) or an object id")
	fl.BoolVar(&asc, "asc", false, "oldest first")
	lf.register(cmd)
	return cmd
}

func (a *app) auditVerifyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Re-compute the audit hash chain; exit 1 naming the first bad sequence if it is broken",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			v, err := c.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			if a.json() {
				if err := printJSON(a.stdout, v); err != nil {
					return err
				}
			} else if v.OK {
				fmt.Fprintf(a.stdout, "audit chain intact: %d events (head %d, %s)\n", v.Count, v.HeadSeq, v.HeadHash)
			} else {
				seq, reason := int64(0), "unknown"
				if v.Break != nil {
					seq, reason = v.Break.Seq, v.Break.Reason
				}
				fmt.Fprintf(a.stdout, "audit chain BROKEN at sequence %d: %s\n", seq, reason)
			}
			if !v.OK {
				return errFindings
			}
			return nil
		},
	}
}
