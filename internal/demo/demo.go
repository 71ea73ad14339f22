package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/service"
)

// DefaultSeed is the seed of the company `gatehouse demo` shows.
const DefaultSeed uint64 = 20240611

// reason is the audit reason of everything the seeder does.
const reason = "demo company seed"

// Options configure Seed.
type Options struct {
	// Seed chooses the company; 0 means DefaultSeed. The same seed and Now give the same
	// people, names, dates and grants.
	Seed uint64
	// Now is the reference date of the HR dates (start dates, past end dates); the zero time
	// means ReferenceDate. The default is a fixed day rather than the clock so that the company
	// is the same whenever the demo runs, and examples/people.csv, the tour's HR feed, always
	// finds one joiner, one mover and one leaver in it.
	Now time.Time
	// Progress, when set, is called as each phase starts, for a progress line.
	Progress func(phase string)
}

// Result says what Seed created and who to sign in as.
type Result struct {
	Identities       int `json:"identities"`
	Departments      int `json:"departments"`
	Systems          int `json:"systems"`
	Entitlements     int `json:"entitlements"`
	Roles            int `json:"roles"`
	SoDRules         int `json:"sod_rules"`
	BirthrightGrants int `json:"birthright_grants"`
	OtherGrants      int `json:"other_grants"` // requests, exceptions, emergencies

	Admin     string   `json:"admin"`     // email of the Gatehouse admin (Head of IT)
	Auditor   string   `json:"auditor"`   // email of the Gatehouse auditor
	Operators []string `json:"operators"` // emails of the Gatehouse operators (IAM team)
	Employee  string   `json:"employee"`  // email of an ordinary employee without a Gatehouse role
	Manager   string   `json:"manager"`   // the employee's manager, who approves the tour's request first
	Owner     string   `json:"owner"`     // the owner of github, who approves the tour's request last

	Took time.Duration `json:"took"`
}

// Seed creates the demo company in svc's database, which must be empty: seeding twice would
// double every person. Everything goes through the service as service.SystemPrincipal("demo"),
// so it is authorized, validated and audited like any other change.
func Seed(ctx context.Context, svc *service.Service, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Seed == 0 {
		opts.Seed = DefaultSeed
	}
	if opts.Now.IsZero() {
		opts.Now = ReferenceDate
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	p := service.SystemPrincipal("demo")

	seq, _, err := svc.Store().AuditHead(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: read the audit log: %w", err)
	}
	if seq > 0 {
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT,
			"the database is not empty (%d audit events); the demo seeds only a fresh database", seq)
	}

	progress("identities")
	people, lateLeavers := company(opts.Seed, opts.Now)
	// One transaction for the whole company: a commit per person would cost more than
	// everything else the seed does.
	created, err := svc.CreateIdentities(ctx, p, people, reason)
	if err != nil {
		return nil, fmt.Errorf("demo: create the company: %w", err)
	}
	depts := map[string]bool{}
	for _, id := range created {
		depts[id.Department] = true
	}

	progress("catalog")
	applied, err := svc.ApplyCatalog(ctx, p, CatalogFiles(), false, reason)
	if err != nil {
		return nil, fmt.Errorf("demo: apply the demo catalog: %w", err)
	}
	cat, err := svc.GetCatalog(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("demo: read the catalog back: %w", err)
	}

	progress("grants")
	birthright, held, err := birthrightGrants(cat.Roles, created)
	if err != nil {
		return nil, err
	}
	// Applying a catalog with birthright rules grants them to everyone already; computing them
	// here again says what each person holds, and checks the two agree.
	if applied.Birthright == nil || applied.Birthright.GrantsGained != len(birthright) {
		return nil, fmt.Errorf("demo: the catalog apply granted %+v birthright grants, want %d", applied.Birthright, len(birthright))
	}
	other := otherGrants(created, held)
	if _, err := svc.CreateGrants(ctx, p, other); err != nil {
		return nil, fmt.Errorf("demo: requested and exception grants: %w", err)
	}
	// Break-glass access during an incident goes through the emergency flow, as it would for
	// real: the grant comes with its post-event review, which the demo shows still waiting.
	emergencies, err := breakGlass(ctx, svc)
	if err != nil {
		return nil, err
	}

	// These two resigned after their access was granted: terminated by hand, which revokes
	// their access, so their revoked grants show in their history.
	for _, l := range lateLeavers {
		status, end := gatehouse.StatusTerminated, opts.Now.UTC().AddDate(0, 0, -2).Format(gatehouse.DateLayout)
		if _, err := svc.UpdateIdentity(ctx, p, l.EmployeeID, service.IdentityPatch{Status: &status, EndDate: &end},
			"HR: resignation recorded"); err != nil {
			return nil, fmt.Errorf("demo: terminate %s: %w", l.Email, err)
		}
	}

	return &Result{
		Identities:       len(created),
		Departments:      len(depts),
		Systems:          len(cat.Systems),
		Entitlements:     len(cat.Entitlements),
		Roles:            len(cat.Roles),
		SoDRules:         len(cat.SoD),
		BirthrightGrants: len(birthright),
		OtherGrants:      len(other) + emergencies,
		Admin:            AdminEmail,
		Auditor:          AuditorEmail,
		Operators:        slices.Clone(OperatorEmails),
		Employee:         EmployeeEmail,
		Manager:          ManagerEmail,
		Owner:            OwnerEmail,
		Took:             time.Since(start),
	}, nil
}

