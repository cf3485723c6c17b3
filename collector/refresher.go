package collector

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// The switchable collectors fan out per site or environment, so no scrape
// waits for them. One background goroutine per Exporter (the fleet has one
// Exporter per company), the refresher, works through the work items that
// are due, most overdue first (never fetched ones before all others), one
// API request at a time through the shared, rate-limited client. Its
// requests are marked kinsta.WithBackground: they take only spare tokens of
// the rate limit, so that however many refreshers are busy, a GET /sites
// never queues behind them. Scrapes only serve what is cached and wake it
// up. Without scrapes it stops making API calls once its lease runs out.

const (
	// defaultLease is how long the refresher keeps working after the last
	// scrape: no scrapes, no API calls.
	defaultLease = 10 * time.Minute
	// disableFor is the least time a collector stays off for a company after
	// Kinsta answered 404 (the API key's role may not read the data); the
	// collector's interval when longer.
	disableFor = 6 * time.Hour
	// notFoundThreshold is how many consecutive 404s of one collector's site
	// or environment items switch it off for the company: one 404 may be a
	// site deleted since the last GET /sites, a run of them is a permission.
	notFoundThreshold = 3
	// failureRetry bounds the wait before an item whose refresh failed
	// (other than 404 and 429) is tried again.
	failureRetry = 10 * time.Minute
	// idleRecheck is how long the refresher sleeps when it has nothing to
	// wait for, before it looks again.
	idleRecheck = time.Hour
	// minRateLimitWait is the least the refresher pauses after a 429.
	minRateLimitWait = time.Second
)

// scope is what one work item of a collector covers.
type scope int

const (
	scopeKey         scope = iota // the API key: one item, whatever the companies
	scopeCompany                  // one item per company
	scopeSite                     // one item per site
	scopeEnvironment              // one item per environment
)

// itemCollector is one switchable collector.
type itemCollector interface {
	// scope is the collector's item granularity; fallback is true while a
	// collector with a fallback (fallbackCollector) uses it.
	scope(fallback bool) scope
	// descs are the descriptors of every series the collector builds.
	descs() []*prometheus.Desc
	// refresh calls the API for one item, calling req.pace before every
	// request, and builds the item's series.
	refresh(ctx context.Context, req *request) (result, error)
}

// fallbackCollector is a collector that, when its company-wide endpoint
// answers 404, can fall back to per-environment endpoints.
type fallbackCollector interface {
	itemCollector
	fallbackDescription() string
}

// target identifies a work item.
type target struct {
	collector string
	company   string // "" for scopeKey
	siteID    string
	envID     string
}

// request is what a collector's refresh gets.
type request struct {
	target
	inv      *inventory // the company's sites; nil for scopeKey
	state    any        // result.state of the item's last success; nil at first
	fallback bool
	start    time.Time // the refresher's clock when the refresh started
	since    time.Time // when the refresher was created: the exporter's start
	pace     func(context.Context) error
}

// result is a successful refresh: the item's series until the next success,
// and state the collector wants back next time (activity's watermark).
type result struct {
	series  series
	state   any
	company string // scopeKey: the company the API key belongs to
}

// inventory is a company's sites from the last good GET /sites, with
// duplicate and empty ids dropped.
type inventory struct {
	sites   []kinsta.Site
	envSite map[string]string // environment id -> site id
}

func newInventory(sites []kinsta.Site) *inventory {
	inv := &inventory{envSite: map[string]string{}}
	seenSites := map[string]bool{}
	for _, s := range sites {
		if s.ID == "" || seenSites[s.ID] {
			continue
		}
		seenSites[s.ID] = true
		envs := make([]kinsta.Environment, 0, len(s.Environments))
		for _, env := range s.Environments {
			if env.ID == "" {
				continue
			}
			if _, dup := inv.envSite[env.ID]; dup {
				continue
			}
			inv.envSite[env.ID] = s.ID
			envs = append(envs, env)
		}
		s.Environments = envs
		inv.sites = append(inv.sites, s)
	}
	return inv
}

