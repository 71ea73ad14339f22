// Package notify tells people about access requests: an approval is needed, a decision was
// made, access was fulfilled, a grant is expiring soon, a step is overdue.
//
// A Message says what, for whom, why, and links to the request; it knows nothing of the
// request engine, which builds messages with the constructors (ApprovalNeeded, Decision,
// Fulfilled, Expiring, Overdue) from plain strings. The parts:
//
//   - Rendering (render.go) turns a message into a plain-text and an HTML email body
//     (html/template: escaped, no remote content) and a Slack-compatible webhook payload
//     ({"text", "blocks"} with mrkdwn escaped by Slack's rules, so a justification cannot
//     mention @channel or forge a link).
//   - Senders deliver one message on one channel: SMTPSender (smtp.go: STARTTLS or implicit
//     TLS, AUTH PLAIN with the password read from an environment variable or a file, never from
//     the URL, and never logged) and WebhookSender (webhook.go: POST JSON, optional
//     HMAC-SHA256 signature). Their errors say whether a retry can help (Permanent,
//     RetryAfter).
//   - Outbox (outbox.go) makes delivery durable: EnqueueTx inserts one River job (kind
//     "notify") per channel in the transaction of the change the message reports (the request
//     engine's, in the same database as everything else), so the message exists if and only if
//     the change does, and a crash right after the commit loses none; the worker sends it with
//     exponential backoff. A down SMTP server delays mail but never loses it, and never blocks
//     the request that caused it. The jobs run on the provisioning queue's River client (one
//     client per database: River's leader runs retries and periodic jobs), in a queue of their
//     own so a long reconcile does not hold mail back.
//
// Delivery is at least once: a crash between a server's acceptance and the job's completion
// sends the message again, with the same Message-ID (email) and X-Gatehouse-Delivery (webhook)
// so that a receiver can tell.
package notify
