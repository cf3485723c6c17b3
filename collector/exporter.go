package collector

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"golang.org/x/sync/singleflight"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// SitesSource is what the exporter needs from the Kinsta API; *kinsta.Client
// satisfies it and tests pass fakes.
type SitesSource interface {
	// SitesWithDropped is GET /sites, with the count of the malformed
	// elements it left out.
	SitesWithDropped(ctx context.Context, companyID string) (kinsta.SitesResult, error)
	Validate(ctx context.Context) (kinsta.KeyInfo, error)
}

// Config tunes the cache. Zero durations are invalid; main.go validates flags.
type Config struct {
	// Company to export. Empty means: ask GET /validate which company the
	// key belongs to, on the first refresh (and again until that succeeds).
	Company string
	// CacheTTL is how long one refresh attempt (good or bad) is reused. It bounds
	// API calls to one per TTL however many scrapes arrive.
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
	// Limits bound what an API answer can make the exporter hold; zero
	// fields mean the defaults.
	Limits Limits

	// after is the background refresher's timer; nil means real timers
	// (tests run it on a simulated clock).
	after func(time.Duration) (<-chan time.Time, func() bool)
	// lease is how long the refresher works after a scrape; 0: defaultLease.
	lease time.Duration
}

// Exporter is one company's exporter: a Source over immutable snapshots of
// GET /sites and of the switchable collectors' background refreshes. Its
// Gauges and CollectLive never call the API; Refresh does, at most once per
// TTL.
type Exporter struct {
	source API
	cfg    Config
	logger log.Logger
	flight singleflight.Group

	mu        sync.RWMutex
	company   string               // configured, or named by GET /validate; "" until then
	discovery refreshState         // GET /validate, while company is ""
	state     refreshState         // GET /sites
	snapshot  *siteRows            // site series of the last good refresh; nil before it
	domains   []EnvironmentDomains // of the last good refresh, for Domains
	sites     map[string]string    // site id -> status, of the last good refresh, for the change log
	limited   *limitCounters       // what the limits left out, of every collector
	malformed malformedCounters    // malformed elements GET /sites left out
	// changes counts changes of the served site series (a refresh that
	// stored other rows), for Generation.
	changes atomic.Uint64

	ref   *refresher // the switchable collectors; nil when none is enabled
	calls *apiCalls  // the company's API calls of the last hour (calls.go)
}

// refreshState is what one cached resource (the company's sites, or the
// key's company) remembers of its last refresh.
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

// New returns an exporter; it makes no API call until the first Refresh. It
// fails only for a collector name that is not registered.
func New(source API, cfg Config, logger log.Logger) (*Exporter, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Limits = cfg.Limits.withDefaults()
	limited := &limitCounters{}
	ref, err := newRefresher(source, cfg, limited, logger)
	if err != nil {
		return nil, err
	}
	calls := newAPICalls(cfg.Now)
	if ref != nil {
		ref.calls = calls
	}
	return &Exporter{source: source, cfg: cfg, logger: logger, company: cfg.Company, limited: limited, ref: ref, calls: calls}, nil
}

// Start runs the switchable collectors' background refresher until ctx
// ends. Without Start they never refresh.
func (e *Exporter) Start(ctx context.Context) {
	if e.ref != nil {
		go e.ref.run(ctx)
	}
}

// Company is the company's id: the configured one or, without one, the API
// key's company once GET /validate has named it ("" until then).
func (e *Exporter) Company() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.company
}

// Refresh brings the company's sites up to date when the cache is older
// than the TTL, and returns when that is done or ctx ends, whichever is
// first. The refresh keeps running after ctx ends, under its own timeout,
// so the next scrape finds it done.
func (e *Exporter) Refresh(ctx context.Context) {
	e.ref.scraped() // never blocks: the switchable collectors refresh in the background
	if e.Company() == "" {
		if !e.due(&e.discovery) || !wait(ctx, e.flight.DoChan("discovery", e.discover)) {
			return
		}
	}
	if e.Company() != "" && e.due(&e.state) {
		flight := e.flight.DoChan("sites", e.refreshSites)
		if e.serving() {
			// Served data is not waited for: the refresh fills the cache
			// for the next scrape. Decoding 10,000 sites takes a quarter of
			// a second, over a second on a busy machine, and a scrape that
			// waited for it stood out as Prometheus' slowest.
			return
		}
		wait(ctx, flight)
	}
}

// Sync is Refresh for a caller that needs the data of the refresh it
// starts rather than a scrape's answer: it also waits, until ctx ends, for
// a refresh that Refresh left running because there were series to serve.
func (e *Exporter) Sync(ctx context.Context) {
	e.Refresh(ctx)
	wait(ctx, e.flight.DoChan("sites", func() (any, error) { return nil, nil }))
}

// serving reports whether the site series are served now: a scrape
// answers with them without waiting for a refresh.
func (e *Exporter) serving() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return !e.expired(e.cfg.Now())
}

// wait reports whether ch delivered before ctx ended.
func wait(ctx context.Context, ch <-chan singleflight.Result) bool {
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

func (e *Exporter) due(s *refreshState) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return s.due(e.cfg.Now(), e.cfg.CacheTTL)
}

