package manual_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectortest"
	"github.com/gatehouse/gatehouse/connector/manual"
)

// memTasks is an in-memory TaskStore: the connector's contract without a database (the store's
// implementation is tested by the store conformance suite and the provisioning tests).
type memTasks struct {
	mu    sync.Mutex
	tasks []*gatehouse.ManualTask
	clock time.Time // advanced a second per completion
}

func (m *memTasks) EnsureTask(_ context.Context, t *gatehouse.ManualTask, doneSince time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.tasks {
		same := x.SystemID == t.SystemID && x.Kind == t.Kind && x.Account == t.Account && x.Group == t.Group
		doneSinceRead := x.Status == gatehouse.TaskDone && !doneSince.IsZero() && !x.CompletedAt.Before(doneSince)
		if same && (x.Status == gatehouse.TaskOpen || doneSinceRead) {
			*t = *x
			return false, nil
		}
	}
	t.Number = int64(len(m.tasks) + 1)
	t.ID, t.Status = fmt.Sprint("id-", t.Number), gatehouse.TaskOpen
	c := *t
	m.tasks = append(m.tasks, &c)
	return true, nil
}

func (m *memTasks) Tasks(_ context.Context, system string, status gatehouse.TaskStatus) ([]*gatehouse.ManualTask, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*gatehouse.ManualTask
	for _, x := range m.tasks {
		if x.SystemID == system && x.Status == status {
			c := *x
			out = append(out, &c)
		}
	}
	return out, nil
}

func (m *memTasks) CancelTask(_ context.Context, t *gatehouse.ManualTask, reason string) error {
	return m.finish(t.Ref(), gatehouse.TaskCancelled, reason)
}

func (m *memTasks) finish(ref string, status gatehouse.TaskStatus, note string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.tasks {
		if x.Ref() == ref && x.Status == gatehouse.TaskOpen {
			m.clock = m.clock.Add(time.Second)
			at := m.clock
			x.Status, x.CompletedAt, x.Note = status, &at, note
			return nil
		}
	}
	return fmt.Errorf("no open task %s", ref)
}

// Now is the clock completions advance: work done before a read is not "done since" it.
func (m *memTasks) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.clock
}

func (m *memTasks) byRef(ref string) *gatehouse.ManualTask {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.tasks, func(x *gatehouse.ManualTask) bool { return x.Ref() == ref })
	if i < 0 {
		return nil
	}
	return m.tasks[i]
}

func open(t *testing.T, tier gatehouse.Tier, now time.Time) (*manual.Connector, *memTasks) {
	tasks := &memTasks{clock: now}
	sys := &gatehouse.System{ID: "badge", Tier: tier, Connector: gatehouse.Connector{Type: manual.Type,
		Settings: map[string]any{"assignee": "facilities@example.com", "instructions": "Use the badge console."}}}
	cfg, err := manual.ParseConfig(sys, tasks)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Open(), tasks
}

func TestConformance(t *testing.T) {
	connectortest.Run(t, connectortest.Harness{New: func(t *testing.T) connectortest.Target {
		c, tasks := open(t, gatehouse.TierStandard, time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
		return connectortest.Target{
			Connector: c,
			Groups:    []string{"Front Door", "Server Room"},
			Fulfill: func(t *testing.T, task string) {
				if err := tasks.finish(task, gatehouse.TaskDone, "done at the console"); err != nil {
					t.Fatal(err)
				}
				c.Refresh()
			},
			// A person adds somebody without being asked: the system now holds it, and
			// Gatehouse sees it as drift. Recorded as a done task nobody asked for.
			AddOutOfBand: func(t *testing.T, group string, account connector.AccountRef) {
				tasks.mu.Lock()
				tasks.clock = tasks.clock.Add(time.Second)
				at := tasks.clock
				tasks.tasks = append(tasks.tasks, &gatehouse.ManualTask{ID: "oob", Number: 9999, SystemID: "badge",
					Kind: "add_member", Account: account.ID, Group: group, Status: gatehouse.TaskDone, CompletedAt: &at})
				tasks.mu.Unlock()
				c.Refresh()
			},
		}
	}})
}

func TestTasks(t *testing.T) {
	now := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		tier gatehouse.Tier
		due  time.Duration
	}{{gatehouse.TierCritical, 4 * time.Hour}, {gatehouse.TierHigh, 24 * time.Hour}, {gatehouse.TierStandard, 72 * time.Hour}} {
		t.Run(string(tc.tier), func(t *testing.T) {
			c, tasks := open(t, tc.tier, now)
			ctx := t.Context()
			ref, err := c.CreateAccount(ctx, connector.AccountSpec{Email: "Ann@Example.com", EmployeeID: "E1"})
			task := connector.DeferredTask(err)
			if task != "TASK-000001" || ref.ID != "ann@example.com" {
				t.Fatalf("CreateAccount = %+v, %v; want the account id and a deferred TASK-000001", ref, err)
			}
			got := tasks.byRef(task)
			if !got.DueAt.Equal(now.Add(tc.due)) || got.Assignee != "facilities@example.com" || got.Username != "ann" ||
				got.Instructions != "Use the badge console." {
				t.Fatalf("task = %+v; want due %v after creation, the system's assignee and instructions", got, tc.due)
			}
			// Memberships of the account being created are asked for at once.
			if err := c.AddMember(ctx, "Front Door", ref); connector.DeferredTask(err) != "TASK-000002" {
				t.Fatalf("AddMember while the account is being created = %v, want TASK-000002", err)
			}
			if connector.IsRetryable(err) {
				t.Fatal("a deferred operation must not be retried")
			}
			// Nothing asked for the membership this time: Sweep withdraws it.
			c2, _ := manual.ParseConfig(&gatehouse.System{ID: "badge", Tier: tc.tier, Connector: gatehouse.Connector{Type: manual.Type}}, tasks)
			next := c2.Open()
			if _, err := next.CreateAccount(ctx, connector.AccountSpec{Email: "ann@example.com", EmployeeID: "E1"}); connector.DeferredTask(err) != task {
				t.Fatalf("CreateAccount in the next run = %v, want the same %s", err, task)
			}
			if n, err := next.Sweep(ctx); err != nil || n != 1 || tasks.byRef("TASK-000002").Status != gatehouse.TaskCancelled {
				t.Fatalf("Sweep = %d, %v; want TASK-000002 cancelled", n, err)
			}
			if tasks.byRef(task).Status != gatehouse.TaskOpen {
				t.Fatal("Sweep cancelled a task the run still asked for")
			}
			// Done while a run is under way (after it read the system): asking again in the
			// same run is applied, not a second task.
			if err := tasks.finish(task, gatehouse.TaskDone, "done"); err != nil {
				t.Fatal(err)
			}
			if _, err := next.CreateAccount(ctx, connector.AccountSpec{Email: "ann@example.com", EmployeeID: "E1"}); err != nil {
				t.Fatalf("CreateAccount after the task was done mid-run = %v, want nil", err)
			}
			if n := len(tasks.tasks); n != 2 {
				t.Fatalf("%d tasks, want still 2", n)
			}
		})
	}
}
