package scim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// Defaults for settings the catalog may leave out.
const (
	DefaultTimeout = 30 * time.Second
	// DefaultPageSize: measured with BenchmarkInventory (20,000 users, 1,000 groups); see
	// bench_test.go. Larger pages cost the server more per request and many servers cap count
	// anyway (ServiceProviderConfig filter.maxResults).
	DefaultPageSize   = 200
	DefaultMaxRetries = 5
	// DefaultConcurrency is how many requests a reconcile may have in flight at once (account
	// creations): a few overlap the app's latency without looking like a flood to it.
	DefaultConcurrency = 4
	// MaxConcurrency bounds the setting: beyond it an app is more likely to answer 429 than
	// to go faster.
	MaxConcurrency = 32
	// MaxRetryAfter caps how long one Retry-After makes the connector wait: a server asking for
	// more is better served by the job queue's own back-off.
	MaxRetryAfter = 30 * time.Second
)

// UserName says what a new account's userName is.
type UserName string

const (
	UserNameEmail      UserName = "email"       // the identity's email (the default)
	UserNameEmployeeID UserName = "employee_id" // the HR employee id
	UserNameLocalPart  UserName = "local_part"  // the email's local part
)

// Deprovision says what disabling an account does.
type Deprovision string

const (
	DeprovisionDisable Deprovision = "disable" // PATCH active to false (the default)
	DeprovisionDelete  Deprovision = "delete"  // DELETE the user
)

// MatchBy names the attributes Inventory reports for the engine to match accounts to people.
type MatchBy string

const (
	MatchAll        MatchBy = ""           // externalId, emails and userName (the default)
	MatchUserName   MatchBy = "userName"   // userName only (as Username, and as Email when it is one)
	MatchExternalID MatchBy = "externalId" // externalId only (as EmployeeID)
	MatchEmail      MatchBy = "email"      // the primary email only
)

// Config is a SCIM connector's configuration: the catalog settings of a system with connector
// type scim.
type Config struct {
	URL          string // the SCIM base URL, e.g. https://app.example.com/scim/v2
	TokenEnv     string // bearer token by reference: an environment variable…
	TokenFile    string // …or a file
	Username     string // basic auth user (instead of a token)
	PasswordEnv  string
	PasswordFile string

	CAFile             string
	InsecureSkipVerify bool
	Timeout            time.Duration // per HTTP request

	UserName    UserName
	MatchBy     MatchBy
	Deprovision Deprovision
	PageSize    int
	MaxRetries  int // 429/503 answers waited out before an operation fails retryably
	Concurrency int // operations a reconcile may have in flight at once (connector.Concurrent)
}

// Spec declares the scim connector's settings: ParseConfig decodes them from it and catalog
// validation checks them against it.
var Spec = &gatehouse.ConnectorSpec{
	Type:        "scim",
	Description: "SCIM 2.0 service providers",
	Settings: []gatehouse.SettingSpec{
		{Name: "url", Kind: gatehouse.SettingURL, Required: true, Schemes: []string{"http", "https"},
			Description: "the SCIM base URL, e.g. https://app.example.com/scim/v2"},
		{Name: "token", Kind: gatehouse.SettingSecret, RequiredWithout: "username", Description: "the bearer token"},
		{Name: "username", Kind: gatehouse.SettingString, Description: "basic auth user, instead of a token"},
		{Name: "password", Kind: gatehouse.SettingSecret, RequiredWith: "username", Description: "basic auth password"},
		{Name: "ca_file", Kind: gatehouse.SettingString, Description: "PEM file of CAs to trust instead of the system pool"},
		{Name: "insecure_skip_verify", Kind: gatehouse.SettingBool, Description: "do not verify the server certificate (tests only)"},
		{Name: "timeout", Kind: gatehouse.SettingDuration, Default: DefaultTimeout.String(), Description: "per HTTP request"},
		{Name: "page_size", Kind: gatehouse.SettingInt, Default: strconv.Itoa(DefaultPageSize), Description: "page size of inventory reads"},
		connector.DriftSetting,
		{Name: "user_name", Kind: gatehouse.SettingString, Default: string(UserNameEmail),
			Allowed:     []string{string(UserNameEmail), string(UserNameEmployeeID), string(UserNameLocalPart)},
			Description: "what a new account's userName is"},
		{Name: "match_by", Kind: gatehouse.SettingString,
			Allowed:     []string{string(MatchUserName), string(MatchExternalID), string(MatchEmail)},
			Description: "the attributes accounts are matched to people by (unset: externalId, emails and userName)"},
		{Name: "deprovision", Kind: gatehouse.SettingString, Default: string(DeprovisionDisable),
			Allowed:     []string{string(DeprovisionDisable), string(DeprovisionDelete)},
			Description: "what disabling an account does"},
		{Name: "max_retries", Kind: gatehouse.SettingInt, Default: strconv.Itoa(DefaultMaxRetries),
			Description: "429/503 answers waited out before an operation fails retryably"},
		{Name: "concurrency", Kind: gatehouse.SettingInt, Default: strconv.Itoa(DefaultConcurrency),
			Description: fmt.Sprintf("requests a reconcile may have in flight at once (account creations; 1 to %d; each waits out 429/503 itself)", MaxConcurrency)},
	},
	Check: checkSettings,
}

// checkSettings checks what one setting's declaration cannot say: a bearer token and basic
// auth are alternatives.
func checkSettings(settings map[string]any) []gatehouse.SettingProblem {
	if settings["username"] != nil && (settings["token_env"] != nil || settings["token_file"] != nil) {
		return []gatehouse.SettingProblem{{Setting: "username", Message: "set a bearer token or basic auth (username and password), not both"}}
	}
	return nil
}

