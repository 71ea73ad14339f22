package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// core is what every capability shares and nothing else: the store, the clock and the logger,
// the transaction and audit helpers below, the authorization checks (authz.go) and the compiled
// SoD rules (sod.go). It knows no capability, so any capability may use it.
type core struct {
	store store.Store
	now   func() time.Time
	log   *slog.Logger
	// jobs inserts the jobs a change implies and notifier the messages, in the change's own
	// transaction (effects.go); nil: none.
	jobs     JobQueue
	notifier Notifier
}

// Store returns the underlying store, for health checks and metrics.
func (s *core) Store() store.Store { return s.store }

// Now returns the service clock's current time.
func (s *core) Now() time.Time { return s.now() }

// update runs fn in a store transaction.
func (s *core) update(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.store.Update(ctx, fn)
}

// event builds an audit event for a change made by p.
func (s *core) event(p *gatehouse.Principal, action gatehouse.AuditAction, objType, objID string, before, after any, reason string) *gatehouse.AuditEvent {
	return &gatehouse.AuditEvent{
		Time: s.now(), Actor: p.Actor(), Action: action, ObjectType: objType, ObjectID: objID,
		Before: mustJSON(before), After: mustJSON(after), Reason: reason,
	}
}

func mustJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("service: domain object does not marshal: " + err.Error())
	}
	if string(b) == "null" {
		return nil
	}
	return b
}
