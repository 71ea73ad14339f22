// Package ldaptest starts a real OpenLDAP slapd for tests: its own configuration and database
// in a temporary directory, a free loopback port, the base entries of a small company
// directory, and Stop/Start for outage tests. Connector tests and end-to-end tests use it.
//
// When slapd is not installed the test is skipped, except under CI=true where a missing server
// is a failure: CI must never pass by testing nothing.
package ldaptest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Paths of the Debian slapd package; .ci/run installs it.
const (
	SlapdPath   = "/usr/sbin/slapd"
	SlapaddPath = "/usr/sbin/slapadd"
	schemaDir   = "/etc/ldap/schema"
	moduleDir   = "/usr/lib/ldap"
)

// The directory every test server holds.
const (
	BaseDN        = "dc=example,dc=com"
	AdminDN       = "cn=admin,dc=example,dc=com"
	AdminPassword = "gatehouse-test-secret"
	PeopleDN      = "ou=people,dc=example,dc=com"
	GroupsDN      = "ou=groups,dc=example,dc=com"
	DisabledDN    = "ou=disabled,dc=example,dc=com"
)

// BaseLDIF is loaded into every server: the suffix and the three containers.
const BaseLDIF = `dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=com
objectClass: organizationalUnit
ou: groups

dn: ou=disabled,dc=example,dc=com
objectClass: organizationalUnit
ou: disabled

`

// Options change what Start sets up.
type Options struct {
	// LDIF is loaded with slapadd before the server starts, after BaseLDIF: far faster than
	// adding entries over LDAP, which matters for large directories.
	LDIF []byte
	// LDIFFile is like LDIF, read from a file (for generated directories too big for memory).
	LDIFFile string
	// Dir holds the configuration and database; default t.TempDir().
	Dir string
	// Port to listen on; default a free port.
	Port int
	// TLS makes the server offer StartTLS on URL and listen for ldaps on LDAPSURL, with a
	// certificate for 127.0.0.1 signed by a throwaway CA (CAFile).
	TLS bool
}

// Server is a running (or stopped) slapd.
type Server struct {
	URL      string // ldap://127.0.0.1:PORT
	Port     int
	Dir      string
	LDAPSURL string // ldaps://127.0.0.1:PORT2 when Options.TLS
	CAFile   string // the CA that signed the server certificate, when Options.TLS

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	conf string
	logs *syncBuffer
}

// syncBuffer collects slapd's output; exec writes it from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Installed reports whether slapd is available.
func Installed() bool {
	_, err := os.Stat(SlapdPath)
	return err == nil
}

// Require skips the test when slapd is missing, or fails it under CI=true.
func Require(t testing.TB) {
	t.Helper()
	if Installed() {
		return
	}
	msg := "OpenLDAP slapd is not installed (" + SlapdPath + "): apt-get install slapd ldap-utils"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Start configures, seeds and starts a slapd, and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	Require(t)
	dir := opts.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := Setup(dir, opts)
	if err != nil {
		t.Fatalf("slapd: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("slapd stop: %v", err)
		}
	})
	if err := s.Start(); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	return s
}

