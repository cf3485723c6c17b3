// Package server is the exporter's HTTP side, in one place: every endpoint
// (routes below), the request policy that /metrics and /probe share
// (policy.go), and the http.Server's own limits. It renders what a
// collector.Source hands over through the exposition package, and never
// calls the Kinsta API itself: a Source's Refresh does (for
// /probe?debug=true, the company's DebugRefresh). The status page at /
// (status.go) renders the companies' status snapshot. To add an endpoint:
// a handler in a file of its own here and a line in Handler.
package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
	"github.com/kinsta-exporter/kinsta_exporter/server/exposition"
)

// ReservedPaths are served whatever --web.telemetry-path says.
var ReservedPaths = []string{"/probe", "/sd", "/sd/domains", "/-/reload", "/-/healthy", "/-/ready"}

// Companies is what /probe, /sd and the status page need of the configured
// companies; *fleet.Fleet has it.
type Companies interface {
	Lookup(id string) (*fleet.Target, bool)
	Companies() []fleet.CompanyRef
	Undiscovered() bool
	Discover(ctx context.Context)
	Epoch() uint64
	// Status is the state of the first companies, and their number, for
	// the status page (status.go).
	Status(maxCompanies, maxNotLive int) ([]fleet.CompanyStatus, int)
}

// Reloader reloads the configuration: what /-/reload triggers.
type Reloader interface {
	// Reload reads the configuration again and applies it; on error the
	// previous one stays. ErrNothingToReload when there is no file.
	Reload(trigger string) error
}

// Options configure Handler.
type Options struct {
	Name          string // of the program, for build info and the status page
	Version       string
	TelemetryPath string
	// MaxRequests bounds the requests of /metrics and /probe being answered
	// at once (one pool for both); 0: no limit.
	MaxRequests int
	// RefreshTimeout is the longest a request waits for a refresh, and the
	// deadline without X-Prometheus-Scrape-Timeout-Seconds; TimeoutOffset is
	// kept from Prometheus' scrape timeout to answer in.
	RefreshTimeout, TimeoutOffset time.Duration
	// Registry holds the process's own series (Go, process, build info, API
	// requests, reloads); /metrics gathers it on every request, and the
	// handler's promhttp_metric_handler_* series are added to it.
	Registry *prometheus.Registry
	// NoExporterMetrics leaves out the promhttp_* series
	// (--web.disable-exporter-metrics, which leaves out the Go and process
	// series from Registry too).
	NoExporterMetrics bool
	// Metrics is what /metrics serves: every company, or collector.NoSource
	// with --web.probe-only. Parts are its cached parts (collector.Parts).
	Metrics collector.Source
	Parts   []string
	// Companies are served one at a time on /probe and listed on /sd.
	Companies Companies
	// Reloader is nil when there is nothing to reload.
	Reloader Reloader
	// EnableLifecycle turns on /-/reload (--web.enable-lifecycle); off, it
	// answers 403, as Prometheus does.
	EnableLifecycle bool
	// ListenAddresses are the addresses served, for /sd when a request
	// names no host.
	ListenAddresses []string
	Logger          log.Logger
}

// Handler returns the exporter's routes and a readiness switch: /-/ready
// answers 503 until ready is set.
func Handler(o Options) (http.Handler, *atomic.Bool, error) {
	r, err := newRoutes(o)
	if err != nil {
		return nil, nil, err
	}
	return r.mux, &r.ready, nil
}

// routes are the endpoints, and what tests look into.
type routes struct {
	mux    *http.ServeMux
	probes *probes
	ready  atomic.Bool
}

func newRoutes(o Options) (*routes, error) {
	errorLog := errorLogger{o.Logger}
	p := newPolicy(o.MaxRequests, o.RefreshTimeout, o.TimeoutOffset)
	live := prometheus.Gatherers{o.Registry, liveGatherer(o.Metrics)}
	metricsCaches := exposition.Caches(o.Metrics, o.Parts, errorLog)
	metrics := exposition.Handler(live, metricsCaches, exposition.HandlerOpts{ErrorLog: errorLog})
	probes := &probes{o: o, errorLog: errorLog, metricsCaches: metricsCaches}

	r := &routes{mux: http.NewServeMux(), probes: probes}
	mux := r.mux
	mux.Handle(o.TelemetryPath, instrument(o, p.handle(
		func(http.ResponseWriter, *http.Request) (collector.Source, http.Handler, bool) {
			return o.Metrics, metrics, true
		})))
	mux.Handle("/probe", instrument(o, p.handle(probes.pick)))
	mux.Handle("/sd", sdHandler{o})
	mux.Handle("/sd/domains", sdDomainsHandler{o, maxSDDomainTargets})
	mux.Handle("/-/reload", reloadHandler{o.Reloader, o.EnableLifecycle})
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !r.ready.Load() {
			http.Error(w, "Not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	if o.TelemetryPath != "/" {
		mux.Handle("/", statusPage{o})
	}
	return r, nil
}

// instrument adds the promhttp_metric_handler_* series of h to the
// registry, unless they are left out.
func instrument(o Options, h http.Handler) http.Handler {
	if o.NoExporterMetrics {
		return h
	}
	return promhttp.InstrumentMetricHandler(o.Registry, h)
}

// NewHTTPServer is the http.Server of h, with limits on what a client can
// hold: the time to send headers and their size, and how long an idle
// keep-alive connection stays open (Prometheus scrapes at most every few
// seconds through one connection; idle ones cost a goroutine each).
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// liveGatherer gathers a Source's live series.
func liveGatherer(src collector.Source) prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.LiveCollector(src))
	return reg
}

// errorLogger is the exposition's and promhttp's error log, on the
// exporter's logger.
type errorLogger struct{ logger log.Logger }

func (l errorLogger) Println(v ...any) {
	msg := strings.TrimSuffix(fmt.Sprintln(v...), "\n")
	_ = level.Error(l.logger).Log("msg", msg)
}
