package service

import (
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Service runs Gatehouse operations on a store. It is the capabilities together (package doc):
// each embedded pointer brings its exported methods, so callers that need everything keep one
// value, and a caller that needs one capability may hold just that (svc.Requests).
type Service struct {
	*core
	*Auth
	*Identities
	*Grants
	*Catalog
	*Requests
	*Exceptions
	*Emergency
	*HR
	*InboundSCIM
	*Tasks
	*Provisioning
	*Notifications
	*Audit
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
	// Chunk is how many rows of a feed are planned and applied at a time (jml.Options.Chunk;
	// 0: jml.DefaultChunk).
	Chunk int
}

// New returns a Service over st: the capabilities over one core, each given the others it
// depends on (capabilities.go).
func New(st store.Store, opts Options) *Service {
	c := &core{store: st, now: opts.Now, log: opts.Logger, jobs: opts.Jobs, notifier: opts.Notifier}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	s := &Service{core: c,
		Auth:         &Auth{core: c},
		Grants:       &Grants{core: c},
		Exceptions:   &Exceptions{core: c},
		Tasks:        &Tasks{core: c},
		Provisioning: &Provisioning{core: c, prov: opts.Provisioner},
		Audit:        &Audit{core: c, checkpoints: opts.Checkpoints},
	}
	if opts.BootstrapToken != "" {
		s.Auth.bootstrapHash = gatehouse.HashToken(opts.BootstrapToken)
	}
	s.Notifications = &Notifications{core: c, requestExpiry: opts.RequestExpiry, grants: s.Grants}
	if s.Notifications.requestExpiry <= 0 {
		s.Notifications.requestExpiry = DefaultRequestExpiry
	}
	s.Requests = &Requests{core: c, announcer: s.Notifications, exceptionGrants: s.Exceptions}
	s.Identities = &Identities{core: c, requestCloser: s.Requests}
	s.Emergency = &Emergency{core: c, securityNotifier: s.Notifications}
	s.HR = &HR{core: c, hr: opts.HR, leaverRequests: s.Requests, accessEnder: s.Identities}
	s.InboundSCIM = &InboundSCIM{core: c, scimHR: s.HR}
	s.HR.scimGroupLeaver = s.InboundSCIM // HR and inbound SCIM both apply leavers: wired once both exist
	s.Catalog = &Catalog{core: c, open: opts.Open, secrets: opts.Secrets, connectors: opts.Connectors, jmlApplier: s.HR}
	if s.Catalog.connectors == nil {
		s.Catalog.connectors = connectors.Specs
	}
	return s
}

// SystemPrincipal is the principal of Gatehouse's own components (the demo seeder, schedulers).
func SystemPrincipal(component string) *gatehouse.Principal {
	return &gatehouse.Principal{Email: "system:" + component, Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}}
}
