package collector

import (
	"container/heap"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"

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
//
// Its parts, by file: workitem.go (what a collector refreshes: scopes,
// targets, items), queue.go (the queue and the schedule), failure.go (what
// a 404, a 429 or another failure does to the schedule), refresher_metrics.go
// (the series it serves and their generations), and this file (the loop).

const (
	// defaultLease is how long the refresher keeps working after the last
	// scrape: no scrapes, no API calls.
	defaultLease = 10 * time.Minute
	// idleRecheck is how long the refresher sleeps when it has nothing to
	// wait for, before it looks again.
	idleRecheck = time.Hour
)

// registered is an enabled collector with its interval.
type registered struct {
	definition
	c        itemCollector
	interval time.Duration
	pos      int // in refresher.collectors
	// changes counts changes of the collector's served series (a refresh
	// stored different ones or served an item again, an item went away
	// with its series), for generation. Written under refresher.mu.
	changes atomic.Uint64
	served  atomic.Pointer[servedMemo] // the last servedFamilies
	// keyScope: the collector's one item is the API key's, of no company.
	keyScope bool
	items    map[itemKey]*item // under refresher.mu
}

// refresher runs the switchable collectors; see the top of this file.
type refresher struct {
	logger     log.Logger
	now        func() time.Time
	after      func(time.Duration) (<-chan time.Time, func() bool)
	timeout    time.Duration
	maxStale   time.Duration
	lease      time.Duration
	started    time.Time
	epoch      time.Time // of stamps: started less stampEpoch
	limits     Limits
	limited    *limitCounters
	collectors []*registered
	byName     map[string]*registered
	wake       chan struct{}
	calls      *apiCalls // the company's call counts; set by New

	leaseUntil atomic.Int64 // unix nanoseconds; not under mu, so that a scrape is no write

	mu         countingMutex // counts writes: the memos below are valid until the next
	company    string        // configured, or the one of the last inventory; "" before GET /validate names it
	inv        *inventory    // the company's sites; nil before the first good GET /sites
	dirty      bool          // the inventory or a fallback changed: reconcile the items
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
	due    dueMemo
}

// countingMutex counts its write-locked sections, so that a memo of what
// scrapes compute from all items knows it is valid: nothing was written
// since it was made.
type countingMutex struct {
	sync.RWMutex
	writes atomic.Uint64
}

// Unlock counts the write before releasing the lock, so a reader that sees
// the new state also sees the new count, or a later one.
func (m *countingMutex) Unlock() {
	m.writes.Add(1)
	m.RWMutex.Unlock()
}

func realAfter(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// newRefresher returns nil when no switchable collector is enabled, and an
// error for a collector name that is not registered.
func newRefresher(api API, cfg Config, limited *limitCounters, logger log.Logger) (*refresher, error) {
	if len(cfg.Collectors) == 0 {
		return nil, nil
	}
	r := &refresher{
		logger:   logger,
		limits:   cfg.Limits.withDefaults(),
		limited:  limited,
		company:  cfg.Company,
		now:      cfg.Now,
		after:    cfg.after,
		timeout:  cfg.RefreshTimeout,
		maxStale: cfg.MaxStaleness,
		lease:    cfg.lease,
		byName:   map[string]*registered{},
		wake:     make(chan struct{}, 1),
		states:   map[stateKey]*collectorState{},
	}
	if r.after == nil {
		r.after = realAfter
	}
	if r.lease <= 0 {
		r.lease = defaultLease
	}
	r.started = r.now()
	r.epoch = r.started.Add(-stampEpoch)
	for name := range cfg.Collectors {
		if _, ok := lookupDefinition(name); !ok {
			return nil, fmt.Errorf("unknown collector %q (known: %s)", name, strings.Join(CollectorNames(), ", "))
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
		c := d.newCollector(api)
		reg := &registered{definition: d, c: c, interval: interval, pos: len(r.collectors),
			keyScope: c.scope(false) == scopeKey, items: map[itemKey]*item{}}
		r.collectors = append(r.collectors, reg)
		r.byName[d.name] = reg
		if reg.keyScope {
			r.addItem(reg, itemKey{}, r.now())
		}
	}
	return r, nil
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

// setInventory hands over the company's sites after a good GET /sites.
func (r *refresher) setInventory(company string, sites []kinsta.Site) {
	if r == nil {
		return
	}
	// Most refreshes of GET /sites find the same sites: then there is
	// nothing to reconcile, which would build a set of every work item's
	// target (tens of megabytes at 10,000 sites, on every refresh), nor an
	// inventory to compare.
	r.mu.RLock()
	same := company == r.company && r.inv.lists(sites)
	r.mu.RUnlock()
	if same {
		return
	}
	inv := newInventory(sites)
	r.mu.Lock()
	if company != r.company {
		// An item's company is the refresher's (item.company): the other
		// company's items go now, not at the next reconcile.
		r.removeCompanyItems()
	}
	r.company, r.inv = company, inv
	r.dirty = true
	r.mu.Unlock()
	r.poke()
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

// refreshItem refreshes one item and requeues it. It returns how long to
// pause all refreshes: the API client's back-off after a 429 (kinsta.HoldOff
// decides it for the whole process), so that the items behind this one do
// not each fail against the open window.
func (r *refresher) refreshItem(ctx context.Context, it *item, reg *registered) time.Duration {
	r.mu.RLock()
	t := it.target(r)
	st := r.states[stateKey{t.collector, t.company}]
	req := &request{target: t, state: it.data,
		fallback: st != nil && st.fallback, since: r.started, limits: r.limits}
	if t.company != "" {
		req.inv = r.inv
	}
	r.mu.RUnlock()

	// Background work: its requests yield to GET /sites at the rate limit.
	ictx, cancel := context.WithTimeout(withCalls(kinsta.WithBackground(ctx), r.calls, nil), r.timeout)
	req.start = r.now()
	res, err := reg.c.refresh(ictx, req)
	end := r.now()
	cancel()
	if ctx.Err() != nil {
		return 0 // shutting down
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if reg.items[it.key] != it {
		// Removed while it was refreshed (the inventory's company changed,
		// setInventory): its result goes with it.
		return kinsta.HoldOff(err)
	}
	r.finish(it, reg, req, res, err, end)
	heap.Push(&r.queue, it)
	return kinsta.HoldOff(err)
}
