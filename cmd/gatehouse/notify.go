package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/service"
)

// notifyFlags configure notifications (email and webhook) for serve.
type notifyFlags struct {
	smtpURL, smtpFrom, smtpPasswordEnv, smtpPasswordFile string
	webhookURL, webhookSecretEnv                         string
	publicURL                                            string
	// The periodic checks: request SLAs (reminders, escalation, expiry) and grant expiry notices.
	noticeInterval, expiringNotice, requestExpiry time.Duration
}

func (f *notifyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.smtpURL, "smtp-url", "",
		"mail server for notifications: smtp://USER@HOST:587 (STARTTLS) or smtps://USER@HOST:465; no password in it (empty: no email)")
	fl.StringVar(&f.smtpFrom, "smtp-from", "", `sender of notification mail, e.g. "Gatehouse <gatehouse@example.com>"`)
	fl.StringVar(&f.smtpPasswordEnv, "smtp-password-env", "", "environment variable that holds the SMTP password")
	fl.StringVar(&f.smtpPasswordFile, "smtp-password-file", "", "file that holds the SMTP password (e.g. a mounted secret)")
	fl.StringVar(&f.webhookURL, "webhook-url", "",
		"Slack-compatible webhook for notifications (default $GATEHOUSE_WEBHOOK_URL; the URL is a secret: prefer the variable)")
	fl.StringVar(&f.webhookSecretEnv, "webhook-secret-env", "",
		"environment variable that holds the HMAC-SHA256 key signing webhook calls (X-Gatehouse-Signature)")
	fl.StringVar(&f.publicURL, "public-url", "",
		"URL people use to reach Gatehouse, the base of links in notifications; an https URL also makes the UI's session cookie Secure (default: the listen address)")
	fl.DurationVar(&f.noticeInterval, "notice-interval", time.Minute,
		"check request SLAs (overdue reminders, escalation, expiry) and expiring grants this often")
	fl.DurationVar(&f.expiringNotice, "expiring-notice", 72*time.Hour,
		"tell a beneficiary this long before a time-bound grant ends (0: never)")
	fl.DurationVar(&f.requestExpiry, "request-expiry", service.DefaultRequestExpiry,
		"a request with no decision this long after submission expires")
}

// notifier is what the service is given: nil when no channel is configured, so nothing is
// recorded as told (expiring-grant notices) when nobody was.
func notifier(ob *notify.Outbox) service.Notifier {
	if !ob.Enabled() {
		return nil
	}
	return ob
}

// outbox builds the notification outbox from the flags. Without --smtp-url and --webhook-url
// it is disabled: messages are logged at debug level and dropped.
func (a *app) outbox(cmd *cobra.Command, f *notifyFlags, addr string, log *slog.Logger) (*notify.Outbox, error) {
	if f.noticeInterval <= 0 || f.expiringNotice < 0 || f.requestExpiry <= 0 {
		return nil, usageErrorf(cmd, "--notice-interval and --request-expiry must be above zero, --expiring-notice zero or more")
	}
	o := notify.OutboxOptions{Logger: log, PublicURL: f.publicURL}
	if o.PublicURL == "" {
		o.PublicURL = "http://" + addr
		if host, port, err := net.SplitHostPort(addr); err == nil && (host == "" || net.ParseIP(host).IsUnspecified()) {
			o.PublicURL = "http://" + net.JoinHostPort("127.0.0.1", port)
		}
	} else if u, err := url.Parse(o.PublicURL); err != nil || !u.IsAbs() || u.Host == "" {
		return nil, usageErrorf(cmd, "--public-url %q: use an absolute URL such as https://gatehouse.example.com", f.publicURL)
	}
	if f.smtpURL != "" {
		s, err := notify.NewSMTPSender(notify.SMTPConfig{URL: f.smtpURL, From: f.smtpFrom, PasswordEnv: f.smtpPasswordEnv,
			PasswordFile: f.smtpPasswordFile, Getenv: a.getenv})
		if err != nil {
			return nil, usageErrorf(cmd, "--smtp-url: %v", err)
		}
		o.Email = s
	} else if f.smtpFrom != "" || f.smtpPasswordEnv != "" || f.smtpPasswordFile != "" {
		return nil, usageErrorf(cmd, "--smtp-from and --smtp-password-* need --smtp-url")
	}
	hook := f.webhookURL
	if hook == "" {
		hook = a.getenv("GATEHOUSE_WEBHOOK_URL")
	}
	if hook != "" {
		w, err := notify.NewWebhookSender(notify.WebhookConfig{URL: hook, SecretEnv: f.webhookSecretEnv, Getenv: a.getenv})
		if err != nil {
			return nil, usageErrorf(cmd, "--webhook-url: %v", err)
		}
		if f.webhookSecretEnv != "" && a.getenv(f.webhookSecretEnv) == "" {
			return nil, usageErrorf(cmd, "--webhook-secret-env %s: the variable is empty", f.webhookSecretEnv)
		}
		o.Webhook = w
	}
	ob := notify.NewOutbox(o)
	var channels []string
	if o.Email != nil {
		channels = append(channels, fmt.Sprint("email via ", o.Email))
	}
	if o.Webhook != nil {
		channels = append(channels, fmt.Sprint("webhook ", o.Webhook))
	}
	if len(channels) == 0 {
		log.Info("notifications off: no --smtp-url or --webhook-url; they are logged at debug level and dropped")
	} else {
		log.Info("notifications on", "channels", strings.Join(channels, ", "), "public_url", o.PublicURL)
	}
	return ob, nil
}
