package provision

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/store"
)

// DB is what the queue needs from a store: the database it writes to. sqlstore implements it;
// it is kept out of store.Store so that the store interface stays about Gatehouse's data.
type DB interface {
	DB() *sql.DB
	Engine() string
}

// Job priorities (River: 1 runs first). Taking access away goes before granting it.
const (
	PriorityDeprovision = 1
	PriorityChange      = 2
	PrioritySchedule    = 3
)

// ReconcileArgs is the reconcile_system job: reconcile one system. It carries no operations:
// the job plans from the desired state when it runs, so a retry after an outage or a crash
// plans again from scratch and nothing is lost.
type ReconcileArgs struct {
	SystemID string    `json:"system_id"`
	Cause    string    `json:"cause"`
	Since    time.Time `json:"since"` // when the desired state changed, for KPIs
	// Identities: a targeted run of the people a change touched (RunOptions.Identities);
	// empty for a full run.
	Identities []string `json:"identities,omitempty"`
}

// Kind is the River job kind.
func (ReconcileArgs) Kind() string { return "reconcile_system" }

// ReconcileAllArgs is the scheduled job that enqueues a reconcile of every system.
type ReconcileAllArgs struct {
	Cause string `json:"cause"`
}

// Kind is the River job kind.
func (ReconcileAllArgs) Kind() string { return "reconcile_all" }

// QueueOptions tune the queue.
type QueueOptions struct {
	Workers int // concurrent jobs (default 4; 1 on SQLite, which has one writer anyway)
	// Interval schedules a reconcile of every system (0: no schedule).
	Interval time.Duration
	// RetryBase and RetryMax shape the exponential backoff of a failed reconcile:
	// RetryBase·2^(attempt−1), at most RetryMax (defaults 5s and 10m).
	RetryBase, RetryMax time.Duration
	MaxAttempts         int           // default 50: with a 10m cap, a target may be down for hours
	PollInterval        time.Duration // how often idle workers look for jobs (default 1s)
	JobTimeout          time.Duration // default 1h: a first load of a big directory is long
	Logger              *slog.Logger
	// Supported says whether a connector type can be opened (nil: every type). A reconcile of
	// every system skips the others: a catalog may name a connector before this binary has
	// it, and a reconcile that can only fail would make `reconcile --wait` fail for ever.
	Supported func(connectorType string) bool
	// Extra registers other packages' job kinds and queues (notifications) on this one client:
	// only River's leader runs periodic jobs and schedules retries, and a second client on the
	// same database could take the leadership from this one. See notify.Outbox.Register.
	Extra []func(workers *river.Workers, queues map[string]river.QueueConfig)
}

// Queue runs reconciles as durable River jobs in the store's database.
type Queue struct {
	client *river.Client[*sql.Tx]
	driver riverdriver.Driver[*sql.Tx] // for RecoverInterrupted (interrupted.go)
	rec    *Reconciler
	log    *slog.Logger
	opts   QueueOptions

	// running serializes reconciles of one system within this process: two at once would
	// plan the same operations twice. Across replicas the plans are idempotent, so a rare
	// overlap costs duplicate evidence, not correctness.
	mu      sync.Mutex
	running map[string]bool

	exp expiry // the expiry of time-bound grants (expiry.go)
}

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

