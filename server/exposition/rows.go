package exposition

import (
	"slices"
	"strings"

	"github.com/kinsta-exporter/kinsta_exporter/collector"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Rendering a part from the rows a collector.Source hands over, in the
// text formats, without building metrics: every scrape that finds a new
// generation, and every identity one.
//
// A part's rows come in pieces (a background collector hands over one per
// family and work item: tens of thousands at 10,000 sites), and the
// exposition wants each family's series together. Rather than hold
// references to every piece per request, a first pass over the rows
// (index) finds the families, and each family is then written in a pass of
// its own that skips the others' pieces: a few cheap passes, and memory
// that does not grow with the part. Handing over the rows again is cheap:
// a source keeps them ready (collector.Source).

// rowFamily is one family handed over by the source.
type rowFamily struct {
	help       string
	labelNames []string
	// parts are the family's pieces, collected by familyParts for the odd
	// formats only, one family at a time.
	parts []rowPart
}

type rowPart struct {
	labels []string
	values []float64
	plain  bool // no label value needs escaping (collector.Rows.Plain)
}

// rowSet is what a first pass over the source's rows found, by family name.
type rowSet struct {
	names    []string // sorted, as Gather sorts families; only those with series
	families map[string]*rowFamily
}

// collectRows indexes the part's rows for a text format, or returns false
// when the format or the data does not allow rendering without gathering.
func (c *Cache) collectRows(format expfmt.Format) (rs rowSet, om, ok bool) {
	fast, om := fastFormat(format)
	if !fast {
		return rs, om, false
	}
	rs, ok = c.rows()
	return rs, om, ok
}

// rows indexes the part's families, or returns false when the data has what
// only a gather handles: a name that is not a legacy one, or families that
// disagree.
func (c *Cache) rows() (rs rowSet, ok bool) {
	rs.families = map[string]*rowFamily{}
	withSeries := map[string]bool{}
	valid := true
	complete := c.source.Gauges(c.part, "", func(name, help string, labelNames []string, rows collector.Rows) bool {
		labelValues, values := rows.LabelValues, rows.Values
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
		if len(values) > 0 && !withSeries[name] {
			withSeries[name] = true
			rs.names = append(rs.names, name) // as Gather: no family without series
		}
		return true
	})
	if !complete || !valid {
		return rs, false
	}
	slices.Sort(rs.names)
	return rs, true
}

// eachPart calls fn with every piece of family name's rows, in a pass of
// its own, until fn returns false. Pieces that do not fit the family
// (the source changed since rows indexed it) are skipped.
func (c *Cache) eachPart(name string, f *rowFamily, fn func(rowPart) bool) bool {
	return c.source.Gauges(c.part, name, func(n, _ string, _ []string, rows collector.Rows) bool {
		if n != name || len(rows.Values) == 0 || len(rows.LabelValues) != len(rows.Values)*len(f.labelNames) {
			return true
		}
		return fn(rowPart{rows.LabelValues, rows.Values, rows.Plain})
	})
}

// familyParts collects family name's pieces into f.parts.
func (c *Cache) familyParts(name string, f *rowFamily) {
	f.parts = f.parts[:0]
	c.eachPart(name, f, func(p rowPart) bool {
		f.parts = append(f.parts, p)
		return true
	})
}

// encodeRowsGzip renders the part's rows in a text format, as expfmt would
// encode what Collect sends (families sorted by name, series in the order
// handed over), compressed on the fly chunk by chunk; or returns nil when
// collectRows declines: then the cache gathers.
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
		b = c.appendFamily(b, name, rs.families[name], om, flush)
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

// appendFamily writes one family as appendGauges does, its HELP and TYPE
// lines with its first series (a family whose rows went away since rows
// indexed it is left out). flush is called after every series and returns
// the buffer to go on with, or nil to stop: then appendFamily returns nil.
func (c *Cache) appendFamily(b []byte, name string, f *rowFamily, om bool, flush func([]byte) []byte) []byte {
	// Labels in name order, as client_golang sorts a metric's label pairs;
	// each label's text up to its value is the same for every series.
	arity := len(f.labelNames)
	order := make([]int, arity)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return strings.Compare(f.labelNames[x], f.labelNames[y]) })
	prefixes := make([]string, arity)
	for k, j := range order {
		sep := ","
		if k == 0 {
			sep = name + "{"
		}
		prefixes[k] = sep + f.labelNames[j] + `="`
	}
	header := false
	c.eachPart(name, f, func(p rowPart) bool {
		if !header {
			header = true
			b = append(b, "# HELP "...)
			b = append(b, name...)
			b = append(b, ' ')
			b = appendEscaped(b, f.help, om)
			b = append(b, "\n# TYPE "...)
			b = append(b, name...)
			b = append(b, " gauge\n"...)
		}
		for i, value := range p.values {
			if arity == 0 {
				b = append(b, name...)
			}
			labels := p.labels[i*arity : (i+1)*arity]
			for k, j := range order {
				b = append(b, prefixes[k]...)
				if p.plain {
					b = append(b, labels[j]...)
				} else {
					b = appendEscaped(b, labels[j], true)
				}
				b = append(b, '"')
			}
			if arity > 0 {
				b = append(b, '}')
			}
			b = append(b, ' ')
			b = appendFloat(b, value, om)
			b = append(b, '\n')
			if flush != nil {
				if b = flush(b); b == nil {
					return false
				}
			}
		}
		return true
	})
	return b
}
