package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/api"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Defaults of serve and demo.
const (
	defaultDB         = "sqlite:./gatehouse.db"
	defaultListenAddr = "127.0.0.1:8080"
	// shutdownTimeout is how long requests in flight get to finish after SIGINT/SIGTERM.
	shutdownTimeout = 15 * time.Second
)

// maxHRMiB bounds --hr-max-mib: a file is kept packed in memory while it is imported (about 1.7
// times its size), so the bound is what one import may cost the server.
const maxHRMiB = 1024

// serverFlags are the flags serve and demo share.
type serverFlags struct {
	db        string
	addr      string
	logFormat string
	logLevel  string
}

func (f *serverFlags) register(cmd *cobra.Command, addrDefault, levelDefault string) {
	cmd.Flags().StringVar(&f.addr, "addr", addrDefault, "address to listen on, HOST:PORT (port 0: any free port)")
	cmd.Flags().StringVar(&f.logFormat, "log-format", "text", "log format on standard error: text or json")
	cmd.Flags().StringVar(&f.logLevel, "log-level", levelDefault, "log level: debug, info, warn or error")
}

// logger builds the process logger: slog to standard error, as text for people or JSON for log
// collectors.
func (a *app) logger(cmd *cobra.Command, f *serverFlags) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, usageErrorf(cmd, "--log-level %q: use debug, info, warn or error", f.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	}
	return nil, usageErrorf(cmd, "--log-format %q: use text or json", f.logFormat)
}

