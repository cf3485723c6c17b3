package collector

import (
	"slices"
	"strings"
)

// Series kept as rows of label values per gauge family, not as metric
// objects: half a kilobyte per series less, and rendered without
// client_golang (server/exposition).

// gaugeFamily is a family of gauges: the name, help and label names that
// rendering it needs.
type gaugeFamily struct {
	name   string
	help   string
	labels []string
	// overhead is the text exposition of a series but its label values:
	// name, braces, label names, quotes, a short value, the newline.
	overhead int
}

func newGaugeFamily(name, help string, labels ...string) *gaugeFamily {
	overhead := len(name) + 2 + 1 + 3 + 1 // {} space, a value of up to 3 bytes, \n
	for _, l := range labels {
		overhead += len(l) + 4 // ="",
	}
	return &gaugeFamily{name: name, help: help, labels: labels, overhead: overhead}
}

// rowBytes is about the size of a series' text exposition (escapes not
// counted), for Limits' byte limits.
func (f *gaugeFamily) rowBytes(labelValues ...string) int {
	n := f.overhead
	for _, v := range labelValues {
		n += len(v)
	}
	return n
}

// gaugeRows are the series of one gauge family: per series its label values
// (len(family.labels) of them, flat) and its value.
type gaugeRows struct {
	labels []string
	values []float64
}

func (r *gaugeRows) equal(o *gaugeRows) bool {
	return slices.Equal(r.labels, o.labels) && slices.Equal(r.values, o.values)
}

func (r *gaugeRows) add(value float64, labels ...string) {
	for _, v := range labels {
		r.labels = append(r.labels, strings.ToValidUTF8(v, "\uFFFD"))
	}
	r.values = append(r.values, value)
}

// cut cuts every label value to maxLen bytes and, when any was cut, drops
// the rows that have become duplicates (a duplicate series fails a scrape).
// It returns how many values it cut.
func (r *gaugeRows) cut(maxLen int) int {
	cuts := 0
	for i, v := range r.labels {
		if len(v) > maxLen {
			r.labels[i], _ = cutLabel(v, maxLen)
			cuts++
		}
	}
	if cuts == 0 || len(r.values) < 2 {
		return cuts
	}
	arity := len(r.labels) / len(r.values)
	seen := make(map[string]bool, len(r.values))
	labels, values := r.labels[:0], r.values[:0]
	for i, v := range r.values {
		row := r.labels[i*arity : (i+1)*arity]
		key := strings.Join(row, "\xff") // 0xff is never in valid UTF-8
		if seen[key] {
			continue
		}
		seen[key] = true
		labels, values = append(labels, row...), append(values, v)
	}
	r.labels, r.values = labels, values
	return cuts
}

// siteRows is a company's sites snapshot: the rows of each of siteFamilies,
// indexed by the row constants. It is immutable once built. Half a kilobyte
// per series less than const metrics, and rendered directly.
type siteRows [8]gaugeRows

// Indexes of siteRows, in siteFamilies order.
const (
	rowSiteInfo = iota
	rowSiteStatus
	rowSiteLabel
	rowEnvInfo
	rowEnvBlocked
	rowEnvPremium
	rowEnvDomainInfo
	rowEnvDomainActive
)

// series is the number of series.
func (s *siteRows) series() int {
	if s == nil {
		return 0
	}
	n := 0
	for i := range s {
		n += len(s[i].values)
	}
	return n
}

// equal reports whether o holds the same rows.
func (s *siteRows) equal(o *siteRows) bool {
	if s == nil || o == nil {
		return s == o
	}
	for i := range s {
		if !s[i].equal(&o[i]) {
			return false
		}
	}
	return true
}

// families hands each non-empty family to yield; false when yield asked to
// stop.
func (s *siteRows) families(family string, yield GaugeYield) bool {
	if s == nil {
		return true
	}
	for i, f := range siteFamilies {
		if family != "" && f.name != family {
			continue
		}
		if len(s[i].values) > 0 && !yield(f.name, f.help, f.labels, s[i].labels, s[i].values) {
			return false
		}
	}
	return true
}
