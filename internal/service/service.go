package service

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Service runs Gatehouse operations on a store.
type Service struct {
	store         store.Store
	now           func() time.Time
	log           *slog.Logger
	bootstrapHash string        // SHA-256 of GATEHOUSE_BOOTSTRAP_TOKEN, "" when unset
	bootstrap     bootstrapUses // when each client's bootstrap use was last audited (bootstrap.go)
	hr            HROptions
	prov          Provisioner // the provisioning job queue; nil when not running one
	jobs          JobQueue    // inserts the jobs changes imply (effects.go); nil: none
	open          provision.Opener
	notifier      Notifier      // nil: nobody is told (notify.go)
	requestExpiry time.Duration // an undecided request expires this long after submission
	checkpoints   *Checkpoints  // signed audit checkpoints (audit.go); nil: none

	// secrets is what connector secret references may name (catalog.go, Options.Secrets).
	secrets *connector.SecretPolicy
	// connectors are the connector types known: catalog validation checks settings against
	// them, and what a type can do (Tasks, Offline) is asked of them, never of a type's name.
	connectors gatehouse.ConnectorSpecs

	// verified caches the last full audit verification for RecentVerification. It is only a
	// display shortcut: correctness never depends on it, so process-local state is fine here.
	verified struct {
		sync.Mutex
		result *Verification
		at     time.Time
	}
}

// Options configure a Service.
type Options struct {
	// BootstrapToken, when set, is accepted as an admin token that belongs to no identity.
	BootstrapToken string
	Now            func() time.Time
	Logger         *slog.Logger
	HR             HROptions
	// Provisioner runs reconciles (the server's job queue); nil: reconcile is unavailable.
	Provisioner Provisioner
	// Jobs inserts the jobs that changes imply (reconciles, grant expiries) in their own
	// transactions (the server's job queue); nil: none, as in the CLI's offline commands.
	Jobs JobQueue
	// Open opens a system's connector, for TestSystem (connectors.OpenSystem with the secrets
	// provisioning uses); nil: systems cannot be tested.
	Open provision.Opener
	// Notifier tells people about requests and expiring access (the server's outbox); nil:
	// no notifications.
	Notifier Notifier
	// RequestExpiry: a request undecided this long after submission expires (default
	// DefaultRequestExpiry).
	RequestExpiry time.Duration
	// Checkpoints signs audit checkpoints (serve --audit-key); nil: the server signs none.
	Checkpoints *Checkpoints
	// Secrets is what the catalog's connector secret references may name (serve
	// --secrets-dir, --secret-env-allow), checked at catalog plan and apply; Open should
	// resolve secrets with the same policy. nil: no *_file reference, no GATEHOUSE_* variable.
	Secrets *connector.SecretPolicy
	// Connectors are the connector types the catalog may use, each declaring its settings;
	// nil: every connector of the binary (connectors.Specs).
	Connectors gatehouse.ConnectorSpecs
}

// HROptions tune HR imports.
type HROptions struct {
	// LeadTime: a future joiner is provisioned from start_date minus LeadTime.
	LeadTime time.Duration
	// Missing is what happens to a known person missing from a snapshot: jml.MissingLeaver
	// (the default) or jml.MissingHold.
	Missing jml.MissingPolicy
	// GuardWindow is the leaver guard's rolling window: the removals HR imports made within it
	// count with a new import's. 0 means DefaultHRGuardWindow.
	GuardWindow time.Duration
}

// New returns a Service over st.
func New(st store.Store, opts Options) *Service {
	s := &Service{store: st, now: opts.Now, log: opts.Logger, hr: opts.HR, prov: opts.Provisioner, jobs: opts.Jobs, open: opts.Open,
		notifier: opts.Notifier, requestExpiry: opts.RequestExpiry, checkpoints: opts.Checkpoints, secrets: opts.Secrets,
		connectors: opts.Connectors}
	if s.connectors == nil {
		s.connectors = connectors.Specs
	}
	if s.requestExpiry <= 0 {
		s.requestExpiry = DefaultRequestExpiry
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if opts.BootstrapToken != "" {
		s.bootstrapHash = gatehouse.HashToken(opts.BootstrapToken)
	}
	return s
}

// Store returns the underlying store, for health checks and metrics.
func (s *Service) Store() store.Store { return s.store }

// Now returns the service clock's current time.
func (s *Service) Now() time.Time { return s.now() }

// SystemPrincipal is the principal of Gatehouse's own components (the demo seeder, schedulers).
func SystemPrincipal(component string) *gatehouse.Principal {
	return &gatehouse.Principal{Email: "system:" + component, Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}}
}

// Authenticate turns a bearer token into a Principal. A token of a terminated identity no longer
// works: leaving the company ends Gatehouse access too.
func (s *Service) Authenticate(ctx context.Context, secret string) (*gatehouse.Principal, error) {
	if secret == "" {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "a bearer token is required")
	}
	hash := gatehouse.HashToken(secret)
	if s.bootstrapHash != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(s.bootstrapHash)) == 1 {
		// Logged and audited (bootstrap.go); a use that cannot be audited is refused.
		if err := s.bootstrapUsed(ctx); err != nil {
			return nil, err
		}
		return &gatehouse.Principal{Bootstrap: true, Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}}, nil
	}
	tok, err := s.store.GetTokenByHash(ctx, hash)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "invalid token")
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if !tok.Valid(now) {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "token expired or revoked")
	}
	id, err := s.store.GetIdentity(ctx, tok.IdentityID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "the token's identity no longer exists")
	} else if err != nil {
		return nil, err
	}
	if id.Status == gatehouse.StatusTerminated {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "the token's identity is terminated")
	}
	// Recording use is best effort and off the request path: on SQLite it waits for the single
	// writer, and a long import must not stall every signed-in request.
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > time.Minute {
		go func(id string) {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := s.store.TouchToken(ctx, id, now); err != nil {
				s.log.Warn("record token use", "token", id, "err", err)
			}
		}(tok.ID)
	}
	return &gatehouse.Principal{
		IdentityID: id.ID, Email: id.Email, Roles: id.Roles, TokenID: tok.ID, Scopes: tok.Scopes,
	}, nil
}

// update runs fn in a store transaction.
func (s *Service) update(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.store.Update(ctx, fn)
}

// event builds an audit event for a change made by p.
func (s *Service) event(p *gatehouse.Principal, action gatehouse.AuditAction, objType, objID string, before, after any, reason string) *gatehouse.AuditEvent {
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
