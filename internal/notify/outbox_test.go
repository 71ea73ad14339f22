package notify_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/notify/smtptest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const password = "0utb0x-smtp-Secret!"

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var engines = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", storetest.OpenSQLite},
	{"postgres", storetest.OpenPostgres},
}

// startOutbox runs the outbox on the provisioning queue's River client, as serve does.
func startOutbox(t *testing.T, st store.Store, o notify.OutboxOptions) *notify.Outbox {
	t.Helper()
	return startOutboxB(t, st, notify.NewOutbox(o), o.Logger)
}

// startOutboxB is startOutbox for benchmarks; the queue logs to log (River's own messages,
// job errors included).
func startOutboxB(t testing.TB, st store.Store, ob *notify.Outbox, log *slog.Logger) *notify.Outbox {
	t.Helper()
	ctx := context.Background()
	q, err := jobs.New(ctx, st, nil, jobs.Options{PollInterval: 50 * time.Millisecond, Logger: log,
		Extra: []func(*river.Workers, map[string]river.QueueConfig){ob.Register}})
	if err != nil {
		t.Fatal(err)
	}
	ob.Attach(q.Client())
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return ob
}

func message() notify.Message {
	return notify.Fulfilled("REQ-000042", "VPN users (ldap-corp)", "Ada Lovelace", "remote work <!channel>",
		"https://gatehouse.example.com/requests/REQ-000042", notify.Recipient{Email: "ada@example.com", Name: "Ada Lovelace"})
}

// Not parallel: the SMTP server's port must stay free while it is down.
func TestOutboxDeliversAfterSMTPServerComesBack(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			st := e.open(t)
			srv := smtptest.Start(t, smtptest.Options{User: "gatehouse", Password: password})
			srv.Stop()
			var logs logBuffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			email, err := notify.NewSMTPSender(notify.SMTPConfig{URL: "smtp://gatehouse@" + srv.Addr, From: "gatehouse@example.com",
				PasswordEnv: "SMTP_PASSWORD", Getenv: func(string) string { return password }, TLSConfig: srv.ClientTLS,
				Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ob := startOutbox(t, st, notify.OutboxOptions{Email: email, Logger: log,
				RetryBase: 100 * time.Millisecond, RetryMax: 300 * time.Millisecond})

			start := time.Now()
			if err := ob.Enqueue(context.Background(), message()); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("Enqueue took %s with the mail server down; it must not wait for delivery", d)
			}
			// Let several attempts fail, then bring the server back.
			deadline := time.Now().Add(10 * time.Second)
			for strings.Count(logs.String(), "will be retried") < 2 {
				if time.Now().After(deadline) {
					t.Fatalf("no failed attempts logged:\n%s", logs.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Fatalf("%d messages while down", n)
			}
			srv.Restart(t)
			got := srv.Wait(t, 1, 10*time.Second)
			if len(got[0].To) != 1 || got[0].To[0] != "ada@example.com" || !bytes.Contains(got[0].Data, []byte("REQ-000042")) {
				t.Errorf("delivered %+v", got[0])
			}
			time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
			if n := len(srv.Messages()); n != 1 {
				t.Errorf("%d messages delivered, want 1", n)
			}
			if !strings.Contains(logs.String(), "notification sent") {
				t.Errorf("no success logged:\n%s", logs.String())
			}
			if strings.Contains(logs.String(), password) {
				t.Errorf("the log reveals the SMTP password:\n%s", logs.String())
			}
		})
	}
}

func TestOutboxWebhookRetriesAndGivesUp(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var mu sync.Mutex
	deliveries := map[string]int{}
	statuses := []int{http.StatusServiceUnavailable, http.StatusBadGateway} // then 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		deliveries[r.Header.Get(notify.HeaderDelivery)]++
		if strings.Contains(r.URL.Path, "gone") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if len(statuses) > 0 {
			w.WriteHeader(statuses[0])
			statuses = statuses[1:]
		}
	}))
	t.Cleanup(srv.Close)

	t.Run("retried until accepted", func(t *testing.T) {
		wh, _ := notify.NewWebhookSender(notify.WebhookConfig{URL: srv.URL + "/hook"})
		ob := startOutbox(t, storetest.OpenSQLite(t), notify.OutboxOptions{Webhook: wh, Logger: slog.New(slog.DiscardHandler),
			RetryBase: 50 * time.Millisecond, RetryMax: 100 * time.Millisecond})
		m := message()
		m.To = nil // webhook only
		if err := ob.Enqueue(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for calls.Load() < 3 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if calls.Load() != 3 || len(deliveries) != 1 {
			t.Fatalf("%d calls for %d deliveries, want 3 calls (503, 502, 200) of one delivery: %v", calls.Load(), len(deliveries), deliveries)
		}
	})
	t.Run("a 404 is not retried", func(t *testing.T) {
		before := calls.Load()
		wh, _ := notify.NewWebhookSender(notify.WebhookConfig{URL: srv.URL + "/gone"})
		var logs logBuffer
		ob := startOutbox(t, storetest.OpenSQLite(t), notify.OutboxOptions{Webhook: wh,
			Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
			RetryBase: 50 * time.Millisecond, RetryMax: 100 * time.Millisecond})
		if err := ob.Enqueue(context.Background(), message()); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(logs.String(), "refuses it") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(400 * time.Millisecond)
		if n := calls.Load() - before; n != 1 {
			t.Fatalf("%d calls, want 1: a permanent error is not retried\n%s", n, logs.String())
		}
	})
}

func TestOutboxWithoutChannelsDrops(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	ob := notify.NewOutbox(notify.OutboxOptions{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if ob.Enabled() {
		t.Fatal("enabled without channels")
	}
	if err := ob.Enqueue(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "notification dropped") || !strings.Contains(logs.String(), "REQ-000042") {
		t.Errorf("drop not logged at debug:\n%s", logs.String())
	}
	var none *notify.Outbox
	if err := none.Enqueue(context.Background(), message()); err != nil {
		t.Errorf("a nil outbox: %v", err)
	}
	bad := message()
	bad.Event = "party"
	if err := ob.Enqueue(context.Background(), bad); err == nil {
		t.Error("an invalid message was accepted")
	}
}

// EnqueueTx puts the notification in the caller's transaction: it exists if and only if the
// change that caused it commits.
func TestOutboxEnqueueTxFollowsTheTransaction(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var p notify.SlackPayload
				_ = json.NewDecoder(r.Body).Decode(&p)
				mu.Lock()
				got = append(got, p.Text)
				mu.Unlock()
			}))
			t.Cleanup(srv.Close)
			st := e.open(t)
			wh, _ := notify.NewWebhookSender(notify.WebhookConfig{URL: srv.URL})
			ob := startOutbox(t, st, notify.OutboxOptions{Webhook: wh, Logger: slog.New(slog.DiscardHandler)})
			db := st.(interface{ DB() *sql.DB }).DB()
			ctx := context.Background()
			for _, commit := range []bool{false, true} {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				m := message()
				m.Subject = fmt.Sprint("committed=", commit)
				if err := ob.EnqueueTx(ctx, tx, m); err != nil {
					t.Fatal(err)
				}
				if commit {
					err = tx.Commit()
				} else {
					err = tx.Rollback()
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				mu.Lock()
				n := len(got)
				mu.Unlock()
				if n > 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0] != "committed=true" {
				t.Fatalf("delivered %q, want only the committed one", got)
			}
		})
	}
}