func (inv *inventory) targets(collector, company string, sc scope) []target {
	switch sc {
	case scopeCompany:
		return []target{{collector: collector, company: company}}
	case scopeSite:
		out := make([]target, 0, len(inv.sites))
		for _, s := range inv.sites {
			out = append(out, target{collector: collector, company: company, siteID: s.ID})
		}
		return out
	case scopeEnvironment:
		out := make([]target, 0, len(inv.envSite))
		for _, s := range inv.sites {
			for _, env := range s.Environments {
				out = append(out, target{collector: collector, company: company, siteID: s.ID, envID: env.ID})
			}
		}
		return out
	}
	return nil
}

// item is one work item and its cache. series is replaced whole on success.
type item struct {
	target
	reg    *registered
	index  int    // position in the queue; -1 while being refreshed
	seq    uint64 // creation order, to break ties
	added  time.Time
	next   time.Time // due at; zero for never fetched (most overdue of all)
	state  refreshState
	series series
	data   any
}

// isDue reports whether the item waits in the queue and its time has come.
func (it *item) isDue(now time.Time) bool { return it.index >= 0 && !it.next.After(now) }

// dueSince is when the item became due, for the lag metric.
func (it *item) dueSince() time.Time {
	if it.next.IsZero() {
		return it.added
	}
	return it.next
}

// queue is a min-heap of items by due time.
type queue []*item

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].next.Equal(q[j].next) {
		return q[i].next.Before(q[j].next)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *queue) Push(x any) {
	it := x.(*item)
	it.index = len(*q)
	*q = append(*q, it)
}
func (q *queue) Pop() any {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	it.index = -1
	return it
}

// stateKey names a collector for a company.
type stateKey struct{ collector, company string }

// collectorState is what the refresher remembers of one collector for one
// company beyond its items.
type collectorState struct {
	disabledUntil time.Time // off after 404s until then
	disabled      bool      // logged as disabled, not yet as re-enabled
	fallback      bool      // using per-environment endpoints
	fallbackUntil time.Time
	notFound      int // consecutive 404s
	failing       int // items whose last attempt failed, for logging transitions
	lastDuration  time.Duration
}

// isDisabled reports whether the collector is paused after 404s.
func (st *collectorState) isDisabled(now time.Time) bool { return st.disabledUntil.After(now) }

type registered struct {
	definition
	c        itemCollector
	interval time.Duration
	pos      int // in refresher.collectors
	// changes counts changes of the collector's served series (a refresh
	// stored different ones or served an item again, an item went away
	// with its series), for generation. Written under refresher.mu.
	changes atomic.Uint64
}

// refresher runs the switchable collectors; see the top of this file.
type refresher struct {
	source     SitesSource
	logger     log.Logger
	now        func() time.Time
	after      func(time.Duration) (<-chan time.Time, func() bool)
	limiter    *rate.Limiter
	timeout    time.Duration
	maxStale   time.Duration
	lease      time.Duration
	started    time.Time
	collectors []*registered
	byName     map[string]*registered
	wake       chan struct{}

	leaseUntil atomic.Int64 // unix nanoseconds; not under mu, so that a scrape is no write

	mu         genMutex // counts writes: the memos below are valid until the next
	companies  []string // in order of their first inventory
	inv        map[string]*inventory
	dirty      bool // the inventory or a fallback changed: reconcile the items
	items      map[target]*item
	queue      queue
	states     map[stateKey]*collectorState
	keyCompany string // the API key's company, from GET /validate
	seq        uint64

	// Scrapes outnumber writes (a few per background refresh): what a
	// scrape would compute from all items, tens of thousands at 10,000
	// sites, is kept until the next write.
	memoMu sync.Mutex
	totals *itemTotals
	expiry expiryMemo
}

