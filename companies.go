package main

// The companies the exporter serves, from flags or --config.file, and the
// endpoints that deal with them one at a time: /probe?company=, /sd (HTTP
// service discovery for Prometheus) and /-/reload.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	sloggokit "github.com/tjhop/slog-gokit"
	"golang.org/x/time/rate"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/collector/config"
	"github.com/kinsta-exporter/kinsta_exporter/collector/exposition"
	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// rateLimitBurst is the burst of --kinsta.rate-limit.
const rateLimitBurst = 3

// reservedPaths are served whatever --web.telemetry-path says.
var reservedPaths = []string{"/probe", "/sd", "/-/reload", "/-/healthy", "/-/ready"}

// checkConfigFileFlags refuses --config.file combined with the flags it
// replaces, and loads it, for a one-line exit at start-up.
func (o *options) checkConfigFileFlags() error {
	switch {
	case o.demo:
		return errors.New("--config.file and --demo exclude each other")
	case o.apiKeyFile != "":
		return errors.New("--config.file and --kinsta.api-key-file (or KINSTA_API_KEY_FILE) exclude each other: put the key file in the configuration file (api_key_file)")
	case len(o.companies) > 0:
		return errors.New("--config.file and --kinsta.company (or KINSTA_COMPANY) exclude each other: list the companies in the configuration file")
	}
	if _, err := config.Load(o.configFile); err != nil {
		return fmt.Errorf("--config.file: %w", err)
	}
	return nil
}

// companySet is the fleet of exporters of the configured companies, with
// what reloads it.
type companySet struct {
	*fleet.Fleet
	o      *options
	logger log.Logger

	reloadMu       sync.Mutex
	reloadable     bool // there is a file to read again
	lastReloadOK   prometheus.Gauge
	lastReloadTime prometheus.Gauge
	probeSlots     chan struct{} // nil: no limit

	probeMu       sync.Mutex
	probeHandlers map[probeKey]http.Handler // of the companies as configured now
}

// probeKey identifies what a company's /probe handler serves: an exporter
// kept by a reload keeps its handler and the renderings it caches.
type probeKey struct {
	exp      *collector.Exporter
	id, name string
}

// newCompanies builds the fleet of the configured companies, their clients
// sharing one rate limiter and one instrumented transport.
func newCompanies(o *options, reg prometheus.Registerer, logger log.Logger) (*companySet, error) {
	if _, err := kinsta.New(kinsta.Config{BaseURL: o.apiURL, APIKey: "placeholder"}); err != nil {
		return nil, fmt.Errorf("--kinsta.api-url: %w", err)
	}
	var limiter *rate.Limiter
	if o.rateLimit > 0 {
		limiter = rate.NewLimiter(rate.Limit(o.rateLimit), rateLimitBurst)
	}
	transport := collector.InstrumentTransport(http.DefaultTransport.(*http.Transport).Clone(), reg)
	f := fleet.New(fleet.Options{
		NewClient: func(key string) (*kinsta.Client, error) {
			return kinsta.New(kinsta.Config{
				BaseURL:          o.apiURL,
				APIKey:           key,
				UserAgent:        exporterName + "/" + version.Version,
				MaxResponseBytes: int64(o.maxResponse),
				Limiter:          limiter,
				Transport:        transport,
			})
		},
		Collector: collector.Config{
			CacheTTL:       o.cacheTTL,
			RefreshTimeout: o.timeout,
			MaxStaleness:   o.maxStaleness,
			Collectors:     o.collectors.Collectors(),
		},
		Logger: log.With(logger, "component", "collector"),
	})
	c := &companySet{Fleet: f, o: o, logger: logger, reloadable: o.configFile != "" || o.apiKeyFile != ""}
	if o.maxRequests > 0 {
		c.probeSlots = make(chan struct{}, o.maxRequests)
	}
	list, err := c.load()
	if err != nil {
		return nil, err
	}
	changes, err := f.Apply(list)
	if err != nil {
		return nil, err
	}
	if o.configFile != "" && os.Getenv(apiKeyEnv) != "" {
		level.Warn(logger).Log("msg", apiKeyEnv+" is ignored: with --config.file every key comes from a key file")
	}
	level.Info(logger).Log("msg", "Exporting companies", "source", c.source(), "companies", len(list), "ids", ids(changes.Added))
	if c.reloadable {
		c.lastReloadOK = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kinsta_exporter_config_last_reload_successful",
			Help: "1 if the last reload of the configuration (--config.file and the API key files, on SIGHUP or POST /-/reload) succeeded, 0 if it failed and the previous configuration is still in use.",
		})
		c.lastReloadTime = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kinsta_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful load of the configuration (--config.file and the API key files), at start-up or on reload.",
		})
		reg.MustRegister(c.lastReloadOK, c.lastReloadTime)
		c.lastReloadOK.Set(1)
		c.lastReloadTime.SetToCurrentTime()
	}
	return c, nil
}

