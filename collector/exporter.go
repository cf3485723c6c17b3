package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// SitesSource is what the exporter needs from the Kinsta API; *kinsta.Client
// satisfies it and tests pass fakes.
type SitesSource interface {
	Sites(ctx context.Context, companyID string) ([]kinsta.Site, error)
	Validate(ctx context.Context) (kinsta.KeyInfo, error)
}

// Config tunes the cache. Zero durations are invalid; main.go validates flags.
type Config struct {
	// Companies to export. Empty means: ask GET /validate which company the key
	// belongs to, on the first refresh (and again until that succeeds).
	Companies []string
	// CacheTTL is how long one refresh attempt (good or bad) is reused. It bounds
	// API calls to one per company per TTL however many scrapes arrive.
	CacheTTL time.Duration
	// RefreshTimeout bounds one refresh. It is independent of the scrape that
	// triggered it, so an impatient scrape does not waste the API call.
	RefreshTimeout time.Duration
	// MaxStaleness is how long site series outlive the last good refresh.
	MaxStaleness time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Collectors are the enabled switchable collectors (see RegisterFlags)
	// with their refresh intervals; a zero interval means the default. They
	// run in the background once Start is called. Empty: the sites core only.
	Collectors map[string]time.Duration

	// Test hooks of the background refresher (refresher.go): its timers on
	// a simulated clock, its own rate limiter on that clock (production has
	// none: the API client's limiter paces the whole process), its lease.
	after   func(time.Duration) (<-chan time.Time, func() bool)
	limiter *rate.Limiter
	lease   time.Duration
}

// Exporter is a prometheus.Collector over per-company snapshots of GET /sites.
// Collect never calls the API; Refresh does, at most once per company per TTL.
type Exporter struct {
	source SitesSource
	cfg    Config
	logger log.Logger
	flight singleflight.Group

	mu        genMutex            // its write count is part of Generation
	companies map[string]*company // by id
	order     []string            // company ids in configuration order
	discovery refreshState        // GET /validate, while no company is configured

	ref *refresher // the switchable collectors; nil when none is enabled
}

// refreshState is what one cached resource (a company's sites, or the key's
// company) remembers of its last refresh.
type refreshState struct {
	lastAttempt  time.Time
	lastSuccess  time.Time
	lastDuration time.Duration
	lastErr      error
}

// due reports whether the cache has outlived the TTL. lastAttempt is when the
// refresh started, and a little slack is allowed, so that Prometheus scraping
// every TTL finds the cache due on every scrape despite jitter.
func (s refreshState) due(now time.Time, ttl time.Duration) bool {
	slack := min(time.Second, ttl/10)
	return s.lastAttempt.IsZero() || now.Sub(s.lastAttempt) >= ttl-slack
}

// company is one company's cache. Its snapshot is replaced whole, never edited.
type company struct {
	id       string
	state    refreshState
	snapshot *siteRows         // site series of the last good refresh; nil before it
	sites    map[string]string // site id -> status of the last good refresh, for change logs
}

// New returns an exporter; it makes no API call until the first Refresh.
func New(source SitesSource, cfg Config, logger log.Logger) *Exporter {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Exporter{source: source, cfg: cfg, logger: logger, companies: map[string]*company{}}
	e.addCompanies(cfg.Companies)
	e.ref = newRefresher(source, cfg, logger)
	return e
}

// Start runs the switchable collectors' background refresher until ctx
// ends. Without Start they never refresh.
func (e *Exporter) Start(ctx context.Context) {
	if e.ref != nil {
		go e.ref.run(ctx)
	}
}

func (e *Exporter) addCompanies(ids []string) {
	for _, id := range ids {
		if _, ok := e.companies[id]; ok || id == "" {
			continue
		}
		e.companies[id] = &company{id: id}
		e.order = append(e.order, id)
	}
}

// Refresh brings every company whose cache is older than the TTL up to date
// and returns when all are done or ctx ends, whichever is first. Refreshes
// keep running after ctx ends, under their own timeout, so the next scrape
// finds them done.
func (e *Exporter) Refresh(ctx context.Context) {
	e.ref.scraped() // never blocks: the switchable collectors refresh in the background
	if e.needsDiscovery() {
		if !e.wait(ctx, e.startDiscovery()) {
			return
		}
	}
	var pending []<-chan singleflight.Result
	for _, id := range e.companyIDs() {
		if e.companyDue(id) {
			pending = append(pending, e.startRefresh(id))
		}
	}
	for _, ch := range pending {
		if !e.wait(ctx, ch) {
			return
		}
	}
}

