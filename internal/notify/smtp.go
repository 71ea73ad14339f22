package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPConfig configures email delivery. The password is never part of the URL: it is read,
// at each delivery, from an environment variable or a file (a mounted secret), so a rotated
// secret takes effect without a restart and the URL can be logged.
type SMTPConfig struct {
	// URL: smtp://[user@]host[:port][?starttls=false][&timeout=30s] (port 587, STARTTLS
	// required unless starttls=false, which only a loopback relay without a user may use)
	// or smtps://[user@]host[:port] (implicit TLS, port 465).
	URL string
	// From is the sender, e.g. "Gatehouse <gatehouse@example.com>".
	From string
	// PasswordEnv or PasswordFile names where the password of the URL's user is (one of them
	// when the URL has a user).
	PasswordEnv, PasswordFile string
	// TLSConfig verifies the server (nil: the system's roots, as SSL_CERT_FILE may extend).
	TLSConfig *tls.Config
	// Timeout bounds one delivery: connecting, TLS, every command (default 30s).
	Timeout time.Duration
	// Getenv reads the environment (nil: os.Getenv).
	Getenv func(string) string
	// Now stamps the Date header (nil: time.Now).
	Now func() time.Time
}

// SMTPSender delivers messages by SMTP with AUTH PLAIN over TLS.
type SMTPSender struct {
	addr, host        string
	implicitTLS       bool
	startTLS          bool
	user              string
	from              *mail.Address
	fromDomain        string
	passEnv, passFile string
	tls               *tls.Config
	timeout           time.Duration
	getenv            func(string) string
	now               func() time.Time
}