func realAfter(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// newRefresher returns nil when no switchable collector is enabled.
func newRefresher(source SitesSource, cfg Config, logger log.Logger) *refresher {
	if len(cfg.Collectors) == 0 {
		return nil
	}
	r := &refresher{
		source:   source,
		logger:   logger,
		now:      cfg.Now,
		after:    cfg.after,
		limiter:  cfg.limiter,
		timeout:  cfg.RefreshTimeout,
		maxStale: cfg.MaxStaleness,
		lease:    cfg.lease,
		byName:   map[string]*registered{},
		wake:     make(chan struct{}, 1),
		inv:      map[string]*inventory{},
		items:    map[target]*item{},
		states:   map[stateKey]*collectorState{},
	}
	if r.after == nil {
		r.after = realAfter
	}
	if r.lease <= 0 {
		r.lease = defaultLease
	}
	r.started = r.now()
	for name := range cfg.Collectors {
		if _, ok := lookupDefinition(name); !ok {
			panic(fmt.Sprintf("collector: unknown collector %q (known: %s)", name, strings.Join(CollectorNames(), ", ")))
		}
	}
	for _, d := range definitions {
		interval, ok := cfg.Collectors[d.name]
		if !ok {
			continue
		}
		if interval <= 0 {
			interval = d.interval
		}
		c, err := d.newCollector(source)
		if err != nil {
			panic(fmt.Sprintf("collector: %s: %v", d.name, err))
		}
		reg := &registered{definition: d, c: c, interval: interval, pos: len(r.collectors)}
		r.collectors = append(r.collectors, reg)
		r.byName[d.name] = reg
		if c.scope(false) == scopeKey {
			r.addItem(target{collector: d.name}, r.now())
		}
	}
	return r
}

// scraped extends the lease and wakes the refresher. It never blocks.
func (r *refresher) scraped() {
	if r == nil {
		return
	}
	r.leaseUntil.Store(r.now().Add(r.lease).UnixNano())
	r.poke()
}

func (r *refresher) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// setInventory hands over a company's sites after a good GET /sites.
func (r *refresher) setInventory(company string, sites []kinsta.Site) {
	if r == nil {
		return
	}
	inv := newInventory(sites)
	r.mu.Lock()
	if _, known := r.inv[company]; !known {
		r.companies = append(r.companies, company)
	}
	r.inv[company] = inv
	r.dirty = true
	r.mu.Unlock()
	r.poke()
}

func (r *refresher) state(collector, company string) *collectorState {
	k := stateKey{collector, company}
	st := r.states[k]
	if st == nil {
		st = &collectorState{}
		r.states[k] = st
	}
	return st
}

func (r *refresher) addItem(t target, now time.Time) {
	r.seq++
	it := &item{target: t, reg: r.byName[t.collector], seq: r.seq, added: now}
	if st := r.states[stateKey{t.collector, t.company}]; st != nil && st.disabledUntil.After(now) {
		it.next = st.disabledUntil
	}
	r.items[t] = it
	heap.Push(&r.queue, it)
}

func (r *refresher) removeItem(it *item) {
	if it.index >= 0 {
		heap.Remove(&r.queue, it.index)
	}
	if it.state.lastErr != nil {
		r.state(it.collector, it.company).failing--
	}
	if !it.state.lastSuccess.IsZero() {
		it.reg.changes.Add(1)
	}
	delete(r.items, it.target)
}

// reconcile makes the items match the inventories and fallback modes:
// new sites and environments get items (due at once), gone ones lose theirs
// with their series. Called with r.mu held, by the run loop only.
func (r *refresher) reconcile(now time.Time) {
	r.dirty = false
	want := map[target]bool{}
	for _, company := range r.companies {
		inv := r.inv[company]
		for _, reg := range r.collectors {
			if reg.c.scope(false) == scopeKey {
				continue // one item for the key, not per company
			}
			sc := reg.c.scope(r.state(reg.name, company).fallback)
			for _, t := range inv.targets(reg.name, company, sc) {
				want[t] = true
			}
		}
	}
	for t, it := range r.items {
		if t.company != "" && !want[t] {
			r.removeItem(it)
		}
	}
	// New items are queued round-robin across collectors (they tie on their
	// zero due time, so creation order decides): every collector gets its
	// first data within seconds, not after the others' whole first pass.
	var lists [][]target
	for _, company := range r.companies {
		for _, reg := range r.collectors {
			if reg.c.scope(false) == scopeKey {
				continue // one item for the key, not per company
			}
			sc := reg.c.scope(r.state(reg.name, company).fallback)
			var fresh []target
			for _, t := range r.inv[company].targets(reg.name, company, sc) {
				if _, ok := r.items[t]; !ok {
					fresh = append(fresh, t)
				}
			}
			if len(fresh) > 0 {
				lists = append(lists, fresh)
			}
		}
	}
	for i := 0; len(lists) > 0; i++ {
		kept := lists[:0]
		for _, l := range lists {
			if i < len(l) {
				r.addItem(l[i], now)
				kept = append(kept, l)
			}
		}
		lists = kept
	}
}

// next returns the item to refresh now, or how long to sleep before
// looking again (wait < 0: until woken). It takes the write lock only when
// it changes something, since every write is a new generation.
func (r *refresher) next() (it *item, reg *registered, wait time.Duration) {
	now := r.now()
	active := now.UnixNano() < r.leaseUntil.Load()
	r.mu.RLock()
	write := r.dirty || active && len(r.queue) > 0 && !r.queue[0].next.After(now)
	for _, st := range r.states {
		write = write || st.fallback && !now.Before(st.fallbackUntil)
	}
	if !write {
		wait = -1
		if active && len(r.queue) > 0 {
			wait = r.queue[0].next.Sub(now)
		}
		r.mu.RUnlock()
		return nil, nil, wait
	}
	r.mu.RUnlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	for k, st := range r.states {
		if st.fallback && !now.Before(st.fallbackUntil) {
			st.fallback = false
			r.dirty = true
			level.Info(r.logger).Log("msg", "Trying the company-wide endpoint again", "collector", k.collector, "company", k.company)
		}
	}
	if r.dirty {
		r.reconcile(now)
	}
	if !active || len(r.queue) == 0 {
		return nil, nil, -1 // no scrape lately, or nothing to do: sleep until a scrape
	}
	top := r.queue[0]
	if top.next.After(now) {
		return nil, nil, top.next.Sub(now)
	}
	heap.Pop(&r.queue)
	if st := r.states[stateKey{top.collector, top.company}]; st != nil && st.disabled && !now.Before(st.disabledUntil) {
		st.disabled = false
		level.Info(r.logger).Log("msg", "Collector re-enabled after its 404 pause", "collector", top.collector, "company", top.company)
	}
	return top, r.byName[top.collector], 0
}

// run is the refresher's loop; it returns when ctx ends.
func (r *refresher) run(ctx context.Context) {
	for ctx.Err() == nil {
		it, reg, wait := r.next()
		if it == nil {
			if wait < 0 {
				wait = idleRecheck
			}
			r.sleepUntil(ctx, r.now().Add(wait), true)
			continue
		}
		if pause := r.refreshItem(ctx, it, reg); pause > 0 {
			r.sleepUntil(ctx, r.now().Add(pause), false)
		}
	}
}

// sleepUntil waits until the refresher's clock reaches t, ctx ends or, if
// wakeable, a scrape wakes it. It goes by the clock, not by the timer, so a
// timer that fires early (a simulated clock) never cuts a wait short.
func (r *refresher) sleepUntil(ctx context.Context, t time.Time, wakeable bool) {
	var wake chan struct{}
	if wakeable {
		wake = r.wake
	}
	for {
		d := t.Sub(r.now())
		if d <= 0 {
			return
		}
		timer, stop := r.after(d)
		select {
		case <-timer:
			stop()
			select { // a wake-up that came with the tick wins
			case <-wake:
				return
			default:
			}
		case <-wake:
			stop()
			return
		case <-ctx.Done():
			stop()
			return
		}
	}
}

// pace waits for the refresher's own limiter, when it has one (tests, on
// their simulated clock). In production the API client's limiter paces every
// request of the process.
func (r *refresher) pace(ctx context.Context) error {
	if r.limiter == nil {
		return ctx.Err()
	}
	now := r.now()
	res := r.limiter.ReserveN(now, 1)
	if !res.OK() {
		return fmt.Errorf("refresher rate limit: burst below 1")
	}
	if d := res.DelayFrom(now); d > 0 {
		r.sleepUntil(ctx, now.Add(d), false)
		if err := ctx.Err(); err != nil {
			res.CancelAt(r.now())
			return err
		}
	}
	return nil
}

// refreshItem refreshes one item and requeues it. It returns how long to
// pause all refreshes: the back-off after a 429.
func (r *refresher) refreshItem(ctx context.Context, it *item, reg *registered) time.Duration {
	r.mu.RLock()
	st := r.states[stateKey{it.collector, it.company}]
	req := &request{target: it.target, inv: r.inv[it.company], state: it.data, pace: r.pace,
		fallback: st != nil && st.fallback, since: r.started}
	r.mu.RUnlock()

	// Background work: its requests yield to GET /sites at the rate limit.
	ictx, cancel := context.WithTimeout(kinsta.WithBackground(ctx), r.timeout)
	req.start = r.now()
	res, err := reg.c.refresh(ictx, req)
	end := r.now()
	cancel()
	if ctx.Err() != nil {
		return 0 // shutting down
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.finish(it, reg, req, res, err, end)
	heap.Push(&r.queue, it)
	if kinsta.IsKind(err, kinsta.KindRateLimited) {
		var kerr *kinsta.Error
		pause := minRateLimitWait
		if errors.As(err, &kerr) && kerr.RetryAfter > pause {
			pause = kerr.RetryAfter
		}
		return pause
	}
	return 0
}

// finish records a refresh. Called with r.mu held.
func (r *refresher) finish(it *item, reg *registered, req *request, res result, err error, end time.Time) {
	start := req.start
	st := r.state(it.collector, it.company)
	wasFailing := it.state.lastErr != nil
	it.state.lastAttempt = start
	it.state.lastDuration = end.Sub(start)
	it.state.lastErr = err
	st.lastDuration = it.state.lastDuration
	switch {
	case err != nil && !wasFailing:
		st.failing++
	case err == nil && wasFailing:
		st.failing--
	}
	logger := log.With(r.logger, "collector", it.collector, "company", r.companyLabel(it.company))
	if it.siteID != "" {
		logger = log.With(logger, "site_id", it.siteID)
	}
	if it.envID != "" {
		logger = log.With(logger, "environment_id", it.envID)
	}

	switch {
	case err == nil:
		// The same series again, from an item that is being served, change
		// nothing: the collector's rendering stays valid. Most refreshes
		// of a stable fleet are such.
		if it.state.lastSuccess.IsZero() || r.expired(it, end) || !it.series.equal(&res.series) {
			it.reg.changes.Add(1)
		}
		it.state.lastSuccess = end
		it.series = res.series
		it.data = res.state
		it.next = start.Add(reg.interval)
		st.notFound = 0
		if res.company != "" {
			r.keyCompany = res.company
		}
		if wasFailing && st.failing == 0 {
			level.Info(logger).Log("msg", "Refreshes work again")
		}
		level.Debug(logger).Log("msg", "Refreshed", "series", res.series.len(), "duration", it.state.lastDuration)
	case kinsta.IsKind(err, kinsta.KindRateLimited):
		// Still due: it keeps its place at the front of the queue, and the
		// whole refresher pauses for the back-off.
		if it.next.IsZero() || it.next.After(start) {
			it.next = start
		}
		level.Warn(logger).Log("msg", "Kinsta API rate limit hit; pausing background refreshes", "err", err)
	case kinsta.IsKind(err, kinsta.KindNotFound):
		r.notFound(it, reg, st, req, err, end, logger)
	default:
		it.next = end.Add(min(reg.interval, failureRetry))
		// One warning when the collector starts failing for the company, not
		// one per environment during an outage.
		lvl := level.Debug
		if !wasFailing && st.failing == 1 {
			lvl = level.Warn
		}
		lvl(logger).Log("msg", "Refresh failed; serving the last good data", "kind", kinsta.KindOf(err), "err", err,
			"last_success", formatTime(it.state.lastSuccess), "failing_items", st.failing)
	}
}

// notFound handles a 404: fall back to per-environment endpoints, or after
// enough of them switch the collector off for the company for a while, with
// one log line.
func (r *refresher) notFound(it *item, reg *registered, st *collectorState, req *request, err error, now time.Time, logger log.Logger) {
	pause := max(disableFor, reg.interval)
	if fc, ok := reg.c.(fallbackCollector); ok && !req.fallback {
		st.fallback = true
		st.fallbackUntil = now.Add(pause)
		r.dirty = true
		it.next = st.fallbackUntil // replaced by per-environment items at the next reconcile
		level.Warn(logger).Log("msg", "Company-wide endpoint answered 404; "+fc.fallbackDescription(),
			"until", formatTime(st.fallbackUntil), "err", err)
		return
	}
	st.notFound++
	threshold := 1
	if sc := reg.c.scope(req.fallback); sc == scopeSite || sc == scopeEnvironment {
		threshold = min(notFoundThreshold, r.countItems(it.collector, it.company))
	}
	if st.notFound < threshold {
		it.next = now.Add(reg.interval) // a site or environment deleted since GET /sites, probably
		level.Debug(logger).Log("msg", "Kinsta answered 404 for one item", "err", err)
		return
	}
	st.notFound = 0
	st.disabled = true
	st.disabledUntil = now.Add(pause)
	for _, other := range r.items {
		if other.collector == it.collector && other.company == it.company && other.next.Before(st.disabledUntil) {
			other.next = st.disabledUntil
			if other.index >= 0 {
				heap.Fix(&r.queue, other.index)
			}
		}
	}
	level.Warn(logger).Log("msg", "Collector disabled for this company: Kinsta answers 404, which also means the API key's role may not read this data",
		"until", formatTime(st.disabledUntil), "err", err)
}

func (r *refresher) countItems(collector, company string) int {
	n := 0
	for t := range r.items {
		if t.collector == collector && t.company == company {
			n++
		}
	}
	return n
}

// companyLabel is the company label of an item's series: the API key's
// items carry the key's company, or the first known one until GET /validate
// has answered.
func (r *refresher) companyLabel(company string) string {
	if company != "" {
		return company
	}
	if r.keyCompany != "" {
		return r.keyCompany
	}
	if len(r.companies) > 0 {
		return r.companies[0]
	}
	return ""
}

var (
	collectorDisabledDesc = prometheus.NewDesc("kinsta_exporter_collector_disabled",
		"1 while the collector is paused for the company because the Kinsta API answered 404, which also means the API key's role may not read the data; it is retried after max(6h, the collector's interval). 0 otherwise.",
		[]string{"company", "collector"}, nil)
	queueItemsDesc = prometheus.NewDesc("kinsta_exporter_refresh_queue_items",
		"Work items (the API key, companies, sites or environments) the collector refreshes in the background.",
		[]string{"collector"}, nil)
	queueDueDesc = prometheus.NewDesc("kinsta_exporter_refresh_queue_due_items",
		"Work items of the collector whose refresh is due but not done yet: how far the background refresher is behind. It works only while scrapes arrive.",
		[]string{"collector"}, nil)
	queueOldestDesc = prometheus.NewDesc("kinsta_exporter_refresh_queue_oldest_due_timestamp_seconds",
		"Unix time since which the collector's most overdue work item has been due (time() minus it is how far the refresher is behind); absent when none is due.",
		[]string{"collector"}, nil)
)

// expired reports whether an item's last good series are too old to serve:
// older than the collector's interval plus --kinsta.max-staleness.
func (r *refresher) expired(it *item, now time.Time) bool {
	return now.Sub(it.state.lastSuccess) > r.expiresAfter(it)
}

func (r *refresher) describe(ch chan<- *prometheus.Desc) {
	if r == nil {
		return
	}
	for _, d := range []*prometheus.Desc{collectorDisabledDesc, queueItemsDesc, queueDueDesc, queueOldestDesc} {
		ch <- d
	}
	for _, reg := range r.collectors {
		for _, d := range reg.c.descs() {
			ch <- d
		}
	}
}

// collectorAgg is the collector series of one collector and company,
// computed from its items.
type collectorAgg struct {
	attempted  bool
	failing    bool
	oldestGood time.Time
}

// itemTotals is what collect needs from all items that changes only under
// the write lock: kept until the next write.
type itemTotals struct {
	writes   uint64
	items    []int // per collector, by registered.pos
	aggs     map[stateKey]*collectorAgg
	counters []*item // items with series other than gauges (activity's)
}

// itemTotals returns the totals of the current write. Called with r.mu
// read-locked, so that no write happens meanwhile.
func (r *refresher) itemTotals() *itemTotals {
	r.memoMu.Lock()
	defer r.memoMu.Unlock()
	writes := r.mu.writes.Load()
	if t := r.totals; t != nil && t.writes == writes {
		return t
	}
	t := &itemTotals{writes: writes, items: make([]int, len(r.collectors)), aggs: map[stateKey]*collectorAgg{}}
	for _, it := range r.items {
		t.items[it.reg.pos]++
		k := stateKey{it.collector, r.companyLabel(it.company)}
		a := t.aggs[k]
		if a == nil {
			a = &collectorAgg{}
			t.aggs[k] = a
		}
		if !it.state.lastAttempt.IsZero() {
			a.attempted = true
			a.failing = a.failing || it.state.lastErr != nil
		}
		if good := it.state.lastSuccess; !good.IsZero() {
			if a.oldestGood.IsZero() || good.Before(a.oldestGood) {
				a.oldestGood = good
			}
			if len(it.series.metrics) > 0 {
				t.counters = append(t.counters, it)
			}
		}
	}
	r.totals = t
	return t
}

// queueStats are the due items of one collector.
type queueStats struct {
	due    int
	oldest time.Time
}

// dueStats walks the queue's due items only: the queue is a heap by due
// time, so a node that is not due has no due children.
func (r *refresher) dueStats(now time.Time) []queueStats {
	stats := make([]queueStats, len(r.collectors))
	var walk func(i int)
	walk = func(i int) {
		if i >= len(r.queue) || !r.queue[i].isDue(now) {
			return
		}
		it := r.queue[i]
		q := &stats[it.reg.pos]
		q.due++
		if s := it.dueSince(); q.oldest.IsZero() || s.Before(q.oldest) {
			q.oldest = s
		}
		walk(2*i + 1)
		walk(2*i + 2)
	}
	walk(0)
	return stats
}

// collect sends the cached series of every item (their gauges only when
// gauges is set: itemGauges hands them to a cache) and the collector and
// queue series. It never calls the API.
func (r *refresher) collect(ch chan<- prometheus.Metric, now time.Time, gauges bool) {
	if r == nil {
		return
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	t := r.itemTotals()
	for _, it := range t.counters {
		if !r.expired(it, now) {
			for _, m := range it.series.metrics {
				ch <- m
			}
		}
	}
	if gauges {
		for _, it := range r.items {
			if r.served(it, now) {
				it.series.collectGauges(ch)
			}
		}
	}
	due := r.dueStats(now)
	for _, reg := range r.collectors {
		q := due[reg.pos]
		ch <- prometheus.MustNewConstMetric(queueItemsDesc, prometheus.GaugeValue, float64(t.items[reg.pos]), reg.name)
		ch <- prometheus.MustNewConstMetric(queueDueDesc, prometheus.GaugeValue, float64(q.due), reg.name)
		if !q.oldest.IsZero() {
			ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, unixSeconds(q.oldest), reg.name)
		}
	}
	for k, st := range r.states {
		label := r.companyLabel(k.company)
		disabled := st.isDisabled(now)
		ch <- prometheus.MustNewConstMetric(collectorDisabledDesc, prometheus.GaugeValue, boolValue(disabled), label, k.collector)
		a := t.aggs[stateKey{k.collector, label}]
		if a == nil {
			a = &collectorAgg{}
		}
		if !a.attempted && !disabled {
			continue
		}
		ok := a.attempted && !a.failing && !disabled
		ch <- prometheus.MustNewConstMetric(collectorSuccessDesc, prometheus.GaugeValue, boolValue(ok), label, k.collector)
		ch <- prometheus.MustNewConstMetric(collectorDurationDesc, prometheus.GaugeValue, st.lastDuration.Seconds(), label, k.collector)
		if !a.oldestGood.IsZero() {
			ch <- prometheus.MustNewConstMetric(collectorLastSuccessDesc, prometheus.GaugeValue,
				float64(a.oldestGood.UnixNano())/1e9, label, k.collector)
		}
	}
}

// expiresAfter is how long an item's last good series are served.
func (r *refresher) expiresAfter(it *item) time.Duration { return it.reg.interval + r.maxStale }

// expiryMemo is generation's count of expired items per collector, valid
// for the write it was computed at until the next item expires.
type expiryMemo struct {
	valid      bool
	writes     uint64
	expired    []uint64  // by registered.pos
	nextExpiry time.Time // zero: none will
}

// generation identifies what itemGauges would hand over now for the
// collector: it changes whenever one of its items' served series change or
// expire. O(items) under the read lock after a write or an expiry, O(1)
// otherwise.
func (r *refresher) generation(now time.Time, collector string) uint64 {
	if r == nil || r.byName[collector] == nil {
		return 0
	}
	reg := r.byName[collector]
	r.mu.RLock()
	defer r.mu.RUnlock()
	r.memoMu.Lock()
	defer r.memoMu.Unlock()
	m := &r.expiry
	if !m.valid || m.writes != r.mu.writes.Load() || !m.nextExpiry.IsZero() && !now.Before(m.nextExpiry) {
		r.countExpired(now)
	}
	// Between two changes an item's series can only go from served to
	// expired (time moves on): an item served again is a change. So the
	// number of expired ones identifies the set.
	return reg.changes.Load()<<staleBits | m.expired[reg.pos]&(1<<staleBits-1)
}

// countExpired recomputes the expiry memo. Called with r.mu read-locked
// and r.memoMu held.
func (r *refresher) countExpired(now time.Time) {
	m := expiryMemo{valid: true, writes: r.mu.writes.Load(), expired: make([]uint64, len(r.collectors))}
	for _, it := range r.items {
		if it.state.lastSuccess.IsZero() {
			continue
		}
		if r.expired(it, now) {
			m.expired[it.reg.pos]++
			continue
		}
		// expired is "older than", so the first expired instant is 1ns later.
		at := it.state.lastSuccess.Add(r.expiresAfter(it) + time.Nanosecond)
		if m.nextExpiry.IsZero() || at.Before(m.nextExpiry) {
			m.nextExpiry = at
		}
	}
	r.expiry = m
}

// itemGauges hands the gauges of the collector's items whose series are
// served to yield; it reports false when yield stopped it.
func (r *refresher) itemGauges(now time.Time, collector string, yield func(name, help string, labelNames, labelValues []string, values []float64) bool) bool {
	for _, s := range r.servedSeries(now, collector) {
		if !s.gaugeFamilies(yield) {
			return false
		}
	}
	return true
}

// servedSeries are the series of the collector's items whose series are
// served and have gauges, in the items' creation order so that renderings
// are stable. Copies: finish replaces an item's series under the lock, but
// the rows a series holds are immutable, so they are read without it.
func (r *refresher) servedSeries(now time.Time, collector string) []series {
	if r == nil {
		return nil
	}
	type served struct {
		seq    uint64
		series series
	}
	r.mu.RLock()
	list := make([]served, 0, len(r.items))
	for _, it := range r.items {
		if it.collector == collector && r.served(it, now) && len(it.series.gauges) > 0 {
			list = append(list, served{it.seq, it.series})
		}
	}
	r.mu.RUnlock()
	slices.SortFunc(list, func(a, b served) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]series, len(list))
	for i, s := range list {
		out[i] = s.series
	}
	return out
}

// served reports whether the item's last good series are served now.
func (r *refresher) served(it *item, now time.Time) bool {
	return !it.state.lastSuccess.IsZero() && !r.expired(it, now)
}
