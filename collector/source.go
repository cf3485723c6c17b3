package collector

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// GaugeYield receives one family of gauges: its name, help and label names,
// then its rows. A family name may come more than once (once per company,
// once per work item), with the same help and label names. It returns false
// to stop.
type GaugeYield func(name, help string, labelNames []string, rows Rows) bool

// Rows are series of one family: per series its label values (flat,
// len(labelNames) each, valid UTF-8) and its value. The slices belong to an
// immutable snapshot: the receiver may keep them but must not change them.
type Rows struct {
	LabelValues []string
	Values      []float64
	// Plain is true when no label value holds a backslash, a double quote
	// or a newline, the bytes the text formats escape: a renderer writes
	// them as they are. Found once, when the rows are built, rather than
	// on every scrape, where checking every byte took a third of an
	// identity scrape's rendering. False when unknown.
	Plain bool
}

// SitesPart names the part of a Source that holds the site and environment
// series (GET /sites). Every switchable collector's gauges are a part of
// their own, named after the collector.
const SitesPart = sitesCollector

// Source is what an exposition is rendered from: one company (Exporter), all
// of them (fleet.Fleet), or none (NoSource, for --web.probe-only). Data flows
// one way: the Kinsta API, the client, a company's immutable snapshot, then
// the exposition that renders a Source.
//
// Its gauges come in parts that change at paces of their own: the site
// series once per cache TTL, each background collector's gauges one stored
// result at a time. A renderer caches each part per Generation. Everything
// else (kinsta_up, the collector and queue series, counters) is live: sent
// by CollectLive on every request, since some of it changes with time alone.
type Source interface {
	// Refresh starts bringing what is due up to date from the API. It
	// returns when that is done or ctx ends, whichever is first; or at
	// once when there is data to serve meanwhile (the refresh then fills
	// the cache for the next request).
	Refresh(ctx context.Context)
	// Gauges hands the part's families to yield, only those named family
	// unless it is ""; false when yield stopped it. A renderer writes one
	// family at a time, each in a pass of its own, so that it need not
	// hold the whole part: a pass for one family must cost that family,
	// not the part.
	Gauges(part, family string, yield GaugeYield) bool
	// Generation changes whenever what Gauges(part) hands over changes, and
	// only then; it is cheap, since it is asked on every request.
	Generation(part string) uint64
	// CollectLive sends the series that are gathered on every request.
	CollectLive(ch chan<- prometheus.Metric)
}

// Parts lists the parts of a Source with the given switchable collectors
// enabled: SitesPart, then each enabled collector in registry order.
func Parts(enabled map[string]time.Duration) []string {
	parts := []string{SitesPart}
	for _, d := range definitions {
		if _, on := enabled[d.name]; on {
			parts = append(parts, d.name)
		}
	}
	return parts
}

// NoSource serves nothing and never calls the API: /metrics of
// --web.probe-only, where companies are served on /probe only.
type NoSource struct{}

func (NoSource) Refresh(context.Context)               { /* nothing to refresh */ }
func (NoSource) Gauges(_, _ string, _ GaugeYield) bool { return true }
func (NoSource) Generation(string) uint64              { return 0 }
func (NoSource) CollectLive(chan<- prometheus.Metric)  { /* no series */ }

// LiveCollector is src's live series as an unchecked prometheus.Collector,
// to register next to the process's own collectors.
func LiveCollector(src Source) prometheus.Collector { return liveCollector{src} }

type liveCollector struct{ src Source }

func (liveCollector) Describe(chan<- *prometheus.Desc)      {}
func (c liveCollector) Collect(ch chan<- prometheus.Metric) { c.src.CollectLive(ch) }

// GaugesCollector is the gauges of src's parts as const metrics, an
// unchecked prometheus.Collector: for encoders that need client_golang's
// metric types (protobuf) and for tests. Serving the text formats renders
// the rows directly instead.
func GaugesCollector(src Source, parts ...string) prometheus.Collector {
	return gaugesCollector{src, parts}
}

type gaugesCollector struct {
	src   Source
	parts []string
}

func (gaugesCollector) Describe(chan<- *prometheus.Desc) {}

func (c gaugesCollector) Collect(ch chan<- prometheus.Metric) {
	descs := map[string]*prometheus.Desc{}
	for _, part := range c.parts {
		c.src.Gauges(part, "", func(name, help string, labelNames []string, rows Rows) bool {
			labelValues, values := rows.LabelValues, rows.Values
			d := descs[name]
			if d == nil {
				d = prometheus.NewDesc(name, help, labelNames, nil)
				descs[name] = d
			}
			arity := len(labelNames)
			for i, v := range values {
				m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labelValues[i*arity:(i+1)*arity]...)
				if err != nil {
					m = prometheus.NewInvalidMetric(d, err)
				}
				ch <- m
			}
			return true
		})
	}
}
