// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on loopback for tests:
// STARTTLS or implicit TLS with a throwaway certificate, AUTH PLAIN, and every message it
// accepts kept for the test to read. It is the protocol implementation a mail relay would
// speak, not a stand-in for the sender under test.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure the server.
type Options struct {
	User, Password string // when User is set, MAIL needs AUTH PLAIN with these
	ImplicitTLS    bool   // smtps: TLS from the first byte (otherwise STARTTLS is offered)
	NoTLS          bool   // offer no STARTTLS (a downgraded or misconfigured relay)
	// Refuse answers RCPT TO these addresses with 550.
	Refuse []string
}

// Received is one accepted message.
type Received struct {
	From     string
	To       []string
	Data     []byte
	AuthUser string // who logged in ("" when nobody did)
	TLS      bool   // whether the session was encrypted
}

// Server is a running SMTP server.
type Server struct {
	Addr string // host:port on 127.0.0.1
	// ClientTLS trusts the server's certificate (for the sender under test).
	ClientTLS *tls.Config

	opts    Options
	cert    tls.Certificate
	mu      sync.Mutex
	srv     *smtp.Server
	ln      net.Listener
	msgs    []Received
	arrived chan struct{}
}

// Start starts a server, stopped when the test ends.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	cert, pool, err := selfSigned()
	if err != nil {
		tb.Fatalf("smtptest: certificate: %v", err)
	}
	s := &Server{opts: o, cert: cert, ClientTLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"},
		arrived: make(chan struct{}, 1)}
	s.listen(tb, "127.0.0.1:0")
	tb.Cleanup(s.Stop)
	return s
}

func (s *Server) listen(tb testing.TB, addr string) {
	tb.Helper()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c}, nil
	}))
	srv.Domain = "smtptest.local"
	if !s.opts.NoTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.cert}}
	}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = discard{}
	var ln net.Listener
	var err error
	if s.opts.ImplicitTLS {
		ln, err = tls.Listen("tcp", addr, srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		tb.Fatalf("smtptest: listen on %s: %v", addr, err)
	}
	s.mu.Lock()
	s.srv, s.ln, s.Addr = srv, ln, ln.Addr().String()
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Stop closes the server: connections are refused until Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// Close the listener too: Serve may not have registered it with the server yet.
		_ = ln.Close()
		_ = srv.Close()
	}
}

// Restart listens again on the same address, keeping the messages received so far.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.listen(tb, s.Addr)
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Wait returns once n messages have arrived, or fails the test after timeout.
func (s *Server) Wait(tb testing.TB, n int, timeout time.Duration) []Received {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.arrived:
		case <-deadline:
			tb.Fatalf("smtptest: %d message(s) after %s, want %d", len(s.Messages()), timeout, n)
		}
	}
}

type session struct {
	s    *Server
	c    *smtp.Conn
	user string
	from string
	to   []string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if x.s.opts.User == "" || username != x.s.opts.User || password != x.s.opts.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		x.user = username
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.User != "" && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	for _, r := range x.s.opts.Refuse {
		if strings.EqualFold(r, to) {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := x.c.TLSConnectionState()
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, Received{From: x.from, To: x.to, Data: bytes.Clone(b), AuthUser: x.user, TLS: isTLS})
	x.s.mu.Unlock()
	select {
	case x.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

type discard struct{}

func (discard) Printf(string, ...interface{}) {}
func (discard) Println(...interface{})        {}

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