// wait reports whether ch delivered before ctx ended.
func (e *Exporter) wait(ctx context.Context, ch <-chan singleflight.Result) bool {
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

func (e *Exporter) companyIDs() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return append([]string(nil), e.order...)
}

func (e *Exporter) companyDue(id string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.companies[id].state.due(e.cfg.Now(), e.cfg.CacheTTL)
}

func (e *Exporter) needsDiscovery() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.order) == 0 && e.discovery.due(e.cfg.Now(), e.cfg.CacheTTL)
}

// startRefresh joins or starts the one refresh of a company. The due check is
// repeated inside the flight: a scrape that saw the cache stale just before
// another refresh finished must not cause a second API call in the same TTL.
func (e *Exporter) startRefresh(id string) <-chan singleflight.Result {
	return e.flight.DoChan("sites/"+id, func() (any, error) {
		if !e.companyDue(id) {
			return nil, nil
		}
		e.refreshCompany(id)
		return nil, nil
	})
}

func (e *Exporter) refreshCompany(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RefreshTimeout)
	defer cancel()
	start := e.cfg.Now()
	sites, err := e.source.Sites(ctx, id)
	end := e.cfg.Now()
	if err == nil {
		e.ref.setInventory(id, sites)
	}

	var rows *siteRows
	if err == nil {
		rows = buildSiteRows(id, sites)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.companies[id]
	wasFailing := c.state.lastErr != nil
	c.state.lastAttempt = start
	c.state.lastDuration = end.Sub(start)
	c.state.lastErr = err
	if err != nil {
		level.Warn(e.logger).Log("msg", "Refreshing sites failed; serving the last good data", "company", id,
			"kind", kinsta.KindOf(err), "err", err, "last_success", formatTime(c.state.lastSuccess))
		return
	}
	if wasFailing {
		level.Info(e.logger).Log("msg", "Refreshing sites works again", "company", id)
	}
	c.state.lastSuccess = end
	c.snapshot = rows
	c.sites = e.logChanges(id, c.sites, sites)
	level.Debug(e.logger).Log("msg", "Refreshed sites", "company", id, "sites", len(sites), "series", rows.series(), "duration", c.state.lastDuration)
}

// logChanges logs sites that appeared, disappeared or changed status, and
// returns the new site -> status map. The first refresh only records.
func (e *Exporter) logChanges(companyID string, old map[string]string, sites []kinsta.Site) map[string]string {
	next := make(map[string]string, len(sites))
	for _, s := range sites {
		next[s.ID] = s.Status
	}
	if old == nil {
		return next
	}
	for _, s := range sites {
		before, existed := old[s.ID]
		switch {
		case !existed:
			level.Info(e.logger).Log("msg", "Site added", "company", companyID, "site_id", s.ID, "name", s.Name, "status", s.Status)
		case before != s.Status:
			level.Info(e.logger).Log("msg", "Site status changed", "company", companyID, "site_id", s.ID, "name", s.Name, "from", before, "to", s.Status)
		}
	}
	for id := range old {
		if _, ok := next[id]; !ok {
			level.Info(e.logger).Log("msg", "Site removed", "company", companyID, "site_id", id)
		}
	}
	return next
}

// startDiscovery asks GET /validate for the key's company, for when none is
// configured. Until it succeeds the exporter serves kinsta_up{company=""} 0.
func (e *Exporter) startDiscovery() <-chan singleflight.Result {
	return e.flight.DoChan("discovery", func() (any, error) {
		if !e.needsDiscovery() {
			return nil, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RefreshTimeout)
		defer cancel()
		start := e.cfg.Now()
		key, err := e.source.Validate(ctx)
		end := e.cfg.Now()
		if err == nil && key.CompanyID == "" {
			err = fmt.Errorf("GET /validate named no company; set --kinsta.company")
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		e.discovery = refreshState{lastAttempt: start, lastDuration: end.Sub(start), lastErr: err}
		if err != nil {
			level.Warn(e.logger).Log("msg", "Finding the API key's company failed; set --kinsta.company to skip this step", "kind", kinsta.KindOf(err), "err", err)
			return nil, nil
		}
		e.discovery.lastSuccess = end
		level.Info(e.logger).Log("msg", "Found the API key's company", "company", key.CompanyID)
		e.addCompanies([]string{key.CompanyID})
		return nil, nil
	})
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
