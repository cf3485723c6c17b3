package exposition

import (
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// A family of rows as client_golang's metric type, for the formats that need
// it (protobuf, and its text forms), streamed one family at a time
// (stream.go): a family's metrics are built, encoded and dropped before the
// next, where a gather would hold every metric of the part at once (at
// 10,000 sites, a hundred thousand of them, some 50 MB), and the metrics
// point into the rows instead of copying them. The result is a gather's:
// label pairs sorted by name, metrics by label values.

// familyOf is one family of rows as client_golang's metric type, its
// metrics allocated in a few slices and sorted as Gather sorts them.
func familyOf(name string, f *rowFamily) *dto.MetricFamily {
	arity := len(f.labelNames)
	order := make([]int, arity) // label indexes in name order
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return strings.Compare(f.labelNames[x], f.labelNames[y]) })
	n := 0
	for _, p := range f.parts {
		n += len(p.values)
	}
	metrics := make([]*dto.Metric, n)
	ms, gauges := make([]dto.Metric, n), make([]dto.Gauge, n)
	pairs, pairPtrs := make([]dto.LabelPair, n*arity), make([]*dto.LabelPair, n*arity)
	k := 0
	for _, p := range f.parts {
		for i := range p.values {
			row := pairPtrs[k*arity : (k+1)*arity : (k+1)*arity]
			for j, li := range order {
				lp := &pairs[k*arity+j]
				lp.Name, lp.Value = &f.labelNames[li], &p.labels[i*arity+li]
				row[j] = lp
			}
			g := &gauges[k]
			g.Value = &p.values[i]
			m := &ms[k]
			m.Label, m.Gauge = row, g
			metrics[k] = m
			k++
		}
	}
	slices.SortStableFunc(metrics, compareMetrics)
	return &dto.MetricFamily{Name: &name, Help: &f.help, Type: dto.MetricType_GAUGE.Enum(), Metric: metrics}
}

// compareMetrics orders metrics by their label values, as client_golang's
// gather does.
func compareMetrics(a, b *dto.Metric) int {
	for i, lp := range a.Label {
		if c := strings.Compare(lp.GetValue(), b.Label[i].GetValue()); c != 0 {
			return c
		}
	}
	return 0
}