// NewQueue migrates River's tables into st's database and builds the queue (not started).
func NewQueue(ctx context.Context, st store.Store, rec *Reconciler, o QueueOptions) (*Queue, error) {
	db, ok := st.(DB)
	if !ok {
		return nil, errors.New("provision: the store does not expose its database; River needs it")
	}
	var driver riverdriver.Driver[*sql.Tx]
	switch db.Engine() {
	case "sqlite":
		driver = riversqlite.New(db.DB())
		if o.Workers <= 0 {
			o.Workers = 1
		}
	case "postgres":
		driver = riverdatabasesql.New(db.DB())
	default:
		return nil, fmt.Errorf("provision: no job queue driver for %q", db.Engine())
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	o.RetryBase = cmpOr(o.RetryBase, 5*time.Second)
	o.RetryMax = cmpOr(o.RetryMax, 10*time.Minute)
	o.PollInterval = cmpOr(o.PollInterval, time.Second)
	o.JobTimeout = cmpOr(o.JobTimeout, time.Hour)
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
	q := &Queue{rec: rec, log: log, opts: o, running: map[string]bool{}, driver: driver}
	workers := river.NewWorkers()
	river.AddWorker(workers, &reconcileWorker{q: q})
	river.AddWorker(workers, &reconcileAllWorker{q: q})
	river.AddWorker(workers, &expireWorker{q: q})
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}}
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
		cfg.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(o.Interval),
			func() (river.JobArgs, *river.InsertOpts) {
				return ReconcileAllArgs{Cause: CauseSchedule}, &river.InsertOpts{Priority: PrioritySchedule}
			}, &river.PeriodicJobOpts{RunOnStart: true})}
	}
	if q.client, err = river.NewClient(driver, cfg); err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return q, nil
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
func (q *Queue) Start(ctx context.Context) error {
	if _, err := q.RecoverInterrupted(ctx); err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("job queue: start: %w", err)
	}
	return nil
}

// Stop waits for running jobs to finish, up to ctx.
func (q *Queue) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

// Client is the River client, for the packages whose jobs QueueOptions.Extra registered to
// insert them.
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }

// Enqueue asks for a reconcile of each system, in the order given (callers order critical
// systems first); deprovision gives the jobs the highest priority. It returns the job ids.
func (q *Queue) Enqueue(ctx context.Context, systems []string, cause string, deprovision bool) ([]int64, error) {
	return q.EnqueueFor(ctx, systems, nil, cause, deprovision)
}

// EnqueueFor is Enqueue of targeted runs: each system is reconciled for these identities only
// (nil: a full run, as Enqueue). Jobs are inserted without River's uniqueness options, so no
// job is ever deduplicated against another: a targeted job must not swallow a full one, nor
// one for other people, and a full one queued while another waits must run after the change
// that queued it. Concurrent runs of one system are serialized by the worker instead.
func (q *Queue) EnqueueFor(ctx context.Context, systems, identities []string, cause string, deprovision bool) ([]int64, error) {
	if len(identities) > 0 {
		if identities = sortedUnique(identities); len(identities) > MaxTargeted {
			identities = nil
		}
	}
	prio := PriorityChange
	if deprovision {
		prio = PriorityDeprovision
	}
	if cause == CauseSchedule {
		prio = PrioritySchedule
	}
	since := q.rec.now()
	ids := make([]int64, 0, len(systems))
	for _, s := range systems {
		res, err := q.client.Insert(ctx, ReconcileArgs{SystemID: s, Cause: cause, Since: since, Identities: identities},
			&river.InsertOpts{Priority: prio, MaxAttempts: q.opts.MaxAttempts})
		if err != nil {
			return ids, fmt.Errorf("enqueue reconcile of %s: %w", s, err)
		}
		ids = append(ids, res.Job.ID)
	}
	return ids, nil
}

// EnqueueAll asks for a reconcile of every system, critical ones first.
func (q *Queue) EnqueueAll(ctx context.Context, cause string, deprovision bool) ([]int64, error) {
	return q.EnqueueAllFor(ctx, nil, cause, deprovision)
}

// EnqueueAllFor asks for a targeted reconcile of every system for these identities (nil: full).
func (q *Queue) EnqueueAllFor(ctx context.Context, identities []string, cause string, deprovision bool) ([]int64, error) {
	systems, err := q.rec.Store.ListSystems(ctx)
	if err != nil {
		return nil, fmt.Errorf("enqueue reconciles: %w", err)
	}
	OrderSystems(systems)
	ids := make([]string, 0, len(systems))
	for _, s := range systems {
		if q.opts.Supported != nil && !q.opts.Supported(s.Connector.Type) {
			q.log.Debug("not reconciled: no connector of this type", "system", s.ID, "type", s.Connector.Type)
			continue
		}
		ids = append(ids, s.ID)
	}
	return q.EnqueueFor(ctx, ids, identities, cause, deprovision)
}

