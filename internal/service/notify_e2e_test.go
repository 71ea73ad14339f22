package service_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/notify/smtptest"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// delivered is one mail as its reader sees it.
type delivered struct {
	to, subject, text, html string
}

func readMail(t *testing.T, r smtptest.Received) delivered {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatalf("parse mail: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	d := delivered{to: strings.Join(r.To, ","), subject: subject}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			d.html = string(b)
		} else {
			d.text = string(b)
		}
	}
	return d
}

// TestRequestMailEndToEnd runs the request engine with the server's durable outbox on the
// provisioning queue and a real SMTP server: the approver's mailbox receives "approval needed"
// with the request number and its link, and the requester the decision, with a hostile
// justification escaped.
func TestRequestMailEndToEnd(t *testing.T) {
	for _, e := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			st := e.open(t)
			f := newReqFixture(t, st)
			srv := smtptest.Start(t, smtptest.Options{User: "gatehouse", Password: "e2e-Secret-pw"})
			email, err := notify.NewSMTPSender(notify.SMTPConfig{URL: "smtp://gatehouse@" + srv.Addr, From: "gatehouse@example.com",
				PasswordEnv: "SMTP_PASSWORD", Getenv: func(string) string { return "e2e-Secret-pw" }, TLSConfig: srv.ClientTLS,
				Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ob := notify.NewOutbox(notify.OutboxOptions{Email: email, PublicURL: "https://gatehouse.example.com/"})
			q, err := jobs.New(ctx, st, nil, jobs.Options{PollInterval: 50 * time.Millisecond,
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
			f.svc = service.New(st, service.Options{Now: f.clock, Notifier: ob})

			hostile := "deploy the billing fix for INC-4211 <script>alert('x')</script> <!channel>"
			r := f.create(t, "ann", service.NewRequest{Entitlement: "app/ledger", Justification: hostile})
			got := readMail(t, srv.Wait(t, 1, 10*time.Second)[0])
			link := "https://gatehouse.example.com/requests/" + r.Ref
			if got.to != "owner@example.com" || !strings.Contains(got.subject, "["+r.Ref+"] Approval needed: Add Ledger (app) for ann@example.com") ||
				!strings.Contains(got.text, link) || !strings.Contains(got.html, `href="`+link+`"`) {
				t.Fatalf("approval mail to %s: %q\n%s\n%s", got.to, got.subject, got.text, got.html)
			}
			if !strings.Contains(got.text, hostile) || strings.Contains(got.html, "<script") ||
				!strings.Contains(got.html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &lt;!channel&gt;") {
				t.Fatalf("the justification is not escaped in HTML (or lost in text):\n%s\n%s", got.text, got.html)
			}

			if _, err := f.svc.ApproveRequest(ctx, f.p["owner"], r.Ref, "fine <b>by me</b>"); err != nil {
				t.Fatal(err)
			}
			got = readMail(t, srv.Wait(t, 2, 10*time.Second)[1])
			if got.to != "ann@example.com" || !strings.Contains(got.subject, "["+r.Ref+"] Request approved") ||
				!strings.Contains(got.text, link) || strings.Contains(got.html, "<b>by me") || !strings.Contains(got.html, "&lt;b&gt;by me") {
				t.Fatalf("decision mail to %s: %q\n%s\n%s", got.to, got.subject, got.text, got.html)
			}
		})
	}
}
