package notify

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestConstructors(t *testing.T) {
	to := Recipient{Email: "ada@example.com"}
	tests := []struct {
		m       Message
		event   Event
		subject string
		field   string
	}{
		{ApprovalNeeded("REQ-1", "Admins", "Ada", "on call", link, to), EventApprovalNeeded, "[REQ-1] Approval needed: Admins for Ada", ""},
		{Decision("REQ-1", "Admins", "Ada", "denied", "not needed", link, to), EventDecision, "[REQ-1] Request denied: Admins for Ada", "Decision"},
		{Fulfilled("REQ-1", "Admins", "Ada", "on call", link, to), EventFulfilled, "[REQ-1] Access granted: Admins for Ada", ""},
		{Expiring("REQ-1", "Admins", "Ada", "2026-11-27 17:00 UTC", "on call", link, to), EventExpiring,
			"[REQ-1] Access expires 2026-11-27 17:00 UTC: Admins for Ada", "Expires"},
		{Overdue("REQ-1", "Admins", "Ada", "2026-11-26 09:00 UTC", "on call", link, to), EventOverdue,
			"[REQ-1] Overdue: Admins for Ada (due 2026-11-26 09:00 UTC)", "Due"},
	}
	for _, tt := range tests {
		t.Run(string(tt.event), func(t *testing.T) {
			if err := tt.m.Validate(); err != nil {
				t.Fatal(err)
			}
			if tt.m.Event != tt.event || tt.m.Subject != tt.subject {
				t.Errorf("got %s %q, want %s %q", tt.m.Event, tt.m.Subject, tt.event, tt.subject)
			}
			if tt.field != "" && (len(tt.m.Fields) == 0 || tt.m.Fields[0].Key != tt.field) {
				t.Errorf("fields %v, want %s first", tt.m.Fields, tt.field)
			}
			text := tt.m.Text()
			for _, want := range []string{"What:     Admins", "For whom: Ada", "Why:      ", link} {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := testMessage()
	tests := []struct {
		name string
		edit func(*Message)
		want string
	}{
		{"valid", func(*Message) {}, ""},
		{"unknown event", func(m *Message) { m.Event = "party" }, "unknown event"},
		{"relative link", func(m *Message) { m.Link = "/requests/1" }, "absolute"},
		{"javascript link", func(m *Message) { m.Link = "javascript:alert(1)" }, "absolute"},
		{"recipient with a header", func(m *Message) { m.To[0].Email = "a@example.com\r\nBcc: x@example.com" }, "plain email"},
		{"recipient with a name", func(m *Message) { m.To[0].Email = "Bob <bob@example.com>" }, "plain email"},
		{"no subject", func(m *Message) { m.Subject = " " }, "subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			m.To = append([]Recipient(nil), ok.To...)
			tt.edit(&m)
			err := m.Validate()
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestHTMLEscapesAndLoadsNothing(t *testing.T) {
	html, err := testMessage().HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<!channel>", "<https://evil", "src=", "<img", "<link", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML contains %q:\n%s", bad, html)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "&lt;!channel&gt;", `href="` + link + `"`, "Finance Approvers (ldap-corp)",
		"Ada Lovelace &lt;ada@example.com&gt;", "privileged"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q:\n%s", want, html)
		}
	}
	// A hostile link cannot become a script: html/template neutralizes the URL.
	m := testMessage()
	m.Link = "https://x.example/\"><script>alert(1)</script>"
	html, _ = m.HTML()
	if strings.Contains(html, "<script>") {
		t.Errorf("a link broke out of its attribute:\n%s", html)
	}
}

func TestTextKeepsJustificationInItsField(t *testing.T) {
	text := testMessage().Text()
	// The line break of the justification is indented, so "Bcc:" is not a field of its own.
	if strings.Contains(text, "\nBcc:") || !strings.Contains(text, "\n          Bcc: victim@example.com") {
		t.Errorf("justification escaped its field:\n%s", text)
	}
	if !strings.Contains(text, "Open REQ-000123: "+link) {
		t.Errorf("no link:\n%s", text)
	}
}

func TestSlackPayload(t *testing.T) {
	b, err := testMessage().SlackJSON()
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type, Text string
			} `json:"text"`
			Fields []struct{ Type, Text string } `json:"fields"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Text != "[REQ-000123] Approval needed: Finance Approvers (ldap-corp) for Ada Lovelace &lt;ada@example.com&gt;" {
		t.Errorf("text = %q", p.Text)
	}
	if len(p.Blocks) != 3 {
		t.Fatalf("%d blocks, want 3: %s", len(p.Blocks), b)
	}
	var all []string
	for _, bl := range p.Blocks {
		if bl.Type != "section" {
			t.Errorf("block type %q", bl.Type)
		}
		if bl.Text != nil {
			if bl.Text.Type != "mrkdwn" {
				t.Errorf("text type %q", bl.Text.Type)
			}
			all = append(all, bl.Text.Text)
		}
		for _, f := range bl.Fields {
			if f.Type != "mrkdwn" {
				t.Errorf("field type %q", f.Type)
			}
			all = append(all, f.Text)
		}
	}
	joined := strings.Join(all, "\n")
	if !strings.HasPrefix(p.Blocks[0].Text.Text, "*Approval needed*: <"+link+"|REQ-000123>") {
		t.Errorf("first section %q does not link the request", p.Blocks[0].Text.Text)
	}
	// The only raw < is the request link's; the only raw > besides it quote the justification.
	if strings.Count(joined, "<") != 1 || strings.Count(joined, ">") != 1+strings.Count(joined, "\n> ") {
		t.Errorf("unescaped < or > beyond the request link (a mention or a forged link):\n%s", joined)
	}
	for _, want := range []string{"&lt;!channel&gt;", "&lt;script&gt;", "&amp; more", "*What*\nFinance Approvers (ldap-corp)",
		"*Risk*\nprivileged", "*Why*\n> &lt;script&gt;"} {
		if !strings.Contains(joined, want) {
			t.Errorf("payload lacks %q:\n%s", want, joined)
		}
	}
}

func TestSlackLinkCannotBeForged(t *testing.T) {
	m := testMessage()
	m.Link = "https://gatehouse.example.com/r?a=1&b=<2>|evil"
	p := m.Slack()
	head := p.Blocks[0].Text.Text
	if !strings.Contains(head, "<https://gatehouse.example.com/r?a=1&amp;b=&lt;2&gt;%7Cevil|REQ-000123>") {
		t.Errorf("link not escaped: %q", head)
	}
}

func TestSlackTruncatesToLimits(t *testing.T) {
	m := testMessage()
	m.Why = strings.Repeat("é", 5000)
	for i := range 15 {
		m.Fields = append(m.Fields, Field{Key: "k", Value: strings.Repeat("x", 3000+i)})
	}
	p := m.Slack()
	for _, bl := range p.Blocks {
		if bl.Text != nil && len([]rune(bl.Text.Text)) > slackTextMax {
			t.Errorf("text of %d characters", len([]rune(bl.Text.Text)))
		}
		if len(bl.Fields) > slackFields {
			t.Errorf("%d fields", len(bl.Fields))
		}
		for _, f := range bl.Fields {
			if len([]rune(f.Text)) > slackFieldMax {
				t.Errorf("field of %d characters", len([]rune(f.Text)))
			}
		}
	}
}