// birthrightGrants evaluates every birthright role for every identity, the way an HR import
// would, and returns one grant per entitlement an identity gets (the first role, by id, that
// gives it is the reference), with what each identity then holds.
func birthrightGrants(roles []*gatehouse.Role, people []*gatehouse.Identity) ([]service.NewGrant, map[string]map[string]bool, error) {
	type compiled struct {
		role *gatehouse.Role
		rule *policy.Rule
	}
	var rules []compiled
	for _, r := range roles {
		if r.Birthright == "" {
			continue
		}
		rule, err := policy.CompileBirthright(r.Birthright)
		if err != nil {
			return nil, nil, fmt.Errorf("demo: role %s: %w", r.ID, err)
		}
		rules = append(rules, compiled{r, rule})
	}
	var out []service.NewGrant
	held := map[string]map[string]bool{}
	for _, id := range people {
		held[id.ID] = map[string]bool{}
		for _, c := range rules {
			ok, err := c.rule.Matches(id)
			if err != nil {
				return nil, nil, fmt.Errorf("demo: role %s: %w", c.role.ID, err)
			}
			if !ok {
				continue
			}
			for _, ent := range c.role.Entitlements {
				if held[id.ID][ent] {
					continue
				}
				held[id.ID][ent] = true
				out = append(out, service.NewGrant{
					Identity: id.ID, Entitlement: ent, Source: gatehouse.SourceBirthright,
					Reference: c.role.ID, Reason: "birthright: " + c.role.Name,
				})
			}
		}
	}
	return out, held, nil
}

// grantSpec is access someone asked for, or was given by exception, in the demo's history.
type grantSpec struct {
	who         func(*gatehouse.Identity) bool
	count       int // at most this many of the people who match (0: one)
	entitlement string
	source      gatehouse.GrantSource
	reference   string
	reason      string
	duration    time.Duration // 0: as long as the entitlement allows
}

func byEmail(email string) func(*gatehouse.Identity) bool {
	return func(i *gatehouse.Identity) bool { return i.Email == email }
}

func byTitle(title string) func(*gatehouse.Identity) bool {
	return func(i *gatehouse.Identity) bool { return i.Title == title }
}

func contractorsIn(dept string) func(*gatehouse.Identity) bool {
	return func(i *gatehouse.Identity) bool {
		return i.Department == dept && i.EmploymentType == gatehouse.Contractor
	}
}

const (
	request   = gatehouse.SourceRequest
	exception = gatehouse.SourceException
	day       = 24 * time.Hour
)

