package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/client"
)

// version is the release version, set at build time with
// -ldflags "-X main.version=1.2.3"; without it, the module version from the build info.
var version = ""

// Exit codes, a contract documented in the README. They are decided in one place, exitCode.
const (
	exitOK       = 0
	exitFailure  = 1 // the command failed, or found problems (catalog problems, a broken chain)
	exitUsageErr = 2 // the command line is wrong
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run executes one command line and returns its exit code. It takes its environment as
// arguments, so tests can run the CLI in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	return exitCode(cmd, err, stderr)
}

// app is what every command shares: where to write, the environment, and the client flags.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string

	addr, token string // --addr and --token of client commands
	output      string // -o
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "Identity governance: who has access to what, why, and proof of it",
		Long: `Gatehouse is an identity governance platform in one binary.

  gatehouse serve    run the server (API, web UI)
  gatehouse demo     run a server with a sample company, ready to explore

The other commands are clients of a running server. They read its address and a token from
GATEHOUSE_ADDR and GATEHOUSE_TOKEN (or --addr and --token):

  export GATEHOUSE_ADDR=http://127.0.0.1:8080 GATEHOUSE_TOKEN=gh_...
  gatehouse whoami

Exit codes: 0 ok, 1 failure or findings, 2 usage error.`,
		Version:       buildVersion(),
		SilenceUsage:  true, // a failed API call is not a reason to print the usage
		SilenceErrors: true, // exitCode prints errors, once
		Args:          cobra.ArbitraryArgs,
		RunE:          groupRun,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if f := cmd.Flags().Lookup("output"); f != nil && a.output != "table" && a.output != "json" {
				return usageErrorf(cmd, "-o %s: the output format is table or json", a.output)
			}
			return nil
		},
	}
	root.SetVersionTemplate("gatehouse {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return &usageError{cmd: cmd, err: err} })
	root.CompletionOptions.HiddenDefaultCmd = true

	root.AddGroup(
		&cobra.Group{ID: "server", Title: "Server:"},
		&cobra.Group{ID: "client", Title: "Client commands (need GATEHOUSE_ADDR and GATEHOUSE_TOKEN):"},
	)
	for _, c := range []*cobra.Command{a.serveCommand(), a.demoCommand()} {
		c.GroupID = "server"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{
		a.whoamiCommand(), a.identitiesCommand(), a.grantsCommand(), a.catalogCommand(),
		a.systemsCommand(), a.entitlementsCommand(), a.rolesCommand(), a.sodCommand(),
		a.accountsCommand(), a.hrCommand(), a.confirmationsCommand(), a.auditCommand(), a.tokenCommand(),
		a.reconcileCommand(), a.opsCommand(), a.driftCommand(), // provisioning (provision.go)
		a.tasksCommand(),      // manual fulfillment tasks (tasks.go)
		a.scimGroupsCommand(), // groups an IdP pushed over SCIM (scimgroups.go)
		a.requestCommand(),    // access requests (request.go)
		a.emergencyCommand(),  // break-glass access (emergency.go)
		a.exceptionsCommand(), // exceptions register (exceptions.go)
	} {
		c.GroupID = "client"
		a.clientFlags(c)
		root.AddCommand(c)
	}
	root.AddCommand(a.versionCommand())
	return root
}

// clientFlags adds the flags of client commands to a command and its subcommands. They are not
// on the root, because serve and demo use --addr for the address they listen on.
func (a *app) clientFlags(c *cobra.Command) {
	f := c.PersistentFlags()
	f.StringVar(&a.addr, "addr", "", "server base URL (default $GATEHOUSE_ADDR)")
	f.StringVar(&a.token, "token", "", "API token (default $GATEHOUSE_TOKEN)")
	f.StringVarP(&a.output, "output", "o", "table", "output format: table or json")
}

// client returns an API client from the flags and the environment. Missing settings are usage
// errors: the command line (or its environment) must change, not the server.
func (a *app) client(cmd *cobra.Command) (*client.Client, error) {
	addr := a.addr
	if addr == "" {
		addr = a.getenv("GATEHOUSE_ADDR")
	}
	token := a.token
	if token == "" {
		token = a.getenv("GATEHOUSE_TOKEN")
	}
	switch {
	case addr == "":
		return nil, usageErrorf(cmd, "no server address: set GATEHOUSE_ADDR (e.g. export GATEHOUSE_ADDR=http://127.0.0.1:8080) or pass --addr")
	case token == "":
		return nil, usageErrorf(cmd, "no API token: set GATEHOUSE_TOKEN or pass --token (`gatehouse demo` prints tokens; an admin creates them with `gatehouse token create --for EMAIL`)")
	}
	c, err := client.New(addr, token, client.Options{UserAgent: "gatehouse-cli/" + buildVersion()})
	if err != nil {
		return nil, usageErrorf(cmd, "--addr/GATEHOUSE_ADDR: %v", err)
	}
	return c, nil
}

func (a *app) json() bool { return a.output == "json" }

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.stdout, "gatehouse %s (%s, %s/%s)\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// usageError is a wrong command line: exit code 2.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return &usageError{cmd: cmd, err: fmt.Errorf(format, args...)}
}

