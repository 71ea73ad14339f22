package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// scrapeTimeout bounds the store queries of one scrape: a slow database must not make
// Prometheus time out on the whole target, losing the HTTP and Go metrics too.
const scrapeTimeout = 2 * time.Second

// metrics is the API's Prometheus registry. It is its own registry, not the global one, so two
// handlers in one process (tests, or an admin listener) do not collide.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(svc *service.Service, log *slog.Logger) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
	}
	reg.MustRegister(
		m.requests, m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newStoreCollector(svc.Store(), log),
	)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:      reg, // counts its own errors
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m
}

// knownMethods keeps the method label bounded: a client can send any method name, and each
// distinct label value is a new time series.
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true,
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	if !knownMethods[method] {
		method = "OTHER"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// serveMetrics answers a Prometheus scrape.
func (a *api) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	a.metrics.handler.ServeHTTP(w, r)
	return nil
}

// storeCollector reads gauges from the store at scrape time, with cheap queries only (counts and
// the audit chain head), so that every replica reports the same database-wide numbers.
type storeCollector struct {
	st         gaugeSource
	log        *slog.Logger
	up         *prometheus.Desc
	identities *prometheus.Desc
	auditHead  *prometheus.Desc
}

// gaugeSource is what the collector reads: the store's cheap counts.
type gaugeSource interface {
	CountIdentities(ctx context.Context, f gatehouse.IdentityFilter) (int, error)
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
}

func newStoreCollector(st gaugeSource, log *slog.Logger) *storeCollector {
	return &storeCollector{
		st:  st,
		log: log,
		up: prometheus.NewDesc("gatehouse_store_up",
			"1 when the database answered the last scrape's queries, else 0.", nil, nil),
		identities: prometheus.NewDesc("gatehouse_identities",
			"Identities in the database, by HR status.", []string{"status"}, nil),
		auditHead: prometheus.NewDesc("gatehouse_audit_head_seq",
			"Sequence number of the last audit event (the chain head).", nil, nil),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.identities
	ch <- c.auditHead
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	up := 1.0
	defer func() { ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up) }()

	counts := make(map[gatehouse.IdentityStatus]int, len(identityStatuses))
	for _, s := range identityStatuses {
		n, err := c.st.CountIdentities(ctx, gatehouse.IdentityFilter{Status: gatehouse.IdentityStatus(s)})
		if err != nil {
			c.log.Warn("metrics: count identities", "status", s, "err", err)
			up = 0
			return
		}
		counts[gatehouse.IdentityStatus(s)] = n
	}
	seq, _, err := c.st.AuditHead(ctx)
	if err != nil {
		c.log.Warn("metrics: read audit head", "err", err)
		up = 0
		return
	}
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.identities, prometheus.GaugeValue, float64(n), string(s))
	}
	ch <- prometheus.MustNewConstMetric(c.auditHead, prometheus.GaugeValue, float64(seq))
}
