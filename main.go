// Command kinsta_exporter exports the sites of Kinsta companies as Prometheus
// metrics. main.go only wires flags, logging and the web server; the API client
// lives in kinsta/ and the metrics in collector/.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	sloggokit "github.com/tjhop/slog-gokit"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/collector/config"
	"github.com/kinsta-exporter/kinsta_exporter/collector/exposition"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

const (
	exporterName = "kinsta_exporter"
	// defaultPort is ours: the Prometheus wiki's 9100-9999 exporter range is
	// exhausted, and no well-known exporter listens on 10055.
	defaultListenAddress = ":10055"
	apiKeyEnv            = "KINSTA_API_KEY"
	// demoChurnInterval is how often a demo site changes status, so that demo
	// graphs and alerts move within minutes.
	demoChurnInterval = 2 * time.Minute
)

// options holds every parsed flag.
type options struct {
	web           *web.FlagConfig
	telemetryPath string
	maxRequests   int
	logLevel      string
	logFormat     string
	apiURL        string
	apiKeyFile    string
	companies     []string
	cacheTTL      time.Duration
	timeout       time.Duration
	timeoutOffset time.Duration
	maxStaleness  time.Duration
	maxResponse   units.Base2Bytes
	rateLimit     float64
	demo          bool
	collectors    *collector.Flags
	apiKey        string // loaded from the file or the environment; never logged
	configFile    string
	probeOnly     bool
}

func parseFlags(args []string) (*options, *kingpin.Application, error) {
	o := &options{}
	app := kingpin.New(exporterName, "Prometheus exporter for the sites of Kinsta companies (Kinsta API v2).")
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')
	o.web = kingpinflag.AddFlags(app, defaultListenAddress)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.telemetryPath)
	app.Flag("web.max-requests", "Maximum number of parallel scrape requests. 0 disables the limit.").Default("40").IntVar(&o.maxRequests)
	namedFlag(app, "log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]", "info", &o.logLevel, oneOf("debug", "info", "warn", "error"))
	namedFlag(app, "log.format", "Output format of log messages. One of: [logfmt, json]", "logfmt", &o.logFormat, oneOf("logfmt", "json"))
	app.Flag("config.file", "YAML file listing the Kinsta companies to export, each with its id, name and API key file. Excludes --kinsta.company and --kinsta.api-key-file. Reloaded on SIGHUP and POST /-/reload.").PlaceHolder("FILE").StringVar(&o.configFile)
	app.Flag("web.probe-only", "Serve the companies only on /probe: /metrics keeps the exporter's own series and makes no Kinsta API call. For Prometheus probing every company through /sd, sharded over replicas.").BoolVar(&o.probeOnly)
	app.Flag("kinsta.api-url", "Base URL of the Kinsta API.").Default(kinsta.DefaultBaseURL).Envar("KINSTA_API_URL").StringVar(&o.apiURL)
	app.Flag("kinsta.api-key-file", "File holding the Kinsta API key (surrounding whitespace is trimmed). Without it the key is read from the environment variable "+apiKeyEnv+".").Envar("KINSTA_API_KEY_FILE").PlaceHolder("FILE").StringVar(&o.apiKeyFile)
	app.Flag("kinsta.company", "Kinsta company ID to export. Repeatable; the environment variable takes a comma-separated list. Default: the API key's company, from GET /validate.").Envar("KINSTA_COMPANY").PlaceHolder("ID").StringsVar(&o.companies)
	namedFlag(app, "kinsta.cache-ttl", "How long one refresh from the Kinsta API is reused: one API call per company per TTL, however many scrapes (counted from the previous refresh's start, less up to 1s of slack for scrape jitter).", "60s", &o.cacheTTL, time.ParseDuration)
	namedFlag(app, "kinsta.timeout", "Timeout of one refresh from the Kinsta API; also how long a scrape without X-Prometheus-Scrape-Timeout-Seconds waits for it.", "15s", &o.timeout, time.ParseDuration)
	namedFlag(app, "timeout-offset", "Subtracted from Prometheus' X-Prometheus-Scrape-Timeout-Seconds to leave time to answer the scrape.", "0.5s", &o.timeoutOffset, time.ParseDuration)
	namedFlag(app, "kinsta.max-staleness", "After refreshes have failed this long, drop a company's site series instead of serving old data (kinsta_up stays).", "1h", &o.maxStaleness, time.ParseDuration)
	namedFlag(app, "kinsta.max-response-size", "Largest Kinsta API response body accepted.", "64MiB", &o.maxResponse, units.ParseBase2Bytes)
	namedFlag(app, "kinsta.rate-limit", "Most requests per second sent to the Kinsta API (burst of 3), shared by all companies. 0 disables the limit.", "1", &o.rateLimit, func(v string) (float64, error) { return strconv.ParseFloat(v, 64) })
	app.Flag("demo", "Serve a built-in simulated Kinsta company (no account needed): starts a fake Kinsta API on loopback and exports it.").BoolVar(&o.demo)
	o.collectors = collector.RegisterFlags(app)
	_, err := app.Parse(args)
	return o, app, err
}

