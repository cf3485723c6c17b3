// Package exposition serves a metrics exposition in two parts: a large part
// that changes only when the exporter's cached data changes, encoded once per
// generation of that data (per format and content encoding) and then written
// out as bytes, and a small live part (Go runtime, process, build info, API
// request counters, the handler's own counters) gathered and encoded on every
// request. It knows client_golang and expfmt, not HTTP routing.
//
// Why: gathering tens of thousands of const metrics on every scrape costs a
// full copy of them per concurrent scrape; at 10,000 sites that is seconds of
// CPU and hundreds of megabytes per scrape. Encoded once, a scrape only copies
// bytes.
package exposition

import (
	"bytes"
	"compress/flate"
	"hash/crc32"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// maxVariants bounds how many (format, encoding) renderings one generation
// keeps. Prometheus asks for one or two; clients that ask for many more
// variants cost renders, not unbounded memory.
const maxVariants = 6

// compressionLevel of the cached part: it is compressed once per generation
// and sent many times, so the default level's smaller output pays.
const compressionLevel = flate.DefaultCompression

// Cache holds renderings of one collector's output, valid as long as the
// generation function returns the same value.
type Cache struct {
	source     prometheus.Collector
	gatherer   prometheus.Gatherer // a registry of source alone
	generation func() uint64
	errorLog   Logger

	renderMu sync.Mutex // one render at a time bounds the memory of gathers

	mu      sync.Mutex
	gen     uint64
	valid   bool
	entries map[variant]*entry
	uses    uint64 // logical clock for evicting the least recently used variant
	renders uint64 // number of renders done, for tests
	// sizes are the last rendered sizes per variant: the next render's buffer
	// starts at that size instead of growing by doubling.
	sizes map[variant]int
}

// Logger is the minimal logging interface, as promhttp.Logger.
type Logger interface {
	Println(v ...any)
}

type variant struct {
	format expfmt.Format
	gzip   bool
}

type entry struct {
	once    sync.Once
	r       atomic.Pointer[rendering]
	lastUse uint64 // guarded by Cache.mu
}

// rendering is one encoded exposition of the gathered families.
type rendering struct {
	// body is the encoded families; for gzip a raw DEFLATE stream that ends
	// with a sync flush (byte-aligned, no final block), so that the live part
	// can follow as more DEFLATE blocks of the same gzip member.
	body []byte
	// size and crc are the length and CRC-32 of the uncompressed body, for the
	// gzip trailer (set for gzip renderings only).
	size int64
	crc  uint32
	// names are the families' names, for keeping them out of the live part.
	names map[string]struct{}
	// families are the byte ranges of each family in an identity body, for
	// name[] filtering.
	families []familyRange
}

type familyRange struct {
	name       string
	start, end int
}

// GaugeFamilySource is a collector that can hand its series over as families
// of gauges without building metrics, which a Cache renders in the text
// formats directly: for each family its name, help and label names, then per
// series its label values (flat, len(labelNames) each, valid UTF-8) and its
// value. A name may come more than once, with the same help and label names;
// the series must be unique. The slices must not change afterwards (an
// immutable snapshot's own): the cache reads them until the render is done.
// yield returns false to stop. GaugeFamilies reports false when it did not
// hand over everything Collect sends (it cannot, or yield stopped it); the
// cache then gathers.
type GaugeFamilySource interface {
	prometheus.Collector
	GaugeFamilies(yield func(name, help string, labelNames, labelValues []string, values []float64) bool) bool
}

// NewCache returns a cache of c's output, re-rendered whenever generation
// returns a new value. generation must change whenever c's output would; it
// is called on every request, so it must be cheap. c may be unchecked (an
// empty Describe). errorLog may be nil.
func NewCache(c prometheus.Collector, generation func() uint64, errorLog Logger) *Cache {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	return &Cache{source: c, gatherer: reg, generation: generation, errorLog: errorLog}
}

// get returns the rendering of the current generation in format, as raw
// DEFLATE when gz, rendering it on first use. Concurrent callers of one
// variant share one render.
func (c *Cache) get(format expfmt.Format, gz bool) *rendering {
	gen := c.generation()
	v := variant{format, gz}
	c.mu.Lock()
	if !c.valid || gen != c.gen {
		c.gen, c.valid, c.entries = gen, true, make(map[variant]*entry, maxVariants)
	}
	e := c.entries[v]
	if e == nil {
		if len(c.entries) >= maxVariants {
			c.evictLocked()
		}
		e = &entry{}
		c.entries[v] = e
	}
	c.uses++
	e.lastUse = c.uses
	c.mu.Unlock()

	e.once.Do(func() { e.r.Store(c.render(v, gen)) })
	return e.r.Load()
}

// peek returns the finished rendering of v in generation gen, or nil.
func (c *Cache) peek(v variant, gen uint64) *rendering {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[v]; e != nil && c.valid && c.gen == gen {
		return e.r.Load()
	}
	return nil
}

func (c *Cache) evictLocked() {
	var oldest variant
	var oldestUse uint64
	first := true
	for v, e := range c.entries {
		if first || e.lastUse < oldestUse {
			oldest, oldestUse, first = v, e.lastUse, false
		}
	}
	delete(c.entries, oldest)
}

// render gathers and encodes. The render lock keeps one gather's families in
// memory at a time however many variants are asked for at once. A gzip
// rendering compresses the identity rendering of its format, reusing it when
// that is cached already.
func (c *Cache) render(v variant, gen uint64) *rendering {
	c.renderMu.Lock()
	defer c.renderMu.Unlock()
	c.mu.Lock()
	c.renders++
	c.mu.Unlock()

	plain := variant{v.format, false}
	if !v.gzip {
		return c.encode(plain)
	}
	r := c.peek(plain, gen)
	if r == nil {
		// Straight from the rows into the compressor: the identity
		// rendering is never whole in memory.
		if r := c.encodeRowsGzip(v.format); r != nil {
			return r
		}
		r = c.encode(plain)
	}
	d := newDeflater()
	for body := r.body; len(body) > 0; {
		n := min(len(body), deflateChunk)
		d.write(body[:n])
		body = body[n:]
	}
	z := d.close()
	z.names = r.names
	return z
}

// encode renders in one format, recording where each family is: directly
// from a GaugeFamilySource in the text formats, else by gathering.
func (c *Cache) encode(v variant) *rendering {
	c.mu.Lock()
	hint := c.sizes[v]
	c.mu.Unlock()
	if r := c.encodeRows(v, hint); r != nil {
		c.keepSize(v, len(r.body))
		return r
	}

	mfs, err := c.gatherer.Gather()
	r := &rendering{names: make(map[string]struct{}, len(mfs)), families: make([]familyRange, 0, len(mfs))}
	if err != nil && c.errorLog != nil {
		c.errorLog.Println("error gathering metrics:", err)
	}

	fast, om := fastFormat(v.format)
	var buf bytes.Buffer
	buf.Grow(hint + hint/16)
	enc := expfmt.NewEncoder(&buf, v.format)
	for _, mf := range mfs {
		r.names[mf.GetName()] = struct{}{}
		start := buf.Len()
		if fast {
			if b, ok := appendGauges(buf.AvailableBuffer(), mf, om); ok {
				buf.Write(b)
				r.families = append(r.families, familyRange{mf.GetName(), start, buf.Len()})
				continue
			}
		}
		if err := enc.Encode(mf); err != nil {
			// As promhttp's ContinueOnError: log and go on.
			if c.errorLog != nil {
				c.errorLog.Println("error encoding and sending metric family:", err)
			}
			buf.Truncate(start)
			continue
		}
		r.families = append(r.families, familyRange{mf.GetName(), start, buf.Len()})
	}
	// No enc.Close: OpenMetrics' "# EOF" ends the whole response, after the live part.
	r.body = trim(buf.Bytes())
	c.keepSize(v, len(r.body))
	return r
}

// trim drops the unused capacity of a buffer that grew by doubling.
func trim(b []byte) []byte {
	if cap(b)-len(b) > len(b)/8 {
		return bytes.Clone(b)
	}
	return b
}

func (c *Cache) keepSize(v variant, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sizes == nil {
		c.sizes = map[variant]int{}
	}
	c.sizes[v] = n
}

// rowFamily is one family handed over by a GaugeFamilySource, possibly in
// several parts (one per company).
type rowFamily struct {
	help       string
	labelNames []string
	parts      []rowPart
}

type rowPart struct {
	labels []string
	values []float64
}

// rowSet is what a GaugeFamilySource handed over, by family name.
type rowSet struct {
	names    []string // sorted, as Gather sorts families
	families map[string]*rowFamily
}

// collectRows takes the rows of a GaugeFamilySource for a text format, or
// returns false when the source, the format or the data does not allow
// rendering without gathering.
func (c *Cache) collectRows(format expfmt.Format) (rs rowSet, om, ok bool) {
	src, isSource := c.source.(GaugeFamilySource)
	fast, om := fastFormat(format)
	if !isSource || !fast {
		return rs, om, false
	}
	rs.families = map[string]*rowFamily{}
	valid := true
	complete := src.GaugeFamilies(func(name, help string, labelNames, labelValues []string, values []float64) bool {
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
		return rs, om, false
	}
	for name, f := range rs.families {
		if len(f.parts) > 0 { // as Gather: no family without series
			rs.names = append(rs.names, name)
		}
	}
	slices.Sort(rs.names)
	return rs, om, true
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

// encodeRows renders a GaugeFamilySource in a text format as expfmt would
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

// deflateChunk is the size of the pieces compressed in parallel: large
// enough that restarting the DEFLATE dictionary costs little, small enough
// that a few in flight cost little memory.
const deflateChunk = 1 << 20

// deflater compresses a stream of chunks on every CPU at once into one raw
// DEFLATE stream that ends with a sync flush (byte-aligned, no final block):
// each chunk becomes its own sync-flushed stream, and those concatenate into
// one valid stream. It also sums the length and CRC-32 of the input, for the
// gzip trailer. At most a few chunks are in flight.
type deflater struct {
	jobs    chan deflateJob
	free    chan []byte // input buffers done with, for buffer
	wg      sync.WaitGroup
	results []*[]byte // in input order
	size    int64
	crc     uint32
}

type deflateJob struct {
	in    []byte
	out   *[]byte
	owned bool // in came from buffer: recycle it
}

func newDeflater() *deflater {
	workers := runtime.GOMAXPROCS(0)
	d := &deflater{jobs: make(chan deflateJob, workers), free: make(chan []byte, 2*workers+1)}
	for range workers {
		d.wg.Go(func() {
			var zw *flate.Writer
			for job := range d.jobs {
				var out bytes.Buffer
				out.Grow(len(job.in)/4 + 64)
				if zw == nil {
					zw, _ = flate.NewWriter(&out, compressionLevel) // only fails for a bad level
				} else {
					zw.Reset(&out)
				}
				zw.Write(job.in) // to a bytes.Buffer: cannot fail
				zw.Flush()
				*job.out = out.Bytes()
				if job.owned {
					select {
					case d.free <- job.in[:0]:
					default:
					}
				}
			}
		})
	}
	return d
}

// write queues p, which must not change until close returns.
func (d *deflater) write(p []byte) { d.queue(p, false) }

// buffer returns an empty buffer for writeOwned, recycled when one is free.
func (d *deflater) buffer() []byte {
	select {
	case b := <-d.free:
		return b
	default:
		return make([]byte, 0, deflateChunk+deflateChunk/4)
	}
}

// writeOwned queues a buffer from buffer; the deflater reuses it.
func (d *deflater) writeOwned(p []byte) { d.queue(p, true) }

func (d *deflater) queue(p []byte, owned bool) {
	if len(p) == 0 {
		return
	}
	d.size += int64(len(p))
	d.crc = crc32.Update(d.crc, crc32.IEEETable, p)
	out := new([]byte)
	d.results = append(d.results, out)
	d.jobs <- deflateJob{p, out, owned}
}

// close waits for the compression and returns it as a gzip rendering
// without names.
func (d *deflater) close() *rendering {
	close(d.jobs)
	d.wg.Wait()
	n := 0
	for _, r := range d.results {
		n += len(*r)
	}
	body := make([]byte, 0, n)
	for _, r := range d.results {
		body = append(body, *r...)
	}
	return &rendering{body: body, size: d.size, crc: d.crc}
}

// Renders returns how many renders the cache has done.
func (c *Cache) Renders() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.renders
}
