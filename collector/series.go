package collector

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// series are the series of one refresh. Gauges are kept as rows per family,
// which exposition.Cache renders without building metrics (a const metric
// costs about half a kilobyte more than its row, and gathering tens of
// thousands of them on every scrape costs seconds); other types (activity's
// counters) as const metrics. Label values are made valid UTF-8, since API
// text goes into them. Immutable once a refresh returns it.
type series struct {
	gauges  []familyRows // in order of first use
	metrics []prometheus.Metric
}

// familyRows are the rows of one gauge family.
type familyRows struct {
	family *gaugeFamily
	rows   gaugeRows
}

func (s *series) gauge(f *gaugeFamily, value float64, labels ...string) {
	if len(labels) != len(f.labels) {
		// As prometheus.MustNewConstMetric: a programming error, caught at
		// refresh time rather than when a scrape renders the rows.
		panic(fmt.Sprintf("collector: %s: %d label values for %d labels", f.name, len(labels), len(f.labels)))
	}
	// A refresh builds a handful of families: a linear search beats a map.
	for i := range s.gauges {
		if s.gauges[i].family == f {
			s.gauges[i].rows.add(value, labels...)
			return
		}
	}
	s.gauges = append(s.gauges, familyRows{family: f})
	s.gauges[len(s.gauges)-1].rows.add(value, labels...)
}

func (s *series) counter(desc *prometheus.Desc, value float64, labels ...string) {
	for i, v := range labels {
		labels[i] = strings.ToValidUTF8(v, "\uFFFD")
	}
	s.metrics = append(s.metrics, prometheus.MustNewConstMetric(desc, prometheus.CounterValue, value, labels...))
}

// equal reports whether o holds the same gauges, row for row (nil holds
// none). Series with other metrics are never equal: const metrics cannot
// be compared cheaply, and only activity's counters are such.
func (s *series) equal(o *series) bool {
	if s == nil || o == nil {
		return s.len() == 0 && o.len() == 0
	}
	if len(s.metrics) > 0 || len(o.metrics) > 0 || len(s.gauges) != len(o.gauges) {
		return false
	}
	for i, g := range s.gauges {
		h := o.gauges[i]
		if g.family != h.family || !g.rows.equal(&h.rows) {
			return false
		}
	}
	return true
}

// limit cuts the gauges' label values to maxLen bytes, dropping series that
// become duplicates of others once cut, then keeps the series that fit in
// u, in order: after the first that does not, none (counters are bounded
// by their collector and count against the series only). It reports what
// it left out. The rows must not be shared yet: a refresh has just built
// them.
func (s *series) limit(maxLen int, u budget) limitHits {
	var hits limitHits
	for i := range s.gauges {
		hits[limitLabelValueLength] += s.gauges[i].rows.cut(maxLen)
	}
	u.take(len(s.metrics), 0)
	over := limitNone // the limit the first series left out would pass
	for i := range s.gauges {
		g := &s.gauges[i]
		arity := len(g.family.labels)
		keep := 0
		for j := range g.rows.values {
			if over == limitNone {
				b := g.family.rowBytes(g.rows.labels[j*arity : (j+1)*arity]...)
				var ok bool
				if ok, over = u.fits(1, b, limitSeriesPerCollector, limitBytesPerCollector); ok {
					u.take(1, b)
					keep++
					continue
				}
			}
			hits[over]++
		}
		g.rows.labels, g.rows.values = g.rows.labels[:keep*arity], g.rows.values[:keep]
	}
	s.compact()
	return hits
}

// compact moves the rows of the gauges that have room to spare into one
// array of label values and one of values, exactly as long as the rows:
// rows grown by append carry up to twice their length in capacity, and
// there are tens of thousands of items' series, which a scrape renders by
// reading each item's rows, then better from one place than from several.
// Rows stored exactly (reserve) stay where they are: copying them would
// only hold the series twice for a moment, megabytes for a company-wide
// item.
func (s *series) compact() {
	nl, nv := 0, 0
	for _, g := range s.gauges {
		if g.rows.spare() {
			nl, nv = nl+len(g.rows.labels), nv+len(g.rows.values)
		}
	}
	if nl == 0 && nv == 0 {
		return
	}
	labels, values := make([]string, 0, nl), make([]float64, 0, nv)
	gauges := make([]familyRows, len(s.gauges))
	for i, g := range s.gauges {
		if !g.rows.spare() {
			gauges[i] = g
			continue
		}
		l, v := len(labels), len(values)
		labels, values = append(labels, g.rows.labels...), append(values, g.rows.values...)
		gauges[i] = familyRows{family: g.family, rows: gaugeRows{labels: labels[l:len(labels):len(labels)], values: values[v:len(values):len(values)], plain: g.rows.plain}}
	}
	s.gauges = gauges
}

// reserve makes room for rows more rows of f, so that a collector that
// knows how many it will add stores them once, exactly.
func (s *series) reserve(f *gaugeFamily, rows int) {
	for i := range s.gauges {
		if s.gauges[i].family == f {
			s.gauges[i].rows.labels = slices.Grow(s.gauges[i].rows.labels, rows*len(f.labels))
			s.gauges[i].rows.values = slices.Grow(s.gauges[i].rows.values, rows)
			return
		}
	}
	s.gauges = append(s.gauges, familyRows{family: f,
		rows: gaugeRows{labels: make([]string, 0, rows*len(f.labels)), values: make([]float64, 0, rows)}})
}

// kept is s as an item keeps it: nil when there are none (an answer with
// nothing to export), else a copy on the heap, 8 bytes in the item rather
// than 48.
func (s series) kept() *series {
	if s.len() == 0 {
		return nil
	}
	return &s
}

// bytes is about the size of the gauges' text exposition, for
// Limits.BytesPerCollector.
func (s *series) bytes() int {
	if s == nil {
		return 0
	}
	n := 0
	for _, g := range s.gauges {
		arity := len(g.family.labels)
		for j := range g.rows.values {
			n += g.family.rowBytes(g.rows.labels[j*arity : (j+1)*arity]...)
		}
	}
	return n
}

// len is the number of series.
func (s *series) len() int {
	if s == nil {
		return 0
	}
	n := len(s.metrics)
	for _, g := range s.gauges {
		n += len(g.rows.values)
	}
	return n
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// orUnknown stands in for an empty label value the API left out.
func orUnknown(s string) string {
	if s == "" {
		return unknownStatus
	}
	return s
}
