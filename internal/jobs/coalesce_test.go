package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// engines are the two databases, each a fresh store with the lease catalog (systems a, b).
var engines = []struct {
	name string
	open func(testing.TB) store.Store
}{{"sqlite", storetest.OpenSQLite}, {"postgres", func(tb testing.TB) store.Store {
	st, err := sqlstore.Open(tb.Context(), storetest.NewPostgresSchema(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}}}

// queued is a reconcile job as River holds it.
type queued struct {
	id       int64
	state    string
	priority int
	args     jobs.ReconcileArgs
}

// reconcileJobs lists the reconcile jobs of system, oldest first.
func reconcileJobs(t *testing.T, st store.Store, system string) []queued {
	t.Helper()
	q := `SELECT id, state::text, priority, args::text FROM river_job WHERE kind = 'reconcile_system' ORDER BY id`
	if st.Engine() == "sqlite" {
		q = `SELECT id, state, priority, json(args) FROM river_job WHERE kind = 'reconcile_system' ORDER BY id`
	}
	rows, err := st.(jobs.DB).DB().QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var j queued
		var raw string
		if err := rows.Scan(&j.id, &j.state, &j.priority, &raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(raw), &j.args); err != nil {
			t.Fatal(err)
		}
		if j.args.SystemID == system {
			out = append(out, j)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pending is the jobs of system River has not started.
func pending(t *testing.T, st store.Store, system string) []queued {
	t.Helper()
	var out []queued
	for _, j := range reconcileJobs(t, st, system) {
		if j.state == "available" || j.state == "scheduled" || j.state == "retryable" {
			out = append(out, j)
		}
	}
	return out
}

// setState puts a job where River would (a fetcher taking it: running; a failed attempt:
// retryable an hour from now).
func setState(t *testing.T, st store.Store, id int64, state string) {
	t.Helper()
	q := `UPDATE river_job SET state = $2::river_job_state, attempt = attempt + 1, attempted_at = now(),
		scheduled_at = CASE WHEN $3 = 'retryable' THEN now() + interval '1 hour' ELSE scheduled_at END WHERE id = $1`
	if st.Engine() == "sqlite" {
		q = `UPDATE river_job SET state = $2, attempt = attempt + 1, attempted_at = datetime('now', 'subsec'),
		scheduled_at = CASE WHEN $3 = 'retryable' THEN datetime('now', '+1 hour') ELSE scheduled_at END WHERE id = $1`
	}
	if _, err := st.(jobs.DB).DB().ExecContext(t.Context(), q, id, state, state); err != nil {
		t.Fatal(err)
	}
}

// idleJobHost is a job host that is not started: the jobs it is given wait where a test can
// look at them.
func idleJobHost(t *testing.T, st store.Store) *jobs.Host {
	t.Helper()
	h, err := jobs.New(t.Context(), st, &provision.Reconciler{Store: st}, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// enqueueTx asks for a reconcile as a change does: in the change's own transaction.
func enqueueTx(t *testing.T, st store.Store, h *jobs.Host, tr provision.Trigger) {
	t.Helper()
	if err := st.Update(t.Context(), func(tx store.Tx) error { return h.ReconcileTx(t.Context(), tx, tr) }); err != nil {
		t.Fatal(err)
	}
}

// TestReconcilesCoalesce: the changes to one system, each in its own transaction, leave one
// pending reconcile job, which does the work of all of them: the union of the people of
// targeted runs, a full run as soon as one of them is full or the union is more than a
// targeted run takes, the highest priority, the earliest change. A job River started is never
// merged into: the next change queues one new job. On both engines.
func TestReconcilesCoalesce(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			st := eng.open(t)
			seedLeaseFixture(t, st)
			h := idleJobHost(t, st)
			ctx := t.Context()

			// Targeted changes in separate transactions: one job, the union of their people.
			for _, who := range []string{"p1", "p3", "p2", "p1"} {
				enqueueTx(t, st, h, provision.Trigger{Systems: []string{"a"}, Cause: "grant:" + who, Identities: []string{who}})
			}
			js := pending(t, st, "a")
			if len(js) != 1 || !slices.Equal(js[0].args.Identities, []string{"p1", "p2", "p3"}) {
				t.Fatalf("after four targeted changes, pending jobs of a = %+v; want one for p1, p2, p3", js)
			}
			first := js[0]
			if first.args.Cause != "grant:p1 (and later changes)" {
				t.Errorf("merged cause %q, want the first change's, marked", first.args.Cause)
			}
			// The id returned is the merged job's, for callers that follow it.
			ids, err := h.EnqueueFor(ctx, []string{"a"}, []string{"p4"}, "grant:p4", true)
			if err != nil || len(ids) != 1 || ids[0] != first.id {
				t.Fatalf("EnqueueFor = %v, %v; want the pending job %d", ids, err, first.id)
			}
			js = pending(t, st, "a")
			if len(js) != 1 || js[0].priority != jobs.PriorityDeprovision || !js[0].args.Since.Equal(first.args.Since) ||
				len(js[0].args.Identities) != 4 {
				t.Fatalf("after a deprovisioning change: %+v; want one job at priority %d, since %s, for 4 people",
					js, jobs.PriorityDeprovision, first.args.Since)
			}

			// A full change absorbs them; a targeted one merged into a full job leaves it full.
			enqueueTx(t, st, h, provision.Trigger{Systems: []string{"a"}, Cause: "catalog"})
			enqueueTx(t, st, h, provision.Trigger{Systems: []string{"a"}, Cause: "grant:p5", Identities: []string{"p5"}})
			if js = pending(t, st, "a"); len(js) != 1 || js[0].id != first.id || js[0].args.Identities != nil {
				t.Fatalf("after a full change and a targeted one: %+v; want job %d, full", js, first.id)
			}

			// River takes it: the next change queues one new job, which later ones merge into.
			setState(t, st, first.id, "running")
			for _, who := range []string{"p6", "p7"} {
				enqueueTx(t, st, h, provision.Trigger{Systems: []string{"a"}, Cause: "grant:" + who, Identities: []string{who}})
			}
			js = pending(t, st, "a")
			if len(js) != 1 || js[0].id == first.id || !slices.Equal(js[0].args.Identities, []string{"p6", "p7"}) {
				t.Fatalf("after two changes while job %d runs: %+v; want one new job for p6, p7", first.id, js)
			}
			second := js[0]

			// A job waiting out a backoff takes the change and runs now.
			setState(t, st, second.id, "retryable")
			enqueueTx(t, st, h, provision.Trigger{Systems: []string{"a"}, Cause: "grant:p8", Identities: []string{"p8"}})
			js = pending(t, st, "a")
			if len(js) != 1 || js[0].id != second.id || js[0].state != "available" || len(js[0].args.Identities) != 3 {
				t.Fatalf("after a change while job %d waits to retry: %+v; want it available, for p6, p7, p8", second.id, js)
			}

			// More people than a targeted run takes: a full run.
			many := make([]string, 0, provision.MaxTargeted)
			for i := range provision.MaxTargeted {
				many = append(many, fmt.Sprintf("q%04d", i))
			}
			enqueueTx(t, st, h, provision.Trigger{Systems: []string{"a"}, Cause: "hr", Identities: many})
			if js = pending(t, st, "a"); len(js) != 1 || js[0].args.Identities != nil {
				t.Fatalf("after %d more people: %+v; want one full job", len(many), js)
			}

			// Other systems are their own.
			if js := pending(t, st, "b"); len(js) != 0 {
				t.Errorf("pending jobs of b = %+v, want none", js)
			}
		})
	}
}

// TestReconcilesCoalesceConcurrently: on PostgreSQL, 8 writers each commit 50 changes to both
// systems (in either order) while a fetcher takes pending jobs as River's does (FOR UPDATE
// SKIP LOCKED): never more than one job of a system waits, and every person a change named is
// in a job, taken or pending: nothing is lost to a merge into a job the fetcher took.
func TestReconcilesCoalesceConcurrently(t *testing.T) {
	st := engines[1].open(t)
	seedLeaseFixture(t, st)
	h := idleJobHost(t, st)
	ctx := t.Context()
	db := st.(jobs.DB).DB()

	stop := make(chan struct{})
	var fetched sync.WaitGroup
	fetched.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = attempt + 1, attempted_at = now()
				WHERE id IN (SELECT id FROM river_job WHERE state = 'available' AND kind = 'reconcile_system'
				ORDER BY priority, scheduled_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)`); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var writers sync.WaitGroup
	for w := range 8 {
		writers.Go(func() {
			systems := []string{"a", "b"}
			if w%2 == 1 {
				systems = []string{"b", "a"}
			}
			for i := range 50 {
				tr := provision.Trigger{Systems: systems, Cause: "grant", Identities: []string{fmt.Sprintf("w%d-%02d", w, i)}}
				if err := st.Update(ctx, func(tx store.Tx) error { return h.ReconcileTx(ctx, tx, tr) }); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	fetched.Wait()

	for _, sys := range []string{"a", "b"} {
		all := reconcileJobs(t, st, sys)
		if p := pending(t, st, sys); len(p) > 1 {
			t.Errorf("%d pending jobs of %s, want at most one: %+v", len(p), sys, p)
		}
		seen := map[string]bool{}
		for _, j := range all {
			for _, id := range j.args.Identities {
				seen[id] = true
			}
		}
		for w := range 8 {
			for i := range 50 {
				if id := fmt.Sprintf("w%d-%02d", w, i); !seen[id] {
					t.Errorf("%s: %s is in no reconcile job", sys, id)
				}
			}
		}
		t.Logf("%s: 400 changes, %d jobs", sys, len(all))
	}
}

// TestEnqueueOutsideATransaction: Enqueue (the API's and CLI's reconcile) merges too.
func TestEnqueueOutsideATransaction(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			st := eng.open(t)
			seedLeaseFixture(t, st)
			h := idleJobHost(t, st)
			var ids []int64
			for range 3 {
				got, err := h.Enqueue(context.Background(), []string{"a", "b"}, "api", false)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, got...)
			}
			a, b := pending(t, st, "a"), pending(t, st, "b")
			if len(a) != 1 || len(b) != 1 || !slices.Equal(ids, []int64{a[0].id, b[0].id, a[0].id, b[0].id, a[0].id, b[0].id}) {
				t.Fatalf("ids %v, pending a %+v, b %+v; want one job each, returned every time", ids, a, b)
			}
		})
	}
}
