package ldaptest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// A Samba Active Directory domain controller for tests of the AD flavor. Samba's LDAP server
// listens on the fixed ports 389 and 636, so only one runs at a time on a machine: Samba
// holds an exclusive lock file while it runs.
const (
	SambaPath     = "/usr/sbin/samba"
	SambaToolPath = "/usr/bin/samba-tool"

	ADBaseDN        = "DC=example,DC=com"
	ADAdminDN       = "CN=Administrator,CN=Users,DC=example,DC=com"
	ADAdminPassword = "Gatehouse-Test-1!"
	ADURL           = "ldaps://127.0.0.1:636"
	sambaLock       = "/tmp/gatehouse-samba-ad.lock"
)

// Samba is a running Samba AD DC.
type Samba struct {
	Dir    string
	CAFile string // the CA of the server certificate
	cmd    *exec.Cmd
	done   chan struct{}
	logs   *syncBuffer
	lock   *os.File
	once   sync.Once
}

// RequireSamba skips the test when Samba AD is not installed or the test does not run as root
// (samba needs it), or fails it when CI=true and GATEHOUSE_TEST_SAMBA=1 (CI opts in: the
// package is large).
func RequireSamba(t testing.TB) {
	t.Helper()
	_, err1 := os.Stat(SambaPath)
	_, err2 := os.Stat(SambaToolPath)
	var msg string
	switch {
	case err1 != nil || err2 != nil:
		msg = "Samba AD is not installed (" + SambaPath + "): apt-get install samba samba-ad-dc"
	case os.Geteuid() != 0:
		msg = "Samba AD needs root"
	default:
		return
	}
	if os.Getenv("CI") == "true" && os.Getenv("GATEHOUSE_TEST_SAMBA") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// StartSamba provisions a fresh domain (EXAMPLE.COM, no DNS) in a temporary directory, starts
// its LDAP service on 127.0.0.1 and stops it when the test ends. Provisioning takes a few
// seconds: share one per test function.
func StartSamba(t testing.TB) *Samba {
	t.Helper()
	RequireSamba(t)
	lock, err := os.OpenFile(sambaLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("samba lock: %v", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		lock.Close()
		t.Fatalf("samba lock: %v", err)
	}
	s := &Samba{Dir: t.TempDir(), logs: new(syncBuffer), lock: lock}
	t.Cleanup(s.stop)
	conf := filepath.Join(s.Dir, "etc", "smb.conf")
	prov := exec.Command(SambaToolPath, "domain", "provision", "--realm=EXAMPLE.COM", "--domain=EXAMPLE",
		"--server-role=dc", "--dns-backend=NONE", "--adminpass="+ADAdminPassword, "--host-name=dc1",
		"--targetdir="+s.Dir, "--option=interfaces=lo", "--option=bind interfaces only=yes")
	if out, err := prov.CombinedOutput(); err != nil {
		t.Fatalf("samba-tool domain provision: %v\n%s", err, out)
	}
	// Our own certificate for 127.0.0.1: the one Samba generates names DC1.example.com and
	// has a random serial number that is sometimes negative, which Go rejects.
	if err := writeTLS(s.Dir); err != nil {
		t.Fatalf("samba tls: %v", err)
	}
	s.CAFile = filepath.Join(s.Dir, "ca.pem")
	cmd := exec.Command(SambaPath, "-i", "-s", conf, "--option=server services=ldap",
		"--option=ldap server require strong auth=no",
		"--option=tls keyfile="+filepath.Join(s.Dir, "server.key"),
		"--option=tls certfile="+filepath.Join(s.Dir, "server.pem"),
		"--option=tls cafile="+s.CAFile)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start samba: %v", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.done:
			t.Fatalf("samba exited at start: %s", s.logs.String())
		default:
		}
		c, err := ldap.DialURL(ADURL, ldap.DialWithTLSConfig(s.tlsConfig(t)),
			ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
		if err == nil {
			err = c.Bind(ADAdminDN, ADAdminPassword)
			c.Close()
			if err == nil {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("samba did not answer on %s within 60s: %v\n%s", ADURL, err, s.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Samba) stop() {
	s.once.Do(func() {
		if s.cmd != nil {
			// samba runs a process group (prefork); stop them all.
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
				<-s.done
			}
		}
		_ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		s.lock.Close()
	})
}

// Conn returns an admin connection over ldaps, closed when the test ends.
func (s *Samba) Conn(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(ADURL, ldap.DialWithTLSConfig(s.tlsConfig(t)))
	if err != nil {
		t.Fatalf("dial samba: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(ADAdminDN, ADAdminPassword); err != nil {
		t.Fatalf("bind samba: %v", err)
	}
	return c
}

// OU creates OU=name under the domain and returns its DN: tests sharing one domain each work
// in their own OU.
func (s *Samba) OU(t testing.TB, name string) string {
	t.Helper()
	dn := fmt.Sprintf("OU=%s,%s", ldap.EscapeDN(name), ADBaseDN)
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "organizationalUnit"})
	req.Attribute("ou", []string{name})
	if err := s.Conn(t).Add(req); err != nil {
		t.Fatalf("create %s: %v", dn, err)
	}
	return dn
}

// Settings returns catalog connector settings (flavor ad) for accounts and groups under ou,
// over ldaps (AD sets passwords only over TLS), trusting the test CA.
func (s *Samba) Settings(ou string) map[string]any {
	pw := filepath.Join(s.Dir, "bind_password")
	_ = os.WriteFile(pw, []byte(ADAdminPassword+"\n"), 0o600)
	return map[string]any{
		"url":                ADURL,
		"bind_dn":            ADAdminDN,
		"bind_password_file": pw,
		"users_dn":           ou,
		"groups_dn":          ou,
		"flavor":             "ad",
		"ca_file":            s.CAFile,
		"timeout":            "10s",
	}
}

// Logs returns what samba printed.
func (s *Samba) Logs() string { return s.logs.String() }

func (s *Samba) tlsConfig(t testing.TB) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatalf("samba ca: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}
