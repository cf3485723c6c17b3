package exposition

import (
	"bufio"
	"io"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The odd formats (protobuf, and its text forms) written from a part's rows
// one family at a time (stream.go), without a gather, which would hold every
// metric of the part at once (at 10,000 sites a hundred thousand of them,
// some 50 MB) and copy every label value. The result is a gather's: label
// pairs sorted by name, metrics sorted by label values.
//
//   - Delimited protobuf, what a Prometheus with native histograms asks
//     for, is written one metric at a time: a MetricFamily's metrics are its
//     field 4, repeated, and a repeated field is the concatenation of its
//     elements, so the family's message is its header, then each metric
//     marshalled alone. Its length, which comes first, is summed from the
//     metrics' sizes in a first pass. The bytes are proto.Marshal's.
//   - The protobuf text forms, for people reading them, are written in
//     families of at most textChunk metrics: a long family repeats its
//     name, help and type every textChunk metrics (prototext builds a whole
//     message in memory, several times its size, at 10,000 sites over
//     100 MB for one family).

// textChunk is the most metrics of one message in the protobuf text forms.
const textChunk = 1000

// rowRef is one series of a rowFamily: part p, row i.
type rowRef struct{ p, i int }

// familyWriter writes the families of one part in one odd format.
type familyWriter struct {
	w      *bufio.Writer
	format expfmt.Format
	enc    expfmt.Encoder
	buf    []byte
}

func newFamilyWriter(w io.Writer, format expfmt.Format) *familyWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &familyWriter{w: bw, format: format, enc: expfmt.NewEncoder(bw, format)}
}

// write writes one family.
func (fw *familyWriter) write(name string, f *rowFamily) error {
	order, refs := sortedRows(f)
	if fw.format.FormatType() == expfmt.TypeProtoDelim {
		return fw.writeDelimited(name, f, order, refs)
	}
	for start := 0; start < len(refs); start += textChunk {
		end := min(start+textChunk, len(refs))
		if err := fw.enc.Encode(familyOf(name, f, order, refs[start:end])); err != nil {
			return err
		}
		yieldCPU()
	}
	return nil
}

func (fw *familyWriter) flush() error { return fw.w.Flush() }

// writeDelimited writes the family as one length-delimited MetricFamily.
func (fw *familyWriter) writeDelimited(name string, f *rowFamily, order []int, refs []rowRef) error {
	header, err := proto.Marshal(&dto.MetricFamily{Name: &name, Help: &f.help, Type: dto.MetricType_GAUGE.Enum()})
	if err != nil {
		return err
	}
	m := newMetricBuilder(len(order))
	size := len(header)
	for _, r := range refs {
		n := proto.Size(m.build(f, order, r))
		size += protowire.SizeTag(4) + protowire.SizeBytes(n)
	}
	fw.buf = protowire.AppendVarint(fw.buf[:0], uint64(size))
	fw.buf = append(fw.buf, header...)
	for _, r := range refs {
		msg := m.build(f, order, r)
		fw.buf = protowire.AppendTag(fw.buf, 4, protowire.BytesType)
		fw.buf = protowire.AppendVarint(fw.buf, uint64(proto.Size(msg)))
		if fw.buf, err = (proto.MarshalOptions{}).MarshalAppend(fw.buf, msg); err != nil {
			return err
		}
		if len(fw.buf) >= 32<<10 {
			if _, err := fw.w.Write(fw.buf); err != nil {
				return err
			}
			fw.buf = fw.buf[:0]
			yieldCPU()
		}
	}
	_, err = fw.w.Write(fw.buf)
	return err
}

// sortedRows returns the label indexes of f in name order, and its series
// in the order a gather sorts metrics: by label values, in that order.
func sortedRows(f *rowFamily) (order []int, refs []rowRef) {
	arity := len(f.labelNames)
	order = make([]int, arity)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return strings.Compare(f.labelNames[x], f.labelNames[y]) })
	for p, part := range f.parts {
		for i := range part.values {
			refs = append(refs, rowRef{p, i})
		}
	}
	slices.SortStableFunc(refs, func(a, b rowRef) int {
		la := f.parts[a.p].labels[a.i*arity : (a.i+1)*arity]
		lb := f.parts[b.p].labels[b.i*arity : (b.i+1)*arity]
		for _, j := range order {
			if c := strings.Compare(la[j], lb[j]); c != 0 {
				return c
			}
		}
		return 0
	})
	return order, refs
}

// metricBuilder builds one metric at a time in the same memory.
type metricBuilder struct {
	m     dto.Metric
	g     dto.Gauge
	pairs []dto.LabelPair
	ptrs  []*dto.LabelPair
}

func newMetricBuilder(arity int) *metricBuilder {
	b := &metricBuilder{pairs: make([]dto.LabelPair, arity), ptrs: make([]*dto.LabelPair, arity)}
	for i := range b.pairs {
		b.ptrs[i] = &b.pairs[i]
	}
	return b
}

// build makes the builder's metric series r of f; it points into the rows.
func (b *metricBuilder) build(f *rowFamily, order []int, r rowRef) *dto.Metric {
	arity := len(order)
	p := f.parts[r.p]
	for j, li := range order {
		b.pairs[j].Name, b.pairs[j].Value = &f.labelNames[li], &p.labels[r.i*arity+li]
	}
	b.g.Value = &p.values[r.i]
	b.m.Label, b.m.Gauge = b.ptrs, &b.g
	return &b.m
}

// familyOf is the series refs of f as one client_golang family, its metrics
// allocated in a few slices; they point into the rows.
func familyOf(name string, f *rowFamily, order []int, refs []rowRef) *dto.MetricFamily {
	arity := len(order)
	n := len(refs)
	metrics := make([]*dto.Metric, n)
	ms, gauges := make([]dto.Metric, n), make([]dto.Gauge, n)
	pairs, pairPtrs := make([]dto.LabelPair, n*arity), make([]*dto.LabelPair, n*arity)
	for k, r := range refs {
		p := f.parts[r.p]
		row := pairPtrs[k*arity : (k+1)*arity : (k+1)*arity]
		for j, li := range order {
			lp := &pairs[k*arity+j]
			lp.Name, lp.Value = &f.labelNames[li], &p.labels[r.i*arity+li]
			row[j] = lp
		}
		gauges[k].Value = &p.values[r.i]
		ms[k].Label, ms[k].Gauge = row, &gauges[k]
		metrics[k] = &ms[k]
	}
	return &dto.MetricFamily{Name: &name, Help: &f.help, Type: dto.MetricType_GAUGE.Enum(), Metric: metrics}
}
