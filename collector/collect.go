package collector

import (
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

// Describe sends every descriptor the exporter can emit.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range append([]*prometheus.Desc{upDesc, collectorSuccessDesc, collectorLastSuccessDesc, collectorDurationDesc}, siteDescs...) {
		ch <- d
	}
	e.ref.describe(ch)
}

// Collect sends the cached state of every company. It never calls the API:
// main.go calls Refresh with the scrape's deadline first.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) { e.collect(ch, true) }

// collect is Collect, without the site series and the switchable collectors'
// gauges unless cached is set (StateSeries: SiteSeries and ItemSeries send them).
func (e *Exporter) collect(ch chan<- prometheus.Metric, cached bool) {
	now := e.cfg.Now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	if len(e.order) == 0 {
		// No company yet: GET /validate has not told us which one the key belongs to.
		collectState(ch, "", e.discovery)
		e.ref.collect(ch, now, cached)
		return
	}
	for _, id := range e.order {
		c := e.companies[id]
		collectState(ch, id, c.state)
		if !cached || e.expired(c, now) {
			continue // too old to be trusted: better no series than wrong ones
		}
		c.snapshot.collect(ch)
	}
	e.ref.collect(ch, now, cached)
}

// collectState sends kinsta_up and the collector series of one company.
func collectState(ch chan<- prometheus.Metric, companyID string, s refreshState) {
	ok := boolValue(!s.lastAttempt.IsZero() && s.lastErr == nil)
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, ok, companyID)
	ch <- prometheus.MustNewConstMetric(collectorSuccessDesc, prometheus.GaugeValue, ok, companyID, sitesCollector)
	ch <- prometheus.MustNewConstMetric(collectorDurationDesc, prometheus.GaugeValue, s.lastDuration.Seconds(), companyID, sitesCollector)
	if !s.lastSuccess.IsZero() {
		ch <- prometheus.MustNewConstMetric(collectorLastSuccessDesc, prometheus.GaugeValue,
			float64(s.lastSuccess.UnixNano())/1e9, companyID, sitesCollector)
	}
}
