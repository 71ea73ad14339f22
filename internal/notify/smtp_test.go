package notify

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/notify/smtptest"
)

const (
	smtpUser     = "gatehouse"
	smtpPassword = "Tr0ub4dor&3-smtp-secret"
	passwordEnv  = "GATEHOUSE_TEST_SMTP_PASSWORD"
)

func envWith(name, value string) func(string) string {
	return func(k string) string {
		if k == name {
			return value
		}
		return ""
	}
}

func newTestSender(t *testing.T, srv *smtptest.Server, scheme, password string) *SMTPSender {
	t.Helper()
	s, err := NewSMTPSender(SMTPConfig{URL: scheme + "://" + smtpUser + "@" + srv.Addr, From: "Gatehouse <gatehouse@example.com>",
		PasswordEnv: passwordEnv, Getenv: envWith(passwordEnv, password), TLSConfig: srv.ClientTLS, Timeout: 5 * time.Second,
		Now: func() time.Time { return time.Date(2026, 11, 26, 4, 30, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// parts reads a delivered multipart/alternative message: its header and its decoded parts by
// content type.
func parts(t *testing.T, data []byte) (mail.Header, map[string]string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse delivered message: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var order []string
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		ct := p.Header.Get("Content-Type")
		order = append(order, ct)
		out[ct] = string(b)
	}
	// multipart/alternative lists the preferred part last.
	if len(order) != 2 || order[0] != "text/plain; charset=utf-8" || order[1] != "text/html; charset=utf-8" {
		t.Fatalf("parts %v, want text/plain then text/html", order)
	}
	return msg.Header, out
}

func TestSMTPDeliversOverSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{User: smtpUser, Password: smtpPassword})
	s := newTestSender(t, srv, "smtp", smtpPassword)
	m := testMessage()
	m.ID = "0123abcd"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	r := got[0]
	if !r.TLS || r.AuthUser != smtpUser || r.From != "gatehouse@example.com" ||
		strings.Join(r.To, ",") != "bob@example.com,carol@example.com" {
		t.Errorf("envelope: tls=%v user=%q from=%q to=%v", r.TLS, r.AuthUser, r.From, r.To)
	}
	h, p := parts(t, r.Data)
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(h.Get("Subject"))
	to, err := h.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Name != `Bob "the boss" Smith` || to[1].Name != "Carol Ünal" {
		t.Errorf("To %q: %v %v", h.Get("To"), to, err)
	}
	date, err := h.Date()
	for k, ok := range map[string]bool{
		"From":           h.Get("From") == `"Gatehouse" <gatehouse@example.com>`,
		"Subject":        subject == "[REQ-000123] Approval needed: Finance Approvers (ldap-corp) for Ada Lovelace <ada@example.com>",
		"Date":           err == nil && date.Equal(time.Date(2026, 11, 26, 4, 30, 0, 0, time.UTC)),
		"Message-ID":     h.Get("Message-ID") == "<0123abcd@example.com>",
		"MIME-Version":   h.Get("MIME-Version") == "1.0",
		"Auto-Submitted": h.Get("Auto-Submitted") == "auto-generated",
		"X-Gatehouse":    h.Get("X-Gatehouse-Event") == "approval_needed" && h.Get("X-Gatehouse-Reference") == "REQ-000123",
		"no Bcc":         h.Get("Bcc") == "",
	} {
		if !ok {
			t.Errorf("header %s wrong:\n%s", k, r.Data[:bytes.Index(r.Data, []byte("\r\n\r\n"))])
		}
	}
	text, html := p["text/plain; charset=utf-8"], p["text/html; charset=utf-8"]
	for _, want := range []string{"Approval needed: REQ-000123", "What:     Finance Approvers (ldap-corp)",
		"For whom: Ada Lovelace <ada@example.com>", "Why:      <script>alert('x')</script> <!channel>", "Risk:     privileged",
		"Open REQ-000123: " + link} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(html, "<script") || !strings.Contains(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &lt;!channel&gt;") ||
		!strings.Contains(html, `href="`+link+`"`) || strings.Contains(html, "src=") {
		t.Errorf("HTML part not escaped or without its link:\n%s", html)
	}
}

func TestSMTPImplicitTLSWithPasswordFile(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{User: smtpUser, Password: smtpPassword, ImplicitTLS: true})
	file := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(file, []byte(smtpPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := NewSMTPSender(SMTPConfig{URL: "smtps://" + smtpUser + "@" + srv.Addr, From: "gatehouse@example.com",
		PasswordFile: file, TLSConfig: srv.ClientTLS})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), testMessage()); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(); len(got) != 1 || !got[0].TLS || got[0].AuthUser != smtpUser {
		t.Fatalf("received %+v", got)
	}
	h, _ := parts(t, srv.Messages()[0].Data)
	if !regexp.MustCompile(`^<[0-9a-f]{32}@example\.com>$`).MatchString(h.Get("Message-ID")) {
		t.Errorf("Message-ID %q", h.Get("Message-ID"))
	}
}

func TestSMTPFailuresKeepThePasswordSecret(t *testing.T) {
	t.Parallel()
	const wrong = "Wr0ng-password-value-42"
	srv := smtptest.Start(t, smtptest.Options{User: smtpUser, Password: smtpPassword})
	untrusted := smtptest.Start(t, smtptest.Options{User: smtpUser, Password: smtpPassword})
	noTLS := smtptest.Start(t, smtptest.Options{User: smtpUser, Password: smtpPassword, NoTLS: true})

	tests := []struct {
		name      string
		sender    func() *SMTPSender
		srv       *smtptest.Server
		want      string
		permanent bool
	}{
		{"wrong password", func() *SMTPSender { return newTestSender(t, srv, "smtp", wrong) }, srv, "login as gatehouse", false},
		{"server offers no STARTTLS", func() *SMTPSender { return newTestSender(t, noTLS, "smtp", smtpPassword) }, noTLS, "STARTTLS", false},
		{"certificate not trusted", func() *SMTPSender {
			s := newTestSender(t, untrusted, "smtp", smtpPassword)
			s.tls = srv.ClientTLS.Clone()
			s.tls.RootCAs = nil // the system's roots do not know the test CA
			return s
		}, untrusted, "certificate", false},
		{"password variable empty", func() *SMTPSender { return newTestSender(t, srv, "smtp", "") }, srv, "GATEHOUSE_TEST_SMTP_PASSWORD is empty", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.srv.Messages())
			err := tt.sender().Send(context.Background(), testMessage())
			if err == nil || !strings.Contains(err.Error(), tt.want) || IsPermanent(err) != tt.permanent {
				t.Fatalf("Send() = %v (permanent %v), want an error with %q (permanent %v)", err, IsPermanent(err), tt.want, tt.permanent)
			}
			for _, secret := range []string{wrong, smtpPassword} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error reveals the password: %v", err)
				}
			}
			if n := len(tt.srv.Messages()); n != before {
				t.Errorf("a message was delivered")
			}
		})
	}
}

