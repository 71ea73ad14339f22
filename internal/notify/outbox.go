package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Sender delivers one message on one channel.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Channel is where a message goes.
type Channel string

// Channels.
const (
	ChannelEmail   Channel = "email"
	ChannelWebhook Channel = "webhook"
)

// QueueName is the River queue of notification jobs: a queue of their own, so a long
// reconcile on the default queue (one worker on SQLite) does not hold mail back.
const QueueName = "notify"

// Args is the River job "notify": one message on one channel. The message travels whole in
// the job, so delivery needs nothing from the request engine when it runs.
type Args struct {
	Channel Channel `json:"channel"`
	Message Message `json:"message"`
}

// Kind is the River job kind.
func (Args) Kind() string { return "notify" }

// Inserter inserts jobs: a *river.Client[*sql.Tx] (jobs.Host.Client()).
type Inserter interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Enqueuer is what the request engine needs: a *Outbox (a nil one drops everything).
type Enqueuer interface {
	Enqueue(ctx context.Context, m Message) error
}

// OutboxOptions configure delivery. A nil sender turns its channel off; with both off,
// messages are logged at debug level and dropped (the demo runs without mail).
type OutboxOptions struct {
	Email   Sender
	Webhook Sender
	Workers int // concurrent deliveries (default 2)
	// RetryBase·2^(attempt−1), at most RetryMax, between attempts (defaults 10s and 15m);
	// MaxAttempts (default 30) then covers about six hours of a mail server being down.
	RetryBase, RetryMax time.Duration
	MaxAttempts         int
	Timeout             time.Duration // one attempt (default 2m)
	Logger              *slog.Logger
	// PublicURL is where people reach Gatehouse (https://gatehouse.example.com): the base of
	// the links in messages (Link).
	PublicURL string
}

// Outbox turns messages into durable River jobs and delivers them.
//
// Wiring: NewOutbox, then Register on the River client's workers and queues before the
// client is built (jobs.Options.Extra), then Attach the client.
type Outbox struct {
	senders map[Channel]Sender
	client  Inserter
	opts    OutboxOptions
	log     *slog.Logger
}

// NewOutbox builds an outbox.
func NewOutbox(o OutboxOptions) *Outbox {
	ob := &Outbox{senders: map[Channel]Sender{}, log: o.Logger}
	if o.Email != nil {
		ob.senders[ChannelEmail] = o.Email
	}
	if o.Webhook != nil {
		ob.senders[ChannelWebhook] = o.Webhook
	}
	if ob.log == nil {
		ob.log = slog.Default()
	}
	o.Workers = max(o.Workers, 0)
	if o.Workers == 0 {
		o.Workers = 2
	}
	o.RetryBase = cmpOr(o.RetryBase, 10*time.Second)
	o.RetryMax = cmpOr(o.RetryMax, 15*time.Minute)
	o.Timeout = cmpOr(o.Timeout, 2*time.Minute)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 30
	}
	ob.opts = o
	return ob
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Link is the absolute URL of a page of Gatehouse, e.g. Link("/requests/REQ-000123").
func (o *Outbox) Link(path string) string {
	base := "http://127.0.0.1:8080"
	if o != nil && o.opts.PublicURL != "" {
		base = o.opts.PublicURL
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(path, "/")
}

// Enabled reports whether any channel is configured.
func (o *Outbox) Enabled() bool { return o != nil && len(o.senders) > 0 }

// Register adds the notify worker and queue to a River client's configuration. It has the
// signature of jobs.Options.Extra. A disabled outbox registers nothing.
func (o *Outbox) Register(workers *river.Workers, queues map[string]river.QueueConfig) {
	if !o.Enabled() {
		return
	}
	river.AddWorker(workers, &worker{o: o})
	queues[QueueName] = river.QueueConfig{MaxWorkers: o.opts.Workers}
}

// Attach gives the outbox the client that inserts its jobs.
func (o *Outbox) Attach(c Inserter) { o.client = c }

// Enqueue schedules m on every configured channel (email only when m has recipients). It
// returns once the jobs are stored: delivery happens in the background and is retried. A
// message that reports a change is stored in that change's transaction instead (EnqueueTx).
func (o *Outbox) Enqueue(ctx context.Context, m Message) error { return o.EnqueueTx(ctx, nil, m) }

// EnqueueTx is Enqueue inside the caller's transaction (nil: none), so the message exists if
// and only if the change does. On SQLite, tx must be on the database the River client uses:
// the store and River share its single write connection, and an insert outside the open
// transaction would wait for it.
func (o *Outbox) EnqueueTx(ctx context.Context, tx *sql.Tx, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if !o.Enabled() {
		if o != nil {
			o.log.Debug("notification dropped: no channel configured", "event", m.Event, "reference", m.Reference,
				"subject", m.Subject, "recipients", len(m.To))
		}
		return nil
	}
	if o.client == nil {
		return errors.New("notify: the outbox has no job queue attached")
	}
	if m.ID == "" {
		m.ID = newID()
	}
	for _, ch := range []Channel{ChannelEmail, ChannelWebhook} {
		if o.senders[ch] == nil || (ch == ChannelEmail && len(m.To) == 0) {
			continue
		}
		args := Args{Channel: ch, Message: m}
		opts := &river.InsertOpts{Queue: QueueName, MaxAttempts: o.opts.MaxAttempts}
		var err error
		if tx != nil {
			_, err = o.client.InsertTx(ctx, tx, args, opts)
		} else {
			_, err = o.client.Insert(ctx, args, opts)
		}
		if err != nil {
			return fmt.Errorf("enqueue %s notification %s: %w", ch, m.Reference, err)
		}
	}
	return nil
}

type worker struct {
	river.WorkerDefaults[Args]
	o *Outbox
}

func (w *worker) Timeout(*river.Job[Args]) time.Duration { return w.o.opts.Timeout }

// NextRetry is exponential with a cap, from the outbox's options (not the client's, which
// are tuned for reconciles).
func (w *worker) NextRetry(job *river.Job[Args]) time.Time {
	n := max(len(job.Errors), 1)
	d := time.Duration(float64(w.o.opts.RetryBase) * math.Pow(2, float64(min(n-1, 30))))
	if d > w.o.opts.RetryMax || d <= 0 {
		d = w.o.opts.RetryMax
	}
	return time.Now().Add(d)
}

// maxSnooze bounds a receiver's Retry-After.
const maxSnooze = time.Hour

func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	m, ch := job.Args.Message, job.Args.Channel
	log := w.o.log.With("channel", ch, "event", m.Event, "reference", m.Reference, "delivery", m.ID, "attempt", job.Attempt)
	s := w.o.senders[ch]
	if s == nil {
		log.Warn("notification not sent: its channel is no longer configured")
		return river.JobCancel(fmt.Errorf("channel %s is not configured", ch))
	}
	err := s.Send(ctx, m)
	var ra *RetryAfterError
	switch {
	case err == nil:
		log.Info("notification sent", "recipients", len(m.To))
		return nil
	case IsPermanent(err):
		log.Error("notification not sent: the receiver refuses it", "err", err)
		return river.JobCancel(err)
	case errors.As(err, &ra):
		log.Warn("notification delayed: the receiver asks to retry later", "after", ra.After)
		return river.JobSnooze(min(max(ra.After, time.Second), maxSnooze))
	}
	log.Warn("notification not sent yet; it will be retried", "err", err, "max_attempts", job.MaxAttempts)
	return err
}
