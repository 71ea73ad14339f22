package jobs

// The beacon: how a process tells whether the holder of a reconcile lease is still alive before
// the lease runs out. Without it, a server restarted at once after a kill would wait a lease
// TTL before it ran the reconcile the kill cut short; with it, about 3/8 TTL (a dark beacon
// ends a lease only once the lease also missed a renewal, renewalMissed in lease.go, since the
// beacon's session can end under a live process).
//
// On PostgreSQL each host holds a session advisory lock of its own instance for as long as it
// runs, on a connection of its own: when the process dies its connection closes and
// PostgreSQL releases the lock, so a lock that can be taken means its holder is gone, or that
// the holder's session ended under it (it takes the lock again within a renewal period). The lock
// says only whether a process lives; the lease (a row, renewed) stays what serializes the
// reconciles, so a job is never tied to a connection. On SQLite there is one process: a lease
// of another instance than this one's is a previous process's.

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// beaconClass is the first key of the beacons' advisory locks ("GH"); the second is the
// instance.
const beaconClass = 0x4748

// newInstance picks this host's instance number, which its lease holders carry.
func newInstance() int32 {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return int32(binary.BigEndian.Uint32(b))
}

// lightBeacon takes this instance's advisory lock on PostgreSQL, on a connection held until
// douseBeacon.
func (h *Host) lightBeacon(ctx context.Context) error {
	h.beaconMu.Lock()
	defer h.beaconMu.Unlock()
	return h.lightBeaconLocked(ctx)
}

func (h *Host) lightBeaconLocked(ctx context.Context) error {
	if h.st.Engine() != "postgres" || h.beacon != nil {
		return nil
	}
	conn, err := h.st.(DB).DB().Conn(ctx)
	if err != nil {
		return fmt.Errorf("beacon: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, $2)`, beaconClass, h.instance); err != nil {
		conn.Close()
		return fmt.Errorf("beacon: %w", err)
	}
	h.beacon = conn
	return nil
}

// keepBeacon checks the beacon's connection every interval until ctx ends, and lights it again
// on a new one when it broke (a database restart or a network cut ended the session, and the
// lock with it). Until then the beacon is dark; others leave this process's leases alone as
// long as it renews them (renewalMissed), which it does every renewal period, as this checks.
func (h *Host) keepBeacon(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.beaconMu.Lock()
		if h.beacon != nil {
			if err := h.beacon.PingContext(ctx); err != nil && ctx.Err() == nil {
				h.log.Warn("beacon connection lost; lighting it again", "err", err)
				_ = h.beacon.Raw(func(any) error { return driver.ErrBadConn })
				_ = h.beacon.Close()
				h.beacon = nil
			}
		}
		if h.beacon == nil && ctx.Err() == nil {
			if err := h.lightBeaconLocked(ctx); err != nil {
				h.log.Warn("light beacon", "err", err)
			}
		}
		h.beaconMu.Unlock()
	}
}

// douseBeacon releases the instance's lock: the host is stopping. The connection goes back to
// the pool, so the lock is released explicitly; should that fail, the connection is dropped,
// which ends its session and the lock with it.
func (h *Host) douseBeacon() {
	h.beaconMu.Lock()
	defer h.beaconMu.Unlock()
	if h.beacon == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var released bool
	if err := h.beacon.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, beaconClass, h.instance).Scan(&released); err != nil || !released {
		_ = h.beacon.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = h.beacon.Close()
	h.beacon = nil
}

// holderGone says whether the instance holding a lease is known to have stopped: on SQLite,
// any other instance; on PostgreSQL, one whose beacon lock can be taken (it is released at
// once). An error or an unknown holder answers false: the lease then runs out by itself.
func (h *Host) holderGone(ctx context.Context, instance int32, known bool) bool {
	switch {
	case !known:
		return false
	case instance == h.instance:
		return false
	case h.st.Engine() == "sqlite":
		return true
	case h.st.Engine() != "postgres":
		return false
	}
	conn, err := h.st.(DB).DB().Conn(ctx)
	if err != nil {
		return false
	}
	// A connection that may still hold the other instance's lock must not go back to the pool:
	// that instance could then never be judged gone, and, alive, it could not light its beacon
	// again. Dropping it ends its session, and the lock with it.
	held := true // unsure until the statements answered
	defer func() {
		if held {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}()
	var free bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, beaconClass, instance).Scan(&free); err != nil {
		return false
	}
	if !free {
		held = false
		return false
	}
	var released bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, beaconClass, instance).Scan(&released); err != nil || !released {
		h.log.Warn("release another instance's beacon lock; dropping the connection", "instance", instance, "err", err)
		return true
	}
	held = false
	return true
}

// leaseInstance is the instance of a reconcile lease's holder ("job:<id>:<instance>:<token>").
func leaseInstance(holder string) (int32, bool) {
	parts := strings.SplitN(holder, ":", 4)
	if len(parts) != 4 || parts[0] != "job" {
		return 0, false
	}
	n, err := strconv.ParseInt(parts[2], 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}
