package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook delivery. A receiver checks the signature as
// hex(HMAC-SHA256(secret, timestamp + "." + body)) == the part after "sha256=", and rejects a
// timestamp far from its clock (replay).
const (
	HeaderSignature = "X-Gatehouse-Signature" // "sha256=" + hex
	HeaderTimestamp = "X-Gatehouse-Timestamp" // Unix seconds
	HeaderDelivery  = "X-Gatehouse-Delivery"  // the message ID: the same on every retry
	HeaderEvent     = "X-Gatehouse-Event"
)

// WebhookConfig configures the webhook (a Slack incoming webhook or anything that accepts
// its JSON).
type WebhookConfig struct {
	URL string // https://hooks.slack.com/services/… (the URL itself is a secret: it is never logged whole)
	// SecretEnv names the environment variable holding the HMAC secret (empty: unsigned).
	SecretEnv string
	Timeout   time.Duration // default 10s
	Client    *http.Client  // nil: a client with Timeout
	Getenv    func(string) string
	Now       func() time.Time
}

// WebhookSender posts messages as Slack-compatible JSON.
type WebhookSender struct {
	url       string
	secretEnv string
	client    *http.Client
	getenv    func(string) string
	now       func() time.Time
}

// NewWebhookSender checks the configuration.
func NewWebhookSender(c WebhookConfig) (*WebhookSender, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("webhook URL: use an absolute https:// URL")
	}
	w := &WebhookSender{url: c.URL, secretEnv: c.SecretEnv, client: c.Client, getenv: c.Getenv, now: c.Now}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if w.client == nil {
		w.client = &http.Client{Timeout: c.Timeout}
	}
	if w.getenv == nil {
		w.getenv = os.Getenv
	}
	if w.now == nil {
		w.now = time.Now
	}
	return w, nil
}

// String describes the webhook by its host only: a Slack webhook's path is its credential.
func (w *WebhookSender) String() string {
	u, _ := url.Parse(w.url)
	return u.Scheme + "://" + u.Host + "/…"
}

// Send posts m. 4xx answers are permanent, except 408 and 429 (with Retry-After when given);
// 5xx and network errors are retryable.
func (w *WebhookSender) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return Permanent(err)
	}
	body, err := m.SlackJSON()
	if err != nil {
		return Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("webhook %s: %w", w, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gatehouse-Notify/1")
	req.Header.Set(HeaderEvent, string(m.Event))
	if m.ID != "" {
		req.Header.Set(HeaderDelivery, m.ID)
	}
	if w.secretEnv != "" {
		secret := w.getenv(w.secretEnv)
		if secret == "" {
			// Retryable: sending unsigned would teach the receiver to accept unsigned calls.
			return fmt.Errorf("webhook %s: secret environment variable %s is empty", w, w.secretEnv)
		}
		ts := strconv.FormatInt(w.now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, "sha256="+Sign([]byte(secret), ts, body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// *url.Error quotes the whole URL, credential and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook %s: %w", w, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("webhook %s: %s: %s", w, resp.Status, strings.TrimSpace(string(snippet)))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), w.now()); ok {
			return &RetryAfterError{After: d, Err: err}
		}
		return err
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return err
	}
	return Permanent(err)
}

// Sign is the signature of a webhook body: hex(HMAC-SHA256(secret, timestamp "." body)).
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// retryAfter parses Retry-After: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
