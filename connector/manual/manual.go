package manual

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// Type is the catalog connector type.
const Type = "manual"

// TaskStore is what the connector needs from the task queue.
type TaskStore interface {
	// EnsureTask records t as an open task, or, when an open task for the same system, kind,
	// account and group exists, or one that was done at or after doneSince, fills t from it
	// (created false; t.Status says which).
	EnsureTask(ctx context.Context, t *gatehouse.ManualTask, doneSince time.Time) (created bool, err error)
	// Tasks lists the system's tasks with the given status, oldest first.
	Tasks(ctx context.Context, systemID string, status gatehouse.TaskStatus) ([]*gatehouse.ManualTask, error)
	// CancelTask cancels an open task, saying why.
	CancelTask(ctx context.Context, t *gatehouse.ManualTask, reason string) error
	// Now is the queue's clock: tasks are created, and fall due, by it.
	Now() time.Time
}

// Config is a manual connector's configuration. Unlike other connectors it needs the system
// itself (its id names the tasks, its tier gives their due time) and a task store, so it is
// opened by connectors.OpenSystem rather than from its settings alone.
type Config struct {
	SystemID     string
	Tier         gatehouse.Tier
	Assignee     string // settings.assignee: an email, who the tasks are for ("" for the operators' queue)
	Instructions string // settings.instructions: how to make changes in this system
	Tasks        TaskStore
}

// Spec declares the manual connector: its settings (ParseConfig decodes them from it, catalog
// validation checks them against it), that people do its work through tasks, and its test,
// which has nothing to connect to.
var Spec = &gatehouse.ConnectorSpec{
	Type:        Type,
	Description: "changes made by people, through manual tasks",
	Settings: []gatehouse.SettingSpec{
		{Name: "assignee", Kind: gatehouse.SettingEmail, Description: "who the tasks are for (unset: the operators' queue)"},
		{Name: "instructions", Kind: gatehouse.SettingText, Description: "how to make changes in this system"},
		connector.DriftSetting,
	},
	Tasks:   true,
	Offline: offline,
}

// offline is the manual connector's system test: there is nothing to connect to.
func offline(settings map[string]any) (string, []string) {
	assignee, _ := connector.Settings(settings).String("assignee")
	if assignee == "" {
		assignee = "the operators' queue"
	}
	return "nothing to connect to; tasks go to " + assignee, capabilities.Names()
}

// capabilities: a person can do everything, and a group in a manual system is only a name.
var capabilities = connector.Capabilities{CreateAccount: true, Disable: true, Groups: true, CreatesGroups: true}

// ParseConfig reads the catalog settings of a manual system.
func ParseConfig(sys *gatehouse.System, tasks TaskStore) (*Config, error) {
	v, errs := connector.Decode(Spec, sys.Connector.Settings)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if tasks == nil {
		return nil, connector.Permanentf("manual connector for %s: no task store", sys.ID)
	}
	return &Config{SystemID: sys.ID, Tier: sys.Tier, Assignee: v.String("assignee"), Instructions: v.String("instructions"), Tasks: tasks}, nil
}

// Open returns a connector for one reconcile. It remembers which open tasks the reconcile asked
// for, which Sweep needs, so it is opened afresh for every run (the engine does).
func (c *Config) Open() *Connector {
	return &Connector{cfg: *c, touched: map[string]bool{}}
}

// Connector is an open manual connector.
type Connector struct {
	cfg Config

	mu       sync.Mutex
	touched  map[string]bool // ids of open tasks this run asked for
	state    *state          // the done tasks, replayed; read once per run
	loadedAt time.Time       // when state was read: work done since is not asked for again
}

var _ connector.Sweeper = (*Connector)(nil)

// Capabilities: a person can do everything, and a group in a manual system is only a name.
func (c *Connector) Capabilities() connector.Capabilities { return capabilities }

// Close does nothing: there is no connection.
func (c *Connector) Close() error { return nil }

// state is the system as operators have confirmed it.
type state struct {
	accounts map[string]*connector.Account // by account id
	groups   map[string]map[string]bool    // group → account ids
	pending  map[string]bool               // accounts with an open create task
	// asked is when each operation open at load was asked for (opKey → the task's creation).
	// A person may finish that task between the reads of done and open tasks, with a completion
	// time stamped before loadedAt (taken before their commit waited for the write lock); it is
	// still the work this run would ask for, so it counts as done (task).
	asked map[string]time.Time
}

// opKey names an operation of a task: what is done, to which account, in which group.
func opKey(t *gatehouse.ManualTask) string { return t.Kind + "\x00" + t.Account + "\x00" + t.Group }

