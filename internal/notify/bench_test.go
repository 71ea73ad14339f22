package notify_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/gatehouse/gatehouse/internal/notify"
)

// BenchmarkOutboxEnqueue is what a request pays to notify: one job insert per channel, with
// the receiver down (delivery is not part of it).
func BenchmarkOutboxEnqueue(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			wh, _ := notify.NewWebhookSender(notify.WebhookConfig{URL: "http://127.0.0.1:1/hook"})
			ob := notify.NewOutbox(notify.OutboxOptions{Webhook: wh, Logger: slog.New(slog.DiscardHandler)})
			ob = startOutboxB(b, e.open(b), ob, slog.New(slog.DiscardHandler))
			ctx := context.Background()
			m := message()
			m.To = nil
			b.ResetTimer()
			for b.Loop() {
				if err := ob.Enqueue(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompose(b *testing.B) {
	s, err := notify.NewSMTPSender(notify.SMTPConfig{URL: "smtps://mail.example.com", From: "gatehouse@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	m := message()
	for b.Loop() {
		if _, err := s.Compose(m); err != nil {
			b.Fatal(err)
		}
	}
}
