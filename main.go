// Command kinsta_exporter exports the sites of Kinsta companies as Prometheus
// metrics. Package main wires: flags (main.go), logging (logging.go), the
// configured companies and their reloads (companies.go), the demo. The API
// client lives in kinsta/, the metrics in collector/, every HTTP endpoint in
// server/. To add a flag: parseFlags and validate below.
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
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/collector/config"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
	"github.com/kinsta-exporter/kinsta_exporter/server"
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
	// demoRateLimit is --kinsta.rate-limit with --demo unless given: the
	// demo's fake API is ours, on loopback, and at Kinsta's pace of 1/s its
	// few hundred background requests would take minutes to fill the
	// dashboard; at this pace they take seconds.
	demoRateLimit = 50.0
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
	limits        collector.Limits
	apiKey        string // loaded from the file or the environment; never logged
	configFile    string
	config        *config.Config // loaded from configFile at start-up
	probeOnly     bool
	lifecycle     bool // --web.enable-lifecycle
	// rateLimitSet: --kinsta.rate-limit was given; the demo raises the
	// limit for its own fake API only when it was not.
	rateLimitSet bool
	// noExporterMetrics leaves out the Go, process and promhttp_* series.
	noExporterMetrics bool
	configCheck       bool
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
	app.Flag("config.file", "YAML file listing the Kinsta companies to export, each with its id, name and API key file. Excludes --kinsta.company and --kinsta.api-key-file. Reloaded on SIGHUP and, with --web.enable-lifecycle, POST /-/reload.").PlaceHolder("FILE").StringVar(&o.configFile)
	app.Flag("web.enable-lifecycle", "Enable reloading the configuration over HTTP (POST or PUT /-/reload), as Prometheus' flag of that name. SIGHUP reloads without it.").BoolVar(&o.lifecycle)
	app.Flag("web.probe-only", "Serve the companies only on /probe: /metrics keeps the exporter's own series and makes no Kinsta API call. For Prometheus probing every company through /sd, sharded over replicas.").BoolVar(&o.probeOnly)
	app.Flag("kinsta.api-url", "Base URL of the Kinsta API.").Default(kinsta.DefaultBaseURL).Envar("KINSTA_API_URL").StringVar(&o.apiURL)
	app.Flag("kinsta.api-key-file", "File holding the Kinsta API key (surrounding whitespace is trimmed). Without it the key is read from the environment variable "+apiKeyEnv+".").Envar("KINSTA_API_KEY_FILE").PlaceHolder("FILE").StringVar(&o.apiKeyFile)
	app.Flag("kinsta.company", "Kinsta company ID to export. Repeatable; the environment variable takes a comma-separated list. Default: the API key's company, from GET /validate.").Envar("KINSTA_COMPANY").PlaceHolder("ID").StringsVar(&o.companies)
	namedFlag(app, "kinsta.cache-ttl", "How long one refresh from the Kinsta API is reused: one API call per company per TTL, however many scrapes (counted from the previous refresh's start, less up to 1s of slack for scrape jitter).", "60s", &o.cacheTTL, time.ParseDuration)
	namedFlag(app, "kinsta.timeout", "Timeout of one refresh from the Kinsta API; also how long a scrape without X-Prometheus-Scrape-Timeout-Seconds waits for it.", "15s", &o.timeout, time.ParseDuration)
	namedFlag(app, "timeout-offset", "Subtracted from Prometheus' X-Prometheus-Scrape-Timeout-Seconds to leave time to answer the scrape: seconds (0.5, as blackbox_exporter spells it) or a duration (500ms).", "0.5s", &o.timeoutOffset, parseSecondsOrDuration)
	namedFlag(app, "kinsta.max-staleness", "After refreshes have failed this long, drop a company's site series instead of serving old data (kinsta_up stays).", "1h", &o.maxStaleness, time.ParseDuration)
	namedFlag(app, "kinsta.max-response-size", "Largest Kinsta API response body accepted.", "64MiB", &o.maxResponse, units.ParseBase2Bytes)
	namedFlag(app, "kinsta.rate-limit", fmt.Sprintf("Most requests per second sent to the Kinsta API (burst of 3), shared by all companies. 0 disables the limit. With --demo and this flag not given: %g, for the demo's own fake API on loopback.", demoRateLimit), "1", &o.rateLimit, func(v string) (float64, error) { return strconv.ParseFloat(v, 64) }).IsSetByUser(&o.rateLimitSet)
	app.Flag("demo", fmt.Sprintf("Serve a built-in simulated Kinsta company (no account needed): starts a fake Kinsta API on loopback and exports it with every background collector on (activity too) unless its flag is given, at --kinsta.rate-limit=%g unless given, so that every collector has data within seconds.", demoRateLimit)).BoolVar(&o.demo)
	app.Flag("web.disable-exporter-metrics", "Exclude metrics about the exporter itself (promhttp_*, process_*, go_*), as node_exporter's flag does.").BoolVar(&o.noExporterMetrics)
	app.Flag("config.check", "Check the configuration (--config.file and the API key files it names, or the flags and the key) and exit: 0 with a one-line summary, 1 with the error. Makes no API call and serves nothing.").BoolVar(&o.configCheck)
	o.collectors = collector.RegisterFlags(app)
	limitFlags(app, &o.limits)
	_, err := app.Parse(args)
	return o, app, err
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
	case slices.Contains(server.ReservedPaths, o.telemetryPath):
		return fmt.Errorf("--web.telemetry-path %s is taken; not one of %s", o.telemetryPath, strings.Join(server.ReservedPaths, ", "))
	}
	if err := kinsta.CheckBaseURL(o.apiURL); err != nil {
		return fmt.Errorf("--kinsta.api-url: %w", err)
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
		// The demo shows every collector (activity too) unless told otherwise.
		o.collectors.EnableAll()
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
// that before a collection; 20 holds the peak at 1.2 times. Little garbage
// is made between refreshes (a scrape copies cached bytes), so collections
// stay few (README, Performance: at the default flags and 10,000 sites,
// 20 instead of 30 took the peak from 101 MB to under 100).
const defaultGCPercent = 20

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
	if o.configCheck {
		fmt.Println(o.checkSummary())
		return
	}
	logger, slogger := newLogger(o.logFormat, o.logLevel)
	if err := run(context.Background(), o, logger, slogger); err != nil {
		level.Error(logger).Log("msg", "Exporter stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o *options, logger log.Logger, slogger *slog.Logger) error {
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
		if !o.rateLimitSet {
			o.rateLimit = demoRateLimit
			level.Info(logger).Log("msg", "Demo mode: the demo's own API is paced faster than Kinsta's", "rate_limit", o.rateLimit)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector(exporterName))
	if !o.noExporterMetrics {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	// One exporter per company (companies.go), the clients of all API keys
	// sharing --kinsta.rate-limit and the API request metrics.
	c, err := newCompanies(o, reg, logger)
	if err != nil {
		return err
	}
	c.Start(ctx)
	var metrics collector.Source = c.Fleet
	if o.probeOnly {
		metrics = collector.NoSource{} // companies only on /probe
	}
	handler, ready, err := server.Handler(server.Options{
		Name:              exporterName,
		Version:           version.Info(),
		TelemetryPath:     o.telemetryPath,
		MaxRequests:       o.maxRequests,
		RefreshTimeout:    o.timeout,
		TimeoutOffset:     o.timeoutOffset,
		Registry:          reg,
		NoExporterMetrics: o.noExporterMetrics,
		Metrics:           metrics,
		Parts:             collector.Parts(o.collectors.Collectors()),
		Companies:         c.Fleet,
		Reloader:          c,
		EnableLifecycle:   o.lifecycle,
		ListenAddresses:   *o.web.WebListenAddresses,
		Logger:            logger,
	})
	if err != nil {
		return err
	}
	srv := server.NewHTTPServer(handler)
	srv.ErrorLog = slog.NewLogLogger(slogger.Handler(), slog.LevelError)
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