// flagValue is a kingpin.Value whose parse errors name the flag: kingpin's own
// messages ("time: invalid duration") leave the operator guessing which one.
type flagValue[T any] struct {
	name  string
	dst   *T
	parse func(string) (T, error)
	raw   string
}

func (v *flagValue[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return fmt.Errorf("--%s=%q: %w", v.name, s, err)
	}
	*v.dst, v.raw = x, s
	return nil
}

func (v *flagValue[T]) String() string { return v.raw }

func namedFlag[T any](app *kingpin.Application, name, help, def string, dst *T, parse func(string) (T, error)) {
	app.Flag(name, help).Default(def).SetValue(&flagValue[T]{name: name, dst: dst, parse: parse})
}

// oneOf parses an enumerated string flag.
func oneOf(allowed ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		if slices.Contains(allowed, v) {
			return v, nil
		}
		return "", fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
	}
}

// validate checks what kingpin cannot and loads the API key. It returns errors
// that name the flag, for a one-line exit.
func (o *options) validate() error {
	o.companies = splitCompanies(o.companies)
	switch {
	case o.cacheTTL <= 0:
		return fmt.Errorf("--kinsta.cache-ttl must be positive, got %s", o.cacheTTL)
	case o.timeout <= 0:
		return fmt.Errorf("--kinsta.timeout must be positive, got %s", o.timeout)
	case o.timeoutOffset < 0:
		return fmt.Errorf("--timeout-offset must not be negative, got %s", o.timeoutOffset)
	case o.timeoutOffset >= o.timeout:
		return fmt.Errorf("--timeout-offset (%s) must be smaller than --kinsta.timeout (%s)", o.timeoutOffset, o.timeout)
	case o.maxStaleness <= 0:
		return fmt.Errorf("--kinsta.max-staleness must be positive, got %s", o.maxStaleness)
	case o.maxResponse <= 0:
		return fmt.Errorf("--kinsta.max-response-size must be positive, got %s", o.maxResponse)
	case o.rateLimit < 0:
		return fmt.Errorf("--kinsta.rate-limit must not be negative, got %g", o.rateLimit)
	case !strings.HasPrefix(o.telemetryPath, "/"):
		return fmt.Errorf("--web.telemetry-path must start with /, got %q", o.telemetryPath)
	case slices.Contains(reservedPaths, o.telemetryPath):
		return fmt.Errorf("--web.telemetry-path %s is taken; not one of %s", o.telemetryPath, strings.Join(reservedPaths, ", "))
	}
	for _, id := range o.companies { // the one check of company ids, as for the configuration file
		if err := kinsta.CheckCompanyID(id); err != nil {
			return fmt.Errorf("--kinsta.company: %w", err)
		}
	}
	if o.configFile != "" {
		return o.checkConfigFileFlags() // keys come from the configuration file
	}
	if o.demo {
		return nil // the demo makes its own key
	}
	key, err := loadAPIKey(o.apiKeyFile)
	o.apiKey = key
	return err
}