func (c *companySet) source() string {
	if c.o.configFile != "" {
		return c.o.configFile
	}
	return "flags"
}

// load reads the companies, with their keys, from the configuration file or
// the flags: the files are read again on every call.
func (c *companySet) load() ([]fleet.Company, error) {
	o := c.o
	if o.configFile != "" {
		cfg, err := config.Load(o.configFile)
		if err != nil {
			return nil, err
		}
		for _, f := range cfg.WorldReadable {
			level.Warn(c.logger).Log("msg", "An API key file is readable by every user; chmod 600 it", "file", f)
		}
		list := make([]fleet.Company, len(cfg.Companies))
		for i, co := range cfg.Companies {
			list[i] = fleet.Company{ID: co.ID, Name: co.Name, Key: string(co.APIKey)}
		}
		return list, nil
	}
	key := o.apiKey // from the environment or --demo
	if o.apiKeyFile != "" {
		var err error
		if key, err = loadAPIKey(o.apiKeyFile); err != nil {
			return nil, err
		}
	}
	if len(o.companies) == 0 {
		return []fleet.Company{{Key: key}}, nil
	}
	list := make([]fleet.Company, len(o.companies))
	for i, id := range o.companies {
		list[i] = fleet.Company{ID: id, Key: key}
	}
	return list, nil
}

// reload reads the configuration again and applies it; on error the old
// configuration stays in use.
func (c *companySet) reload(trigger string) error {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	if !c.reloadable {
		level.Info(c.logger).Log("msg", "Nothing to reload: no --config.file and no --kinsta.api-key-file", "trigger", trigger)
		return nil
	}
	list, err := c.load()
	var changes fleet.Changes
	if err == nil {
		changes, err = c.Apply(list)
	}
	if err != nil {
		c.lastReloadOK.Set(0)
		level.Error(c.logger).Log("msg", "Reloading the configuration failed; keeping the previous one", "trigger", trigger, "err", err)
		return err
	}
	c.lastReloadOK.Set(1)
	c.lastReloadTime.SetToCurrentTime()
	c.pruneProbeHandlers()
	level.Info(c.logger).Log("msg", "Reloaded the configuration", "trigger", trigger, "source", c.source(), "companies", len(list),
		"added", ids(changes.Added), "removed", ids(changes.Removed), "renamed", ids(changes.Renamed),
		"new_key", ids(changes.Restarted), "unchanged", len(changes.Kept))
	return nil
}

// ids lists company ids for a log line, the first maxLoggedIDs of them.
func ids(list []string) string {
	const maxLoggedIDs = 20
	switch {
	case len(list) == 0:
		return "none"
	case len(list) > maxLoggedIDs:
		return fmt.Sprintf("%s,... (%d more)", strings.Join(list[:maxLoggedIDs], ","), len(list)-maxLoggedIDs)
	}
	return strings.Join(list, ",")
}

// Start runs the companies' background refreshers and reloads on SIGHUP
// until ctx ends.
func (c *companySet) Start(ctx context.Context) {
	c.Fleet.Start(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = c.reload("SIGHUP") // logged
			}
		}
	}()
}