func TestSMTPRefusedRecipients(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{User: smtpUser, Password: smtpPassword, Refuse: []string{"carol@example.com"}})
	s := newTestSender(t, srv, "smtp", smtpPassword)
	err := s.Send(context.Background(), testMessage())
	if !IsPermanent(err) || !strings.Contains(err.Error(), "carol@example.com") {
		t.Fatalf("Send() = %v, want a permanent error naming carol", err)
	}
	if got := srv.Messages(); len(got) != 1 || strings.Join(got[0].To, ",") != "bob@example.com" {
		t.Fatalf("received %+v, want the message for bob only", got)
	}
	m := testMessage()
	m.To = m.To[1:]
	if err := s.Send(context.Background(), m); !IsPermanent(err) || !strings.Contains(err.Error(), "every recipient refused") {
		t.Fatalf("Send() = %v, want permanent: every recipient refused", err)
	}
	if len(srv.Messages()) != 1 {
		t.Fatal("a message went to nobody")
	}
}

func TestNewSMTPSenderConfig(t *testing.T) {
	tests := []struct {
		name string
		c    SMTPConfig
		want string // "" valid
	}{
		{"starttls", SMTPConfig{URL: "smtp://u@mail.example.com", From: "g@example.com", PasswordEnv: "P"}, ""},
		{"smtps", SMTPConfig{URL: "smtps://u@mail.example.com", From: "g@example.com", PasswordFile: "/run/secrets/p"}, ""},
		{"loopback relay in clear", SMTPConfig{URL: "smtp://127.0.0.1:25?starttls=false", From: "g@example.com"}, ""},
		{"inline password", SMTPConfig{URL: "smtp://u:hunter2-secret@mail.example.com", From: "g@example.com"}, "do not put the password"},
		{"bad scheme", SMTPConfig{URL: "http://mail.example.com", From: "g@example.com"}, "scheme"},
		{"user without password", SMTPConfig{URL: "smtp://u@mail.example.com", From: "g@example.com"}, "name the password"},
		{"both password sources", SMTPConfig{URL: "smtp://u@mail.example.com", From: "g@example.com", PasswordEnv: "P", PasswordFile: "f"}, "not both"},
		{"clear text to a remote host", SMTPConfig{URL: "smtp://mail.example.com?starttls=false", From: "g@example.com"}, "clear text"},
		{"password in clear text", SMTPConfig{URL: "smtp://u@127.0.0.1?starttls=false", From: "g@example.com", PasswordEnv: "P"}, "only sent over TLS"},
		{"unknown parameter", SMTPConfig{URL: "smtp://mail.example.com?tls=yes", From: "g@example.com"}, "unknown parameter"},
		{"bad timeout", SMTPConfig{URL: "smtp://mail.example.com?timeout=soon", From: "g@example.com"}, "timeout"},
		{"no from", SMTPConfig{URL: "smtp://mail.example.com"}, "from address"},
		{"from with a header", SMTPConfig{URL: "smtp://mail.example.com", From: "g@example.com\r\nBcc: x@example.com"}, "from address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSMTPSender(tt.c)
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("NewSMTPSender() = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error reveals the password: %v", err)
			}
			if s != nil && strings.Contains(s.String(), "hunter2") {
				t.Errorf("String() reveals the password")
			}
		})
	}
}
