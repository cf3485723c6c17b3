package main

// The companies the exporter serves, from flags or --config.file, as a
// fleet of per-company exporters, and what reloads them (SIGHUP and, through
// the server with --web.enable-lifecycle, POST /-/reload).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"
	"golang.org/x/time/rate"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/collector/config"
	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/server"
)

// rateLimitBurst is the burst of --kinsta.rate-limit.
const rateLimitBurst = 3

// checkConfigFileFlags refuses --config.file combined with the flags it
// replaces, and loads it, for a one-line exit at start-up; the loaded file
// is the start-up configuration (it is read again only on reload).
func (o *options) checkConfigFileFlags() error {
	switch {
	case o.demo:
		return errors.New("--config.file and --demo exclude each other")
	case o.apiKeyFile != "":
		return errors.New("--config.file and --kinsta.api-key-file (or KINSTA_API_KEY_FILE) exclude each other: put the key file in the configuration file (api_key_file)")
	case len(o.companies) > 0:
		return errors.New("--config.file and --kinsta.company (or KINSTA_COMPANY) exclude each other: list the companies in the configuration file")
	}
	cfg, err := config.Load(o.configFile)
	if err != nil {
		return fmt.Errorf("--config.file: %w", err)
	}
	o.config = cfg
	return nil
}

// checkSummary is --config.check's one line once validate has loaded the
// configuration: what would be exported, and with which keys (never the
// keys themselves).
func (o *options) checkSummary() string {
	switch {
	case o.config != nil:
		files := map[string]bool{}
		for _, c := range o.config.Companies {
			files[c.APIKeyFile] = true
		}
		s := fmt.Sprintf("OK: %s: %d companies, %d API key files", o.configFile, len(o.config.Companies), len(files))
		if n := len(o.config.WorldReadable); n > 0 {
			s += fmt.Sprintf(" (%d readable by every user; chmod 600 them)", n)
		}
		return s
	case o.demo:
		return "OK: --demo, the built-in simulated company"
	}
	key := "the environment variable " + apiKeyEnv
	if o.apiKeyFile != "" {
		key = o.apiKeyFile
	}
	companies := "the API key's company (found by GET /validate)"
	if len(o.companies) > 0 {
		companies = fmt.Sprintf("%d companies (%s)", len(o.companies), ids(o.companies))
	}
	return fmt.Sprintf("OK: flags: %s, API key from %s", companies, key)
}

// companies is the fleet of exporters of the configured companies, with
// what reloads it; it is the server's Reloader.
type companies struct {
	*fleet.Fleet
	o      *options
	logger log.Logger

	reloadMu       sync.Mutex
	lastReloadOK   prometheus.Gauge // nil when there is nothing to reload
	lastReloadTime prometheus.Gauge
	// Failed reloads and reloads with nothing to reload log one line per
	// reloadLogEvery: a client POSTing in a loop wrote two lines a request.
	failureLog, nothingLog *throttle
}

// reloadLogEvery is the least time between two log lines of failed
// reloads; the next line says how many were not logged.
const reloadLogEvery = 10 * time.Second

// throttle lets one event a period through and counts the others.
type throttle struct {
	mu         sync.Mutex
	every      time.Duration
	now        func() time.Time
	last       time.Time
	suppressed int
}

func newThrottle(every time.Duration) *throttle { return &throttle{every: every, now: time.Now} }

// allow reports whether the event may be logged and, if so, how many were
// not since the last one that was.
func (t *throttle) allow() (ok bool, suppressed int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if !t.last.IsZero() && now.Sub(t.last) < t.every {
		t.suppressed++
		return false, 0
	}
	t.last, suppressed, t.suppressed = now, t.suppressed, 0
	return true, suppressed
}

// notLogged is the key-value pair of a throttled log line, when some were
// not logged.
func notLogged(suppressed int) []any {
	if suppressed == 0 {
		return nil
	}
	return []any{"not_logged_since", suppressed}
}