// Refresh, SiteSeries and StateSeries are the fleet's, for /metrics; with
// --web.probe-only /metrics serves no company and makes no API call.
func (c *companySet) Refresh(ctx context.Context) {
	if !c.o.probeOnly {
		c.Fleet.Refresh(ctx)
	}
}

// SiteSeries: see Refresh.
func (c *companySet) SiteSeries() prometheus.Collector {
	if c.o.probeOnly {
		return noSeries{}
	}
	return c.Fleet.SiteSeries()
}

// ItemSeries: see Refresh.
func (c *companySet) ItemSeries(collectorName string) prometheus.Collector {
	if c.o.probeOnly {
		return noSeries{}
	}
	return c.Fleet.ItemSeries(collectorName)
}

// Generation and ItemGeneration: see Refresh. With --web.probe-only they
// never change, so /metrics does no per-company work for series it does not
// serve.
func (c *companySet) Generation() uint64 {
	if c.o.probeOnly {
		return 0
	}
	return c.Fleet.Generation()
}

// ItemGeneration: see Generation.
func (c *companySet) ItemGeneration(collectorName string) uint64 {
	if c.o.probeOnly {
		return 0
	}
	return c.Fleet.ItemGeneration(collectorName)
}

// cachedSource is what /metrics (every company) and /probe (one) render
// from: the site series and each switchable collector's gauges, each
// cached per its own generation, since they change at paces of their own.
type cachedSource interface {
	SiteSeries() prometheus.Collector
	Generation() uint64
	ItemSeries(collectorName string) prometheus.Collector
	ItemGeneration(collectorName string) uint64
}

// renderCaches returns src's caches: the site series, then one per enabled
// switchable collector.
func (c *companySet) renderCaches(src cachedSource, errorLog exposition.Logger) []*exposition.Cache {
	caches := []*exposition.Cache{exposition.NewCache(src.SiteSeries(), src.Generation, errorLog)}
	enabled := c.o.collectors.Collectors()
	for _, name := range collector.CollectorNames() {
		if _, on := enabled[name]; on {
			generation := func() uint64 { return src.ItemGeneration(name) }
			caches = append(caches, exposition.NewCache(src.ItemSeries(name), generation, errorLog))
		}
	}
	return caches
}

// StateSeries: see Refresh.
func (c *companySet) StateSeries() prometheus.Collector {
	if c.o.probeOnly {
		return noSeries{}
	}
	return c.Fleet.StateSeries()
}

type noSeries struct{}

func (noSeries) Describe(chan<- *prometheus.Desc) {}
func (noSeries) Collect(chan<- prometheus.Metric) {}

// register adds /probe, /sd and /-/reload to mux.
func (c *companySet) register(mux *http.ServeMux, logger log.Logger) {
	slogger := slog.New(sloggokit.NewGoKitHandler(logger, slog.LevelDebug))
	errorLog := slog.NewLogLogger(slogger.Handler(), slog.LevelError)
	mux.HandleFunc("/probe", func(w http.ResponseWriter, r *http.Request) { c.probe(w, r, errorLog) })
	mux.HandleFunc("/sd", c.serviceDiscovery)
	mux.HandleFunc("/-/reload", c.reloadHandler)
}

// probe serves one company's series, refreshed within the scrape's deadline
// as /metrics is: blackbox_exporter's /probe?target=, with the company id.
func (c *companySet) probe(w http.ResponseWriter, r *http.Request, errorLog promhttp.Logger) {
	if c.probeSlots != nil {
		select {
		case c.probeSlots <- struct{}{}:
			defer func() { <-c.probeSlots }()
		default:
			http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", cap(c.probeSlots)), http.StatusServiceUnavailable)
			return
		}
	}
	values := r.URL.Query()["company"]
	if len(values) != 1 || values[0] == "" {
		http.Error(w, "The company parameter is required once: /probe?company=<Kinsta company id>", http.StatusBadRequest)
		return
	}
	id := values[0]
	ctx, cancel := scrapeContext(w, r, c.o.timeout, c.o.timeoutOffset)
	defer cancel()
	target, ok := c.Lookup(id)
	if !ok && c.Undiscovered() {
		// No company configured: the key's company is not known until
		// GET /validate names it (one call per cache TTL at most).
		c.Discover(ctx)
		target, ok = c.Lookup(id)
	}
	if !ok {
		http.Error(w, fmt.Sprintf("Company %q is not configured (--config.file or --kinsta.company).", id), http.StatusNotFound)
		return
	}
	target.Refresh(ctx)
	c.probeHandler(target, errorLog).ServeHTTP(w, r)
}

