package service

// Systems' health: a connection test that explains a failure in plain words, and the status of
// a system as the provisioning evidence shows it (last inventory, drift, recent operations).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// systemTestTimeout bounds a connection test: long enough for a slow directory, short enough
// that somebody waiting at a terminal or a browser gets an answer.
const systemTestTimeout = 15 * time.Second

// SystemTest is the result of testing a system's connector: whether Gatehouse can connect,
// authenticate and read what it needs, and if not, why, in plain words.
type SystemTest struct {
	SystemID string `json:"system_id"`
	Name     string `json:"name"`
	Type     string `json:"type"` // connector type
	OK       bool   `json:"ok"`
	// Checked says what a passing test verified ("bind, users_dn, groups_dn readable").
	Checked string `json:"checked,omitempty"`
	// Failure is the kind of failure (unreachable, tls, url, credentials, permission, config,
	// server), "" when OK or when the connector could not say.
	Failure connector.Failure `json:"failure,omitempty"`
	// Step is what the connector was doing when it failed ("connect", "bind", "read groups_dn").
	Step string `json:"step,omitempty"`
	// Explanation is the plain-words explanation of the failure, what to look at.
	Explanation string `json:"explanation,omitempty"`
	// Detail is the connector's error text (never a secret: connectors keep them out).
	Detail       string    `json:"detail,omitempty"`
	DurationMS   int64     `json:"duration_ms"`
	Capabilities []string  `json:"capabilities"`
	TestedAt     time.Time `json:"tested_at"`
}

// TestSystem opens a system's connector and checks its connection, credentials and configured
// containers without changing anything (operators: it acts with the system's credentials). A
// failed check is a result with OK false, not an error: the test ran. It changes no state, so
// it is logged, not audited.
func (s *Catalog) TestSystem(ctx context.Context, p *gatehouse.Principal, id string) (*SystemTest, error) {
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	sys, err := s.store.GetSystem(ctx, strings.TrimSpace(id))
	if err != nil {
		return nil, err
	}
	res := &SystemTest{SystemID: sys.ID, Name: sys.Name, Type: sys.Connector.Type, Capabilities: []string{}, TestedAt: s.now()}
	if spec := s.connectors.Lookup(sys.Connector.Type); spec != nil && spec.Offline != nil {
		res.OK = true
		res.Checked, res.Capabilities = spec.Offline(sys.Connector.Settings)
		return res, nil
	}
	if !s.CanTestSystem(sys) {
		return nil, gatehouse.Errorf(gatehouse.EUNAVAILABLE, "this server opens no connectors (gatehouse demo does not: its systems are examples with no servers behind them; gatehouse serve does)")
	}
	start := time.Now()
	tctx, cancel := context.WithTimeout(ctx, systemTestTimeout)
	defer cancel()
	step, err := s.checkConnector(tctx, sys, res)
	res.DurationMS = time.Since(start).Milliseconds()
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err() // the caller went away; there is nobody to tell
	}
	if err != nil {
		res.Detail = err.Error()
		res.Failure, res.Step = connector.FailureOf(err), step
		var ce *connector.CheckError
		if errors.As(err, &ce) && ce.Step != "" {
			res.Step = ce.Step
		}
		switch {
		case res.Failure != "":
		case errors.Is(err, context.DeadlineExceeded):
			res.Failure = connector.FailUnreachable
			res.Detail = fmt.Sprintf("no answer within %s: %v", systemTestTimeout, err)
		case step == "open" && connector.IsPermanent(err):
			// The connector refused its settings before connecting (an unknown type, a
			// setting it cannot parse) without naming a kind.
			res.Failure = connector.FailConfig
		}
		res.Explanation = res.Failure.Explain()
	} else {
		res.OK = true
	}
	s.log.Info("system test", "system", sys.ID, "type", sys.Connector.Type, "actor", p.Actor(), "ok", res.OK,
		"failure", string(res.Failure), "step", res.Step, "duration_ms", res.DurationMS, "detail", res.Detail)
	return res, nil
}

// CanTestSystem reports whether TestSystem can test sys here: a system whose connector is
// tested offline (a manual one: there is nothing to connect to) always, others when the server
// opens connectors (gatehouse demo does not).
func (s *Catalog) CanTestSystem(sys *gatehouse.System) bool {
	spec := s.connectors.Lookup(sys.Connector.Type)
	return (spec != nil && spec.Offline != nil) || s.open != nil
}

