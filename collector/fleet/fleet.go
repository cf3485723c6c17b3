// Package fleet runs the exporter for many Kinsta companies, each possibly
// with its own API key, and swaps the set of companies on a configuration
// reload without losing the caches of the companies that stay.
//
// Every company has its own collector.Exporter (its own cache, refresh state
// and background refresher); exporters of companies that share an API key
// share one kinsta.Client, so that Kinsta's back-off for that key applies to
// all of them, and all clients share the process-wide rate limit and
// instrumented transport that the caller's NewClient builds in. A reload
// keeps the exporter of every company whose id and key did not change.
package fleet

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// apiKeyCollector is the switchable collector that reads GET /validate: it
// describes the key, so only one exporter per key runs it.
const apiKeyCollector = "apikey"

const (
	companyInfoName = "kinsta_company_info"
	companyInfoHelp = "A Kinsta company the exporter is configured to export (--config.file or --kinsta.company), with its name from the configuration file (empty when none is given); always 1."
)

var (
	companyInfoLabels = []string{"company", "name"}
	companyInfoDesc   = prometheus.NewDesc(companyInfoName, companyInfoHelp, companyInfoLabels, nil)
)

// Company is one company to export and the API key to export it with.
type Company struct {
	// ID is the Kinsta company id. "" asks GET /validate for the key's
	// company (--kinsta.api-key-file without --kinsta.company); such a
	// company must be the only one.
	ID   string
	Name string
	// Key is the API key; it is never logged. Companies with the same key
	// share a client.
	Key string
}

// Options configure a Fleet.
type Options struct {
	// NewClient returns the client of one API key. It is called once per
	// distinct key, and again only when a key appears anew in a reload.
	NewClient func(key string) (*kinsta.Client, error)
	// Collector is the configuration of every company's exporter; its
	// Companies field is ignored.
	Collector collector.Config
	Logger    log.Logger
}

// Fleet is the set of exporters of the configured companies. All methods are
// safe for concurrent use.
type Fleet struct {
	opts     Options
	mu       sync.Mutex // serialises Apply and Start
	ctx      context.Context
	state    atomic.Pointer[state]
	gen      genMemo  // SiteSeries'
	itemGens sync.Map // collector name -> *genMemo, ItemSeries'
}

// keyHash identifies an API key without keeping a second copy of it.
type keyHash [sha256.Size]byte

// identity is what an exporter was built from: a reload that keeps all of it
// keeps the exporter, with its cache.
type identity struct {
	id     string
	key    keyHash
	apiKey bool // runs the apikey collector
}

type runner struct {
	identity
	client *kinsta.Client
	exp    *collector.Exporter
	cancel context.CancelFunc // nil until started
}

type entry struct {
	id, name string
	run      *runner
}

// state is one configuration's exporters; it is replaced whole by Apply.
type state struct {
	epoch   uint64
	entries []entry // in configuration order
	byID    map[string]*entry
	info    []prometheus.Metric // kinsta_company_info
}

// New returns an empty fleet; Apply sets its companies.
func New(opts Options) *Fleet {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	f := &Fleet{opts: opts}
	f.state.Store(&state{byID: map[string]*entry{}})
	return f
}

// Changes summarises what an Apply did, for the log.
type Changes struct {
	Added, Removed, Kept, Renamed []string
	// Restarted are companies that stay but got a new exporter, and so an
	// empty cache, because their API key changed.
	Restarted []string
}