// JobState is where a reconcile job is.
type JobState struct {
	ID       int64  `json:"id"`
	SystemID string `json:"system_id"`
	State    string `json:"state"` // River's: available, running, retryable, completed, cancelled, discarded, …
	Attempt  int    `json:"attempt"`
	Done     bool   `json:"done"` // completed, cancelled or discarded: no further attempt
	Error    string `json:"error,omitempty"`
}

// Jobs returns the state of reconcile jobs.
func (q *Queue) Jobs(ctx context.Context, ids []int64) ([]JobState, error) {
	out := make([]JobState, 0, len(ids))
	for _, id := range ids {
		j, err := q.client.JobGet(ctx, id)
		if errors.Is(err, river.ErrNotFound) {
			// Cleaned up after its retention period: it finished long ago.
			out = append(out, JobState{ID: id, State: "completed", Done: true})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("job %d: %w", id, err)
		}
		st := JobState{ID: id, State: string(j.State), Attempt: j.Attempt}
		switch j.State {
		case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
			st.Done = true
		}
		if n := len(j.Errors); n > 0 {
			st.Error = j.Errors[n-1].Error
		}
		var args ReconcileArgs
		if err := jsonUnmarshal(j.EncodedArgs, &args); err == nil {
			st.SystemID = args.SystemID
		}
		out = append(out, st)
	}
	return out, nil
}

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	q *Queue
}

func (w *reconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileArgs]) error {
	q, sys := w.q, job.Args.SystemID
	q.mu.Lock()
	busy := q.running[sys]
	if !busy {
		q.running[sys] = true
	}
	q.mu.Unlock()
	if busy {
		// Another reconcile of this system is running here: run after it, so this one sees
		// (and applies) whatever changed since it started.
		return river.JobSnooze(time.Second)
	}
	defer func() {
		q.mu.Lock()
		delete(q.running, sys)
		q.mu.Unlock()
	}()
	run, err := q.rec.Reconcile(ctx, sys, RunOptions{Cause: job.Args.Cause, Since: job.Args.Since, JobID: job.ID,
		Attempt: job.Attempt, Identities: job.Args.Identities})
	if err == nil {
		q.log.Info("reconciled", "system", sys, "cause", run.Cause, "planned", run.Planned, "applied", run.Applied,
			"findings", len(run.Findings))
		return nil
	}
	q.log.Warn("reconcile failed", "system", sys, "attempt", job.Attempt, "err", err)
	if connector.IsPermanent(err) {
		// Retrying cannot help; the next change or the schedule plans again.
		return river.JobCancel(err)
	}
	return err
}

type reconcileAllWorker struct {
	river.WorkerDefaults[ReconcileAllArgs]
	q *Queue
}

func (w *reconcileAllWorker) Work(ctx context.Context, job *river.Job[ReconcileAllArgs]) error {
	_, err := w.q.EnqueueAll(ctx, job.Args.Cause, false)
	return err
}

// Systems affected by a change, critical first: the systems of the given entitlements.
func Systems(ctx context.Context, r store.Reader, entitlementIDs []string) ([]string, error) {
	seen := map[string]bool{}
	var systems []*gatehouse.System
	for _, id := range entitlementIDs {
		e, err := r.GetEntitlement(ctx, id)
		if err != nil {
			return nil, err
		}
		if seen[e.System] {
			continue
		}
		seen[e.System] = true
		s, err := r.GetSystem(ctx, e.System)
		if err != nil {
			return nil, err
		}
		systems = append(systems, s)
	}
	OrderSystems(systems)
	out := make([]string, len(systems))
	for i, s := range systems {
		out[i] = s.ID
	}
	return out, nil
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
