package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse/connector"
)

// permanentCodes are LDAP results that the same request will get again: the request, the
// configuration or the directory's data must change first.
var permanentCodes = map[uint16]bool{
	goldap.LDAPResultOperationsError:              true,
	goldap.LDAPResultProtocolError:                true,
	goldap.LDAPResultAuthMethodNotSupported:       true,
	goldap.LDAPResultStrongAuthRequired:           true,
	goldap.LDAPResultUnavailableCriticalExtension: true,
	goldap.LDAPResultConfidentialityRequired:      true,
	goldap.LDAPResultNoSuchAttribute:              true,
	goldap.LDAPResultUndefinedAttributeType:       true,
	goldap.LDAPResultInappropriateMatching:        true,
	goldap.LDAPResultConstraintViolation:          true,
	goldap.LDAPResultAttributeOrValueExists:       true,
	goldap.LDAPResultInvalidAttributeSyntax:       true,
	goldap.LDAPResultNoSuchObject:                 true,
	goldap.LDAPResultInvalidDNSyntax:              true,
	goldap.LDAPResultAliasDereferencingProblem:    true,
	goldap.LDAPResultInappropriateAuthentication:  true,
	goldap.LDAPResultInvalidCredentials:           true,
	goldap.LDAPResultInsufficientAccessRights:     true,
	goldap.LDAPResultUnwillingToPerform:           true,
	goldap.LDAPResultNamingViolation:              true,
	goldap.LDAPResultObjectClassViolation:         true,
	goldap.LDAPResultNotAllowedOnNonLeaf:          true,
	goldap.LDAPResultNotAllowedOnRDN:              true,
	goldap.LDAPResultEntryAlreadyExists:           true,
	goldap.LDAPResultObjectClassModsProhibited:    true,
	goldap.LDAPResultAffectsMultipleDSAs:          true,
	goldap.ErrorFilterCompile:                     true,
	goldap.ErrorEmptyPassword:                     true,
}

// classify wraps err with what was being done, marks it Permanent when retrying cannot help,
// and names its connector.Failure kind when it has one.
// Everything else — network errors (the connection dropped, the server is down), busy,
// unavailable, time and admin limits, codes we do not know — is retryable: every operation is
// idempotent, so trying again is safe, and the job queue bounds the attempts.
func classify(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	wrapped := fmt.Errorf(format+": %w", append(args, err)...)
	var le *goldap.Error
	switch {
	case connector.IsPermanent(err):
	case errors.As(err, &le) && permanentCodes[le.ResultCode], isCertificateError(err):
		wrapped = connector.Permanent(wrapped)
	}
	// The kind says what a person has to fix (the operations list and `systems test` show it);
	// an error that has one already (from the connection it needed) keeps it.
	if connector.FailureOf(err) == "" {
		if kind := failureKind(err); kind != "" {
			return connector.Failed(kind, "", wrapped)
		}
	}
	return wrapped
}

// isCertificateError reports whether err is a server certificate the client rejects: that
// needs ca_file (or the server's certificate) fixed, not a retry. go-ldap reports a failed
// StartTLS handshake with %v, losing the error chain, hence the text check.
func isCertificateError(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || strings.Contains(err.Error(), "failed to verify certificate")
}

// isCode reports whether err is an LDAP result with one of codes.
func isCode(err error, codes ...uint16) bool {
	var le *goldap.Error
	if !errors.As(err, &le) {
		return false
	}
	for _, c := range codes {
		if le.ResultCode == c {
			return true
		}
	}
	return false
}

// failureKind says, in the terms of connector.Failure, why err happened: what a person has to
// fix. It returns "" for an error it cannot place (the caller then reports it without a kind).
func failureKind(err error) connector.Failure {
	if k := connector.FailureOf(err); k != "" {
		return k
	}
	if isCertificateError(err) || isTLSError(err) {
		return connector.FailTLS
	}
	var le *goldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case goldap.LDAPResultInvalidCredentials, goldap.LDAPResultInappropriateAuthentication:
			return connector.FailCredentials
		case goldap.LDAPResultInsufficientAccessRights:
			return connector.FailPermission
		case goldap.LDAPResultNoSuchObject, goldap.LDAPResultInvalidDNSyntax, goldap.ErrorEmptyPassword,
			goldap.LDAPResultAuthMethodNotSupported, goldap.LDAPResultStrongAuthRequired,
			goldap.LDAPResultConfidentialityRequired:
			return connector.FailConfig
		case goldap.LDAPResultBusy, goldap.LDAPResultUnavailable, goldap.LDAPResultUnwillingToPerform,
			goldap.LDAPResultOther, goldap.LDAPResultAdminLimitExceeded, goldap.LDAPResultTimeLimitExceeded,
			goldap.LDAPResultOperationsError, goldap.LDAPResultLoopDetect:
			return connector.FailServer
		case goldap.ErrorNetwork:
			return connector.FailUnreachable
		}
	}
	var (
		dns *net.DNSError
		op  *net.OpError
	)
	if errors.As(err, &dns) || errors.As(err, &op) || errors.Is(err, context.DeadlineExceeded) {
		return connector.FailUnreachable
	}
	return ""
}

// isTLSError reports whether err is a failed TLS handshake other than an untrusted certificate:
// a server that does not speak TLS on the port, or that refused our handshake. go-ldap reports a
// failed StartTLS handshake with %v, losing the chain, hence the text check.
func isTLSError(err error) bool {
	var (
		header tls.RecordHeaderError
		alert  tls.AlertError
	)
	return errors.As(err, &header) || errors.As(err, &alert) ||
		strings.Contains(err.Error(), "TLS handshake failed") || strings.Contains(err.Error(), "tls: ")
}

// failed classifies err (see classify) and names its failure kind and the step that failed, so
// that `gatehouse systems test` and the operations list can explain it in plain words. An
// error that already carries a kind (from the connection it needed) keeps it.
func failed(step string, err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if connector.FailureOf(err) != "" {
		return err
	}
	err = classify(err, format, args...)
	var ce *connector.CheckError
	if errors.As(err, &ce) && ce.Step == "" {
		ce.Step = step // classify made it just now: nobody else holds it
	}
	return err
}