func (a *app) serveCommand() *cobra.Command {
	var (
		f                   serverFlags
		reconcileInterval   time.Duration
		reconcileLease      time.Duration
		hrLeadTime          time.Duration
		hrMissing           string
		hrGuardWindow       time.Duration
		hrMaxMiB            int64
		nf                  notifyFlags
		expiryInterval      time.Duration
		hrDatesInterval     time.Duration
		requestSyncInterval time.Duration
		lf                  signInFlags     // sign-in: sessions and failed-authentication limits (signin.go)
		cf                  checkpointFlags // signed audit checkpoints (audit.go)
		sf                  secretFlags     // what connector secret references may name (secrets.go)
	)
	cmd := &cobra.Command{
		Use:   "serve [--db DB] [--addr HOST:PORT]",
		Short: "Run the Gatehouse server: API, web UI and health endpoints",
		Long: `Run the Gatehouse server on one address: the JSON API under /api/v1, the web UI, /healthz,
/readyz and /metrics. Migrations run at start. SIGINT or SIGTERM stops it gracefully.

Environment:
  GATEHOUSE_DB               database when --db is not given: sqlite:PATH or a postgres:// URL
                             (default sqlite:./gatehouse.db)
  GATEHOUSE_LISTEN_ADDR      address when --addr is not given (default 127.0.0.1:8080)
  GATEHOUSE_BOOTSTRAP_TOKEN  a secret accepted as an admin token that belongs to no identity,
                             to create the first real tokens; unset it afterwards. At least 32
                             characters (serve refuses to start otherwise, exit 2); every use
                             is logged with the client address and audited as "bootstrap", and
                             serve warns while it is set and an admin has a token of their own`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("db") {
				if env := a.getenv("GATEHOUSE_DB"); env != "" {
					f.db = env
				}
			}
			if !cmd.Flags().Changed("addr") {
				if env := a.getenv("GATEHOUSE_LISTEN_ADDR"); env != "" {
					f.addr = env
				}
			}
			log, err := a.logger(cmd, &f)
			if err != nil {
				return err
			}
			// A short bootstrap token is refused before anything starts (exit 2): it is an
			// admin credential that nobody issued and that never expires.
			bootstrap := a.getenv("GATEHOUSE_BOOTSTRAP_TOKEN")
			if err := service.CheckBootstrapToken(bootstrap); err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			hr, err := hrOptions(cmd, hrLeadTime, hrMissing)
			if err != nil {
				return err
			}
			if hrMaxMiB <= 0 || hrMaxMiB > maxHRMiB {
				return usageErrorf(cmd, "--hr-max-mib %d: use 1 to %d", hrMaxMiB, maxHRMiB)
			}
			if hrGuardWindow <= 0 {
				return usageErrorf(cmd, "--hr-guard-window %s: use a duration above 0 (e.g. 24h)", hrGuardWindow)
			}
			hr.GuardWindow = hrGuardWindow
			// --notice-interval is checked with the other notification flags (a.outbox).
			for name, d := range map[string]time.Duration{"hr-dates-interval": hrDatesInterval,
				"request-sync-interval": requestSyncInterval, "reconcile-lease": reconcileLease} {
				if d <= 0 {
					return usageErrorf(cmd, "--%s %s: use a duration above 0", name, d)
				}
			}
			checkpoints, err := cf.setup(cmd)
			if err != nil {
				return err
			}
			secrets, err := sf.policy(cmd, &nf, cf.key)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := sqlstore.Open(ctx, f.db)
			if err != nil {
				return err
			}
			defer st.Close()
			// One River client hosts every job (internal/jobs): provisioning workers, the
			// scheduled reconcile and the service's periodic tasks, which River's elected leader
			// alone enqueues, so replicas run each once. A change of desired state inserts the
			// reconciles of the systems it affects, the expiry of a time-bound grant and its
			// notifications in its own transaction (service.JobQueue, service.Notifier).
			// Notifications are River jobs on the same client (notify.Outbox.Register).
			outbox, err := a.outbox(cmd, &nf, f.addr, log)
			if err != nil {
				return err
			}
			host, err := newJobHost(ctx, st, secrets, reconcileInterval, reconcileLease, log, outbox.Register)
			if err != nil {
				return err
			}
			outbox.Attach(host.Client())
			svc := service.New(st, service.Options{
				BootstrapToken: a.getenv("GATEHOUSE_BOOTSTRAP_TOKEN"), Logger: log, Provisioner: host, Jobs: host, HR: hr,
				Open: systemOpener(st, secrets), Secrets: secrets, Notifier: notifier(outbox), RequestExpiry: nf.requestExpiry,
				Checkpoints: checkpoints})
			if err := host.Schedule(ctx, svc, jobs.Schedule{Expiry: expiryInterval, HRDates: hrDatesInterval,
				RequestSync: requestSyncInterval, Exceptions: expiryInterval, Notices: nf.noticeInterval,
				ExpiringNotice: nf.expiringNotice}); err != nil {
				return err
			}
			if err := host.Start(ctx); err != nil {
				return err
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
				defer cancel()
				_ = host.Stop(sctx)
			}()
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", f.addr, err)
			}
			signIn, err := lf.settings(cmd, nf.publicURL)
			if err != nil {
				ln.Close()
				return err
			}
			signIn.hrLimit = hrMaxMiB << 20
			srv, err := newSecuredServer(svc, log, signIn)
			if err != nil {
				ln.Close()
				return err
			}
			url := baseURL(ln.Addr())
			fmt.Fprintf(a.stdout, "Gatehouse %s listening on %s (database %s)\n", buildVersion(), url, st.Engine())
			log.Info("listening", "url", url, "engine", st.Engine(), "bootstrap_token", a.getenv("GATEHOUSE_BOOTSTRAP_TOKEN") != "")
			if bootstrap != "" {
				go bootstrapWarnings(ctx, svc, log, bootstrapWarnEvery)
			}
			// Checkpoints are signed by the process that has the key and the directory, not by a
			// job any replica's worker could run.
			if checkpoints.Signer != nil {
				go checkpointLoop(ctx, svc, cf.interval)
			}
			err = serveUntilDone(ctx, srv, ln, log)
			if checkpoints.Signer != nil {
				finalCheckpoint(svc)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&f.db, "db", defaultDB, "database: sqlite:PATH or a postgres:// URL (default $GATEHOUSE_DB)")
	cmd.Flags().DurationVar(&reconcileInterval, "reconcile-interval", defaultReconcileInterval,
		"reconcile every system this often, to find and repair drift (0: only on changes)")
	cmd.Flags().DurationVar(&reconcileLease, "reconcile-lease", jobs.DefaultLeaseTTL,
		"a reconcile holds its system's lease, renewed while it runs; a killed replica's systems wait about 3/8 of this (this long if its database session stays) for another to take over")
	cmd.Flags().DurationVar(&expiryInterval, "expiry-interval", jobs.DefaultExpiryInterval,
		"sweep for expired grants, and expired exceptions, this often, besides the job scheduled at each grant's expiry")
	cmd.Flags().DurationVar(&hrDatesInterval, "hr-dates-interval", jobs.DefaultHRDatesInterval,
		"apply passed HR end dates and reached start dates this often (and at start)")
	cmd.Flags().DurationVar(&requestSyncInterval, "request-sync-interval", jobs.DefaultRequestSyncInterval,
		"move approved requests to fulfilled this often once their operations are applied")
	cmd.Flags().DurationVar(&hrLeadTime, "hr-lead-time", 0,
		"provision a future joiner this long before their start_date (e.g. 72h)")
	cmd.Flags().Int64Var(&hrMaxMiB, "hr-max-mib", api.DefaultHRLimit>>20,
		"largest HR file the API takes, in MiB (a person is ~130 bytes: 64 MiB is ~500,000 people); the import streams it, so memory follows the file, not the company")
	cmd.Flags().DurationVar(&hrGuardWindow, "hr-guard-window", service.DefaultHRGuardWindow,
		"the HR leaver guard counts the terminations and suspensions of the HR imports of this rolling window together")
	cmd.Flags().StringVar(&hrMissing, "hr-missing", string(jml.MissingLeaver),
		"a known person missing from an HR snapshot: leaver (terminated) or hold (reported for review, nothing changed)")
	f.register(cmd, defaultListenAddr, "info")
	nf.register(cmd)
	lf.register(cmd)
	cf.register(cmd)
	sf.register(cmd)
	return cmd
}

