package jobs

// The recurring tasks of the service as River periodic jobs. River's elected leader alone
// enqueues them, so N replicas on one database run each once per interval; any replica's
// worker may run the job. Each task is idempotent and reads its work from the database, so a
// run lost with a killed process is done by the next one.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/internal/service"
)

// Defaults of the periodic tasks' intervals (serve's flags).
const (
	DefaultHRDatesInterval     = time.Hour
	DefaultRequestSyncInterval = time.Second
	DefaultNoticeInterval      = time.Minute
)

// Schedule is how often each periodic task of the service runs.
type Schedule struct {
	// Expiry sweeps for expired grants (ExpireGrants), and at start.
	Expiry time.Duration
	// HRDates applies passed end dates and reached start dates (service.ApplyHRDates), and at
	// start.
	HRDates time.Duration
	// RequestSync moves approved requests on once their operations are applied
	// (service.SyncRequests).
	RequestSync time.Duration
	// Exceptions ends expired exceptions (service.ExpireDueExceptions), and at start: those
	// that expired while the server was down are handled at once.
	Exceptions time.Duration
	// Notices sends overdue reminders and escalations, expires stale requests and, when
	// ExpiringNotice is above zero, tells beneficiaries that a grant ends within it
	// (service.CheckRequestSLAs, service.NotifyExpiringGrants); and at start.
	Notices        time.Duration
	ExpiringNotice time.Duration
}

// tasks is what the periodic workers call, set by Schedule.
type tasks struct {
	p atomic.Pointer[scheduled]
}

type scheduled struct {
	svc    *service.Service
	notice time.Duration
}

// HRDatesArgs is the hr_dates job: apply passed end dates and reached start dates.
type HRDatesArgs struct {
	Start bool `json:"start,omitempty"` // the run a process makes as it starts (startOpts)
}

// Kind is the River job kind.
func (HRDatesArgs) Kind() string { return "hr_dates" }

// RequestSyncArgs is the sync_requests job: approved requests become fulfilled once their
// target operations are applied.
type RequestSyncArgs struct{}

// Kind is the River job kind.
func (RequestSyncArgs) Kind() string { return "sync_requests" }

// ExceptionExpiryArgs is the expire_exceptions job: expired exceptions revoke their access or
// come back for review.
type ExceptionExpiryArgs struct {
	Start bool `json:"start,omitempty"` // the run a process makes as it starts (startOpts)
}

// Kind is the River job kind.
func (ExceptionExpiryArgs) Kind() string { return "expire_exceptions" }

// NoticesArgs is the notices job: overdue reminders, escalations, request expiry and
// expiring-grant notices.
type NoticesArgs struct {
	Start bool `json:"start,omitempty"` // the run a process makes as it starts (startOpts)
}

// Kind is the River job kind.
func (NoticesArgs) Kind() string { return "notices" }

// periodicWorkers bounds the periodic tasks running at once in one process: one each.
const periodicWorkers = 4

// Schedule makes the host run the service's recurring tasks as periodic jobs, each every
// interval of s, and those that ran at once when each had its own loop (expiry, HR dates,
// exceptions, notices) also now. Call it once, before or after Start.
func (h *Host) Schedule(ctx context.Context, svc *service.Service, s Schedule) error {
	for name, d := range map[string]time.Duration{"HR date": s.HRDates, "request sync": s.RequestSync,
		"exception expiry": s.Exceptions, "notice": s.Notices} {
		if d <= 0 {
			return fmt.Errorf("%s interval %s: use a duration above zero", name, d)
		}
	}
	h.svc.p.Store(&scheduled{svc: svc, notice: s.ExpiringNotice})
	if err := h.ExpireGrants(ctx, svc, s.Expiry); err != nil {
		return err
	}
	for _, t := range []struct {
		args  river.JobArgs
		every time.Duration
		start river.JobArgs // the run as the process starts; nil: none
	}{
		{HRDatesArgs{}, s.HRDates, HRDatesArgs{Start: true}},
		{RequestSyncArgs{}, s.RequestSync, nil},
		{ExceptionExpiryArgs{}, s.Exceptions, ExceptionExpiryArgs{Start: true}},
		{NoticesArgs{}, s.Notices, NoticesArgs{Start: true}},
	} {
		opts := periodicOpts(t.every)
		h.client.PeriodicJobs().Add(river.NewPeriodicJob(river.PeriodicInterval(t.every),
			func() (river.JobArgs, *river.InsertOpts) { o := *opts; return t.args, &o }, nil))
		if t.start == nil {
			continue
		}
		// Inserted by every process as it starts rather than left to RunOnStart, as the
		// expiry catch-up is: after a crash, leadership waits for the dead leader's lease.
		if _, err := h.client.Insert(ctx, t.start, startOpts()); err != nil {
			return fmt.Errorf("enqueue the first %s job: %w", t.args.Kind(), err)
		}
	}
	return nil
}