// Apply makes companies the fleet's companies. A company whose id and key
// are unchanged keeps its exporter, and with it its cached data, refresh
// times and background work; others get a new exporter, and exporters of
// companies no longer listed are stopped. On error nothing changes.
func (f *Fleet) Apply(companies []Company) (Changes, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := check(companies); err != nil {
		return Changes{}, err
	}
	old := f.state.Load()
	oldRunners := map[identity]*runner{}
	clients := map[keyHash]*kinsta.Client{}
	for _, e := range old.entries {
		oldRunners[e.run.identity] = e.run
		clients[e.run.key] = e.run.client
	}

	next := &state{epoch: old.epoch + 1, byID: make(map[string]*entry, len(companies))}
	var ch Changes
	var created []*runner
	reused := map[*runner]bool{}
	newClients := map[keyHash]*kinsta.Client{}
	hashes := make([]keyHash, len(companies))
	for i, c := range companies {
		hashes[i] = sha256.Sum256([]byte(c.Key))
	}
	// One company per key runs the apikey collector: the one that ran it
	// before if it stays with that key, else the first with the key.
	keyOwner := map[keyHash]string{}
	for i, c := range companies {
		if oe := old.byID[c.ID]; oe != nil && oe.run.identity == (identity{c.ID, hashes[i], true}) {
			keyOwner[hashes[i]] = c.ID
		}
	}
	for i, c := range companies {
		if _, ok := keyOwner[hashes[i]]; !ok {
			keyOwner[hashes[i]] = c.ID
		}
	}
	for i, c := range companies {
		h := hashes[i]
		id := identity{id: c.ID, key: h, apiKey: keyOwner[h] == c.ID}
		run := oldRunners[id]
		if run != nil {
			reused[run] = true
			ch.Kept = append(ch.Kept, c.ID)
			if oe := old.byID[c.ID]; oe != nil && oe.name != c.Name {
				ch.Renamed = append(ch.Renamed, c.ID)
			}
		} else {
			client := clients[h]
			if client == nil {
				client = newClients[h]
			}
			if client == nil {
				var err error
				if client, err = f.opts.NewClient(c.Key); err != nil {
					return Changes{}, fmt.Errorf("company %q: %w", c.ID, err)
				}
				newClients[h] = client
			}
			run = &runner{identity: id, client: client, exp: collector.New(client, f.exporterConfig(id), f.opts.Logger)}
			created = append(created, run)
			if _, existed := old.byID[c.ID]; existed {
				ch.Restarted = append(ch.Restarted, c.ID)
			} else {
				ch.Added = append(ch.Added, c.ID)
			}
		}
		next.entries = append(next.entries, entry{id: c.ID, name: c.Name, run: run})
		if c.ID != "" {
			next.info = append(next.info, prometheus.MustNewConstMetric(companyInfoDesc, prometheus.GaugeValue, 1, c.ID, c.Name))
		}
	}
	for i := range next.entries {
		next.byID[next.entries[i].id] = &next.entries[i]
	}
	for _, e := range old.entries {
		if !reused[e.run] {
			if e.run.cancel != nil {
				e.run.cancel()
			}
			if _, stays := next.byID[e.id]; !stays {
				ch.Removed = append(ch.Removed, e.id)
			}
		}
	}
	if sameEntries(old.entries, next.entries) {
		next.epoch = old.epoch // nothing SiteSeries sends changed
	}
	if f.ctx != nil {
		for _, run := range created {
			f.start(run)
		}
	}
	f.state.Store(next)
	return ch, nil
}

func sameEntries(a, b []entry) bool {
	return slices.EqualFunc(a, b, func(x, y entry) bool { return x == y })
}

// check refuses what the configuration packages already refuse, for callers
// that build companies otherwise.
func check(companies []Company) error {
	seen := map[string]bool{}
	for _, c := range companies {
		switch {
		case c.Key == "":
			return fmt.Errorf("company %q: no API key", c.ID)
		case c.ID == "" && len(companies) > 1:
			return errors.New("a company without id (found by GET /validate) must be the only one")
		case seen[c.ID]:
			return fmt.Errorf("company %q listed twice", c.ID)
		}
		seen[c.ID] = true
	}
	return nil
}

func (f *Fleet) exporterConfig(id identity) collector.Config {
	cfg := f.opts.Collector
	cfg.Companies = nil
	if id.id != "" {
		cfg.Companies = []string{id.id}
	}
	if !id.apiKey {
		cfg.Collectors = maps.Clone(cfg.Collectors)
		delete(cfg.Collectors, apiKeyCollector)
	}
	return cfg
}

// Start runs the background refreshers of the companies' exporters, those
// of later Apply calls included, until ctx ends.
func (f *Fleet) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctx = ctx
	for _, e := range f.state.Load().entries {
		if e.run.cancel == nil {
			f.start(e.run)
		}
	}
}

func (f *Fleet) start(run *runner) {
	ctx, cancel := context.WithCancel(f.ctx)
	run.cancel = cancel
	run.exp.Start(ctx)
}

// Refresh refreshes every company that is due, as collector.Exporter.Refresh
// does, and returns when all are done or ctx ends.
func (f *Fleet) Refresh(ctx context.Context) {
	entries := f.state.Load().entries
	if len(entries) == 1 {
		entries[0].run.exp.Refresh(ctx)
		return
	}
	var wg sync.WaitGroup
	for _, e := range entries {
		wg.Go(func() { e.run.exp.Refresh(ctx) })
	}
	wg.Wait()
}