// newCompanies builds the fleet of the configured companies, their clients
// sharing one rate limiter and one instrumented transport, from the
// configuration validate loaded.
func newCompanies(o *options, reg prometheus.Registerer, logger log.Logger) (*companies, error) {
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
			Limits:         o.limits,
		},
		Logger: log.With(logger, "component", "collector"),
	})
	c := &companies{Fleet: f, o: o, logger: logger,
		failureLog: newThrottle(reloadLogEvery), nothingLog: newThrottle(reloadLogEvery)}
	list := c.list(o.config, o.apiKey)
	changes, err := f.Apply(list)
	if err != nil {
		return nil, err
	}
	if o.configFile != "" && os.Getenv(apiKeyEnv) != "" {
		level.Warn(logger).Log("msg", apiKeyEnv+" is ignored: with --config.file every key comes from a key file")
	}
	level.Info(logger).Log("msg", "Exporting companies", "source", c.source(), "companies", len(list), "ids", ids(changes.Added))
	if c.reloadable() {
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

// reloadable reports whether there is a file to read again.
func (c *companies) reloadable() bool { return c.o.configFile != "" || c.o.apiKeyFile != "" }

func (c *companies) source() string {
	if c.o.configFile != "" {
		return c.o.configFile
	}
	return "flags"
}

// list is the companies, with their keys, of a configuration file, or else
// of the flags and key.
func (c *companies) list(cfg *config.Config, key string) []fleet.Company {
	if cfg != nil {
		for _, f := range cfg.WorldReadable {
			level.Warn(c.logger).Log("msg", "An API key file is readable by every user; chmod 600 it", "file", f)
		}
		list := make([]fleet.Company, len(cfg.Companies))
		for i, co := range cfg.Companies {
			list[i] = fleet.Company{ID: co.ID, Name: co.Name, Key: string(co.APIKey)}
		}
		return list
	}
	if len(c.o.companies) == 0 {
		return []fleet.Company{{Key: key}}
	}
	list := make([]fleet.Company, len(c.o.companies))
	for i, id := range c.o.companies {
		list[i] = fleet.Company{ID: id, Key: key}
	}
	return list
}

// readAgain reads the configuration file, or the key file, again.
func (c *companies) readAgain() ([]fleet.Company, error) {
	if c.o.configFile != "" {
		cfg, err := config.Load(c.o.configFile)
		if err != nil {
			return nil, err
		}
		return c.list(cfg, ""), nil
	}
	key, err := loadAPIKey(c.o.apiKeyFile)
	if err != nil {
		return nil, err
	}
	return c.list(nil, key), nil
}

// Reload reads the configuration again and applies it; on error the old
// configuration stays in use. A reload while another runs returns
// server.ErrReloadInProgress at once.
func (c *companies) Reload(trigger string) error {
	if !c.reloadable() {
		if ok, n := c.nothingLog.allow(); ok {
			level.Info(c.logger).Log(append([]any{"msg", "Nothing to reload: no --config.file and no --kinsta.api-key-file", "trigger", trigger}, notLogged(n)...)...)
		}
		return server.ErrNothingToReload
	}
	if !c.reloadMu.TryLock() {
		return server.ErrReloadInProgress
	}
	defer c.reloadMu.Unlock()
	list, err := c.readAgain()
	var changes fleet.Changes
	if err == nil {
		changes, err = c.Apply(list)
	}
	if err != nil {
		c.lastReloadOK.Set(0)
		if ok, n := c.failureLog.allow(); ok {
			level.Error(c.logger).Log(append([]any{"msg", "Reloading the configuration failed; keeping the previous one", "trigger", trigger, "err", err}, notLogged(n)...)...)
		}
		return err
	}
	c.lastReloadOK.Set(1)
	c.lastReloadTime.SetToCurrentTime()
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
func (c *companies) Start(ctx context.Context) {
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
				_ = c.Reload("SIGHUP") // logged
			}
		}
	}()
}
