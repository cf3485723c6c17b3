package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sitesCollector is the collector label value of the core GET /sites refresh.
const sitesCollector = "sites"

var (
	collectorSuccessDesc = prometheus.NewDesc("kinsta_exporter_collector_success",
		"1 if the collector's last refresh from the Kinsta API succeeded, 0 otherwise.",
		[]string{"company", "collector"}, nil)
	collectorLastSuccessDesc = prometheus.NewDesc("kinsta_exporter_collector_last_success_timestamp_seconds",
		"Unix time of the collector's last successful refresh from the Kinsta API; absent until the first success.",
		[]string{"company", "collector"}, nil)
	collectorDurationDesc = prometheus.NewDesc("kinsta_exporter_collector_duration_seconds",
		"Duration of the collector's last refresh from the Kinsta API, in seconds.",
		[]string{"company", "collector"}, nil)
)

// Gauges hands the part's gauges to yield (Source): the site series of the
// last good refresh unless expired, or a switchable collector's.
func (e *Exporter) Gauges(part, family string, yield GaugeYield) bool {
	now := e.cfg.Now()
	if part != SitesPart {
		return e.ref.itemGauges(now, part, family, yield)
	}
	e.mu.RLock()
	rows, served := e.snapshot, !e.expired(now)
	e.mu.RUnlock()
	// Snapshots are immutable: yield runs without the lock.
	return !served || rows.families(family, yield)
}

// Generation identifies what Gauges(part) hands over now (Source): it
// moves when a refresh stores other series, and when served series expire
// (time passing changes the output only at the staleness cut-off, counted
// here; code that makes it depend on time otherwise must be counted here
// too). A failed or identical refresh moves nothing, so a cache of the
// rendering survives an outage.
func (e *Exporter) Generation(part string) uint64 {
	now := e.cfg.Now()
	if part != SitesPart {
		return e.ref.generation(now, part)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	// Between two changes the series can only go from served to expired.
	expired := !e.state.lastSuccess.IsZero() && e.expired(now)
	return e.changes.Load()<<1 | uint64(boolValue(expired))
}

// CollectLive sends the company's live series and its refresh queue series
// (Source).
func (e *Exporter) CollectLive(ch chan<- prometheus.Metric) {
	e.CollectCompany(ch)
	CollectQueues(ch, e.QueueStats())
}

// CollectCompany sends the series that carry the company label: kinsta_up,
// the collector series and the switchable collectors' counters. A caller
// that serves several companies sums their QueueStats instead of sending
// each company's queue series.
func (e *Exporter) CollectCompany(ch chan<- prometheus.Metric) {
	e.mu.RLock()
	company, state := e.company, e.state
	if company == "" {
		// GET /validate has not named the key's company yet.
		state = e.discovery
	}
	e.mu.RUnlock()
	collectState(ch, company, state)
	e.ref.collectCompany(ch, e.cfg.Now())
	e.limited.collect(ch)
	e.malformed.collect(ch)
}

// QueueStats are the background refresher's work items per collector.
func (e *Exporter) QueueStats() []QueueStats { return e.ref.queueStats(e.cfg.Now()) }

// QueueStats are one collector's background work items.
type QueueStats struct {
	Collector string
	Items     int
	Due       int
	OldestDue time.Time // zero when none is due
}

// CollectQueues sends the refresh queue series of the stats, summed per
// collector over all of them (the items and due items added, the oldest
// due time the earliest): one exporter's, or a fleet's.
func CollectQueues(ch chan<- prometheus.Metric, stats ...[]QueueStats) {
	var order []string
	sum := map[string]*QueueStats{}
	for _, list := range stats {
		for _, q := range list {
			s := sum[q.Collector]
			if s == nil {
				s = &QueueStats{Collector: q.Collector}
				sum[q.Collector] = s
				order = append(order, q.Collector)
			}
			s.Items += q.Items
			s.Due += q.Due
			if !q.OldestDue.IsZero() && (s.OldestDue.IsZero() || q.OldestDue.Before(s.OldestDue)) {
				s.OldestDue = q.OldestDue
			}
		}
	}
	for _, name := range order {
		s := sum[name]
		ch <- prometheus.MustNewConstMetric(queueItemsDesc, prometheus.GaugeValue, float64(s.Items), name)
		ch <- prometheus.MustNewConstMetric(queueDueDesc, prometheus.GaugeValue, float64(s.Due), name)
		if !s.OldestDue.IsZero() {
			ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, unixSeconds(s.OldestDue), name)
		}
	}
}

// collectState sends kinsta_up and the collector series of the sites refresh.
func collectState(ch chan<- prometheus.Metric, companyID string, s refreshState) {
	ok := boolValue(!s.lastAttempt.IsZero() && s.lastErr == nil)
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, ok, companyID)
	ch <- prometheus.MustNewConstMetric(collectorSuccessDesc, prometheus.GaugeValue, ok, companyID, sitesCollector)
	ch <- prometheus.MustNewConstMetric(collectorDurationDesc, prometheus.GaugeValue, s.lastDuration.Seconds(), companyID, sitesCollector)
	if !s.lastSuccess.IsZero() {
		ch <- prometheus.MustNewConstMetric(collectorLastSuccessDesc, prometheus.GaugeValue,
			unixSeconds(s.lastSuccess), companyID, sitesCollector)
	}
}