// grantHistory is the access beyond birthright: requests for elevated access, a documented SoD
// exception, a break-glass grant during an incident, and contractors with exceptions.
var grantHistory = []grantSpec{
	{who: byEmail(AdminEmail), entitlement: "corp-ad/domain-admins", source: request, reference: "REQ-1001", reason: "Domain administration for the Head of IT"},
	{who: byEmail("omar.haddad@example.com"), entitlement: "corp-ad/domain-admins", source: request, reference: "REQ-1002", reason: "Domain administration for the IAM lead"},
	{who: byEmail("omar.haddad@example.com"), entitlement: "corp-ad/helpdesk-operators", source: request, reference: "REQ-1003", reason: "IAM team: password resets"},
	{who: byEmail("julia.novak@example.com"), entitlement: "corp-ad/helpdesk-operators", source: request, reference: "REQ-1004", reason: "IAM team: password resets"},
	{who: byEmail("julia.novak@example.com"), entitlement: "wiki/space-admins", source: request, reference: "REQ-1005", reason: "Maintains the IAM runbooks space"},
	{who: byTitle("IT Support Specialist"), count: 3, entitlement: "corp-ad/helpdesk-operators", source: request, reference: "REQ-1006", reason: "Service desk: unlock accounts"},
	{who: byEmail("daniel.okafor@example.com"), entitlement: "github/org-owners", source: request, reference: "REQ-1010", reason: "Organization settings for the VP Engineering"},
	{who: byTitle("Site Reliability Engineer"), count: 4, entitlement: "aws/prod-readonly", source: request, reference: "REQ-1100", reason: "SRE on-call rotation"},
	{who: byTitle("Site Reliability Engineer"), count: 4, entitlement: "aws/dev-poweruser", source: request, reference: "REQ-1101", reason: "SRE on-call rotation"},
	{who: byTitle("Site Reliability Engineer"), count: 3, entitlement: "github/infra-team", source: request, reference: "REQ-1102", reason: "Infrastructure-as-code reviews"},
	{who: byTitle("Staff Software Engineer"), count: 2, entitlement: "github/repo-admins", source: request, reference: "REQ-1103", reason: "Owns branch protection of the monorepo"},
	{who: contractorsIn("Engineering"), count: 2, entitlement: "aws/dev-poweruser", source: exception, reference: "EXC-2025-019", reason: "Vendor team deploys the mobile backend to development", duration: 90 * day},
	{who: byEmail("robert.lindqvist@example.com"), entitlement: "netsuite/payments-approve", source: request, reference: "REQ-1201", reason: "Controller approves payment runs"},
	{who: byEmail("robert.lindqvist@example.com"), entitlement: "netsuite/admin", source: request, reference: "REQ-1202", reason: "Year-end close configuration"},
	{who: byEmail("robert.lindqvist@example.com"), entitlement: "netsuite/gl-journal-post", source: exception, reference: "EXC-2025-004", reason: "Controller posts closing journals; reviewed monthly by the CFO", duration: 180 * day},
	{who: byTitle("Accounts Payable Specialist"), count: 3, entitlement: "netsuite/ap-clerk", source: request, reference: "REQ-1210", reason: "Accounts payable team"},
	{who: byTitle("Accounts Payable Specialist"), count: 3, entitlement: "netsuite/payments-create", source: request, reference: "REQ-1211", reason: "Accounts payable team prepares payment runs"},
	{who: byTitle("Senior Accountant"), count: 1, entitlement: "netsuite/payments-approve", source: request, reference: "REQ-1212", reason: "Second approver for payment runs"},
	{who: byTitle("Accounts Payable Specialist"), count: 1, entitlement: "netsuite/payments-approve", source: exception, reference: "EXC-2025-011", reason: "Month-end cover while the controller is away", duration: 30 * day},
	{who: byTitle("Payroll Specialist"), count: 2, entitlement: "workday/payroll-admin", source: request, reference: "REQ-1301", reason: "Runs payroll"},
	{who: byEmail("laura.jensen@example.com"), entitlement: "workday/compensation-approve", source: request, reference: "REQ-1302", reason: "Approves compensation changes"},
	{who: byTitle("HR Business Partner"), count: 3, entitlement: "workday/hr-partner", source: request, reference: "REQ-1303", reason: "Supports their organizations"},
	{who: byTitle("Recruiter"), count: 3, entitlement: "workday/recruiter", source: request, reference: "REQ-1304", reason: "Recruiting"},
	{who: byEmail("elena.petrova@example.com"), entitlement: "salesforce/sales-ops", source: request, reference: "REQ-1401", reason: "Territory and quota planning"},
	{who: byEmail("elena.petrova@example.com"), entitlement: "salesforce/admin", source: request, reference: "REQ-1402", reason: "CPQ rollout"},
	{who: byTitle("Deal Desk Analyst"), count: 2, entitlement: "salesforce/deal-desk-approver", source: request, reference: "REQ-1403", reason: "Deal desk"},
	{who: byTitle("Sales Development Representative"), count: 2, entitlement: "salesforce/reports-export", source: request, reference: "REQ-1404", reason: "Campaign lead lists"},
	{who: byEmail("tom.becker@example.com"), entitlement: "aws/cloudtrail-admin", source: request, reference: "REQ-1501", reason: "Audit trail retention change"},
	{who: byEmail(AuditorEmail), entitlement: "aws/security-audit", source: request, reference: "REQ-1502", reason: "Audit sampling of cloud configuration"},
	{who: byEmail("aisha.rahman@example.com"), entitlement: "hubspot/admin", source: request, reference: "REQ-1601", reason: "Portal configuration"},
	{who: byEmail("grace.kim@example.com"), entitlement: "zendesk/admin", source: request, reference: "REQ-1701", reason: "Support tooling owner"},
	{who: byTitle("Senior Support Agent"), count: 3, entitlement: "jira/engineering", source: request, reference: "REQ-1702", reason: "Escalations to engineering"},
	{who: byTitle("Technical Support Engineer"), count: 2, entitlement: "zendesk/light-agent", source: request, reference: "REQ-1703", reason: "Second-line support"},
}

