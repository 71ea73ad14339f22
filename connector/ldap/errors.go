package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
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

// classify wraps err with what was being done and marks it Permanent when retrying cannot help.
// Everything else — network errors (the connection dropped, the server is down), busy,
// unavailable, time and admin limits, codes we do not know — is retryable: every operation is
// idempotent, so trying again is safe, and the job queue bounds the attempts.
func classify(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	wrapped := fmt.Errorf(format+": %w", append(args, err)...)
	if connector.IsPermanent(err) {
		return wrapped
	}
	var le *goldap.Error
	if errors.As(err, &le) && permanentCodes[le.ResultCode] {
		return connector.Permanent(wrapped)
	}
	if isCertificateError(err) {
		return connector.Permanent(wrapped)
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
