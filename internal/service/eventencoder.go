package service

import (
	"errors"
	"runtime"
	"sync"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
)

// pendingEvent is an audit event whose before and after are not encoded yet.
type pendingEvent struct {
	ev            *gatehouse.AuditEvent
	before, after any
}

// eventEncoder encodes the before and after of audit events in canonical form (what
// AppendAudits would otherwise do, serially with the inserts, after them) on background
// goroutines while the caller goes on writing rows: for a bulk change the encoding costs about
// a third of writing the rows. The objects are not changed after their event is added.
type eventEncoder struct {
	events []*gatehouse.AuditEvent // in the order added
	batch  []pendingEvent
	work   chan []pendingEvent
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
	closed bool
}

// encodeBatch is how many events a worker takes at a time: enough to make the channel's cost
// negligible.
const encodeBatch = 256

func newEventEncoder() *eventEncoder {
	e := &eventEncoder{work: make(chan []pendingEvent, 64)}
	// One CPU is the caller's, writing rows; the others encode.
	for range max(runtime.GOMAXPROCS(0)-1, 1) {
		e.wg.Go(func() {
			for batch := range e.work {
				for _, pe := range batch {
					pe.ev.Before, pe.ev.After = mustJSON(pe.before), mustJSON(pe.after)
					if err := audit.Canonicalize(pe.ev); err != nil {
						e.mu.Lock()
						e.err = errors.Join(e.err, err)
						e.mu.Unlock()
					}
				}
			}
		})
	}
	return e
}

func (e *eventEncoder) add(pe pendingEvent) {
	e.events = append(e.events, pe.ev)
	e.batch = append(e.batch, pe)
	if len(e.batch) == encodeBatch {
		e.work <- e.batch
		e.batch = make([]pendingEvent, 0, encodeBatch)
	}
}

// finish waits for every event to be encoded and returns them in the order added.
func (e *eventEncoder) finish() ([]*gatehouse.AuditEvent, error) {
	if len(e.batch) > 0 {
		e.work <- e.batch
		e.batch = nil
	}
	e.stop()
	if e.err != nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "%s", e.err.Error())
	}
	return e.events, nil
}

// stop ends the workers (after finish, or when the change failed halfway).
func (e *eventEncoder) stop() {
	if !e.closed {
		e.closed = true
		close(e.work)
	}
	e.wg.Wait()
}