// ParseConfig reads a Config from catalog settings and checks it. Errors are Permanent and name
// the setting, never its value.
func ParseConfig(settings map[string]any) (*Config, error) {
	v, errs := connector.Decode(Spec, settings)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, connector.Failed(connector.FailConfig, "settings", connector.Permanentf("%s", strings.Join(msgs, "; ")))
	}
	c := Config{
		URL: v.String("url"), TokenEnv: v.String("token_env"), TokenFile: v.String("token_file"),
		Username: v.String("username"), PasswordEnv: v.String("password_env"), PasswordFile: v.String("password_file"),
		CAFile: v.String("ca_file"), InsecureSkipVerify: v.Bool("insecure_skip_verify"), Timeout: v.Duration("timeout"),
		UserName: UserName(v.String("user_name")), MatchBy: MatchBy(v.String("match_by")),
		Deprovision: Deprovision(v.String("deprovision")), PageSize: v.Int("page_size"), MaxRetries: v.Int("max_retries"),
		Concurrency: v.Int("concurrency"),
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// validate fills defaults and checks the configuration.
func (c *Config) validate() error {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.UserName == "" {
		c.UserName = UserNameEmail
	}
	if c.Deprovision == "" {
		c.Deprovision = DeprovisionDisable
	}
	var problems []string
	if c.Concurrency > MaxConcurrency {
		problems = append(problems, fmt.Sprintf("concurrency %d: at most %d", c.Concurrency, MaxConcurrency))
	}
	switch c.UserName {
	case UserNameEmail, UserNameEmployeeID, UserNameLocalPart:
	default:
		problems = append(problems, fmt.Sprintf("user_name %q: not one of email, employee_id, local_part", c.UserName))
	}
	switch c.MatchBy {
	case MatchAll, MatchUserName, MatchExternalID, MatchEmail:
	default:
		problems = append(problems, fmt.Sprintf("match_by %q: not one of userName, externalId, email", c.MatchBy))
	}
	switch c.Deprovision {
	case DeprovisionDisable, DeprovisionDelete:
	default:
		problems = append(problems, fmt.Sprintf("deprovision %q: not one of disable, delete", c.Deprovision))
	}
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		problems = append(problems, "url: required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		problems = append(problems, "url: must be http://host/path or https://host/path")
	case u.User != nil:
		problems = append(problems, "url: must not hold credentials (use token_env/token_file or username and password_env/password_file)")
	}
	token := c.TokenEnv != "" || c.TokenFile != ""
	password := c.PasswordEnv != "" || c.PasswordFile != ""
	switch {
	case c.TokenEnv != "" && c.TokenFile != "":
		problems = append(problems, "token_env, token_file: set one, not both")
	case c.PasswordEnv != "" && c.PasswordFile != "":
		problems = append(problems, "password_env, password_file: set one, not both")
	case token && (c.Username != "" || password):
		problems = append(problems, "a bearer token or basic auth (username and password), not both")
	case c.Username != "" && !password:
		problems = append(problems, "password_env or password_file: required with username")
	case c.Username == "" && password:
		problems = append(problems, "username: required with a password")
	case !token && c.Username == "":
		problems = append(problems, "token_env or token_file (or username and password_env/password_file): required")
	}
	if len(problems) > 0 {
		return connector.Failed(connector.FailConfig, "settings", connector.Permanentf("scim connector settings: %s", strings.Join(problems, "; ")))
	}
	return nil
}

// tlsConfig returns the TLS configuration for https:// URLs.
func (c *Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // an explicit, documented opt-in
		MinVersion:         tls.VersionTLS12,
	}
	if c.CAFile != "" {
		pem, err := connector.ReadCAFile(c.CAFile)
		if err != nil {
			return nil, connector.Failed(connector.FailConfig, "ca_file", connector.Permanentf("scim ca_file: %w", err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, connector.Failed(connector.FailConfig, "ca_file", connector.Permanentf("scim ca_file %s: no PEM certificate found", c.CAFile))
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// Open resolves the credentials through secrets and reads the server's capabilities
// (ServiceProviderConfig, ResourceTypes), so that a wrong URL or token is reported now rather
// than at the first provisioning job.
func (c *Config) Open(ctx context.Context, secrets connector.SecretResolver) (*Connector, error) {
	cfg := *c
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	conn := &Connector{cfg: cfg, base: strings.TrimRight(cfg.URL, "/"), groupIDs: map[string]string{}}
	var err error
	if cfg.Username != "" {
		conn.password, err = connector.Secret(ctx, secrets, map[string]any{
			"password_env": cfg.PasswordEnv, "password_file": cfg.PasswordFile}, "password", true)
	} else {
		conn.token, err = connector.Secret(ctx, secrets, map[string]any{
			"token_env": cfg.TokenEnv, "token_file": cfg.TokenFile}, "token", true)
	}
	if err != nil {
		return nil, connector.Failed(connector.FailConfig, "secret", err)
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConnsPerHost = 16
	tr.ResponseHeaderTimeout = cfg.Timeout
	conn.http = &http.Client{Transport: tr, Timeout: cfg.Timeout,
		// A redirect would resend the Authorization header to wherever it points; a SCIM base
		// URL that redirects is a configuration to fix, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if err := conn.discover(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// Open is the connector factory for the registry: catalog settings in, an open connector out.
func Open(ctx context.Context, settings map[string]any, secrets connector.SecretResolver) (connector.Connector, error) {
	cfg, err := ParseConfig(settings)
	if err != nil {
		return nil, err
	}
	return cfg.Open(ctx, secrets)
}