// Target is one company, as /probe serves it.
type Target struct {
	ID, Name string
	exp      *collector.Exporter
	info     prometheus.Metric // nil for a company found by GET /validate
}

// Refresh refreshes the company if it is due, within ctx.
func (t *Target) Refresh(ctx context.Context) { t.exp.Refresh(ctx) }

// Describe sends nothing: a Target is an unchecked collector.
func (t *Target) Describe(chan<- *prometheus.Desc) {}

// Collect sends the company's series: kinsta_company_info, the site series,
// kinsta_up, the collector series and the switchable collectors' series.
func (t *Target) Collect(ch chan<- prometheus.Metric) {
	if t.info != nil {
		ch <- t.info
	}
	t.exp.Collect(ch)
}

// Exporter is the company's exporter: the same one for as long as a reload
// keeps the company (and its key), so a caller may key a cache on it.
func (t *Target) Exporter() *collector.Exporter { return t.exp }

// SiteSeries, ItemSeries and StateSeries split what Collect sends as
// collector.Exporter's do, for a caller that caches the first two per
// Generation and ItemGeneration; kinsta_company_info goes with the site series.
func (t *Target) SiteSeries() prometheus.Collector { return targetSites{t} }

// ItemSeries: see SiteSeries.
func (t *Target) ItemSeries(collectorName string) prometheus.Collector {
	return t.exp.ItemSeries(collectorName)
}

// StateSeries: see SiteSeries.
func (t *Target) StateSeries() prometheus.Collector { return t.exp.StateSeries() }

// Generation is the exporter's (the info series is fixed for a Target).
func (t *Target) Generation() uint64 { return t.exp.Generation() }

// ItemGeneration is the exporter's.
func (t *Target) ItemGeneration(collectorName string) uint64 {
	return t.exp.ItemGeneration(collectorName)
}

type targetSites struct{ t *Target }

func (targetSites) Describe(chan<- *prometheus.Desc) {}

func (s targetSites) Collect(ch chan<- prometheus.Metric) {
	if s.t.info != nil {
		ch <- s.t.info
	}
	s.t.exp.SiteSeries().Collect(ch)
}

// GaugeFamilies: see siteSeries.GaugeFamilies.
func (s targetSites) GaugeFamilies(yield func(name, help string, labelNames, labelValues []string, values []float64) bool) bool {
	t := s.t
	if t.info != nil && !yield(companyInfoName, companyInfoHelp, companyInfoLabels, []string{t.ID, t.Name}, []float64{1}) {
		return false
	}
	return t.exp.SiteGauges(yield)
}

// Lookup returns the company with id, if it is configured (or, without
// configured ids, once GET /validate has named it). It makes no API call.
func (f *Fleet) Lookup(id string) (*Target, bool) {
	if id == "" {
		return nil, false
	}
	st := f.state.Load()
	if e := st.byID[id]; e != nil {
		return &Target{ID: id, Name: e.name, exp: e.run.exp,
			info: prometheus.MustNewConstMetric(companyInfoDesc, prometheus.GaugeValue, 1, id, e.name)}, true
	}
	if e := st.byID[""]; e != nil && slices.Contains(e.run.exp.Companies(), id) {
		return &Target{ID: id, exp: e.run.exp}, true
	}
	return nil, false
}

// CompanyRef is a company's id and name.
type CompanyRef struct{ ID, Name string }

// Companies lists the configured companies in configuration order; a company
// found by GET /validate is listed once found. It makes no API call.
func (f *Fleet) Companies() []CompanyRef {
	st := f.state.Load()
	out := make([]CompanyRef, 0, len(st.entries))
	for _, e := range st.entries {
		if e.id != "" {
			out = append(out, CompanyRef{e.id, e.name})
			continue
		}
		for _, id := range e.run.exp.Companies() {
			out = append(out, CompanyRef{ID: id})
		}
	}
	return out
}

// Undiscovered reports whether the fleet still waits for GET /validate to
// name the key's company; Discover triggers that.
func (f *Fleet) Undiscovered() bool {
	e := f.state.Load().byID[""]
	return e != nil && len(e.run.exp.Companies()) == 0
}

// Discover refreshes the company-less exporter, which asks GET /validate for
// the key's company (at most once per cache TTL), within ctx.
func (f *Fleet) Discover(ctx context.Context) {
	if e := f.state.Load().byID[""]; e != nil {
		e.run.exp.Refresh(ctx)
	}
}

