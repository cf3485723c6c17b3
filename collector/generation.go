package collector

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// genMutex is the Exporter's lock. Every write-locked section is a change of
// the companies' cached state, so Unlock counts it: the count is the part of
// Generation that changes with refresh results, discoveries and any other
// mutation made under e.mu, without each having to remember to bump a counter.
type genMutex struct {
	sync.RWMutex
	writes atomic.Uint64
}

// Unlock counts the write before releasing the lock, so a reader that sees
// the new state also sees the new count, or a later one.
func (m *genMutex) Unlock() {
	m.writes.Add(1)
	m.RWMutex.Unlock()
}

// SiteSeries, ItemSeries (one per switchable collector) and StateSeries
// split the exporter's output for a caller that caches: together they send
// exactly what Collect sends.
//
// SiteSeries sends the companies' site and environment series (GET /sites):
// tens of thousands of series at 10,000 sites, which change only when
// Generation does, so they can be rendered once per generation.
func (e *Exporter) SiteSeries() prometheus.Collector { return siteSeries{e} }

// ItemSeries sends one switchable collector's gauges (backups, plugins,
// themes, usage, disk per environment or site): they change whenever
// ItemGeneration does, one background refresh at a time, so they can be
// rendered once per generation, apart from the site series and from the
// other collectors, which change at paces of their own.
func (e *Exporter) ItemSeries(collector string) prometheus.Collector {
	return itemSeries{e, collector}
}

// StateSeries sends everything else: kinsta_up, the collector and refresh
// queue series, and the switchable collectors' counters (activity). Some of
// them change with time alone; gather them on every scrape.
func (e *Exporter) StateSeries() prometheus.Collector { return stateSeries{e} }

type siteSeries struct{ e *Exporter }

func (s siteSeries) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range siteDescs {
		ch <- d
	}
}

// Collect sends what Collect sends of the site series: the snapshots of the
// companies that are not expired.
func (s siteSeries) Collect(ch chan<- prometheus.Metric) {
	e := s.e
	now := e.cfg.Now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, id := range e.order {
		if c := e.companies[id]; !e.expired(c, now) {
			c.snapshot.collect(ch)
		}
	}
}

// GaugeFamilies hands the series Collect would send to yield as families of
// gauges, without building metrics: the name, help and label names of a
// family, then per series its label values (flat, len(labelNames) each) and
// its value. A family name may come more than once (once per company).
// The slices are the immutable snapshot's own: yield may keep them but must
// not change them. It returns false to stop.
// GaugeFamilies reports whether it handed over everything, that is whether
// yield never stopped it. exposition.Cache renders such a source directly.
func (s siteSeries) GaugeFamilies(yield func(name, help string, labelNames, labelValues []string, values []float64) bool) bool {
	e := s.e
	now := e.cfg.Now()
	e.mu.RLock()
	snapshots := make([]*siteRows, 0, len(e.order))
	for _, id := range e.order {
		if c := e.companies[id]; !e.expired(c, now) {
			snapshots = append(snapshots, c.snapshot)
		}
	}
	e.mu.RUnlock()
	// Snapshots are immutable: yield runs without the lock.
	for _, rows := range snapshots {
		if !rows.families(yield) {
			return false
		}
	}
	return true
}

type itemSeries struct {
	e         *Exporter
	collector string
}

// Describe sends nothing: the collectors' gauges are described by
// StateSeries, which would otherwise have to tell them from its own, and
// Collect's are checked at render time. It is an unchecked collector.
func (itemSeries) Describe(chan<- *prometheus.Desc) {}

// Collect sends the gauges ItemSeries stands for, as const metrics.
func (s itemSeries) Collect(ch chan<- prometheus.Metric) {
	for _, series := range s.e.ref.servedSeries(s.e.cfg.Now(), s.collector) {
		series.collectGauges(ch)
	}
}

// GaugeFamilies hands the gauges over as siteSeries.GaugeFamilies does.
func (s itemSeries) GaugeFamilies(yield func(name, help string, labelNames, labelValues []string, values []float64) bool) bool {
	return s.e.ItemGauges(s.collector, yield)
}

// SiteGauges hands the site series to yield as SiteSeries' GaugeFamilies
// does, for a caller that joins several exporters' into one source.
func (e *Exporter) SiteGauges(yield func(name, help string, labelNames, labelValues []string, values []float64) bool) bool {
	return siteSeries{e}.GaugeFamilies(yield)
}

// ItemGauges hands a switchable collector's gauges to yield: see
// siteSeries.GaugeFamilies for the contract.
func (e *Exporter) ItemGauges(collector string, yield func(name, help string, labelNames, labelValues []string, values []float64) bool) bool {
	return e.ref.itemGauges(e.cfg.Now(), collector, yield)
}

// ItemGeneration is Generation for ItemSeries(collector); 0 for a
// collector that is not enabled.
func (e *Exporter) ItemGeneration(collector string) uint64 {
	return e.ref.generation(e.cfg.Now(), collector)
}

type stateSeries struct{ e *Exporter }

func (s stateSeries) Describe(ch chan<- *prometheus.Desc) {
	all := make(chan *prometheus.Desc)
	go func() { s.e.Describe(all); close(all) }()
	for d := range all {
		if !slices.Contains(siteDescs, d) {
			ch <- d
		}
	}
}

func (s stateSeries) Collect(ch chan<- prometheus.Metric) { s.e.collect(ch, false) }

// staleBits is how many low bits of a generation count expired companies.
const staleBits = 20

// Generation identifies what SiteSeries would send now: it changes whenever
// that output changes (a refresh result, a discovered company, a company's
// site series reaching the staleness cut-off) and is cheap to ask for
// (O(companies) under the read lock), so that a caller can cache a rendering
// of SiteSeries per generation. A generation that changes without the output
// changing only costs a re-render.
//
// Time passing changes SiteSeries' output only at the staleness cut-off,
// which is counted here. Code that makes it depend on time in another way
// must be counted here as well.
func (e *Exporter) Generation() uint64 {
	now := e.cfg.Now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	// Between two writes a company can only go from served to expired (time
	// moves on), so the number of expired companies identifies the set.
	var expired uint64
	for _, c := range e.companies {
		if !c.state.lastSuccess.IsZero() && e.expired(c, now) {
			expired++
		}
	}
	return e.mu.writes.Load()<<staleBits | expired&(1<<staleBits-1)
}

// expired reports whether a company's site series are no longer served: it
// never succeeded, or its last success is older than MaxStaleness. Collect,
// SiteSeries and Generation share it so that they agree to the nanosecond.
func (e *Exporter) expired(c *company, now time.Time) bool {
	return c.state.lastSuccess.IsZero() || now.Sub(c.state.lastSuccess) > e.cfg.MaxStaleness
}