// hrOptions checks the HR flags of serve. A bad value is a usage error at start rather than a
// surprise at the first import.
func hrOptions(cmd *cobra.Command, leadTime time.Duration, missing string) (service.HROptions, error) {
	if leadTime < 0 {
		return service.HROptions{}, usageErrorf(cmd, "--hr-lead-time %s: use a duration of 0 or more", leadTime)
	}
	switch p := jml.MissingPolicy(missing); p {
	case jml.MissingLeaver, jml.MissingHold:
		return service.HROptions{LeadTime: leadTime, Missing: p}, nil
	}
	return service.HROptions{}, usageErrorf(cmd, "--hr-missing %q: use leaver or hold", missing)
}

// newServer wires the service, the API and the UI into one HTTP server, with the default
// sign-in settings (signin.go).
func newServer(svc *service.Service, log *slog.Logger) (*http.Server, error) {
	return newSecuredServer(svc, log, signIn{})
}

// newSecuredServer is newServer with the sign-in settings of serve's flags.
func newSecuredServer(svc *service.Service, log *slog.Logger, si signIn) (*http.Server, error) {
	ui, err := web.New(svc, si.webOptions(log))
	if err != nil {
		return nil, fmt.Errorf("web UI: %w", err)
	}
	opts := si.serverOptions(log, ui)
	opts.API.HRLimit = si.hrLimit
	srv := server.New(svc, opts)
	// The log and audit of a bootstrap token's use name the client's address.
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return service.WithClientAddr(ctx, c.RemoteAddr().String())
	}
	return srv, nil
}

// bootstrapWarnEvery is how often serve repeats that the bootstrap token should be unset.
const bootstrapWarnEvery = 15 * time.Minute

// bootstrapWarnings warns, at start and then every interval until ctx ends, while the
// bootstrap token is set although an admin has a token of their own: from then on the token is
// a spare master key nobody needs (each use is logged and audited too, see service.Authenticate).
func bootstrapWarnings(ctx context.Context, svc *service.Service, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		admin, err := svc.BootstrapRedundant(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Error("check for admins with tokens", "err", err)
		case admin != "":
			log.Warn("GATEHOUSE_BOOTSTRAP_TOKEN is set although an admin has a token of their own; unset it and restart",
				"admin", admin)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serveUntilDone serves on ln until ctx ends (SIGINT or SIGTERM, see main), then lets requests
// in flight finish.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// baseURL is the URL people and GATEHOUSE_ADDR use for a listener. A wildcard address
// (0.0.0.0, ::) is shown as 127.0.0.1, which reaches it from the same machine.
func baseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// openEmpty opens a store and reports whether it holds nothing yet (no audit event: every
// change of state writes one).
func openEmpty(ctx context.Context, dsn string) (store.Store, bool, error) {
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, false, err
	}
	seq, _, err := st.AuditHead(ctx)
	if err != nil {
		st.Close()
		return nil, false, fmt.Errorf("read the audit log of %s: %w", dsn, err)
	}
	return st, seq == 0, nil
}