// splitCompanies accepts "a,b" as well as repeated flags: kingpin splits
// environment lists on newlines only.
func splitCompanies(values []string) []string {
	var ids []string
	for _, v := range values {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func loadAPIKey(file string) (string, error) {
	if file == "" {
		key := strings.TrimSpace(os.Getenv(apiKeyEnv))
		if key == "" {
			return "", fmt.Errorf("no Kinsta API key: set --kinsta.api-key-file or %s (or try --demo)", apiKeyEnv)
		}
		return key, nil
	}
	key, err := config.ReadKeyFile(file) // the same rules as key files named in --config.file
	if err != nil {
		return "", fmt.Errorf("--kinsta.api-key-file: %w", err)
	}
	return string(key), nil
}

func newLogger(format, lvl string) log.Logger {
	var logger log.Logger
	if format == "json" {
		logger = log.NewJSONLogger(log.NewSyncWriter(os.Stderr))
	} else {
		logger = log.NewLogfmtLogger(log.NewSyncWriter(os.Stderr))
	}
	logger = level.NewFilter(logger, level.Allow(level.ParseDefault(lvl, level.InfoValue())))
	return log.With(logger, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)
}

// scrapeTimeout is how long a scrape may wait for a refresh: Prometheus'
// scrape timeout minus the offset, never more than one refresh can take.
func scrapeTimeout(r *http.Request, refreshTimeout, offset time.Duration) time.Duration {
	header := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	seconds, err := strconv.ParseFloat(header, 64)
	if header == "" || err != nil || seconds <= 0 {
		return refreshTimeout
	}
	timeout := time.Duration(seconds * float64(time.Second))
	// A timeout no longer than the offset keeps half of itself to answer in.
	timeout = max(timeout-offset, timeout/2)
	return min(timeout, refreshTimeout)
}

// refreshingHandler refreshes stale companies, within the scrape's deadline,
// before the registry is gathered.
func refreshingHandler(exp interface{ Refresh(context.Context) }, next http.Handler, refreshTimeout, offset time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := scrapeContext(w, r, refreshTimeout, offset)
		defer cancel()
		exp.Refresh(ctx)
		// The rest of the request (a slot, the render) is bounded too, with the
		// offset kept to answer in: a scrape whose refresh took all its time
		// still waits for a slot until Prometheus gives up, instead of a 503.
		deadline, _ := ctx.Deadline()
		answer, cancelAnswer := context.WithDeadline(r.Context(), deadline.Add(offset))
		defer cancelAnswer()
		next.ServeHTTP(w, r.WithContext(answer))
	})
}

// scrapeContext bounds a scrape: its context ends at the scrape's deadline,
// and writing the answer may take only until Prometheus gives up, so a client
// that stops reading cannot hold an in-flight slot for ever.
func scrapeContext(w http.ResponseWriter, r *http.Request, refreshTimeout, offset time.Duration) (context.Context, context.CancelFunc) {
	timeout := scrapeTimeout(r, refreshTimeout, offset)
	// An error means the ResponseWriter cannot set deadlines (a test recorder): nothing to bound.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + offset + time.Second))
	return context.WithTimeout(r.Context(), timeout)
}

// startDemo serves the simulated company on a loopback port and returns the
// API URL and key to use.
func startDemo(ctx context.Context, logger log.Logger) (url, key string, err error) {
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		return "", "", err
	}
	key = hex.EncodeToString(buf)
	start := time.Now()
	company := kinstatest.DemoCompany(start)
	fake := kinstatest.New(key, company)
	fake.KeepTimesFresh(start) // backups stay as old as at the start, however long the demo runs
	fake.StartDemoChurn(ctx, demoChurnInterval)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", fmt.Errorf("demo API: %w", err)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			level.Error(logger).Log("msg", "Demo Kinsta API stopped", "err", err)
		}
	}()
	url = "http://" + ln.Addr().String()
	level.Info(logger).Log("msg", "Demo mode: serving a simulated Kinsta company", "api_url", url, "company", company.ID)
	return url, key, nil
}

