package exposition

import (
	"slices"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Rendering a part from the rows a collector.Source hands over, in the
// text formats, without building metrics: the common case of every scrape
// that finds a new generation.

// rowFamily is one family handed over by the source, possibly in several
// pieces (one per company).
type rowFamily struct {
	help       string
	labelNames []string
	parts      []rowPart
}

type rowPart struct {
	labels []string
	values []float64
}

// rowSet is what the source handed over, by family name.
type rowSet struct {
	names    []string // sorted, as Gather sorts families
	families map[string]*rowFamily
}

// collectRows takes the part's rows for a text format, or returns false
// when the format or the data does not allow rendering without gathering.
func (c *Cache) collectRows(format expfmt.Format) (rs rowSet, om, ok bool) {
	fast, om := fastFormat(format)
	if !fast {
		return rs, om, false
	}
	rs, ok = c.rows()
	return rs, om, ok
}

// rows takes the part's rows, or returns false when the data has what only
// a gather handles: a name that is not a legacy one, or families that
// disagree.
func (c *Cache) rows() (rs rowSet, ok bool) {
	rs.families = map[string]*rowFamily{}
	valid := true
	complete := c.source.Gauges(c.part, func(name, help string, labelNames, labelValues []string, values []float64) bool {
		f := rs.families[name]
		switch {
		case f == nil:
			if !model.LegacyValidation.IsValidMetricName(name) || !validLabelNames(labelNames) {
				valid = false
				return false
			}
			f = &rowFamily{help: help, labelNames: labelNames}
			rs.families[name] = f
		case f.help != help || !slices.Equal(f.labelNames, labelNames):
			valid = false // Gather would report the inconsistency
			return false
		}
		if len(labelValues) != len(values)*len(labelNames) {
			valid = false
			return false
		}
		if len(values) > 0 {
			f.parts = append(f.parts, rowPart{labelValues, values})
		}
		return true
	})
	if !complete || !valid {
		return rs, false
	}
	for name, f := range rs.families {
		if len(f.parts) > 0 { // as Gather: no family without series
			rs.names = append(rs.names, name)
		}
	}
	slices.Sort(rs.names)
	return rs, true
}

// estimate is about the size of the rows' text exposition: a little more
// unless values need many digits or label values escaping.
func (rs rowSet) estimate() int {
	n := 0
	for _, name := range rs.names {
		f := rs.families[name]
		n += 2*len(name) + len(f.help) + 24
		perSeries := len(name) + 2 + 8 // braces, space, newline, a short value
		for _, l := range f.labelNames {
			perSeries += len(l) + 4
		}
		for _, p := range f.parts {
			n += perSeries * len(p.values)
			for _, v := range p.labels {
				n += len(v)
			}
		}
	}
	return n + n/32
}

// encodeRows renders the part's rows in a text format as expfmt would
// encode what Collect sends (families sorted by name, series in the order
// handed over), or returns nil when collectRows declines: then the cache
// gathers.
func (c *Cache) encodeRows(v variant, hint int) *rendering {
	rs, om, ok := c.collectRows(v.format)
	if !ok {
		return nil
	}
	r := &rendering{names: make(map[string]struct{}, len(rs.names)), families: make([]familyRange, 0, len(rs.names))}
	// One allocation of about the right size: growing by doubling would
	// allocate twice the exposition, at 10,000 sites 17 MB more.
	b := make([]byte, 0, max(hint+hint/16, rs.estimate()))
	for _, name := range rs.names {
		start := len(b)
		b = appendRows(b, name, rs.families[name], om, nil)
		r.names[name] = struct{}{}
		r.families = append(r.families, familyRange{name, start, len(b)})
	}
	r.body = trim(b)
	return r
}

// encodeRowsGzip is encodeRows compressed on the fly, chunk by chunk.
func (c *Cache) encodeRowsGzip(format expfmt.Format) *rendering {
	rs, om, ok := c.collectRows(format)
	if !ok {
		return nil
	}
	d := newDeflater()
	r := &rendering{names: make(map[string]struct{}, len(rs.names))}
	b := d.buffer()
	flush := func(b []byte) []byte {
		if len(b) < deflateChunk {
			return b
		}
		d.writeOwned(b)
		return d.buffer()
	}
	for _, name := range rs.names {
		b = appendRows(b, name, rs.families[name], om, flush)
		r.names[name] = struct{}{}
	}
	d.writeOwned(b)
	z := d.close()
	z.names = r.names
	return z
}

// validLabelNames: legacy names, none twice, no __name__ (the cases in which
// expfmt would escape or the exposition would be invalid).
func validLabelNames(names []string) bool {
	for i, n := range names {
		if !legacyLabelName(n) || n == model.MetricNameLabel || slices.Contains(names[:i], n) {
			return false
		}
	}
	return true
}

// appendRows writes one family as appendGauges does. flush, when set, is
// called after every series and returns the buffer to go on with.
func appendRows(b []byte, name string, f *rowFamily, om bool, flush func([]byte) []byte) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = appendEscaped(b, f.help, om)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, " gauge\n"...)
	// Labels in name order, as client_golang sorts a metric's label pairs.
	arity := len(f.labelNames)
	order := make([]int, arity)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return strings.Compare(f.labelNames[x], f.labelNames[y]) })
	for _, p := range f.parts {
		for i, value := range p.values {
			b = append(b, name...)
			for k, j := range order {
				if k == 0 {
					b = append(b, '{')
				} else {
					b = append(b, ',')
				}
				b = append(b, f.labelNames[j]...)
				b = append(b, '=', '"')
				b = appendEscaped(b, p.labels[i*arity+j], true)
				b = append(b, '"')
			}
			if arity > 0 {
				b = append(b, '}')
			}
			b = append(b, ' ')
			b = appendFloat(b, value, om)
			b = append(b, '\n')
			if flush != nil {
				b = flush(b)
			}
		}
	}
	return b
}
