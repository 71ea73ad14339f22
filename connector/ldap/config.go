package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// Flavor is the kind of directory: how accounts are named, disabled and identified.
type Flavor string

const (
	FlavorOpenLDAP Flavor = "openldap"
	FlavorAD       Flavor = "ad"
)

// Defaults for settings the catalog may leave out.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultPageSize = 500
	// DefaultConcurrency is how many operations a reconcile may have in flight at once
	// (account creations): enough to overlap the round trips of a first load, few enough for
	// slapd's default thread pool (16) to serve other clients meanwhile.
	DefaultConcurrency = 8
	// MaxConcurrency bounds the setting: more than OpenLDAP's conn_max_pending_auth (1000)
	// would be refused, and a directory is not faster for it long before.
	MaxConcurrency = 64
	// DefaultPlaceholder is the member an empty groupOfNames holds. It names no entry, so it
	// grants nothing; it is never reported as a member.
	DefaultPlaceholder = "cn=nobody"
)

// Config is an LDAP connector's configuration: the catalog settings of a system with
// connector type ldap.
type Config struct {
	URL              string // ldap://host:port or ldaps://host:port
	BindDN           string
	BindPasswordEnv  string // the bind password by reference: an environment variable…
	BindPasswordFile string // …or a file
	UsersDN          string
	GroupsDN         string
	DisabledDN       string // OpenLDAP flavor: where disabled accounts live ("" cannot disable); unused by AD
	Flavor           Flavor

	StartTLS           bool   // upgrade an ldap:// connection with StartTLS
	InsecureSkipVerify bool   // do not verify the server certificate (tests only)
	CAFile             string // PEM file of CAs to trust instead of the system pool

	Timeout  time.Duration // dial timeout and per-operation timeout
	PageSize int           // RFC 2696 page size for inventory searches
	// Concurrency is how many operations a reconcile may have in flight at once
	// (connector.Concurrent); they share the connection, which carries requests side by side.
	Concurrency int

	// Placeholder is the member value of an empty groupOfNames (not a catalog setting).
	Placeholder string
}

// Spec declares the ldap connector's settings: ParseConfig decodes them from it and catalog
// validation checks them against it.
var Spec = &gatehouse.ConnectorSpec{
	Type:        "ldap",
	Description: "OpenLDAP and Active Directory",
	Settings: []gatehouse.SettingSpec{
		{Name: "url", Kind: gatehouse.SettingURL, Required: true, Schemes: []string{"ldap", "ldaps"},
			Description: "ldap://host:port or ldaps://host:port"},
		{Name: "bind_dn", Kind: gatehouse.SettingString, Required: true, Description: "the DN Gatehouse binds as"},
		{Name: "bind_password", Kind: gatehouse.SettingSecret, Required: true, Description: "the bind password"},
		{Name: "users_dn", Kind: gatehouse.SettingString, Required: true, Description: "where accounts are created and read"},
		{Name: "groups_dn", Kind: gatehouse.SettingString, Required: true, Description: "where groups are read"},
		{Name: "disabled_dn", Kind: gatehouse.SettingString,
			Description: "OpenLDAP: where disabled accounts are moved (unset: accounts cannot be disabled)"},
		{Name: "flavor", Kind: gatehouse.SettingString, Default: string(FlavorOpenLDAP), ShowValue: true,
			Allowed: []string{string(FlavorOpenLDAP), string(FlavorAD)}, Description: "the kind of directory"},
		{Name: "start_tls", Kind: gatehouse.SettingBool, Description: "upgrade an ldap:// connection with StartTLS"},
		{Name: "insecure_skip_verify", Kind: gatehouse.SettingBool, Description: "do not verify the server certificate (tests only)"},
		{Name: "ca_file", Kind: gatehouse.SettingString, Description: "PEM file of CAs to trust instead of the system pool"},
		{Name: "timeout", Kind: gatehouse.SettingDuration, Default: DefaultTimeout.String(), Description: "dial and per-operation timeout"},
		{Name: "page_size", Kind: gatehouse.SettingInt, Default: strconv.Itoa(DefaultPageSize), Description: "page size of inventory searches"},
		{Name: "concurrency", Kind: gatehouse.SettingInt, Default: strconv.Itoa(DefaultConcurrency),
			Description: fmt.Sprintf("operations a reconcile may have in flight at once (account creations; 1 to %d)", MaxConcurrency)},
		connector.DriftSetting,
	},
	NamesAccounts: true,
	NameLimit:     nameLimit,
	Checked:       checked,
}

