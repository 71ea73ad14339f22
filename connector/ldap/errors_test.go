package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse/connector"
)

// TestFailureKind maps the errors go-ldap and the network return to the kind a person fixes;
// the slapd tests (check_test.go) cover the common ones end to end, this the ones a test
// server cannot easily produce (access denied, busy, DNS).
func TestFailureKind(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want connector.Failure
	}{
		{"refused", goldap.NewError(goldap.ErrorNetwork, refused), connector.FailUnreachable},
		{"dns", goldap.NewError(goldap.ErrorNetwork, &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}), connector.FailUnreachable},
		{"timeout", goldap.NewError(goldap.ErrorNetwork, errors.New("ldap: connection timed out")), connector.FailUnreachable},
		{"deadline", fmt.Errorf("wrapped: %w", context.DeadlineExceeded), connector.FailUnreachable},
		{"not tls", goldap.NewError(goldap.ErrorNetwork, tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), connector.FailTLS},
		{"starttls handshake", goldap.NewError(goldap.ErrorNetwork, errors.New("TLS handshake failed (EOF)")), connector.FailTLS},
		{"invalid credentials", goldap.NewError(goldap.LDAPResultInvalidCredentials, errors.New("x")), connector.FailCredentials},
		{"insufficient access", goldap.NewError(goldap.LDAPResultInsufficientAccessRights, errors.New("x")), connector.FailPermission},
		{"no such object", goldap.NewError(goldap.LDAPResultNoSuchObject, errors.New("x")), connector.FailConfig},
		{"empty password", goldap.NewError(goldap.ErrorEmptyPassword, errors.New("x")), connector.FailConfig},
		{"busy", goldap.NewError(goldap.LDAPResultBusy, errors.New("x")), connector.FailServer},
		{"unavailable", goldap.NewError(goldap.LDAPResultUnavailable, errors.New("x")), connector.FailServer},
		{"schema", goldap.NewError(goldap.LDAPResultObjectClassViolation, errors.New("x")), ""},
		{"already kinded", connector.Failed(connector.FailTLS, "connect", errors.New("x")), connector.FailTLS},
	}
	for _, tt := range tests {
		if got := failureKind(tt.err); got != tt.want {
			t.Errorf("%s: failureKind(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
}

// TestFailedKeepsPermanence: naming the kind changes nothing about retrying.
func TestFailedKeepsPermanence(t *testing.T) {
	t.Parallel()
	perm := failed("bind", goldap.NewError(goldap.LDAPResultInvalidCredentials, errors.New("bad")), "ldap bind as %s", "cn=a")
	if !connector.IsPermanent(perm) || connector.FailureOf(perm) != connector.FailCredentials {
		t.Fatalf("invalid credentials: %v, permanent %v, kind %q", perm, connector.IsPermanent(perm), connector.FailureOf(perm))
	}
	retry := failed("connect", goldap.NewError(goldap.ErrorNetwork, errors.New("refused")), "ldap dial %s", "ldap://x")
	if connector.IsPermanent(retry) || connector.FailureOf(retry) != connector.FailUnreachable {
		t.Fatalf("network: %v, permanent %v, kind %q", retry, connector.IsPermanent(retry), connector.FailureOf(retry))
	}
	var le *goldap.Error
	if !errors.As(retry, &le) {
		t.Fatal("the LDAP error is no longer reachable through errors.As")
	}
}