// load replays the done tasks in the order they were done.
func (c *Connector) load(ctx context.Context) (*state, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != nil {
		return c.state, nil
	}
	loadedAt := c.cfg.Tasks.Now()
	// Open tasks first: a task finished between the two reads then shows in both (done wins),
	// never in neither.
	open, err := c.cfg.Tasks.Tasks(ctx, c.cfg.SystemID, gatehouse.TaskOpen)
	if err != nil {
		return nil, fmt.Errorf("manual %s: read tasks: %w", c.cfg.SystemID, err)
	}
	done, err := c.cfg.Tasks.Tasks(ctx, c.cfg.SystemID, gatehouse.TaskDone)
	if err != nil {
		return nil, fmt.Errorf("manual %s: read tasks: %w", c.cfg.SystemID, err)
	}
	slices.SortStableFunc(done, func(a, b *gatehouse.ManualTask) int {
		return cmp.Or(a.CompletedAt.Compare(*b.CompletedAt), cmp.Compare(a.Number, b.Number))
	})
	st := &state{accounts: map[string]*connector.Account{}, groups: map[string]map[string]bool{}, pending: map[string]bool{},
		asked: map[string]time.Time{}}
	for _, t := range done {
		st.apply(t)
	}
	for _, t := range open {
		if t.Kind == "create_account" {
			st.pending[t.Account] = true
		}
		st.asked[opKey(t)] = t.CreatedAt
	}
	c.state, c.loadedAt = st, loadedAt
	return st, nil
}

// Refresh forgets the state read so far, so the next call reads the tasks again. A reconcile
// does not need it (it reads once and plans once); a test that completes tasks between calls
// does.
func (c *Connector) Refresh() {
	c.mu.Lock()
	c.state = nil
	c.mu.Unlock()
}

// apply changes the state as a done task says a person changed the system.
func (st *state) apply(t *gatehouse.ManualTask) {
	a := st.accounts[t.Account]
	switch t.Kind {
	case "create_account":
		if a == nil {
			st.accounts[t.Account] = &connector.Account{Ref: connector.AccountRef{ID: t.Account},
				Username: t.Username, Email: t.Account, EmployeeID: t.EmployeeID, Enabled: true}
		}
	case "enable", "disable":
		if a != nil {
			a.Enabled = t.Kind == "enable"
		}
	case "add_member":
		m := st.groups[t.Group]
		if m == nil {
			m = map[string]bool{}
			st.groups[t.Group] = m
		}
		m[t.Account] = true
	case "remove_member":
		delete(st.groups[t.Group], t.Account)
	}
}

// Inventory returns the accounts and memberships operators have confirmed. Every group asked
// for is present (a group in a manual system exists as soon as somebody names it).
func (c *Connector) Inventory(ctx context.Context, groups []string) (*connector.Inventory, error) {
	st, err := c.load(ctx)
	if err != nil {
		return nil, err
	}
	inv := &connector.Inventory{Groups: map[string]*connector.Group{}}
	for _, id := range sortedKeys(st.accounts) {
		inv.Accounts = append(inv.Accounts, *st.accounts[id])
	}
	if groups == nil {
		groups = sortedKeys(st.groups)
	}
	for _, g := range groups {
		grp := &connector.Group{ID: g, Members: []connector.AccountRef{}}
		for _, id := range sortedKeys(st.groups[g]) {
			grp.Members = append(grp.Members, connector.AccountRef{ID: id})
		}
		inv.Groups[g] = grp
	}
	return inv, nil
}