// periodicOpts are the insert options of a periodic task. It is unique within one interval
// (River's ByPeriod: the interval's window of wall time) while it waits, runs or after it
// completed, so the start runs of several replicas, a replica that starts while another leads,
// or a new leader's first runs, are one run: each task runs at most once in each window, however
// many processes share the database. A run left "running" by a killed process (until River's
// rescuer gives up on it) holds up its own window only. A failed run is not retried, and does
// not hold its window: the next start's or the next interval's runs again, as a loop did.
func periodicOpts(every time.Duration) *river.InsertOpts {
	return &river.InsertOpts{Queue: queuePeriodic, MaxAttempts: 1,
		UniqueOpts: river.UniqueOpts{ByPeriod: every, ByState: onceStates}}
}

// startOpts are the insert options of a periodic task's run as a process starts (startUnique).
func startOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: queuePeriodic, MaxAttempts: 1, UniqueOpts: startUnique}
}

// startUnique makes a task's run as a process starts (its args say start, so it is not one of
// the periodic runs) unique only while it waits or runs, not once completed: replicas starting
// together make one run, and a process restarted after a crash runs again, even within the
// window of its predecessor's run (unique within the window, that catch-up was skipped, and an
// expired grant waited for River to elect a new leader, up to its leader TTL after the crash).
var startUnique = river.UniqueOpts{ByArgs: true, ByState: pendingStates}

// onceStates are pendingStates and completed: uniqueness among them lets a job run once in its
// unique window.
var onceStates = append(slices.Clone(pendingStates), rivertype.JobStateCompleted)

// service is the service the periodic tasks call, or a snooze while Schedule has not given it
// (a replica starting up, whose leader enqueued a task).
func (h *Host) service() (*scheduled, error) {
	if s := h.svc.p.Load(); s != nil {
		return s, nil
	}
	return nil, river.JobSnooze(time.Second)
}

func addPeriodicWorkers(w *river.Workers, h *Host) {
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[HRDatesArgs]) error {
		s, err := h.service()
		if err != nil {
			return err
		}
		plan, err := s.svc.ApplyHRDates(ctx, service.SystemPrincipal("hr-dates"))
		switch {
		case err != nil:
			h.log.Error("HR date check", "err", err)
			return err
		case plan.Held:
			h.log.Warn("HR date check held by the leaver guard", "reason", plan.HeldReason)
		case len(plan.Items) > 0:
			h.log.Info("HR date check applied", "leavers", plan.Summary.Leavers, "joiners", plan.Summary.Joiners)
		}
		return nil
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[RequestSyncArgs]) error {
		s, err := h.service()
		if err != nil {
			return err
		}
		n, err := s.svc.SyncRequests(ctx)
		if err != nil {
			h.log.Warn("sync access requests", "err", err)
			return err
		}
		if n > 0 {
			h.log.Info("access requests moved on", "changed", n)
		}
		return nil
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[ExceptionExpiryArgs]) error {
		s, err := h.service()
		if err != nil {
			return err
		}
		if _, err := s.svc.ExpireDueExceptions(ctx); err != nil {
			h.log.Warn("expire exceptions", "err", err)
			return err
		}
		return nil
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[NoticesArgs]) error {
		s, err := h.service()
		if err != nil {
			return err
		}
		var errs []error
		if rep, err := s.svc.CheckRequestSLAs(ctx); err != nil {
			h.log.Warn("request SLA check", "err", err)
			errs = append(errs, err)
		} else if rep != (service.SLAReport{}) {
			h.log.Info("request SLA check", "reminded", rep.Reminded, "escalated", rep.Escalated, "expired", rep.Expired)
		}
		if s.notice > 0 {
			if n, err := s.svc.NotifyExpiringGrants(ctx, s.notice); err != nil {
				h.log.Warn("expiring grant notices", "err", err)
				errs = append(errs, err)
			} else if n > 0 {
				h.log.Info("expiring grant notices sent", "grants", n)
			}
		}
		return errors.Join(errs...)
	}))
}
