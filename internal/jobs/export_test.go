package jobs

// Vanish makes h look like a killed process to the others: its beacon goes out and its leases
// are no longer renewed, but they are left as they are, not run out (abandonLeases).
func Vanish(h *Host) {
	h.mu.Lock()
	for l := range h.leases {
		l.stop()
		delete(h.leases, l)
	}
	h.mu.Unlock()
	if h.stopBeacon != nil {
		h.stopBeacon()
	}
	h.douseBeacon()
}

// Instance is h's instance, the second key of its beacon's advisory lock.
func Instance(h *Host) int32 { return h.instance }