// refreshSites is the one GET /sites of a flight. The due check is repeated
// inside it: a scrape that saw the cache stale just before another refresh
// finished must not cause a second API call in the same TTL.
func (e *Exporter) refreshSites() (any, error) {
	if !e.due(&e.state) {
		return nil, nil
	}
	return e.fetchSites(withCalls(context.Background(), e.calls, nil))
}

// fetchSites is one GET /sites, whatever the cache's age, within the
// refresh timeout, and stores what it got; parent carries the call sink.
func (e *Exporter) fetchSites(parent context.Context) (any, error) {
	company := e.Company()
	ctx, cancel := context.WithTimeout(parent, e.cfg.RefreshTimeout)
	defer cancel()
	start := e.cfg.Now()
	res, err := e.source.SitesWithDropped(ctx, company)
	end := e.cfg.Now()
	sites := res.Sites
	var built *siteBuild
	if err == nil {
		e.mu.RLock()
		prev := siteBuildPrev{snapshot: e.snapshot, domains: e.domains}
		e.mu.RUnlock()
		built, err = buildSiteRows(company, sites, e.cfg.Limits.forAnswer(res.BodyBytes), prev)
	}
	if err == nil {
		e.ref.setInventory(company, built.kept)
		e.countLimited(company, sitesCollector, built.hits)
		e.countMalformed(company, res.Dropped)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	wasFailing := e.state.lastErr != nil
	e.state.lastAttempt, e.state.lastDuration, e.state.lastErr = start, end.Sub(start), err
	if err != nil {
		level.Warn(e.logger).Log("msg", "Refreshing sites failed; serving the last good data", "company", company,
			"kind", kinsta.KindOf(err), "err", err, "last_success", formatTime(e.state.lastSuccess))
		return nil, nil
	}
	if wasFailing {
		level.Info(e.logger).Log("msg", "Refreshing sites works again", "company", company)
	}
	// The same rows again, while served, change nothing: the rendering stays.
	rows := built.rows
	if e.expired(e.cfg.Now()) || !e.snapshot.equal(rows) {
		e.changes.Add(1)
	}
	e.state.lastSuccess = end
	e.snapshot, e.domains = rows, built.domains
	e.sites = e.logChanges(company, e.sites, built.summaries)
	level.Debug(e.logger).Log("msg", "Refreshed sites", "company", company, "sites", len(sites), "series", rows.series(), "duration", e.state.lastDuration)
	return nil, nil
}

// countLimited counts what the limits left out of one refresh of a
// collector, with one log line.
func (e *Exporter) countLimited(company, collector string, hits limitHits) {
	if !hits.any() {
		return
	}
	e.limited.add(company, collector, hits)
	level.Warn(e.logger).Log(append([]any{"msg", "Limits left part of the Kinsta API's answer out (see --limit.* flags)",
		"company", company, "collector", collector}, hits.logValues()...)...)
}

// logChanges logs sites that appeared, disappeared or changed status, and
// returns the new site -> status map. The sites are those exported, each
// once (buildSiteRows keeps the first of a repeated id), so that a site
// listed twice with two statuses is not logged as changing on every
// refresh. The first refresh only records.
func (e *Exporter) logChanges(companyID string, old map[string]string, sites []siteSummary) map[string]string {
	next := make(map[string]string, len(sites))
	for _, s := range sites {
		next[s.id] = s.status
	}
	if old == nil {
		return next
	}
	for _, s := range sites {
		before, existed := old[s.id]
		switch {
		case !existed:
			level.Info(e.logger).Log("msg", "Site added", "company", companyID, "site_id", s.id, "name", s.name, "status", s.status)
		case before != s.status:
			level.Info(e.logger).Log("msg", "Site status changed", "company", companyID, "site_id", s.id, "name", s.name, "from", before, "to", s.status)
		}
	}
	for id := range old {
		if _, ok := next[id]; !ok {
			level.Info(e.logger).Log("msg", "Site removed", "company", companyID, "site_id", id)
		}
	}
	return next
}

// discover asks GET /validate for the key's company, for when none is
// configured. Until it succeeds the exporter serves kinsta_up{company=""} 0.
func (e *Exporter) discover() (any, error) {
	if e.Company() != "" || !e.due(&e.discovery) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(withCalls(context.Background(), e.calls, nil), e.cfg.RefreshTimeout)
	defer cancel()
	start := e.cfg.Now()
	key, err := e.source.Validate(ctx)
	end := e.cfg.Now()
	if err == nil {
		err = checkKeyCompany(key.CompanyID)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.discovery = refreshState{lastAttempt: start, lastDuration: end.Sub(start), lastErr: err}
	if err != nil {
		level.Warn(e.logger).Log("msg", "Finding the API key's company failed; set --kinsta.company to skip this step", "kind", kinsta.KindOf(err), "err", err)
		return nil, nil
	}
	e.discovery.lastSuccess = end
	e.company = key.CompanyID
	level.Info(e.logger).Log("msg", "Found the API key's company", "company", key.CompanyID)
	return nil, nil
}

// expired reports whether the site series are no longer served: no refresh
// ever succeeded, or the last success is older than MaxStaleness. Gauges
// and Generation share it so that they agree to the nanosecond. Called
// with e.mu held.
func (e *Exporter) expired(now time.Time) bool {
	return e.state.lastSuccess.IsZero() || now.Sub(e.state.lastSuccess) > e.cfg.MaxStaleness
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
