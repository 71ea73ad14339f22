package provision_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// nopSender accepts every message (the outbox needs a channel to store any).
type nopSender struct{}

func (nopSender) Send(context.Context, notify.Message) error { return nil }

// TestChangeJobsInTransaction: the jobs a change implies are rows in the job table when the
// service call returns, with no worker running and nothing done after the commit: a grant's
// reconcile (targeted at its person) and its expiry, an identity's reconcile of every system,
// an expiry notice's message. A transaction that rolls back leaves none. On both engines.
func TestChangeJobsInTransaction(t *testing.T) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			st := eng.open(t)
			ctx := t.Context()
			_, rec, _ := fakeFixture(t, st)
			ob := notify.NewOutbox(notify.OutboxOptions{Email: nopSender{}})
			q, err := jobs.New(ctx, st, rec, jobs.Options{Extra: []func(*river.Workers, map[string]river.QueueConfig){ob.Register}})
			if err != nil {
				t.Fatal(err)
			}
			ob.Attach(q.Client()) // never started: every job waits where the change put it
			svc := service.New(st, service.Options{Jobs: q, Notifier: ob})
			list := func(kind string) []*rivertype.JobRow {
				t.Helper()
				res, err := q.Client().JobList(ctx, river.NewJobListParams().Kinds(kind).First(100))
				if err != nil {
					t.Fatal(err)
				}
				return res.Jobs
			}
			count := func(kind string) int { return len(list(kind)) }

			p := service.SystemPrincipal("test")
			u9, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{EmployeeID: "E9", Email: "u9@example.com"}, "test")
			if err != nil {
				t.Fatal(err)
			}
			if n := count("reconcile_system"); n != 1 {
				t.Fatalf("after a new identity: %d reconcile jobs, want 1 (the one system, for u9)", n)
			}
			g, err := svc.CreateGrant(ctx, p, service.NewGrant{Identity: "u9@example.com", Entitlement: "app/eng",
				Reference: "INC-000009", Duration: gatehouse.Duration(time.Hour), Reason: "a short task"})
			if err != nil {
				t.Fatal(err)
			}
			// The grant's reconcile (app, for u9) merges into the one waiting since the identity.
			jobsNow := list("reconcile_system")
			if len(jobsNow) != 1 {
				t.Fatalf("after a grant: %d reconcile jobs, want 1 (the identity's, merged into)", len(jobsNow))
			}
			var args jobs.ReconcileArgs
			if err := json.Unmarshal(jobsNow[0].EncodedArgs, &args); err != nil {
				t.Fatal(err)
			}
			if args.SystemID != "app" || !strings.HasSuffix(args.Cause, " (and later changes)") || !slices.Equal(args.Identities, []string{u9.ID}) ||
				jobsNow[0].Priority != jobs.PriorityChange {
				t.Errorf("grant's reconcile = %+v, priority %d; want app for u9, the identity's cause and later changes (grant:%s)", args, jobsNow[0].Priority, g.ID)
			}
			exp := list("expire_grants")
			// (SQLite keeps River's times to the millisecond.)
			if len(exp) != 1 || exp[0].ScheduledAt.Sub(*g.ExpiresAt).Abs() >= time.Millisecond || exp[0].Priority != jobs.PriorityDeprovision {
				t.Fatalf("%d expiry jobs (%+v), want one at %s", len(exp), exp, g.ExpiresAt)
			}
			if n, err := svc.NotifyExpiringGrants(ctx, 2*time.Hour); err != nil || n != 1 {
				t.Fatalf("expiry notices = %d, %v", n, err)
			}
			if n := count("notify"); n != 1 {
				t.Fatalf("after an expiry notice: %d notify jobs, want 1", n)
			}

			// A change that rolls back takes its jobs with it.
			boom := errors.New("rolled back")
			err = st.Update(ctx, func(tx store.Tx) error {
				if err := q.ReconcileTx(ctx, tx, provision.Trigger{All: true, Cause: "test"}); err != nil {
					return err
				}
				if err := q.ScheduleExpiryTx(ctx, tx, time.Now().Add(time.Minute)); err != nil {
					return err
				}
				if err := ob.EnqueueTx(ctx, tx.SQL(), notify.Expiring("X", "Eng (app)", "u9@example.com", "soon", "test",
					ob.Link("/"), notify.Recipient{Email: "u9@example.com"})); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("update = %v", err)
			}
			if r, e, n := count("reconcile_system"), count("expire_grants"), count("notify"); r != 1 || e != 1 || n != 1 {
				t.Errorf("after a rollback: %d reconcile, %d expiry, %d notify jobs; want 1, 1, 1 as before", r, e, n)
			}
			// Nor is the merge of its reconcile (of every system, full) into the waiting one kept.
			if after := list("reconcile_system"); len(after) != 1 || string(after[0].EncodedArgs) != string(jobsNow[0].EncodedArgs) {
				t.Errorf("after a rollback: reconcile job %s, want as before: %s", after[0].EncodedArgs, jobsNow[0].EncodedArgs)
			}
		})
	}
}
