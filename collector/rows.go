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
	plain  bool // no label value needs escaping (Rows.Plain); kept by add
}

// yielded is the rows as a GaugeYield gets them.
func (r *gaugeRows) yielded() Rows {
	return Rows{LabelValues: r.labels, Values: r.values, Plain: r.plain}
}

func (r *gaugeRows) equal(o *gaugeRows) bool {
	return slices.Equal(r.labels, o.labels) && slices.Equal(r.values, o.values)
}

// spare reports whether the rows' arrays have room beyond the rows.
func (r *gaugeRows) spare() bool {
	return cap(r.labels) > len(r.labels) || cap(r.values) > len(r.values)
}

func (r *gaugeRows) add(value float64, labels ...string) {
	if len(r.values) == 0 {
		r.plain = true
	}
	for _, v := range labels {
		v = strings.ToValidUTF8(v, "\uFFFD")
		r.plain = r.plain && !strings.ContainsAny(v, "\\\"\n")
		r.labels = append(r.labels, v)
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
		if len(s[i].values) > 0 && !yield(f.name, f.help, f.labels, s[i].yielded()) {
			return false
		}
	}
	return true
}

// rowsBuilder builds one family's rows of a refresh next to the previous
// refresh's rows, which most refreshes repeat: while each row added equals
// the previous refresh's row at the same place, nothing is stored, and
// rows returns the previous rows themselves, with their label values.
// Only from the first row that differs are rows stored anew (the equal ones
// before it copied). So a GET /sites that finds the same sites costs no
// second copy of the site series next to the served one, tens of megabytes
// at 10,000 sites.
type rowsBuilder struct {
	prev  gaugeRows // immutable: served
	arity int
	hint  int // rows expected, to size own
	same  int // leading rows equal to prev's, while own is unused
	own   gaugeRows
	moved bool // a row differed: own holds every row
}

func newRowsBuilder(prev *gaugeRows, arity, hint int) rowsBuilder {
	b := rowsBuilder{arity: arity, hint: hint}
	if prev != nil {
		b.prev = *prev
	}
	return b
}

func (b *rowsBuilder) add(value float64, labels ...string) {
	if !b.moved {
		if b.same < len(b.prev.values) && b.prev.values[b.same] == value &&
			slices.Equal(b.prev.labels[b.same*b.arity:(b.same+1)*b.arity], labels) {
			b.same++
			return
		}
		b.moved = true
		n := max(b.hint, b.same+1)
		b.own = gaugeRows{labels: make([]string, 0, n*b.arity), values: make([]float64, 0, n), plain: b.prev.plain}
		b.own.labels = append(b.own.labels, b.prev.labels[:b.same*b.arity]...)
		b.own.values = append(b.own.values, b.prev.values[:b.same]...)
	}
	b.own.add(value, labels...)
}

// rows returns the family's rows: the previous ones (or the first of them)
// when every row added matched them.
func (b *rowsBuilder) rows() gaugeRows {
	if b.moved {
		return b.own
	}
	n := b.same
	return gaugeRows{labels: b.prev.labels[: n*b.arity : n*b.arity], values: b.prev.values[:n:n], plain: b.prev.plain}
}