// NewSMTPSender checks the configuration; it does not connect.
func NewSMTPSender(c SMTPConfig) (*SMTPSender, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		// url.Parse's error quotes the URL, which may hold a password by mistake.
		return nil, errors.New("smtp URL: cannot parse it; use smtp://user@host:587 or smtps://user@host:465")
	}
	if _, has := u.User.Password(); has {
		return nil, fmt.Errorf("smtp URL %s: do not put the password in the URL; name an environment variable or a file that holds it",
			u.Redacted())
	}
	s := &SMTPSender{host: u.Hostname(), user: u.User.Username(), passEnv: c.PasswordEnv, passFile: c.PasswordFile,
		timeout: c.Timeout, getenv: c.Getenv, now: c.Now}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		s.startTLS, port = true, or(port, "587")
	case "smtps":
		s.implicitTLS, port = true, or(port, "465")
	default:
		return nil, fmt.Errorf("smtp URL %s: scheme must be smtp or smtps", u.Redacted())
	}
	if s.host == "" {
		return nil, fmt.Errorf("smtp URL %s: no host", u.Redacted())
	}
	s.addr = net.JoinHostPort(s.host, port)
	for k, v := range u.Query() {
		switch k {
		case "starttls":
			if u.Scheme != "smtp" || (v[0] != "true" && v[0] != "false") {
				return nil, fmt.Errorf("smtp URL %s: starttls=true|false, with smtp:// only", u.Redacted())
			}
			s.startTLS = v[0] == "true"
		case "timeout":
			if s.timeout, err = time.ParseDuration(v[0]); err != nil || s.timeout <= 0 {
				return nil, fmt.Errorf("smtp URL %s: timeout %q: use a duration such as 30s", u.Redacted(), v[0])
			}
		default:
			return nil, fmt.Errorf("smtp URL %s: unknown parameter %q (starttls, timeout)", u.Redacted(), k)
		}
	}
	if s.user != "" && c.PasswordEnv == "" && c.PasswordFile == "" {
		return nil, fmt.Errorf("smtp URL %s has a user: name the password's environment variable or file", u.Redacted())
	}
	if c.PasswordEnv != "" && c.PasswordFile != "" {
		return nil, errors.New("smtp: name the password's environment variable or its file, not both")
	}
	if !s.startTLS && !s.implicitTLS && !isLoopback(s.host) {
		return nil, fmt.Errorf("smtp URL %s: starttls=false sends mail in clear text; only a relay on loopback may do that", u.Redacted())
	}
	if !s.startTLS && !s.implicitTLS && s.user != "" {
		return nil, fmt.Errorf("smtp URL %s: a password is only sent over TLS", u.Redacted())
	}
	if s.from, err = mail.ParseAddress(c.From); err != nil || c.From == "" || strings.ContainsAny(c.From, "\r\n") {
		return nil, fmt.Errorf("smtp from address %q: use e.g. \"Gatehouse <gatehouse@example.com>\"", c.From)
	}
	s.fromDomain = s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	if c.TLSConfig != nil {
		s.tls = c.TLSConfig.Clone()
	} else {
		s.tls = &tls.Config{}
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = s.host
	}
	s.tls.MinVersion = max(s.tls.MinVersion, tls.VersionTLS12)
	if s.timeout <= 0 {
		s.timeout = 30 * time.Second
	}
	if s.getenv == nil {
		s.getenv = os.Getenv
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// localName is the name this host gives in EHLO.
func localName() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String describes the sender without its secret.
func (s *SMTPSender) String() string {
	scheme, q := "smtp", ""
	if s.implicitTLS {
		scheme = "smtps"
	} else if !s.startTLS {
		q = "?starttls=false"
	}
	u := url.URL{Scheme: scheme, Host: s.addr, RawQuery: strings.TrimPrefix(q, "?")}
	if s.user != "" {
		u.User = url.User(s.user)
	}
	return u.String()
}

// password reads the secret at each delivery, so that a rotated one applies at once. Its
// errors name where it was looked for, never what was found.
func (s *SMTPSender) password() (string, error) {
	switch {
	case s.passEnv != "":
		p := s.getenv(s.passEnv)
		if p == "" {
			return "", fmt.Errorf("smtp password: environment variable %s is empty", s.passEnv)
		}
		return p, nil
	case s.passFile != "":
		b, err := os.ReadFile(s.passFile)
		if err != nil {
			return "", fmt.Errorf("smtp password: read %s: %w", s.passFile, errors.Unwrap(err))
		}
		p := strings.TrimRight(string(b), "\r\n")
		if p == "" {
			return "", fmt.Errorf("smtp password: %s is empty", s.passFile)
		}
		return p, nil
	}
	return "", nil
}

// Send delivers m to its recipients. A recipient the server refuses for good is skipped (and
// named in the error when nobody is left); a failure to connect, a temporary refusal or a
// failed login is retryable.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return Permanent(err)
	}
	if len(m.To) == 0 {
		return Permanent(fmt.Errorf("mail %s: no recipients", m.Reference))
	}
	body, err := s.Compose(m)
	if err != nil {
		return Permanent(err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	if err := s.deliver(ctx, m, body); err != nil {
		return fmt.Errorf("mail %s via %s: %w", m.Reference, s.addr, err)
	}
	return nil
}

func (s *SMTPSender) deliver(ctx context.Context, m Message, body []byte) error {
	d := net.Dialer{Timeout: s.timeout}
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// A cancelled job (shutdown) or a stuck server ends the conversation.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var c *smtp.Client
	switch {
	case s.implicitTLS:
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		c = smtp.NewClient(tc)
	case s.startTLS:
		// NewClientStartTLS refuses a server that does not offer STARTTLS: a man in the
		// middle that strips it must not get the password or the mail.
		if c, err = smtp.NewClientStartTLS(conn, s.tls); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = s.timeout, s.timeout
	// EHLO now, over TLS when there is TLS: go-smtp would otherwise hide a failed handshake
	// behind "no AUTH offered".
	if err := c.Hello(localName()); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if s.user != "" {
		pass, err := s.password()
		if err != nil {
			return err
		}
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server does not offer AUTH")
		}
		if err := c.Auth(sasl.NewPlainClient("", s.user, pass)); err != nil {
			// Retryable: a fixed password file delivers the mail on the next attempt.
			return fmt.Errorf("login as %s: %w", s.user, err)
		}
	}
	if err := c.Mail(s.from.Address, nil); err != nil {
		return smtpErr("MAIL FROM", err)
	}
	var refused []string
	for _, r := range m.To {
		if err := c.Rcpt(r.Email, nil); err != nil {
			if IsPermanent(smtpErr("", err)) {
				refused = append(refused, fmt.Sprintf("%s (%v)", r.Email, err))
				continue
			}
			return smtpErr("RCPT TO "+r.Email, err)
		}
	}
	if len(refused) == len(m.To) {
		return Permanent(fmt.Errorf("every recipient refused: %s", strings.Join(refused, "; ")))
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr("DATA", err)
	}
	if _, err := w.Write(body); err != nil {
		return smtpErr("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpErr("DATA", err)
	}
	_ = c.Quit()
	if len(refused) > 0 {
		// The others have it: retrying would send it to them again.
		return Permanent(fmt.Errorf("delivered, but refused for %s", strings.Join(refused, "; ")))
	}
	return nil
}

// smtpErr marks a 5xx answer (other than to AUTH) as permanent: the server will refuse this
// message or recipient again.
func smtpErr(stage string, err error) error {
	var se *smtp.SMTPError
	if stage != "" {
		err = fmt.Errorf("%s: %w", stage, err)
	}
	if errors.As(err, &se) && se.Code >= 500 && se.Code < 600 {
		return Permanent(err)
	}
	return err
}

// Compose renders m as an RFC 5322 message: multipart/alternative with a plain-text and an
// HTML part, both quoted-printable UTF-8.
func (s *SMTPSender) Compose(m Message) ([]byte, error) {
	html, err := m.HTML()
	if err != nil {
		return nil, err
	}
	id := m.ID
	if id == "" {
		id = newID()
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	to := make([]string, len(m.To))
	for i, r := range m.To {
		to[i] = (&mail.Address{Name: headerSafe(r.Name), Address: r.Email}).String()
	}
	h := []struct{ k, v string }{
		{"From", s.from.String()},
		{"To", strings.Join(to, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", headerSafe(m.Subject))},
		{"Date", s.now().Format(time.RFC1123Z)},
		{"Message-ID", "<" + id + "@" + s.fromDomain + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()})},
		// RFC 3834: no out-of-office replies to a machine.
		{"Auto-Submitted", "auto-generated"},
		{"X-Gatehouse-Event", string(m.Event)},
	}
	if ref := headerSafe(m.Reference); ref != "" {
		h = append(h, struct{ k, v string }{"X-Gatehouse-Reference", mime.QEncoding.Encode("utf-8", ref)})
	}
	var head bytes.Buffer
	for _, x := range h {
		fmt.Fprintf(&head, "%s: %s\r\n", x.k, x.v)
	}
	head.WriteString("\r\n")
	for _, part := range []struct{ ctype, body string }{{"text/plain; charset=utf-8", m.Text()}, {"text/html; charset=utf-8", html}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(strings.ReplaceAll(part.body, "\n", "\r\n"))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return append(head.Bytes(), b.Bytes()...), nil
}

// headerSafe keeps a header value on one line: a name or subject with a line break must not
// add headers of its own.
func headerSafe(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}