// accountID is the account's id in a manual system: the person's email in lower case, which
// the operator can look up in the system's own screens.
func accountID(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// task records (or finds) the open task for an operation and returns the Deferred error that
// makes the engine wait for it; nil when a person did the work since the state was read.
func (c *Connector) task(ctx context.Context, t *gatehouse.ManualTask) error {
	now := c.cfg.Tasks.Now()
	t.SystemID, t.Assignee, t.Instructions = c.cfg.SystemID, c.cfg.Assignee, c.cfg.Instructions
	t.CreatedAt, t.DueAt = now, now.Add(gatehouse.TaskDue(c.cfg.Tier))
	c.mu.Lock()
	since := c.loadedAt
	if c.state != nil {
		if asked, ok := c.state.asked[opKey(t)]; ok && asked.Before(since) {
			since = asked
		}
	}
	c.mu.Unlock()
	if _, err := c.cfg.Tasks.EnsureTask(ctx, t, since); err != nil {
		return fmt.Errorf("manual %s: record task: %w", c.cfg.SystemID, err)
	}
	if t.Status == gatehouse.TaskDone {
		return nil // applied: the engine records it so, and the next reconcile reads it
	}
	c.mu.Lock()
	c.touched[t.ID] = true
	if t.Kind == "create_account" && c.state != nil {
		c.state.pending[t.Account] = true // its memberships may be asked for now
	}
	c.mu.Unlock()
	return connector.Deferred(t.Ref())
}

// CreateAccount asks a person to create the account, or adopts a confirmed one.
func (c *Connector) CreateAccount(ctx context.Context, spec connector.AccountSpec) (connector.AccountRef, error) {
	id := accountID(spec.Email)
	if id == "" {
		return connector.AccountRef{}, connector.Permanentf("manual: an account needs an email")
	}
	ref := connector.AccountRef{ID: id}
	st, err := c.load(ctx)
	if err != nil {
		return ref, err
	}
	if a := st.accounts[id]; a != nil {
		if a.EmployeeID != "" && spec.EmployeeID != "" && a.EmployeeID != spec.EmployeeID {
			return ref, connector.Permanentf("manual: account %s belongs to employee %s, not %s", id, a.EmployeeID, spec.EmployeeID)
		}
		return ref, nil
	}
	username := cmp.Or(spec.Username, strings.SplitN(id, "@", 2)[0])
	// The reference comes back with the Deferred error: the memberships planned for the
	// account become tasks at once, so the person can do them in one sitting.
	return ref, c.task(ctx, &gatehouse.ManualTask{Kind: "create_account", Account: id, Username: username,
		EmployeeID: spec.EmployeeID})
}

// known reports whether the account exists or is being created.
func (c *Connector) known(ctx context.Context, account connector.AccountRef) (*state, error) {
	st, err := c.load(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	pending := st.pending[account.ID]
	c.mu.Unlock()
	if st.accounts[account.ID] == nil && !pending {
		return nil, connector.Permanent(fmt.Errorf("manual: account %s: %w", account.ID, connector.ErrNotFound))
	}
	return st, nil
}

// SetEnabled asks a person to enable or disable the account, unless it already is.
func (c *Connector) SetEnabled(ctx context.Context, account connector.AccountRef, enabled bool) error {
	st, err := c.known(ctx, account)
	if err != nil {
		return err
	}
	if a := st.accounts[account.ID]; a != nil && a.Enabled == enabled {
		return nil
	}
	kind := "disable"
	if enabled {
		kind = "enable"
	}
	return c.task(ctx, &gatehouse.ManualTask{Kind: kind, Account: account.ID, Username: c.username(st, account.ID)})
}

// AddMember asks a person to add the account to the group, unless it is a member.
func (c *Connector) AddMember(ctx context.Context, group string, account connector.AccountRef) error {
	st, err := c.known(ctx, account)
	if err != nil {
		return err
	}
	if st.groups[group][account.ID] {
		return nil
	}
	return c.task(ctx, &gatehouse.ManualTask{Kind: "add_member", Account: account.ID, Username: c.username(st, account.ID), Group: group})
}

// RemoveMember asks a person to remove the account from the group, unless it is not a member.
func (c *Connector) RemoveMember(ctx context.Context, group string, account connector.AccountRef) error {
	st, err := c.load(ctx)
	if err != nil {
		return err
	}
	if !st.groups[group][account.ID] {
		return nil
	}
	return c.task(ctx, &gatehouse.ManualTask{Kind: "remove_member", Account: account.ID, Username: c.username(st, account.ID), Group: group})
}

func (c *Connector) username(st *state, id string) string {
	if a := st.accounts[id]; a != nil && a.Username != "" {
		return a.Username
	}
	return strings.SplitN(id, "@", 2)[0]
}

// Sweep cancels the system's open tasks this run did not ask for: their operation is no longer
// needed (the grant was revoked, the person left before their account was made), and a person
// must not do work that would only be undone.
func (c *Connector) Sweep(ctx context.Context) (int, error) {
	open, err := c.cfg.Tasks.Tasks(ctx, c.cfg.SystemID, gatehouse.TaskOpen)
	if err != nil {
		return 0, fmt.Errorf("manual %s: read tasks: %w", c.cfg.SystemID, err)
	}
	n := 0
	for _, t := range open {
		c.mu.Lock()
		wanted := c.touched[t.ID]
		c.mu.Unlock()
		if wanted {
			continue
		}
		if err := c.cfg.Tasks.CancelTask(ctx, t, "no longer needed: the desired state changed before the task was done"); err != nil {
			return n, fmt.Errorf("manual %s: cancel %s: %w", c.cfg.SystemID, t.Ref(), err)
		}
		n++
	}
	return n, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
