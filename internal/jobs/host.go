package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// DB is what the host needs from a store besides store.Store: the database River writes to.
// sqlstore implements it; it is kept out of store.Store so that the store interface stays about
// Gatehouse's data.
type DB interface {
	DB() *sql.DB
}

// Job priorities (River: 1 runs first). Taking access away goes before granting it.
const (
	PriorityDeprovision = 1
	PriorityChange      = 2
	PrioritySchedule    = 3
)

// Options tune the host.
type Options struct {
	Workers int // concurrent reconciles (default 4; 1 on SQLite, which has one writer anyway)
	// Interval schedules a reconcile of every system (0: no schedule).
	Interval time.Duration
	// RetryBase and RetryMax shape the exponential backoff of a failed reconcile:
	// RetryBase·2^(attempt−1), at most RetryMax (defaults 5s and 10m).
	RetryBase, RetryMax time.Duration
	MaxAttempts         int           // default 50: with a 10m cap, a target may be down for hours
	PollInterval        time.Duration // how often idle workers look for jobs (default 1s)
	JobTimeout          time.Duration // default 1h: a first load of a big directory is long
	// LeaseTTL is how long a reconcile lease lasts unless renewed (default DefaultLeaseTTL):
	// the systems a killed process was reconciling wait this long for another to take over.
	LeaseTTL time.Duration
	Logger   *slog.Logger
	// Supported says whether a connector type can be opened (nil: every type). A reconcile of
	// every system skips the others: a catalog may name a connector before this binary has
	// it, and a reconcile that can only fail would make `reconcile --wait` fail for ever.
	Supported func(connectorType string) bool
	// Extra registers other packages' job kinds and queues (notifications) on this one client:
	// only River's leader runs periodic jobs and schedules retries, and a second client on the
	// same database could take the leadership from this one. See notify.Outbox.Register.
	Extra []func(workers *river.Workers, queues map[string]river.QueueConfig)
}

// Host owns the process's River client: reconciles, expiries and periodic tasks as durable jobs
// in the store's database.
type Host struct {
	client *river.Client[*sql.Tx]
	driver riverdriver.Driver[*sql.Tx] // for RecoverInterrupted (interrupted.go)
	rec    *provision.Reconciler
	st     store.Store
	log    *slog.Logger
	opts   Options

	// leases are the reconcile leases this process's workers hold (lease.go): two reconciles
	// of one system at once, in this process or across replicas, would plan and apply the same
	// operations twice.
	mu     sync.Mutex
	leases map[*heldLease]bool
	// instance tells this host's leases from other processes'; beacon is the connection that
	// holds its advisory lock on PostgreSQL while it runs (beacon.go).
	instance   int32
	beaconMu   sync.Mutex
	beacon     *sql.Conn
	stopBeacon context.CancelFunc // ends keepBeacon
	// rechecks carries the times keepRechecking is asked to recover again at (lease.go):
	// when a lease's beacon is out but the lease has not missed a renewal yet.
	rechecks     chan time.Time
	stopRechecks context.CancelFunc // ends keepRechecking
	rechecksDone chan struct{}      // closed when it ended

	exp expiry // the expiry of time-bound grants (expiry.go)
	svc tasks  // the service the periodic tasks call (periodic.go)
}

// queuePeriodic is the queue of the periodic tasks: apart from the reconciles, so that a long
// first load of a directory (one worker on SQLite) does not hold up request fulfilment or the
// HR date check, as none of them held up another when each had its own loop.
const queuePeriodic = "periodic"

// backoff is an exponential retry policy with a cap.
type backoff struct{ base, max time.Duration }

func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	n := max(len(job.Errors), 1)
	d := time.Duration(float64(b.base) * math.Pow(2, float64(min(n-1, 30))))
	if d > b.max || d <= 0 {
		d = b.max
	}
	return time.Now().Add(d)
}