// errFindings says the command has already reported what it found (catalog problems, a broken
// audit chain) and must exit 1 without printing more.
var errFindings = errors.New("findings reported")

// noArgs, exactArgs and groupRun make argument mistakes usage errors (cobra's own validators
// return plain errors, which would exit 1).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf(cmd, "%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}

func exactArgs(n int, names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf(cmd, "%s needs %d argument(s) (%s), got %d", cmd.CommandPath(), n, strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// groupRun is the RunE of commands that only hold subcommands: without arguments they print
// their help; with an unknown subcommand they fail as a usage error, with suggestions.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra sets this default on the root only
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return &usageError{cmd: cmd, err: errors.New(msg)}
}

// unreadAnswer is an answer a command's exit code reports (a held import, a reconcile that did
// not converge) that could not be read: the command cannot say it succeeded.
type unreadAnswer struct{ answer *client.AnswerError }

func (u *unreadAnswer) Error() string { return u.answer.Error() }
func (u *unreadAnswer) Unwrap() error { return u.answer }

// needAnswer marks err, when the server's answer could not be read, as one the command cannot
// exit 0 on: what its exit code reports is in that answer.
func needAnswer(err error) error {
	var answer *client.AnswerError
	if errors.As(err, &answer) {
		return &unreadAnswer{answer: answer}
	}
	return err
}

// exitCode is THE table from errors to exit codes, and the one place errors are printed.
func exitCode(cmd *cobra.Command, err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var (
		usage   *usageError
		apiErr  *client.Error
		unreach *client.UnreachableError
		answer  *client.AnswerError
		unread  *unreadAnswer
	)
	switch {
	case errors.Is(err, errFindings):
		return exitFailure
	case errors.As(err, &unread):
		fmt.Fprintf(stderr, "error: %s\n", printableLines(unread.answer.Error()))
		if unread.answer.Done() {
			fmt.Fprintln(stderr, "It was carried out, but not what came of it: do not run the command again; list or show what it changed instead.")
		}
		return exitFailure
	case errors.As(err, &answer) && answer.Done():
		// The change is made: an error exit would have it retried, and made twice.
		fmt.Fprintf(stderr, "warning: %s\nIt is done: do not run the command again; list or show what it changed instead.\n",
			printableLines(answer.Error()))
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "error: %s\n", printableLines(usage.err.Error()))
		c := usage.cmd
		if c == nil {
			c = cmd
		}
		if c != nil {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", c.CommandPath())
		}
		return exitUsageErr
	case isCobraUsage(err):
		// Errors cobra makes before any of our code runs (required flags, flag groups).
		fmt.Fprintf(stderr, "error: %v\n", err)
		if cmd != nil {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return exitUsageErr
	case errors.As(err, &apiErr):
		msg := apiErr.Message
		if len(apiErr.Details) > 0 {
			// The details are the problems, one per line; the message repeats them.
			text := gatehouse.Problem.String
			var w *problemWording
			if errors.As(err, &w) {
				text = w.text
			}
			for _, d := range apiErr.Details {
				fmt.Fprintln(stderr, printable(text(d)))
			}
			msg, _, _ = strings.Cut(msg, "\n")
			msg = strings.TrimSuffix(msg, ":")
		}
		fmt.Fprintf(stderr, "error: %s\n", printableLines(msg))
		if hint := hintFor(apiErr); hint != "" {
			fmt.Fprintln(stderr, hint)
		}
		return exitFailure
	case errors.As(err, &unreach):
		fmt.Fprintf(stderr, "error: %v\n", unreach)
		return exitFailure
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "error: interrupted")
		return exitFailure
	}
	// Any other error may carry data (a file's content, a server's answer): escaped per line.
	fmt.Fprintf(stderr, "error: %s\n", printableLines(err.Error()))
	return exitFailure
}

// isCobraUsage recognizes the few usage errors cobra returns as plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"required flag(s)", "if any flags in the group", "none of the others can be", "at least one of the flags"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return strings.HasPrefix(msg, "unknown command ") || strings.HasPrefix(msg, "unknown flag") || strings.HasPrefix(msg, "unknown shorthand flag")
}

// hintFor adds what to do about the errors people meet most.
func hintFor(e *client.Error) string {
	switch e.Code {
	case "unauthorized":
		return "Check GATEHOUSE_TOKEN: it may be mistyped, expired or revoked."
	case "forbidden":
		return "Your token works, but its identity lacks the Gatehouse role for this; `gatehouse whoami` shows your roles."
	}
	return ""
}

// problemWording says how the problems of an error's file are written: a catalog's as
// compilers write them (gatehouse.Problem.String), an HR feed's as HR files' problems are
// (jml.ProblemText). The problems themselves arrive from the server as they were found.
type problemWording struct {
	err  error
	text func(gatehouse.Problem) string
}

func (w *problemWording) Error() string { return w.err.Error() }
func (w *problemWording) Unwrap() error { return w.err }

// worded gives err's problems the wording text, when err has problems.
func worded(err error, text func(gatehouse.Problem) string) error {
	return &problemWording{err: err, text: text}
}
