package main

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/api"
	"github.com/gatehouse/gatehouse/internal/ratelimit"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/web"
)

// signInFlags configure sign-in for serve: web session timeouts and the limit on failed
// authentications per client address (API, SCIM and UI share one limiter).
type signInFlags struct {
	sessionIdle, sessionMax time.Duration
	authFailures            int
	authWindow              time.Duration
	trustedProxies          []string
}

func (f *signInFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.DurationVar(&f.sessionIdle, "session-idle", service.DefaultSessionIdle,
		"a web UI session ends after this long without a request")
	fl.DurationVar(&f.sessionMax, "session-max", service.DefaultSessionMax,
		"a web UI session ends this long after sign-in, however busy")
	fl.IntVar(&f.authFailures, "auth-failures", ratelimit.DefaultBurst,
		"failed authentications (API, SCIM, UI) a client address may make at once before it gets 429")
	fl.DurationVar(&f.authWindow, "auth-failure-window", ratelimit.DefaultWindow,
		"a blocked address earns back --auth-failures failures over this long (one every window/failures)")
	fl.StringSliceVar(&f.trustedProxies, "trusted-proxy", nil,
		"address or CIDR of a reverse proxy whose X-Forwarded-For names the client (repeatable; default: none, the TCP peer is the client)")
}

// signIn is what the server needs of the flags.
type signIn struct {
	limiter  *ratelimit.Limiter
	sessions service.SessionLimits
	secure   bool  // the session cookie is Secure: the public URL is https
	hrLimit  int64 // the API's bound on HR files (api.Options.HRLimit; 0: its default)
}

// settings checks the flags. publicURL is --public-url: an https URL makes the session cookie
// Secure even when TLS ends at a proxy in front of Gatehouse.
func (f *signInFlags) settings(cmd *cobra.Command, publicURL string) (signIn, error) {
	if f.sessionIdle <= 0 || f.sessionMax <= 0 || f.sessionIdle > f.sessionMax {
		return signIn{}, usageErrorf(cmd, "--session-idle and --session-max must be above zero, the idle timeout no longer than the maximum")
	}
	if f.authFailures < 1 || f.authWindow <= 0 {
		return signIn{}, usageErrorf(cmd, "--auth-failures must be 1 or more and --auth-failure-window above zero")
	}
	proxies, err := ratelimit.ParsePrefixes(f.trustedProxies)
	if err != nil {
		return signIn{}, usageErrorf(cmd, "--trusted-proxy: %v (use an address or a CIDR such as 10.0.0.0/8)", err)
	}
	return signIn{
		limiter:  ratelimit.New(ratelimit.Options{Burst: f.authFailures, Window: f.authWindow, TrustedProxies: proxies}),
		sessions: service.SessionLimits{Idle: f.sessionIdle, Max: f.sessionMax},
		secure:   isHTTPS(publicURL),
	}, nil
}

func isHTTPS(publicURL string) bool {
	u, err := url.Parse(strings.TrimSpace(publicURL))
	return err == nil && strings.EqualFold(u.Scheme, "https")
}

// webOptions and serverOptions hand the sign-in settings to the UI and to the server (API and
// SCIM), sharing one limiter of failed authentications between all three.
func (si *signIn) webOptions(log *slog.Logger) web.Options {
	if si.limiter == nil {
		si.limiter = ratelimit.New(ratelimit.Options{})
	}
	return web.Options{Logger: log, SecureCookie: si.secure, Sessions: si.sessions, Limiter: si.limiter}
}

func (si *signIn) serverOptions(log *slog.Logger, ui http.Handler) server.Options {
	if si.limiter == nil {
		si.limiter = ratelimit.New(ratelimit.Options{})
	}
	return server.Options{
		UI:      ui,
		API:     api.Options{Logger: log, Version: buildVersion(), Limiter: si.limiter},
		Logger:  log,
		Limiter: si.limiter,
	}
}