// otherGrants picks the people of grantHistory among the active identities, skipping what
// they already hold.
func otherGrants(people []*gatehouse.Identity, held map[string]map[string]bool) []service.NewGrant {
	var out []service.NewGrant
	for _, spec := range grantHistory {
		n := max(spec.count, 1)
		for _, id := range people {
			if n == 0 {
				break
			}
			if id.Status != gatehouse.StatusActive || !spec.who(id) || held[id.ID][spec.entitlement] {
				continue
			}
			held[id.ID][spec.entitlement] = true
			out = append(out, service.NewGrant{
				Identity: id.ID, Entitlement: spec.entitlement, Source: spec.source,
				Reference: spec.reference, Reason: spec.reason, Duration: gatehouse.Duration(spec.duration),
			})
			n--
		}
	}
	return out
}

// breakGlass grants the demo's one emergency access, as the IAM lead on call, and returns how
// many grants it made.
func breakGlass(ctx context.Context, svc *service.Service) (int, error) {
	op, err := svc.Store().GetIdentity(ctx, OperatorEmails[0])
	if err != nil {
		return 0, fmt.Errorf("demo: emergency operator: %w", err)
	}
	oncall := &gatehouse.Principal{IdentityID: op.ID, Email: op.Email, Roles: op.Roles}
	if _, err := svc.GrantEmergency(ctx, oncall, service.NewEmergencyGrant{Identity: "mei.lin@example.com",
		Entitlement: "aws/prod-admin", Reason: "INC-2041: production database failover, the primary is unreachable",
		Duration: gatehouse.Duration(4 * time.Hour)}); err != nil {
		return 0, fmt.Errorf("demo: emergency grant: %w", err)
	}
	return 1, nil
}
