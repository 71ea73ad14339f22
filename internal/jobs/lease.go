package jobs

// Reconcile leases: one reconcile of a system at a time across every process on the database.
//
// A reconcile job takes the lease "reconcile:<system>" (store.AcquireLease) before it plans,
// renews it while it runs and drops it when done; a job that finds the lease held snoozes and
// runs after, so the change that queued it is not lost. The lease belongs to one execution of
// one job (holder "job:<id>:<instance>:<token>"), not to a database connection, as a session
// advisory lock would: a process that dies stops renewing it, and it runs out after the lease
// TTL, or sooner (within about 3/8 TTL) when the process's beacon shows it gone (beacon.go) and
// the lease missed a renewal (renewalMissed), while a worker of a
// process whose queue stopped but whose goroutine still hangs gives it up explicitly
// (Host.Stop). Tying it to the job id lets recovery tell the runs and jobs of a
// live process from those of a dead one (interrupted.go): an unexpired lease of the job is
// alive. A fresh token per execution keeps a second execution of the same job (rescued while
// the first still runs; River's snooze gives the attempt number back, so attempts repeat) from
// passing for the first.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// DefaultLeaseTTL is how long a reconcile lease lasts unless renewed (serve --reconcile-lease):
// how long the systems of a killed process wait before another process reconciles them. The
// holder renews it four times a TTL, so a renewal may fail (a database restart) without the
// lease running out.
const DefaultLeaseTTL = 30 * time.Second

// renewEvery is how often a holder renews its lease of the given TTL: four times a TTL, so a
// renewal may fail (a database restart) without the lease running out.
func renewEvery(ttl time.Duration) time.Duration { return ttl / 4 }

// renewalMissed says whether lease l, read at now, missed a renewal: less than 5/8 TTL is left
// to it. A live holder renews every renewEvery (TTL/4), so just before its next renewal 3/4 TTL
// are left; the 1/8 TTL below that is slack for a renewal that is slow to commit. Only when
// this holds does a dark beacon end an unexpired lease early (liveLeases): the beacon is a
// session of its own that a database restart or a network cut of that one connection ends
// under a live process until keepBeacon lights it again (a renewal period later), so a dark
// beacon alone does not prove its holder dead. A killed process's lease so counts as gone
// within about 3/8 TTL of its last renewal instead of at once.
func renewalMissed(l store.Lease, ttl time.Duration, now time.Time) bool {
	return l.ExpiresAt.Before(now.Add(missedLeft(ttl)))
}

// missedLeft is what is left of a lease of the given TTL when it missed a renewal: 5/8 TTL.
func missedLeft(ttl time.Duration) time.Duration { return ttl - renewEvery(ttl) - renewEvery(ttl)/2 }

// leasePrefix names the reconcile leases: leasePrefix + system id.
const leasePrefix = "reconcile:"

// leaseSnooze is how long a reconcile job waits before it tries again for a lease held by
// another: short, as most reconciles of one system are short.
const leaseSnooze = time.Second

// errLeaseLost ends a reconcile whose lease another process took over (it ran out while the
// database was unreachable): it must not go on beside the new holder.
var errLeaseLost = errors.New("the reconcile lease of the system was taken over")

// errLeased says the lease is held by another reconcile.
var errLeased = errors.New("another reconcile of the system is running")

// heldLease is a lease a worker of this process holds.
type heldLease struct {
	name, holder string
	stop         context.CancelFunc // stops the renewals
	done         chan struct{}      // closed when they stopped
}

// leaseHolder is the holder of one execution of job id in this instance.
func (h *Host) leaseHolder(id int64) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return fmt.Sprintf("job:%d:%d:%s", id, h.instance, hex.EncodeToString(b))
}

// leaseJob is the job id of a reconcile lease's holder (0 for another holder).
func leaseJob(holder string) int64 {
	rest, ok := strings.CutPrefix(holder, "job:")
	if !ok {
		return 0
	}
	id, _, _ := strings.Cut(rest, ":")
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

// takeLease takes the reconcile lease of system for an execution of job id, or returns
// errLeased when another reconcile holds it. The returned context ends when the lease is lost;
// release stops the renewals and drops the lease.
func (h *Host) takeLease(ctx context.Context, system string, id int64, attempt int) (context.Context, func(), error) {
	l := store.Lease{Name: leasePrefix + system, Holder: h.leaseHolder(id),
		Note: fmt.Sprintf("reconcile job %d attempt %d in %s", id, attempt, processName())}
	now := time.Now()
	l.ExpiresAt = now.Add(h.opts.LeaseTTL)
	cur, ok, err := h.st.AcquireLease(ctx, l, now)
	if err != nil {
		return nil, nil, fmt.Errorf("reconcile lease of %s: %w", system, err)
	}
	if !ok {
		h.log.Debug("reconcile waits for another", "system", system, "job", id, "held_by", cur.Note, "until", cur.ExpiresAt)
		return nil, nil, errLeased
	}
	runCtx, lost := context.WithCancelCause(ctx)
	beat, stop := context.WithCancel(context.WithoutCancel(ctx))
	held := &heldLease{name: l.Name, holder: l.Holder, stop: stop, done: make(chan struct{})}
	h.mu.Lock()
	h.leases[held] = true
	h.mu.Unlock()
	go func() {
		defer close(held.done)
		h.renew(beat, l, lost)
	}()
	release := func() {
		stop()
		<-held.done
		lost(nil)
		h.mu.Lock()
		delete(h.leases, held)
		h.mu.Unlock()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := h.st.ReleaseLease(rctx, l.Name, l.Holder); err != nil {
			// It runs out by itself; until then the system's next reconcile waits.
			h.log.Warn("release reconcile lease", "system", system, "err", err)
		}
	}
	return runCtx, release, nil
}

// renew renews lease l until ctx ends. When another holder took it over, or it ran out before a
// renewal succeeded (the database did not answer in time), it ends the run with lost: at the
// moment the lease runs out, so that the run never goes on beside a new holder.
func (h *Host) renew(ctx context.Context, l store.Lease, lost context.CancelCauseFunc) {
	t := time.NewTicker(renewEvery(h.opts.LeaseTTL))
	defer t.Stop()
	out := time.NewTimer(time.Until(l.ExpiresAt))
	defer out.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-out.C:
			h.log.Error("reconcile lease ran out before it could be renewed; stopping the reconcile", "lease", l.Name)
			lost(errLeaseLost)
			return
		case <-t.C:
		}
		now := time.Now()
		next := l
		next.ExpiresAt = now.Add(h.opts.LeaseTTL)
		actx, cancel := context.WithDeadline(ctx, l.ExpiresAt)
		_, ok, err := h.st.AcquireLease(actx, next, now)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil && ok:
			l = next
			out.Reset(time.Until(l.ExpiresAt))
		case err == nil:
			h.log.Error("reconcile lease taken over; stopping the reconcile", "lease", l.Name)
			lost(errLeaseLost)
			return
		default:
			h.log.Warn("renew reconcile lease", "lease", l.Name, "err", err)
		}
	}
}