// checkConnector opens, checks and closes the system's connector, filling res.Checked and
// res.Capabilities. It returns the step that failed ("open", "check", "inventory") with the error.
func (s *Catalog) checkConnector(ctx context.Context, sys *gatehouse.System, res *SystemTest) (string, error) {
	c, err := s.open(ctx, sys)
	if err != nil {
		return "open", err
	}
	defer func() {
		if err := c.Close(); err != nil {
			s.log.Warn("system test: close connector", "system", sys.ID, "err", err)
		}
	}()
	res.Capabilities = c.Capabilities().Names()
	if ch, ok := c.(connector.Checker); ok {
		if err := ch.Check(ctx); err != nil {
			return "check", err
		}
		res.Checked = s.checkedText(sys)
		return "", nil
	}
	// No Checker: reading an inventory of no groups exercises connection, credentials and read
	// rights, and changes nothing.
	inv, err := c.Inventory(ctx, []string{})
	if err != nil {
		return "inventory", err
	}
	res.Checked = fmt.Sprintf("connected and read %d accounts", len(inv.Accounts))
	return "", nil
}

// checkedText says what a passing Check verified, in the connector's terms (its spec's
// Checked), or in general terms.
func (s *Catalog) checkedText(sys *gatehouse.System) string {
	if spec := s.connectors.Lookup(sys.Connector.Type); spec != nil && spec.Checked != nil {
		return spec.Checked(sys.Connector.Settings)
	}
	return "connection, credentials and configuration accepted"
}

// SystemStatus is a system as provisioning last saw it.
type SystemStatus struct {
	System *gatehouse.System `json:"system"`
	// LastRun is the newest finished reconcile: the last inventory (when it was read), the
	// operations it planned and ran, and the drift it found. Nil before the first one.
	LastRun *gatehouse.Reconcile `json:"last_run,omitempty"`
	// Runs are the latest reconciles, newest first, running ones included (without findings).
	Runs []*gatehouse.Reconcile `json:"runs"`
	// Operations are the latest operations, newest first.
	Operations []*gatehouse.Operation `json:"operations"`
	// OpenTasks and OverdueTasks count the manual tasks waiting for a person (manual systems).
	OpenTasks    int `json:"open_tasks"`
	OverdueTasks int `json:"overdue_tasks"`
	// MoreTasks: there are more open tasks than were counted (gatehouse.MaxLimit).
	MoreTasks bool `json:"more_tasks,omitempty"`
}

// Sizes of the status summary: enough to see a pattern, small enough for one page.
const (
	statusRuns       = 5
	statusOperations = 20
)

// SystemStatus returns a system's provisioning status (readers).
func (s *Catalog) SystemStatus(ctx context.Context, p *gatehouse.Principal, id string) (*SystemStatus, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	sys, err := s.store.GetSystem(ctx, strings.TrimSpace(id))
	if err != nil {
		return nil, err
	}
	st := &SystemStatus{System: sys, Runs: []*gatehouse.Reconcile{}, Operations: []*gatehouse.Operation{}}
	latest, err := s.store.ListReconciles(ctx, gatehouse.ReconcileFilter{SystemID: sys.ID, Latest: true, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(latest.Items) > 0 {
		st.LastRun = latest.Items[0]
	}
	runs, err := s.store.ListReconciles(ctx, gatehouse.ReconcileFilter{SystemID: sys.ID, Limit: statusRuns})
	if err != nil {
		return nil, err
	}
	for _, r := range runs.Items {
		c := *r
		c.Findings = nil // the last finished run carries them; repeating them per run is noise
		st.Runs = append(st.Runs, &c)
	}
	ops, err := s.store.ListOperations(ctx, gatehouse.OperationFilter{SystemID: sys.ID, Limit: statusOperations})
	if err != nil {
		return nil, err
	}
	if ops.Items != nil {
		st.Operations = ops.Items
	}
	if s.connectors.Tasks(sys.Connector.Type) {
		tasks, err := s.store.ListTasks(ctx, gatehouse.TaskFilter{SystemID: sys.ID, Status: gatehouse.TaskOpen, Limit: gatehouse.MaxLimit})
		if err != nil {
			return nil, err
		}
		now := s.now()
		st.OpenTasks, st.MoreTasks = len(tasks.Items), tasks.NextCursor != ""
		for _, t := range tasks.Items {
			if t.Overdue(now) {
				st.OverdueTasks++
			}
		}
	}
	return st, nil
}