// ParseConfig reads a Config from catalog settings and checks it. Errors are Permanent and name
// the setting, never its value.
func ParseConfig(settings map[string]any) (*Config, error) {
	v, errs := connector.Decode(Spec, settings)
	if len(errs) > 0 {
		return nil, connector.Permanent(joinErrs(errs))
	}
	c := Config{
		URL: v.String("url"), BindDN: v.String("bind_dn"),
		BindPasswordEnv: v.String("bind_password_env"), BindPasswordFile: v.String("bind_password_file"),
		UsersDN: v.String("users_dn"), GroupsDN: v.String("groups_dn"), DisabledDN: v.String("disabled_dn"),
		Flavor: Flavor(v.String("flavor")), StartTLS: v.Bool("start_tls"), InsecureSkipVerify: v.Bool("insecure_skip_verify"),
		CAFile: v.String("ca_file"), Timeout: v.Duration("timeout"), PageSize: v.Int("page_size"),
		Concurrency: v.Int("concurrency"),
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func joinErrs(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

// validate fills defaults and checks the configuration.
func (c *Config) validate() error {
	if c.Flavor == "" {
		c.Flavor = FlavorOpenLDAP
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Placeholder == "" {
		c.Placeholder = DefaultPlaceholder
	}
	var problems []string
	if c.Concurrency > MaxConcurrency {
		problems = append(problems, fmt.Sprintf("concurrency %d: at most %d", c.Concurrency, MaxConcurrency))
	}
	switch c.Flavor {
	case FlavorOpenLDAP:
	case FlavorAD:
	default:
		problems = append(problems, fmt.Sprintf("flavor %q: not one of openldap, ad", c.Flavor))
	}
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		problems = append(problems, "url: required")
	case err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "":
		problems = append(problems, "url: must be ldap://host:port or ldaps://host:port")
	case u.Scheme == "ldaps" && c.StartTLS:
		problems = append(problems, "start_tls: not with an ldaps:// url (it is TLS already)")
	}
	dn := func(name, v string, required bool) {
		if v == "" {
			if required {
				problems = append(problems, name+": required")
			}
			return
		}
		if _, err := goldap.ParseDN(v); err != nil {
			problems = append(problems, name+": not a valid DN")
		}
	}
	dn("bind_dn", c.BindDN, true)
	dn("users_dn", c.UsersDN, true)
	dn("groups_dn", c.GroupsDN, true)
	dn("disabled_dn", c.DisabledDN, false)
	dn("placeholder", c.Placeholder, true)
	if c.BindPasswordEnv != "" && c.BindPasswordFile != "" {
		problems = append(problems, "bind_password_env, bind_password_file: set one, not both")
	}
	if c.BindPasswordEnv == "" && c.BindPasswordFile == "" {
		problems = append(problems, "bind_password_env or bind_password_file: required")
	}
	if len(problems) > 0 {
		return connector.Permanentf("ldap connector settings: %s", strings.Join(problems, "; "))
	}
	return nil
}

// tlsConfig returns the TLS configuration for ldaps:// and StartTLS, or nil when neither is used.
func (c *Config) tlsConfig() (*tls.Config, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, connector.Permanentf("ldap url: %w", err)
	}
	if u.Scheme != "ldaps" && !c.StartTLS {
		return nil, nil
	}
	tc := &tls.Config{
		ServerName:         u.Hostname(),
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // an explicit, documented opt-in
		MinVersion:         tls.VersionTLS12,
	}
	if c.CAFile != "" {
		pem, err := connector.ReadCAFile(c.CAFile)
		if err != nil {
			return nil, connector.Permanentf("ldap ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, connector.Permanentf("ldap ca_file %s: no PEM certificate found", c.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// Open resolves the bind password through secrets, connects and binds, so that a wrong
// setting is reported now rather than at the first provisioning job.
func (c *Config) Open(ctx context.Context, secrets connector.SecretResolver) (*Connector, error) {
	cfg := *c
	if err := cfg.validate(); err != nil {
		return nil, connector.Failed(connector.FailConfig, "settings", err)
	}
	password, err := connector.Secret(ctx, secrets, map[string]any{
		"bind_password_env": cfg.BindPasswordEnv, "bind_password_file": cfg.BindPasswordFile,
	}, "bind_password", true)
	if err != nil {
		return nil, connector.Failed(connector.FailConfig, "read bind_password", err)
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, connector.Failed(connector.FailConfig, "settings", err)
	}
	conn := &Connector{cfg: cfg, password: password, tls: tc}
	if conn.usersDN, err = goldap.ParseDN(cfg.UsersDN); err != nil {
		return nil, connector.Permanentf("users_dn: %w", err)
	}
	if conn.groupsDN, err = goldap.ParseDN(cfg.GroupsDN); err != nil {
		return nil, connector.Permanentf("groups_dn: %w", err)
	}
	if cfg.DisabledDN != "" {
		if conn.disabledDN, err = goldap.ParseDN(cfg.DisabledDN); err != nil {
			return nil, connector.Permanentf("disabled_dn: %w", err)
		}
	}
	conn.placeholder = normDN(cfg.Placeholder)
	conn.d = &openLDAPDialect
	if cfg.Flavor == FlavorAD {
		conn.d = &adDialect
	}
	if _, err := conn.client(ctx); err != nil {
		return nil, err
	}
	return conn, nil
}

// Open is the connector factory for the registry: catalog settings in, an open connector out.
func Open(ctx context.Context, settings map[string]any, secrets connector.SecretResolver) (connector.Connector, error) {
	cfg, err := ParseConfig(settings)
	if err != nil {
		return nil, connector.Failed(connector.FailConfig, "settings", err)
	}
	return cfg.Open(ctx, secrets)
}