// abandonLeases gives up the leases of reconciles still running when the queue stopped without
// them finishing: the process is going away and they with it, or (in tests) they hang. The
// leases run out now instead of a TTL later, so that the next start recovers their runs at
// once (interrupted.go), and are no longer renewed.
func (h *Host) abandonLeases() {
	h.mu.Lock()
	held := make([]*heldLease, 0, len(h.leases))
	for l := range h.leases {
		held = append(held, l)
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, l := range held {
		l.stop()
		<-l.done
		now := time.Now()
		if _, _, err := h.st.AcquireLease(ctx, store.Lease{Name: l.name, Holder: l.holder, Note: "abandoned by a stopping process",
			ExpiresAt: now}, now); err != nil {
			h.log.Warn("give up reconcile lease", "lease", l.name, "err", err)
		}
	}
}

// liveLeases returns, by system, the job id of each reconcile lease that has not run out and
// whose holder's process is not known to be gone. The lease of a process that is gone (its
// beacon is out and the lease missed a renewal, renewalMissed) is made to run out now, so that
// the job recovering its system takes it at once. A lease whose beacon is out but which has
// not missed a renewal yet counts as live; the host recovers again when it would have
// (recheck), so that a killed process's reconciles wait about 3/8 TTL, not a TTL.
func (h *Host) liveLeases(ctx context.Context) (map[string]int64, error) {
	ls, err := h.st.ListLeases(ctx, leasePrefix)
	if err != nil {
		return nil, fmt.Errorf("reconcile leases: %w", err)
	}
	out := make(map[string]int64, len(ls))
	for _, l := range ls {
		now := time.Now()
		if !now.Before(l.ExpiresAt) {
			continue
		}
		inst, ok := leaseInstance(l.Holder)
		if !h.holderGone(ctx, inst, ok) {
			out[strings.TrimPrefix(l.Name, leasePrefix)] = leaseJob(l.Holder)
			continue
		}
		if !renewalMissed(l, h.opts.LeaseTTL, now) {
			// Dark, but renewed on time: perhaps only its beacon's session ended. Look again
			// once it would have missed a renewal.
			h.recheck(l.ExpiresAt.Add(-missedLeft(h.opts.LeaseTTL)))
			out[strings.TrimPrefix(l.Name, leasePrefix)] = leaseJob(l.Holder)
			continue
		}
		// Renewed to now in its holder's name: had the holder come back meanwhile, its own
		// renewal would win again, and it would be left alone.
		if _, _, err := h.st.AcquireLease(ctx, store.Lease{Name: l.Name, Holder: l.Holder, Note: l.Note + " (its process is gone)",
			ExpiresAt: now}, now); err != nil {
			return nil, fmt.Errorf("end the lease of a stopped process: %w", err)
		}
		h.log.Info("reconcile lease of a stopped process ended", "lease", l.Name, "held_by", l.Note)
	}
	return out, nil
}

// recheck asks the host to recover again (recoverInterrupted) at t, once: keepRechecking keeps
// the earliest time asked. Without a running host (not started, or stopped) it does nothing:
// the leader's recover_reconciles job still comes every TTL.
func (h *Host) recheck(t time.Time) {
	select {
	case h.rechecks <- t:
	default: // the loop is busy recovering; that recovery asks again if need be
	}
}

// keepRechecking runs the recoveries recheck asked for until ctx ends, then closes done.
func (h *Host) keepRechecking(ctx context.Context, done chan struct{}) {
	defer close(done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var at time.Time // the recovery planned; zero: none
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-h.rechecks:
			if at.IsZero() || t.Before(at) {
				at = t
				// A little after: at t itself the lease has exactly 5/8 TTL left.
				timer.Reset(time.Until(t) + 50*time.Millisecond)
			}
			continue
		case <-timer.C:
		}
		at = time.Time{}
		// As recover_reconciles: a job attempted a TTL ago without a lease never took one.
		if n, err := h.recoverInterrupted(ctx, time.Now().Add(-h.opts.LeaseTTL)); err != nil && ctx.Err() == nil {
			h.log.Warn("recover interrupted reconciles", "err", err)
		} else if n > 0 {
			h.log.Warn("reconciles of a stopped process recovered", "runs", n)
		}
	}
}

// processName names this process in lease notes: host and pid.
func processName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s pid %d", host, os.Getpid())
}
