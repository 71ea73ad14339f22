package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"unicode/utf8"
)

// detail is one labelled line of a rendered message: what, for whom, why, then the fields.
type detail struct{ Label, Value string }

func (m Message) details() []detail {
	d := []detail{{"What", m.What}, {"For whom", m.ForWhom}, {"Why", m.Why}}
	for _, f := range m.Fields {
		d = append(d, detail{f.Key, f.Value})
	}
	out := d[:0]
	for _, x := range d {
		if strings.TrimSpace(x.Value) != "" {
			out = append(out, x)
		}
	}
	return out
}

func (m Message) headline() string {
	if m.Reference == "" {
		return m.Event.title()
	}
	return m.Event.title() + ": " + m.Reference
}

// Text is the plain-text email body.
func (m Message) Text() string {
	var b strings.Builder
	b.WriteString(m.headline() + "\n\n")
	for _, d := range m.details() {
		// Continuation lines are indented, so a multi-line justification cannot pass for a
		// field of its own.
		fmt.Fprintf(&b, "%-9s %s\n", d.Label+":", strings.ReplaceAll(oneLineEnds(d.Value), "\n", "\n          "))
	}
	if m.Link != "" {
		fmt.Fprintf(&b, "\nOpen %s: %s\n", or(m.Reference, "it"), m.Link)
	}
	b.WriteString("\n-- \nSent by Gatehouse. Reply to the request on its page, not to this message.\n")
	return b.String()
}

func oneLineEnds(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n"), "\r", "\n")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// htmlBody has inline styles only and no remote content (images, fonts, scripts): mail
// clients block remote content and it would tell a sender when a message was read.
var htmlBody = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:sans-serif;color:#1f2328;max-width:40em">
<h2 style="margin:0 0 .8em">{{.Headline}}</h2>
<table style="border-collapse:collapse">
{{- range .Details}}
<tr><th style="text-align:left;vertical-align:top;padding:.2em 1em .2em 0;white-space:nowrap">{{.Label}}</th><td style="padding:.2em 0;white-space:pre-wrap">{{.Value}}</td></tr>
{{- end}}
</table>
{{- if .Link}}
<p style="margin:1.2em 0"><a href="{{.Link}}" style="background:#0969da;color:#fff;padding:.5em 1em;border-radius:4px;text-decoration:none">Open {{.Ref}}</a></p>
<p style="font-size:small;color:#59636e">{{.Link}}</p>
{{- end}}
<p style="font-size:small;color:#59636e">Sent by Gatehouse. Reply to the request on its page, not to this message.</p>
</body></html>
`))

// HTML is the HTML email body: every value escaped by html/template.
func (m Message) HTML() (string, error) {
	var b bytes.Buffer
	err := htmlBody.Execute(&b, map[string]any{"Subject": m.Subject, "Headline": m.headline(),
		"Details": m.details(), "Link": m.Link, "Ref": or(m.Reference, "in Gatehouse")})
	if err != nil {
		return "", fmt.Errorf("render HTML mail: %w", err)
	}
	return b.String(), nil
}

// slackEscape escapes text for Slack mrkdwn: &, < and > are the control characters, so
// "<!channel>" or "<https://evil|click>" in a justification stays text.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Slack limits: a section's text 3,000 characters, a field 2,000, at most 10 fields.
const (
	slackTextMax  = 3000
	slackFieldMax = 2000
	slackFields   = 10
)

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// slackText is a mrkdwn text object.
type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type   string      `json:"type"`
	Text   *slackText  `json:"text,omitempty"`
	Fields []slackText `json:"fields,omitempty"`
}

// SlackPayload is the Slack-compatible webhook body: "text" is the notification fallback,
// "blocks" the message.
type SlackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

// Slack renders the webhook payload.
func (m Message) Slack() SlackPayload {
	head := "*" + slackEscape(m.headline()) + "*"
	if m.Link != "" {
		// In a link, & < > are escaped too, and | would end the URL.
		link := slackEscape(strings.ReplaceAll(m.Link, "|", "%7C"))
		head = fmt.Sprintf("*%s*: <%s|%s>", slackEscape(m.Event.title()), link, slackEscape(or(m.Reference, "open")))
	}
	p := SlackPayload{Text: truncate(slackEscape(m.Subject), slackTextMax)}
	p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: &slackText{"mrkdwn", truncate(head+"\n"+slackEscape(m.Subject), slackTextMax)}})
	var fields []slackText
	var why string
	for _, d := range m.details() {
		if d.Label == "Why" {
			why = d.Value
			continue
		}
		if len(fields) < slackFields {
			fields = append(fields, slackText{"mrkdwn", truncate("*"+d.Label+"*\n"+slackEscape(d.Value), slackFieldMax)})
		}
	}
	if len(fields) > 0 {
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Fields: fields})
	}
	if why != "" {
		quoted := "> " + strings.ReplaceAll(slackEscape(oneLineEnds(why)), "\n", "\n> ")
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: &slackText{"mrkdwn", truncate("*Why*\n"+quoted, slackTextMax)}})
	}
	return p
}

// SlackJSON is the webhook body as JSON.
func (m Message) SlackJSON() ([]byte, error) {
	b, err := json.Marshal(m.Slack())
	if err != nil {
		return nil, fmt.Errorf("render webhook payload: %w", err)
	}
	return b, nil
}
