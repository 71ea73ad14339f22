package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/api"
	"github.com/gatehouse/gatehouse/internal/ratelimit"
	"github.com/gatehouse/gatehouse/internal/scimserver"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Options configure the server. The zero value serves the API alone on no address.
type Options struct {
	Addr   string       // listen address, e.g. "127.0.0.1:8080"
	UI     http.Handler // the web UI, mounted at "/"; nil: no UI
	API    api.Options  // options of the API handler
	Logger *slog.Logger // nil: slog.Default(); also the API's logger unless API.Logger is set
	// Limiter counts failed authentications per client address, for the API (unless
	// API.Limiter is set) and SCIM; nil: a new one with the defaults. Give the UI the same one.
	Limiter *ratelimit.Limiter
}

// Timeouts. Reading headers is bounded tightly (slowloris); a whole request gets room for a
// 10 MiB catalog on a slow link; writing gets room for an audit verification of a long log.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 2 * time.Minute
	WriteTimeout      = 5 * time.Minute
	IdleTimeout       = 2 * time.Minute
)

// New returns an *http.Server that serves the API under /api/, /healthz, /readyz and /metrics,
// SCIM 2.0 under /scim/v2/,
// and opts.UI everywhere else. Run it with ListenAndServe and stop it with Shutdown.
func New(svc *service.Service, opts Options) *http.Server {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.API.Logger == nil {
		opts.API.Logger = log
	}
	if opts.Limiter == nil {
		opts.Limiter = ratelimit.New(ratelimit.Options{})
	}
	if opts.API.Limiter == nil {
		opts.API.Limiter = opts.Limiter
	}
	apiHandler := api.New(svc, opts.API)

	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, apiHandler)
	}
	// The SCIM service provider, for identity providers pushing people in (docs/scim.md).
	mux.Handle(scimserver.Prefix+"/", scimserver.New(svc, scimserver.Options{Logger: log, Limiter: opts.Limiter}))
	if opts.UI != nil {
		mux.Handle("/", opts.UI)
	}
	return &http.Server{
		Addr:              opts.Addr,
		Handler:           securityHeaders(mux),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10, // a bearer token and cookies fit many times over
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// securityHeaders sets defaults that suit both the API and a server-rendered UI. They are set
// before the handler runs, so a handler that needs another policy (an inline script with a
// nonce, say) can replace one.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "+
			"script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}