// New migrates River's tables into st's database and builds the host (not started). rec runs
// the reconciles; nil makes a host for other jobs only (notifications, in tests).
func New(ctx context.Context, st store.Store, rec *provision.Reconciler, o Options) (*Host, error) {
	db, ok := st.(DB)
	if !ok || db.DB() == nil {
		return nil, errors.New("jobs: the store does not expose its database; River needs it")
	}
	var driver riverdriver.Driver[*sql.Tx]
	switch st.Engine() {
	case "sqlite":
		driver = riversqlite.New(db.DB())
		if o.Workers <= 0 {
			o.Workers = 1
		}
	case "postgres":
		driver = riverdatabasesql.New(db.DB())
	default:
		return nil, fmt.Errorf("jobs: no job queue driver for %q", st.Engine())
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	o.RetryBase = cmpOr(o.RetryBase, 5*time.Second)
	o.RetryMax = cmpOr(o.RetryMax, 10*time.Minute)
	o.PollInterval = cmpOr(o.PollInterval, time.Second)
	o.JobTimeout = cmpOr(o.JobTimeout, time.Hour)
	o.LeaseTTL = cmpOr(o.LeaseTTL, DefaultLeaseTTL)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 50
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quiet(log)})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("job queue: migrate: %w", err)
	}
	h := &Host{rec: rec, st: st, log: log, opts: o, leases: map[*heldLease]bool{}, driver: driver,
		instance: newInstance()}
	workers := river.NewWorkers()
	river.AddWorker(workers, &reconcileWorker{h: h})
	river.AddWorker(workers, &reconcileAllWorker{h: h})
	river.AddWorker(workers, &expireWorker{h: h})
	river.AddWorker(workers, &recoverWorker{h: h})
	addPeriodicWorkers(workers, h)
	queues := map[string]river.QueueConfig{
		river.QueueDefault: {MaxWorkers: o.Workers},
		queuePeriodic:      {MaxWorkers: periodicWorkers},
	}
	for _, register := range o.Extra {
		register(workers, queues)
	}
	cfg := &river.Config{
		Queues:            queues,
		Workers:           workers,
		RetryPolicy:       backoff{o.RetryBase, o.RetryMax},
		MaxAttempts:       o.MaxAttempts,
		FetchPollInterval: o.PollInterval,
		FetchCooldown:     min(o.PollInterval, 100*time.Millisecond),
		JobTimeout:        o.JobTimeout,
		Logger:            quiet(log),
	}
	if o.Interval > 0 {
		// The run at start (the first the leader enqueues) reconciles only the systems the
		// schedule is due for: a restart is no reason to read a big directory again that a run
		// read minutes before the stop (ReconcileAllArgs.Start).
		var started atomic.Bool
		cfg.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(o.Interval),
			func() (river.JobArgs, *river.InsertOpts) {
				args := ReconcileAllArgs{Cause: provision.CauseSchedule, Start: !started.Swap(true)}
				opts := &river.InsertOpts{Priority: PrioritySchedule}
				if !args.Start {
					// Unique within its interval's window, as the periodic tasks are
					// (periodicOpts). The run at start of a new leader is not: it reconciles
					// only the systems no run of the window converged (Due), so it is no
					// second run of them.
					opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByPeriod: o.Interval, ByState: onceStates}
				}
				return args, opts
			}, &river.PeriodicJobOpts{RunOnStart: true})}
	}
	if rec != nil {
		// The reconciles of processes that died, once their leases ran out (interrupted.go).
		cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(o.LeaseTTL),
			func() (river.JobArgs, *river.InsertOpts) { return RecoverArgs{}, periodicOpts(o.LeaseTTL) }, nil))
	}
	if h.client, err = river.NewClient(driver, cfg); err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return h, nil
}

// quiet keeps River's own chatter at warnings and above: the engine logs what matters.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{l.Handler(), slog.LevelWarn})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Start starts the workers (and the schedule), after marking the reconcile runs a stopped
// process left running as interrupted and running their systems again (RecoverInterrupted).
func (h *Host) Start(ctx context.Context) error {
	if err := h.lightBeacon(ctx); err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	if h.st.Engine() == "postgres" {
		bctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		h.stopBeacon = stop
		go h.keepBeacon(bctx, renewEvery(h.opts.LeaseTTL))
	}
	if h.rec != nil {
		rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		h.rechecks, h.stopRechecks, h.rechecksDone = make(chan time.Time, 8), stop, make(chan struct{})
		go h.keepRechecking(rctx, h.rechecksDone)
	}
	if _, err := h.RecoverInterrupted(ctx); err != nil {
		h.endRechecks()
		return fmt.Errorf("job queue: %w", err)
	}
	if err := h.client.Start(ctx); err != nil {
		h.endRechecks()
		return fmt.Errorf("job queue: start: %w", err)
	}
	return nil
}

// Stop waits for running jobs to finish, up to ctx. The reconcile leases of those that did
// not finish by then are given up (abandonLeases): the process is about to exit.
func (h *Host) Stop(ctx context.Context) error {
	err := h.client.Stop(ctx)
	if err != nil {
		h.abandonLeases()
	}
	h.endRechecks()
	if h.stopBeacon != nil {
		h.stopBeacon()
	}
	h.douseBeacon()
	return err
}

// endRechecks ends keepRechecking and waits for it: a recovery it runs uses the store, which
// the caller closes after Stop.
func (h *Host) endRechecks() {
	if h.stopRechecks != nil {
		h.stopRechecks()
		<-h.rechecksDone
		h.stopRechecks = nil
	}
}

// Client is the River client, for the packages whose jobs Options.Extra registered to insert
// them.
func (h *Host) Client() *river.Client[*sql.Tx] { return h.client }

// now is the reconciler's clock (tests move it), or the wall clock without one.
func (h *Host) now() time.Time {
	if h.rec != nil {
		return h.rec.Time()
	}
	return time.Now()
}
