package notify

import (
	"bytes"
	"log/slog"
	"sync"
)

// hostile is a justification written to break things: HTML and script injection, a Slack
// broadcast, a forged Slack link, a header injection.
const hostile = "<script>alert('x')</script> <!channel> <https://evil.example|click> & more\r\nBcc: victim@example.com"

const link = "https://gatehouse.example.com/requests/REQ-000123"

func testMessage() Message {
	return ApprovalNeeded("REQ-000123", "Finance Approvers (ldap-corp)", "Ada Lovelace <ada@example.com>", hostile, link,
		Recipient{Email: "bob@example.com", Name: "Bob \"the boss\" Smith"},
		Recipient{Email: "carol@example.com", Name: "Carol Ünal"}).
		With(Field{"Risk", "privileged"}, Field{"Duration", "8h"})
}

// logBuffer collects log output from several goroutines.
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

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
