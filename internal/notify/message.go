package notify

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
)

// Event is what happened.
type Event string

// The events people are told about.
const (
	EventApprovalNeeded Event = "approval_needed"
	EventDecision       Event = "decision"
	EventFulfilled      Event = "fulfilled"
	EventExpiring       Event = "expiring"
	EventOverdue        Event = "overdue"
)

// Valid reports whether e is one of the events above.
func (e Event) Valid() bool {
	switch e {
	case EventApprovalNeeded, EventDecision, EventFulfilled, EventExpiring, EventOverdue:
		return true
	}
	return false
}

// Recipient is a person to email.
type Recipient struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// Field is one line of details (entitlement, system, due time, …); a message keeps them in
// order.
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Message is one notification. Every text in it may come from a person (a justification, a
// comment, a display name) and is escaped by each renderer; none of it is trusted.
type Message struct {
	// ID identifies the message across retries (Message-ID, X-Gatehouse-Delivery); Enqueue
	// sets it when empty.
	ID        string      `json:"id,omitempty"`
	Event     Event       `json:"event"`
	To        []Recipient `json:"to,omitempty"` // email recipients; the webhook goes to its channel
	Subject   string      `json:"subject"`
	What      string      `json:"what"`     // e.g. "Add Finance Approvers (ldap-corp)"
	ForWhom   string      `json:"for_whom"` // the beneficiary, e.g. "Ada Lovelace <ada@example.com>"
	Why       string      `json:"why"`      // justification, decision comment, reason
	Link      string      `json:"link"`     // absolute URL of the request or grant page
	Reference string      `json:"reference"`
	Fields    []Field     `json:"fields,omitempty"`
}

// Validate checks what every renderer and sender relies on.
func (m Message) Validate() error {
	var errs []error
	if !m.Event.Valid() {
		errs = append(errs, fmt.Errorf("unknown event %q", m.Event))
	}
	if strings.TrimSpace(m.Subject) == "" {
		errs = append(errs, errors.New("no subject"))
	}
	if m.Link != "" {
		u, err := url.Parse(m.Link)
		if err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("link %q is not an absolute http(s) URL", m.Link))
		}
	}
	for _, r := range m.To {
		if err := checkAddress(r.Email); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("notification %s: %w", m.Reference, err)
	}
	return nil
}

func checkAddress(s string) error {
	if strings.ContainsAny(s, "\r\n<>") {
		return fmt.Errorf("recipient %q is not a plain email address", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return fmt.Errorf("recipient %q is not a plain email address", s)
	}
	return nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}

// ApprovalNeeded asks approvers to decide on a request.
func ApprovalNeeded(reference, what, forWhom, why, link string, approvers ...Recipient) Message {
	return Message{Event: EventApprovalNeeded, To: approvers, Reference: reference, What: what, ForWhom: forWhom,
		Why: why, Link: link, Subject: fmt.Sprintf("[%s] Approval needed: %s for %s", reference, what, forWhom)}
}

// Decision tells the requester and the beneficiary that a request was approved, denied or
// returned for more information; why is the approver's comment.
func Decision(reference, what, forWhom, decision, why, link string, to ...Recipient) Message {
	return Message{Event: EventDecision, To: to, Reference: reference, What: what, ForWhom: forWhom, Why: why,
		Link: link, Subject: fmt.Sprintf("[%s] Request %s: %s for %s", reference, decision, what, forWhom),
		Fields: []Field{{"Decision", decision}}}
}

// Fulfilled tells the requester and the beneficiary that the access is in place.
func Fulfilled(reference, what, forWhom, why, link string, to ...Recipient) Message {
	return Message{Event: EventFulfilled, To: to, Reference: reference, What: what, ForWhom: forWhom, Why: why,
		Link: link, Subject: fmt.Sprintf("[%s] Access granted: %s for %s", reference, what, forWhom)}
}

// Expiring tells the beneficiary that time-bound access ends soon; expires is when, as the
// reader should see it (e.g. "2026-11-27 17:00 UTC"). Extension is a new request.
func Expiring(reference, what, forWhom, expires, why, link string, to ...Recipient) Message {
	return Message{Event: EventExpiring, To: to, Reference: reference, What: what, ForWhom: forWhom, Why: why,
		Link: link, Subject: fmt.Sprintf("[%s] Access expires %s: %s for %s", reference, expires, what, forWhom),
		Fields: []Field{{"Expires", expires}}}
}

// Overdue reminds approvers (or their escalation) that a step is past its due time.
func Overdue(reference, what, forWhom, due, why, link string, to ...Recipient) Message {
	return Message{Event: EventOverdue, To: to, Reference: reference, What: what, ForWhom: forWhom, Why: why,
		Link: link, Subject: fmt.Sprintf("[%s] Overdue: %s for %s (due %s)", reference, what, forWhom, due),
		Fields: []Field{{"Due", due}}}
}

// With returns m with more detail fields, in order.
func (m Message) With(fields ...Field) Message {
	m.Fields = append(append([]Field(nil), m.Fields...), fields...)
	return m
}

// eventTitle is the headline of each event.
func (e Event) title() string {
	switch e {
	case EventApprovalNeeded:
		return "Approval needed"
	case EventDecision:
		return "Decision made"
	case EventFulfilled:
		return "Access granted"
	case EventExpiring:
		return "Access expiring soon"
	case EventOverdue:
		return "Overdue"
	}
	return string(e)
}
