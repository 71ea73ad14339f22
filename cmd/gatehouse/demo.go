package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/demo"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *app) demoCommand() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "demo [--db DB] [--addr HOST:PORT]",
		Short: "Run a server with a sample company in a fresh database, ready to explore",
		Long: `Seed a sample company into a fresh database and serve it: about two hundred people in ten
departments with a manager hierarchy, a catalog of systems, entitlements, birthright roles and
SoD rules, and the grants that follow from them. It prints the URL and tokens to sign in with.

Without --db the database is a new SQLite file in a temporary directory. A --db that already
holds data is refused rather than seeded twice. GATEHOUSE_BOOTSTRAP_TOKEN is not needed (the
demo prints tokens); when set, it must be at least 32 characters, as for serve.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			log, err := a.logger(cmd, &f)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			dsn := f.db
			if dsn == "" {
				dir, err := os.MkdirTemp("", "gatehouse-demo-")
				if err != nil {
					return fmt.Errorf("create a directory for the demo database: %w", err)
				}
				dsn = "sqlite:" + filepath.Join(dir, "gatehouse.db")
			}
			st, empty, err := openEmpty(ctx, dsn)
			if err != nil {
				return err
			}
			defer st.Close()
			if !empty {
				return fmt.Errorf("%s already holds data; the demo seeds only a fresh database (leave out --db for a new temporary one, or run `gatehouse serve --db %s`)", dsn, dsn)
			}
			// Listen before seeding: a port in use should fail at once, not after the seed.
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", f.addr, err)
			}
			defer ln.Close()

			bootstrap := a.getenv("GATEHOUSE_BOOTSTRAP_TOKEN")
			if err := service.CheckBootstrapToken(bootstrap); err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			svc := service.New(st, service.Options{BootstrapToken: bootstrap, Logger: log})
			res, err := demo.Seed(ctx, svc, demo.Options{
				Progress: func(phase string) { log.Debug("seeding", "phase", phase, "after", time.Since(start)) },
			})
			if err != nil {
				return err
			}
			logins, err := demoTokens(cmd, svc, res)
			if err != nil {
				return err
			}
			srv, err := newServer(svc, log)
			if err != nil {
				return err
			}
			url := baseURL(ln.Addr())
			ready := time.Since(start)
			settings, err := st.GetSettings(ctx)
			if err != nil {
				return err
			}
			a.printDemo(url, dsn, res, logins, bootstrap != "", ready, settings)
			log.Info("demo listening", "url", url, "seed", res.Took.Round(time.Millisecond), "ready", ready.Round(time.Millisecond))
			return serveUntilDone(ctx, srv, ln, log)
		},
	}
	cmd.Flags().StringVar(&f.db, "db", "", "database to seed: sqlite:PATH or a postgres:// URL; must be empty (default: a new temporary SQLite file)")
	// Request logs would scroll the sign-in details away, so the demo logs warnings only.
	f.register(cmd, defaultListenAddr, "warn")
	return cmd
}

// demoLogin is a demo identity with a fresh token.
type demoLogin struct {
	role, email, secret string
}

// demoTokens creates a token for each demo persona, through the service as the demo seeder, so
// each token is audited like any other.
func demoTokens(cmd *cobra.Command, svc *service.Service, res *demo.Result) ([]demoLogin, error) {
	logins := []demoLogin{{role: "admin", email: res.Admin}}
	if len(res.Operators) > 0 {
		logins = append(logins, demoLogin{role: "operator", email: res.Operators[0]})
	}
	logins = append(logins, demoLogin{role: "auditor", email: res.Auditor}, demoLogin{role: "employee", email: res.Employee})
	p := service.SystemPrincipal("demo")
	for i := range logins {
		ct, err := svc.CreateToken(cmd.Context(), p, service.NewToken{For: logins[i].email, Description: "gatehouse demo"})
		if err != nil {
			return nil, fmt.Errorf("demo token for %s: %w", logins[i].email, err)
		}
		logins[i].secret = ct.Secret
	}
	return logins, nil
}

func (a *app) printDemo(url, dsn string, res *demo.Result, logins []demoLogin, bootstrap bool, ready time.Duration, st gatehouse.Settings) {
	w := a.stdout
	fmt.Fprintf(w, "Gatehouse demo is ready at %s (seeded in %.2fs, serving %.2fs after start)\n\n",
		url, res.Took.Seconds(), ready.Seconds())
	fmt.Fprintf(w, "  Company:  %d people in %d departments; %d systems, %d entitlements, %d roles, %d SoD rules; %d grants\n",
		res.Identities, res.Departments, res.Systems, res.Entitlements, res.Roles, res.SoDRules, res.BirthrightGrants+res.OtherGrants)
	fmt.Fprintf(w, "  Database: %s\n\n", strings.TrimPrefix(dsn, "sqlite:"))
	fmt.Fprintf(w, "  Sign in to %s with one of these tokens (valid for %d days):\n", url, service.DefaultTokenTTL/(24*time.Hour))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range logins {
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", l.role, l.email, l.secret)
	}
	tw.Flush()
	if bootstrap {
		fmt.Fprintln(w, "  GATEHOUSE_BOOTSTRAP_TOKEN is accepted too, as an admin without an identity.")
	}
	fmt.Fprintf(w, "\n  Use the CLI as the admin:\n    export GATEHOUSE_ADDR=%s GATEHOUSE_TOKEN=%s\n", url, logins[0].secret)
	fmt.Fprintln(w, "    gatehouse identities list --department Engineering")
	fmt.Fprintln(w, "    gatehouse grants list --identity "+res.Employee)
	fmt.Fprintln(w, "    gatehouse audit verify")
	fmt.Fprintf(w, "\n  Or as the %s (no Gatehouse role):\n    export GATEHOUSE_ADDR=%s GATEHOUSE_TOKEN=%s\n",
		res.Employee, url, logins[len(logins)-1].secret)
	a.printPowers(logins, st)
	fmt.Fprintf(w, "\nThe data stays in %s: `gatehouse serve --db %s` serves it again.\nPress Ctrl-C to stop.\n",
		strings.TrimPrefix(dsn, "sqlite:"), dsn)
}

// printPowers says who may do what in the demo company: each Gatehouse role with its person and
// its limits, then the designated powers the catalog gives.
func (a *app) printPowers(logins []demoLogin, st gatehouse.Settings) {
	w := a.stdout
	what := map[string]string{
		"admin":    "everything, including catalog apply and roles; no approving, granting or reviewing for themselves",
		"operator": "identities, direct grants, imports, reconciles, tasks; never for themselves, never past an SoD block",
		"auditor":  "reads everything and the audit log, takes signed checkpoints; changes nothing",
		"employee": "own access and requests; decides the approval steps routed to them",
	}
	fmt.Fprintf(w, "\n  Who may do what:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range logins {
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", l.role, l.email, what[l.role])
	}
	if len(st.SecurityApprovers) > 0 {
		fmt.Fprintf(tw, "    security approvers\t%s\tthe security step of privileged requests, SoD exceptions\n", strings.Join(st.SecurityApprovers, ", "))
	}
	if len(st.EmergencyOperators) > 0 {
		fmt.Fprintf(tw, "    emergency operators\t%s\tbreak-glass grants (with the operator role), reviewed afterwards by someone else\n", strings.Join(st.EmergencyOperators, ", "))
	}
	fmt.Fprintf(tw, "    owners\t(gatehouse systems list)\tthe owner step of their systems' and entitlements' requests\n")
	tw.Flush()
	fmt.Fprintln(w, "  Designated powers are pinned to the person at catalog apply: changing an address does not move them.")
	fmt.Fprintln(w, "  One person decides at most one step of a request.")
}
