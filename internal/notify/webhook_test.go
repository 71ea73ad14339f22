package notify

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const webhookSecret = "whsec-test-0123456789"

// receiver is a webhook endpoint as a Slack-compatible receiver would be: it checks the
// signature and the JSON shape, and answers with the statuses a test queues.
type receiver struct {
	t        *testing.T
	mu       sync.Mutex
	statuses []int // answered in order; then 200
	headers  []http.Header
	bodies   []SlackPayload
	bad      []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var p SlackPayload
	switch {
	case r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json":
		rc.bad = append(rc.bad, "method or content type: "+r.Method+" "+r.Header.Get("Content-Type"))
	case !hmac.Equal([]byte(r.Header.Get(HeaderSignature)), []byte("sha256="+Sign([]byte(webhookSecret), r.Header.Get(HeaderTimestamp), body))):
		rc.bad = append(rc.bad, "bad signature")
	case json.Unmarshal(body, &p) != nil || p.Text == "" || len(p.Blocks) == 0:
		rc.bad = append(rc.bad, "not a Slack payload: "+string(body))
	}
	if ts, err := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64); err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
		rc.bad = append(rc.bad, "stale timestamp "+r.Header.Get(HeaderTimestamp))
	}
	rc.headers = append(rc.headers, r.Header.Clone())
	rc.bodies = append(rc.bodies, p)
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "7")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
}

func (rc *receiver) calls() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) > 0 {
		rc.t.Errorf("receiver rejected: %v", rc.bad)
	}
	return len(rc.headers)
}

func startReceiver(t *testing.T, statuses ...int) (*receiver, string) {
	rc := &receiver{t: t, statuses: statuses}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	// The path is the credential of a Slack webhook: it must never show in errors or logs.
	return rc, srv.URL + "/services/T000/B000/SECRETPATHxyz"
}

func TestWebhookSignedSlackPayload(t *testing.T) {
	t.Parallel()
	rc, url := startReceiver(t)
	w, err := NewWebhookSender(WebhookConfig{URL: url, SecretEnv: "GH_WEBHOOK_SECRET", Getenv: envWith("GH_WEBHOOK_SECRET", webhookSecret)})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage()
	m.ID = "delivery-1"
	if err := w.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if rc.calls() != 1 {
		t.Fatalf("%d calls", rc.calls())
	}
	if h := rc.headers[0]; h.Get(HeaderDelivery) != "delivery-1" || h.Get(HeaderEvent) != "approval_needed" {
		t.Errorf("headers %v", h)
	}
	if got := rc.bodies[0].Blocks[0].Text.Text; !strings.Contains(got, "<"+link+"|REQ-000123>") {
		t.Errorf("first block %q does not link the request", got)
	}
	if strings.Contains(w.String(), "SECRETPATH") {
		t.Errorf("String() shows the webhook path: %s", w)
	}
}

func TestWebhookStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status     int
		wantErr    bool
		permanent  bool
		retryAfter time.Duration
	}{
		{http.StatusOK, false, false, 0},
		{http.StatusNoContent, false, false, 0},
		{http.StatusBadRequest, true, true, 0},
		{http.StatusForbidden, true, true, 0},
		{http.StatusNotFound, true, true, 0},
		{http.StatusRequestTimeout, true, false, 0},
		{http.StatusTooManyRequests, true, false, 7 * time.Second},
		{http.StatusInternalServerError, true, false, 0},
		{http.StatusBadGateway, true, false, 0},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			_, url := startReceiver(t, tt.status)
			w, err := NewWebhookSender(WebhookConfig{URL: url, SecretEnv: "S", Getenv: envWith("S", webhookSecret)})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Send(context.Background(), testMessage())
			var ra *RetryAfterError
			errors.As(err, &ra)
			if (err != nil) != tt.wantErr || IsPermanent(err) != tt.permanent || (ra != nil) != (tt.retryAfter > 0) ||
				(ra != nil && ra.After != tt.retryAfter) {
				t.Fatalf("Send() = %v (permanent %v, retry after %v)", err, IsPermanent(err), ra)
			}
			if err != nil && strings.Contains(err.Error(), "SECRETPATH") {
				t.Errorf("error shows the webhook path: %v", err)
			}
		})
	}
}

func TestWebhookFailuresKeepSecrets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/services/SECRETPATHxyz"
	srv.Close() // down
	w, _ := NewWebhookSender(WebhookConfig{URL: url, SecretEnv: "S", Getenv: envWith("S", webhookSecret), Timeout: time.Second})
	err := w.Send(context.Background(), testMessage())
	if err == nil || IsPermanent(err) || strings.Contains(err.Error(), "SECRETPATH") || strings.Contains(err.Error(), webhookSecret) {
		t.Fatalf("Send() to a closed port = %v, want a retryable error without the path or secret", err)
	}
	// A missing secret must not send unsigned.
	rc, url := startReceiver(t)
	w, _ = NewWebhookSender(WebhookConfig{URL: url, SecretEnv: "S", Getenv: envWith("S", "")})
	if err := w.Send(context.Background(), testMessage()); err == nil || IsPermanent(err) {
		t.Fatalf("Send() without its secret = %v, want a retryable error", err)
	}
	if rc.calls() != 0 {
		t.Fatal("sent unsigned")
	}
}
