package connector

import (
	"errors"
	"fmt"
)

// Failure says, in terms a system owner understands, why a connector could not do its work:
// `gatehouse systems test`, the system page and the operations list explain a failure by its
// kind instead of showing a protocol error alone.
type Failure string

const (
	FailUnreachable Failure = "unreachable" // no answer: wrong host or port, DNS, connection refused, timeout
	FailTLS         Failure = "tls"         // the TLS handshake failed: certificate not trusted, wrong name, not TLS
	FailURL         Failure = "url"         // the server answered, but not as the expected service at that URL (404 on the base path, HTML instead of SCIM)
	FailCredentials Failure = "credentials" // the server refused who we are: bad token, password or bind DN (401, LDAP 49)
	FailPermission  Failure = "permission"  // we are known but not allowed to do this (403, LDAP 50)
	FailConfig      Failure = "config"      // a setting is wrong or missing: a container DN that does not exist, a secret not set
	FailServer      Failure = "server"      // the server failed (5xx, LDAP busy/unavailable); retrying may help
)

// Explain is the plain-words explanation of a failure kind, for people.
func (f Failure) Explain() string {
	switch f {
	case FailUnreachable:
		return "Gatehouse cannot reach the server: check the URL's host and port, DNS and firewalls, and that the server is running."
	case FailTLS:
		return "The secure connection failed: the server's certificate is not trusted (set ca_file), names another host, or the server does not speak TLS on that port."
	case FailURL:
		return "The server answered, but not as the expected service at that URL: check the URL's path (a SCIM base URL usually ends in /scim/v2)."
	case FailCredentials:
		return "The server refused the credentials: the token or password is wrong or expired, or the secret reference points at the wrong value."
	case FailPermission:
		return "The credentials are valid but lack a permission Gatehouse needs: grant the account the rights to read and write users and groups."
	case FailConfig:
		return "A connector setting is wrong or missing: see the detail for which one."
	case FailServer:
		return "The server reported an error of its own; it may be overloaded or misconfigured. Retrying later may work."
	}
	return "The check failed; see the detail."
}

// CheckError is a failed check or operation with its kind and the step that failed ("bind",
// "read users_dn", "GET /ServiceProviderConfig"). It wraps the original error, so IsPermanent and
// errors.Is still see through it. Connectors return it from Check, and may from operations.
type CheckError struct {
	Kind Failure
	Step string
	Err  error
}

func (e *CheckError) Error() string {
	if e.Step == "" {
		return fmt.Sprintf("%s: %v", e.Kind, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Step, e.Kind, e.Err)
}
func (e *CheckError) Unwrap() error { return e.Err }

// Failed wraps err as a CheckError of kind at step. Failed(_, _, nil) is nil.
func Failed(kind Failure, step string, err error) error {
	if err == nil {
		return nil
	}
	return &CheckError{Kind: kind, Step: step, Err: err}
}

// FailureOf returns the kind of a failure, or "" when err carries none.
func FailureOf(err error) Failure {
	var c *CheckError
	if errors.As(err, &c) {
		return c.Kind
	}
	return ""
}
