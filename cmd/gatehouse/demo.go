package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/demo"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *app) demoCommand() *cobra.Command {
	var (
		f       serverFlags
		envFile string
	)
	cmd := &cobra.Command{
		Use:   "demo [--db DB] [--addr HOST:PORT]",
		Short: "Run a server with a sample company in a fresh database, ready to explore",
		Long: `Seed a sample company into a fresh database and serve it: about two hundred people in ten
departments with a manager hierarchy, a catalog of systems, entitlements, birthright roles and
SoD rules, and the grants that follow from them. It prints the URL and tokens to sign in with.

Without --db the database is a new SQLite file in a temporary directory. A --db that already
holds data is refused rather than seeded twice. GATEHOUSE_BOOTSTRAP_TOKEN is not needed (the
demo prints tokens); when set, it must be at least 32 characters, as for serve.

The URL and the tokens are also written to --env-file (default ./gatehouse-demo.env, readable
by you only), as export lines: ". ./gatehouse-demo.env" sets GATEHOUSE_ADDR and GATEHOUSE_TOKEN
(the admin) for the CLI, and MANAGER_TOKEN, OWNER_TOKEN and the others that the README's tour
uses for the steps an admin may not take. The demo signs audit checkpoints with a key of its
own, made at start: AUDIT_PUBKEY and AUDIT_CHECKPOINTS name its public key and the checkpoints.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			log, err := a.logger(cmd, &f)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			// The demo's own files (the database unless --db names one, the audit key's public
			// half and the signed checkpoints) go in a new directory.
			var dir string
			newDir := func() error {
				if dir != "" {
					return nil
				}
				d, err := os.MkdirTemp("", "gatehouse-demo-")
				if err != nil {
					return fmt.Errorf("create a directory for the demo: %w", err)
				}
				dir = d
				return nil
			}
			dsn := f.db
			if dsn == "" {
				if err := newDir(); err != nil {
					return err
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
			// A file left by an earlier demo holds tokens of another database: it goes now, so
			// that whoever waits for the file (the README's tour) waits for this demo's.
			if envFile != "" {
				if err := os.Remove(envFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("--env-file: %w", err)
				}
			}
			if err := newDir(); err != nil {
				return err
			}
			checkpoints, err := demoCheckpoints(dir)
			if err != nil {
				return err
			}
			svc := service.New(st, service.Options{BootstrapToken: bootstrap, Logger: log, Checkpoints: checkpoints.Checkpoints})
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
			if envFile != "" {
				if err := writeDemoEnv(envFile, url, logins, checkpoints); err != nil {
					return err
				}
			}
			ready := time.Since(start)
			settings, err := st.GetSettings(ctx)
			if err != nil {
				return err
			}
			a.printDemo(url, dsn, envFile, res, logins, checkpoints, bootstrap != "", ready, settings)
			log.Info("demo listening", "url", url, "seed", res.Took.Round(time.Millisecond), "ready", ready.Round(time.Millisecond))
			return serveUntilDone(ctx, srv, ln, log)
		},
	}
	cmd.Flags().StringVar(&f.db, "db", "", "database to seed: sqlite:PATH or a postgres:// URL; must be empty (default: a new temporary SQLite file)")
	cmd.Flags().StringVar(&envFile, "env-file", demoEnvFile, "write the URL and tokens here as export lines, mode 0600 (empty: do not write)")
	// Request logs would scroll the sign-in details away, so the demo logs warnings only.
	f.register(cmd, defaultListenAddr, "warn")
	return cmd
}

// demoEnvFile is where the demo writes its URL and tokens by default, in the working directory,
// where the README's tour reads them: `. ./gatehouse-demo.env`.
const demoEnvFile = "gatehouse-demo.env"

// demoLogin is a demo identity with a fresh token.
type demoLogin struct {
	role, email, secret string
	env                 string // its variable in the env file
	use                 string // what the README's tour uses it for; empty: signing in only
}

// demoTokens creates a token for each demo persona, and for the approvers the README's tour
// needs, through the service as the demo seeder, so each token is audited like any other.
func demoTokens(cmd *cobra.Command, svc *service.Service, res *demo.Result) ([]demoLogin, error) {
	logins := []demoLogin{{role: "admin", email: res.Admin, env: "GATEHOUSE_TOKEN",
		use: "every command of the tour, unless the line names another token"}}
	if len(res.Operators) > 0 {
		logins = append(logins, demoLogin{role: "operator", email: res.Operators[0], env: "OPERATOR_TOKEN"})
	}
	logins = append(logins,
		demoLogin{role: "auditor", email: res.Auditor, env: "AUDITOR_TOKEN"},
		demoLogin{role: "employee", email: res.Employee, env: "EMPLOYEE_TOKEN"},
		// Nobody approves a request they submitted, so the admin who submits the tour's request
		// cannot take its steps: its approvers need tokens of their own.
		demoLogin{role: "manager", email: res.Manager, env: "MANAGER_TOKEN",
			use: "manager of " + res.Employee + ": approves the first step of the tour's request; after the HR import, confirms the mover's access"},
		demoLogin{role: "owner", email: res.Owner, env: "OWNER_TOKEN",
			use: "owner of github: approves the last step of the tour's request, which writes the grant"})
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

// writeDemoEnv writes the URL and the tokens as shell export lines, readable by the user only:
// they are credentials. The file appears whole (written aside, then renamed), so whoever waits
// for it never reads half of it.
func writeDemoEnv(path, url string, logins []demoLogin, cp *demoAudit) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# gatehouse demo at %s: `. %s` sets these for the CLI (tokens valid for %d days).\n",
		url, shellPath(path), service.DefaultTokenTTL/(24*time.Hour))
	fmt.Fprintf(&b, "export GATEHOUSE_ADDR=%s\n", url)
	for _, l := range logins {
		fmt.Fprintf(&b, "export %s=%s  # %s, %s\n", l.env, l.secret, l.email, l.role)
	}
	fmt.Fprintf(&b, "export AUDIT_PUBKEY=%s AUDIT_CHECKPOINTS=%s  # the demo's audit key and its signed checkpoints\n",
		shellQuote(cp.pubKey), shellQuote(cp.dir))
	err := writePrivateFile(path, func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	})
	if err != nil {
		return fmt.Errorf("write the demo's tokens to --env-file: %w", err)
	}
	return nil
}

// demoAudit is the demo's audit key: generated at start, so that `gatehouse audit checkpoint`
// and `audit verify --pubkey --checkpoints` work as they do with `serve --audit-key`. The
// private key stays in memory; the public key and the checkpoints are written to files.
type demoAudit struct {
	*service.Checkpoints
	pubKey, dir string
}

func demoCheckpoints(dir string) (*demoAudit, error) {
	privPEM, pubPEM, err := audit.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("demo audit key: %w", err)
	}
	key, err := audit.ParsePrivateKey(privPEM)
	if err != nil {
		return nil, fmt.Errorf("demo audit key: %w", err)
	}
	cp := &demoAudit{pubKey: filepath.Join(dir, "audit.pub"), dir: filepath.Join(dir, "checkpoints")}
	if err := os.WriteFile(cp.pubKey, pubPEM, 0o644); err != nil {
		return nil, fmt.Errorf("demo audit key: %w", err)
	}
	signer, err := audit.NewSigner(key, cp.dir)
	if err != nil {
		return nil, fmt.Errorf("demo audit checkpoints: %w", err)
	}
	cp.Checkpoints = &service.Checkpoints{Signer: signer}
	return cp, nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellPath is path as one would type it to source it: a bare file name gets "./".
func shellPath(path string) string {
	if filepath.IsAbs(path) || strings.ContainsRune(path, filepath.Separator) {
		return path
	}
	return "./" + path
}

func (a *app) printDemo(url, dsn, envFile string, res *demo.Result, logins []demoLogin, cp *demoAudit, bootstrap bool, ready time.Duration, st gatehouse.Settings) {
	w := a.stdout
	fmt.Fprintf(w, "Gatehouse demo is ready at %s (seeded in %.2fs, serving %.2fs after start)\n\n",
		url, res.Took.Seconds(), ready.Seconds())
	fmt.Fprintf(w, "  Company:  %d people in %d departments; %d systems, %d entitlements, %d roles, %d SoD rules; %d grants\n",
		res.Identities, res.Departments, res.Systems, res.Entitlements, res.Roles, res.SoDRules, res.BirthrightGrants+res.OtherGrants)
	fmt.Fprintf(w, "  Database: %s\n", strings.TrimPrefix(dsn, "sqlite:"))
	fmt.Fprintf(w, "  Audit:    checkpoints signed with the demo's own key into %s; public key %s\n\n", cp.dir, cp.pubKey)
	fmt.Fprintf(w, "  Sign in to %s with one of these tokens (valid for %d days):\n", url, service.DefaultTokenTTL/(24*time.Hour))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range logins {
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", l.role, l.email, l.secret)
	}
	tw.Flush()
	if bootstrap {
		fmt.Fprintln(w, "  GATEHOUSE_BOOTSTRAP_TOKEN is accepted too, as an admin without an identity.")
	}
	if envFile != "" {
		fmt.Fprintf(w, "\n  The README's tour takes them from %s (`. %s`, readable by you only):\n", shellPath(envFile), shellPath(envFile))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, l := range logins {
			if l.use != "" {
				fmt.Fprintf(tw, "    %s\t%s\t%s\n", l.env, l.email, l.use)
			}
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\n  Use the CLI as the admin:\n    export GATEHOUSE_ADDR=%s GATEHOUSE_TOKEN=%s\n", url, logins[0].secret)
	fmt.Fprintln(w, "    gatehouse identities list --department Engineering")
	fmt.Fprintln(w, "    gatehouse grants list --identity "+res.Employee)
	fmt.Fprintln(w, "    gatehouse audit verify")
	for _, l := range logins {
		if l.role == "employee" {
			fmt.Fprintf(w, "\n  Or as %s (no Gatehouse role):\n    export GATEHOUSE_ADDR=%s GATEHOUSE_TOKEN=%s\n", l.email, url, l.secret)
		}
	}
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
		if what[l.role] != "" { // the tour's approvers are ordinary employees
			fmt.Fprintf(tw, "    %s\t%s\t%s\n", l.role, l.email, what[l.role])
		}
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