// probeHandler returns the company's /probe handler, made at its first probe:
// the company's site series and switchable collectors' gauges rendered once
// per generation, as /metrics renders all companies', and its other series
// gathered per probe, with kinsta_exporter_build_info, which tells a
// company's target from another program's (the KinstaExporterDown rule).
func (c *companySet) probeHandler(t *fleet.Target, errorLog promhttp.Logger) http.Handler {
	k := probeKey{t.Exporter(), t.ID, t.Name}
	c.probeMu.Lock()
	defer c.probeMu.Unlock()
	if h := c.probeHandlers[k]; h != nil {
		return h
	}
	live := prometheus.NewRegistry()
	live.MustRegister(t.StateSeries(), versioncollector.NewCollector(exporterName))
	h := exposition.Handler(live, c.renderCaches(t, errorLog), exposition.HandlerOpts{ErrorLog: errorLog})
	// A reload since the lookup may have removed or renamed the company:
	// its handler then serves this probe only, rather than staying.
	if c.current(k) {
		if c.probeHandlers == nil {
			c.probeHandlers = map[probeKey]http.Handler{}
		}
		c.probeHandlers[k] = h
	}
	return h
}

// current reports whether k is a company as configured now.
func (c *companySet) current(k probeKey) bool {
	t, ok := c.Lookup(k.id)
	return ok && t.Exporter() == k.exp && t.Name == k.name
}

// pruneProbeHandlers drops the handlers, with their renderings, of
// companies a reload removed, renamed or gave a new key; the others keep
// theirs.
func (c *companySet) pruneProbeHandlers() {
	c.probeMu.Lock()
	defer c.probeMu.Unlock()
	for k := range c.probeHandlers {
		if !c.current(k) {
			delete(c.probeHandlers, k)
		}
	}
}

// sdTargetGroup is one entry of Prometheus' HTTP service discovery.
type sdTargetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// serviceDiscovery lists the configured companies for Prometheus'
// http_sd_configs: one target per company, this exporter as seen in the
// request's Host, scraped at /probe?company=<id>. The instance label is the
// company id, so that series keep their identity whichever replica probes
// the company; __meta_kinsta_company_id and _name are there for relabelling
// (hashmod sharding, keeping a name label).
func (c *companySet) serviceDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	if c.Undiscovered() {
		ctx, cancel := context.WithTimeout(r.Context(), c.o.timeout)
		c.Discover(ctx)
		cancel()
	}
	host := r.Host
	if host == "" {
		host = "localhost" + defaultListenAddress
	}
	groups := []sdTargetGroup{}
	for _, co := range c.Companies() {
		groups = append(groups, sdTargetGroup{
			Targets: []string{host},
			Labels: map[string]string{
				"__metrics_path__":           "/probe",
				"__param_company":            co.ID,
				"instance":                   co.ID,
				"__meta_kinsta_company_id":   co.ID,
				"__meta_kinsta_company_name": co.Name,
			},
		})
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(groups); err != nil {
		level.Debug(c.logger).Log("msg", "Writing /sd failed", "err", err)
	}
}

// reloadHandler is POST /-/reload, as Prometheus': 200 when the new
// configuration is in use, 500 with the reason when the old one stays.
func (c *companySet) reloadHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method not allowed: use POST", http.StatusMethodNotAllowed)
		return
	}
	if err := c.reload("POST /-/reload"); err != nil {
		http.Error(w, fmt.Sprintf("Reloading failed, the previous configuration stays in use: %v", err), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "Reloaded")
}