// defaultGCPercent is the garbage collector's target when GOGC is not set.
// Most of the exporter's heap is long-lived: the rendered expositions and
// the rows they are rendered from, tens of megabytes at 10,000 sites, which
// change once per refresh. Go's default of 100 lets the heap grow to twice
// that before a collection; 30 holds the peak at 1.3 times. Little garbage
// is made between refreshes (a scrape copies cached bytes), so collections
// stay few (README, Performance).
const defaultGCPercent = 30

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	o, app, err := parseFlags(os.Args[1:])
	if err != nil {
		app.Fatalf("%s", err)
	}
	if err := o.validate(); err != nil {
		app.Fatalf("%s", err)
	}
	logger := newLogger(o.logFormat, o.logLevel)
	if err := run(context.Background(), o, logger); err != nil {
		level.Error(logger).Log("msg", "Exporter stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o *options, logger log.Logger) error {
	level.Info(logger).Log("msg", "Starting "+exporterName, "version", version.Info(), "build_context", version.BuildContext())
	if o.cacheTTL < 10*time.Second {
		level.Warn(logger).Log("msg", "--kinsta.cache-ttl below 10s spends Kinsta API calls fast; meant for tests", "cache_ttl", o.cacheTTL)
	}
	if o.apiKeyFile != "" && config.WorldReadable(o.apiKeyFile) {
		level.Warn(logger).Log("msg", "The API key file is readable by every user; chmod 600 it", "file", o.apiKeyFile)
	}
	if o.demo {
		url, key, err := startDemo(ctx, logger)
		if err != nil {
			return err
		}
		o.apiURL, o.apiKey = url, key
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector(exporterName),
	)
	// One exporter per company (companies.go), the clients of all API keys
	// sharing --kinsta.rate-limit and the API request metrics.
	exp, err := newCompanies(o, reg, logger)
	if err != nil {
		return err
	}
	exp.Start(ctx)
	// The site series change only when a refresh result arrives or the
	// staleness cut-off passes, each switchable collector's gauges one
	// background refresh at a time: each is rendered once per generation and
	// served as bytes. reg, with the exporter's other series, stays live and
	// is gathered on every scrape.
	reg.MustRegister(exp.StateSeries())

	return serve(o, reg, exp, logger)
}

func serve(o *options, reg *prometheus.Registry, exp *companySet, logger log.Logger) error {
	slogger := slog.New(sloggokit.NewGoKitHandler(logger, slog.LevelDebug))
	errorLog := slog.NewLogLogger(slogger.Handler(), slog.LevelError)
	metrics := promhttp.InstrumentMetricHandler(reg, exposition.Handler(reg, exp.renderCaches(exp, errorLog),
		exposition.HandlerOpts{ErrorLog: errorLog, MaxRequestsInFlight: o.maxRequests}))
	mux := http.NewServeMux()
	mux.Handle(o.telemetryPath, refreshingHandler(exp, metrics, o.timeout, o.timeoutOffset))
	exp.register(mux, logger) // /probe, /sd, /-/reload
	var ready atomic.Bool
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "Not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	if o.telemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        exporterName,
			Description: "Prometheus exporter for Kinsta sites",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: o.telemetryPath, Text: "Metrics"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
				{Address: "/sd", Text: "Companies (Prometheus HTTP service discovery)"},
			},
		})
		if err != nil {
			return err
		}
		mux.Handle("/", landing)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	// Flags and key are loaded by now; Kinsta's own health is in kinsta_up, not here.
	ready.Store(true)
	go shutdownOnSignal(srv, logger)
	if err := web.ListenAndServe(srv, o.web, slogger); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdownOnSignal stops serving on SIGTERM or SIGINT, letting scrapes in
// flight finish, so that container runtimes see a clean exit.
func shutdownOnSignal(srv *http.Server, logger log.Logger) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	level.Info(logger).Log("msg", "Shutting down", "signal", <-sig)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		level.Warn(logger).Log("msg", "Shutdown did not finish cleanly", "err", err)
	}
}