// Setup writes the configuration and loads the database in dir without starting the server
// (benchmarks use it outside a test). Call Start, and Stop when done.
func Setup(dir string, opts Options) (*Server, error) {
	if !Installed() {
		return nil, errors.New("slapd is not installed")
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, err
	}
	port := opts.Port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	s := &Server{
		URL:  fmt.Sprintf("ldap://127.0.0.1:%d", port),
		Port: port,
		Dir:  dir,
		conf: filepath.Join(dir, "slapd.conf"),
		logs: new(syncBuffer),
	}
	conf := config(dir)
	if opts.TLS {
		if err := writeTLS(dir); err != nil {
			return nil, fmt.Errorf("tls certificates: %w", err)
		}
		tlsPort, err := freePort()
		if err != nil {
			return nil, err
		}
		s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", tlsPort)
		s.CAFile = filepath.Join(dir, "ca.pem")
		// Global directives must come before the first database.
		conf = fmt.Sprintf("TLSCACertificateFile %s/ca.pem\nTLSCertificateFile %s/server.pem\nTLSCertificateKeyFile %s/server.key\n",
			dir, dir, dir) + conf
	}
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	// slapadd loads offline; -q skips consistency checks we do not need on generated data.
	load := func(args ...string) error {
		cmd := exec.Command(SlapaddPath, append([]string{"-q", "-f", s.conf}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("slapadd: %v: %s", err, out)
		}
		return nil
	}
	base := filepath.Join(dir, "base.ldif")
	if err := os.WriteFile(base, []byte(BaseLDIF), 0o600); err != nil {
		return nil, err
	}
	if err := load("-l", base); err != nil {
		return nil, err
	}
	if len(opts.LDIF) > 0 {
		p := filepath.Join(dir, "seed.ldif")
		if err := os.WriteFile(p, opts.LDIF, 0o600); err != nil {
			return nil, err
		}
		if err := load("-l", p); err != nil {
			return nil, err
		}
	}
	if opts.LDIFFile != "" {
		if err := load("-l", opts.LDIFFile); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// config is a slapd.conf for an mdb database on dir. dbnosync trades durability on power loss
// (irrelevant for a test server) for much faster writes.
func config(dir string) string {
	var b strings.Builder
	for _, s := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include %s/%s.schema\n", schemaDir, s)
	}
	fmt.Fprintf(&b, `modulepath %s
moduleload back_mdb
pidfile %s/slapd.pid
argsfile %s/slapd.args
sizelimit unlimited
database mdb
maxsize 4294967296
suffix "%s"
rootdn "%s"
rootpw %s
directory %s/db
dbnosync
index objectClass eq
index uid,mail,employeeNumber eq
index member eq
index entryUUID eq
`, moduleDir, dir, dir, BaseDN, AdminDN, AdminPassword, dir)
	return b.String()
}

// Start starts the server (again, after Stop: same port and data) and waits until it answers.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	listen := s.URL + "/"
	if s.LDAPSURL != "" {
		listen += " " + s.LDAPSURL + "/"
	}
	cmd := exec.Command(SlapdPath, "-h", listen, "-f", s.conf, "-d", "0")
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start slapd: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("slapd exited at start: %s", s.logs.String())
		default:
		}
		if c, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second})); err == nil {
			err = c.Bind(AdminDN, AdminPassword)
			c.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("slapd did not answer on %s within 15s: %s", s.URL, s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.cmd, s.done = cmd, done
	return nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 10s); Start brings it back with its data.
// Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a frozen server cannot act on SIGTERM
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd, s.done = nil, nil
	return nil
}

// Freeze suspends the server (SIGSTOP): connections stay open and nothing answers, like a hung
// directory. Thaw resumes it.
func (s *Server) Freeze() error { return s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("slapd is not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		return err
	}
	if sig == syscall.SIGSTOP {
		// Signal delivery is asynchronous: a thread running on another CPU may still answer a
		// request or two. Wait until every thread of slapd is really stopped.
		return waitStopped(s.cmd.Process.Pid, 5*time.Second)
	}
	return nil
}

// waitStopped waits until every thread of pid is in the stopped state ('T' in /proc).
func waitStopped(pid int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		if err != nil || len(tasks) == 0 {
			return nil // no /proc here: nothing better to wait on
		}
		stopped := true
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			// The state follows the command name, which is in parentheses and may hold spaces.
			if i := strings.LastIndexByte(string(b), ')'); i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
				stopped = false
				break
			}
		}
		if stopped {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("slapd (pid %d) did not stop within %s", pid, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Conn returns an admin connection for changes behind the connector's back; it is closed when
// the test ends.
func (s *Server) Conn(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatalf("dial slapd: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(AdminDN, AdminPassword); err != nil {
		t.Fatalf("bind slapd: %v", err)
	}
	return c
}

// Settings returns catalog connector settings for this server (type ldap, OpenLDAP flavor),
// with the admin password given by reference in a file under the server's directory.
func (s *Server) Settings() map[string]any {
	pw := filepath.Join(s.Dir, "bind_password")
	_ = os.WriteFile(pw, []byte(AdminPassword+"\n"), 0o600)
	return map[string]any{
		"url":                s.URL,
		"bind_dn":            AdminDN,
		"bind_password_file": pw,
		"users_dn":           PeopleDN,
		"groups_dn":          GroupsDN,
		"disabled_dn":        DisabledDN,
		"flavor":             "openldap",
		"timeout":            "5s",
	}
}

// Logs returns what slapd printed, for failure messages.
func (s *Server) Logs() string { return s.logs.String() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return strconv.Atoi(p)
}