// SiteSeries and StateSeries are the companies' exporters' SiteSeries and
// StateSeries (see collector.Exporter), with kinsta_company_info among the
// site series. They are unchecked collectors, since the companies change on
// reload.
func (f *Fleet) SiteSeries() prometheus.Collector { return siteSeries{f} }

// StateSeries: see SiteSeries.
func (f *Fleet) StateSeries() prometheus.Collector { return stateSeries{f} }

type siteSeries struct{ f *Fleet }

func (siteSeries) Describe(chan<- *prometheus.Desc) {}

func (s siteSeries) Collect(ch chan<- prometheus.Metric) {
	st := s.f.state.Load()
	for _, m := range st.info {
		ch <- m
	}
	for _, e := range st.entries {
		e.run.exp.SiteSeries().Collect(ch)
	}
}

// GaugeFamilies hands over what Collect sends as gauge families, for
// exposition.Cache to render without gathering (see
// exposition.GaugeFamilySource): kinsta_company_info, then each company's.
func (s siteSeries) GaugeFamilies(yield func(name, help string, labelNames, labelValues []string, values []float64) bool) bool {
	st := s.f.state.Load()
	var labels []string
	var values []float64
	for _, e := range st.entries {
		if e.id != "" { // as Apply builds st.info
			labels, values = append(labels, e.id, e.name), append(values, 1)
		}
	}
	if len(values) > 0 && !yield(companyInfoName, companyInfoHelp, companyInfoLabels, labels, values) {
		return false
	}
	for _, e := range st.entries {
		if !e.run.exp.SiteGauges(yield) {
			return false
		}
	}
	return true
}

type stateSeries struct{ f *Fleet }

func (stateSeries) Describe(chan<- *prometheus.Desc) {}

func (s stateSeries) Collect(ch chan<- prometheus.Metric) {
	st := s.f.state.Load()
	exps := make([]*collector.Exporter, len(st.entries))
	for i, e := range st.entries {
		exps[i] = e.run.exp
	}
	if len(exps) > 0 {
		collector.CollectStateSeries(exps, ch)
	}
}

// Generation changes whenever SiteSeries' output may have changed: on every
// Apply and whenever a company's exporter's Generation changes. It is
// O(companies).
func (f *Fleet) Generation() uint64 {
	st := f.state.Load()
	return f.gen.next(st.epoch, st.entries, (*collector.Exporter).Generation)
}

// ItemSeries sends every company's gauges of one switchable collector (see
// collector.Exporter.ItemSeries), for a cache of its own: they change one
// background refresh at a time, the site series once per cache TTL.
func (f *Fleet) ItemSeries(collectorName string) prometheus.Collector {
	return itemSeries{f, collectorName}
}

// ItemGeneration is Generation for ItemSeries(collectorName).
func (f *Fleet) ItemGeneration(collectorName string) uint64 {
	st := f.state.Load()
	memo, _ := f.itemGens.LoadOrStore(collectorName, &genMemo{})
	return memo.(*genMemo).next(st.epoch, st.entries, func(e *collector.Exporter) uint64 { return e.ItemGeneration(collectorName) })
}

type itemSeries struct {
	f             *Fleet
	collectorName string
}

func (itemSeries) Describe(chan<- *prometheus.Desc) {}

func (s itemSeries) Collect(ch chan<- prometheus.Metric) {
	for _, e := range s.f.state.Load().entries {
		e.run.exp.ItemSeries(s.collectorName).Collect(ch)
	}
}

// GaugeFamilies: see siteSeries.GaugeFamilies.
func (s itemSeries) GaugeFamilies(yield func(name, help string, labelNames, labelValues []string, values []float64) bool) bool {
	for _, e := range s.f.state.Load().entries {
		if !e.run.exp.ItemGauges(s.collectorName, yield) {
			return false
		}
	}
	return true
}

// genMemo turns the vector (epoch, each exporter's generation) into a
// counter that moves whenever the vector does.
type genMemo struct {
	mu    sync.Mutex
	epoch uint64
	gens  []uint64
	count uint64
}

func (g *genMemo) next(epoch uint64, entries []entry, generation func(*collector.Exporter) uint64) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	changed := epoch != g.epoch || len(entries) != len(g.gens)
	if changed {
		g.gens = make([]uint64, len(entries))
	}
	for i, e := range entries {
		if gen := generation(e.run.exp); gen != g.gens[i] || changed {
			g.gens[i] = gen
			changed = true
		}
	}
	if changed {
		g.epoch = epoch
		g.count++
	}
	return g.count
}
