// Package exposition serves a metrics exposition in two parts: a large part
// that changes only when the exporter's cached data changes, kept as rows
// and, in the gzip text formats Prometheus asks for, encoded once per
// generation of that data and then written out as bytes (any other answer is
// streamed from the rows), and a small live part (Go runtime, process, build
// info, API request counters, the handler's own counters) gathered and
// encoded on every request. It knows client_golang and expfmt, not HTTP
// routing.
//
// Why: gathering tens of thousands of const metrics on every scrape costs a
// full copy of them per concurrent scrape; at 10,000 sites that is seconds of
// CPU and hundreds of megabytes per scrape. Encoded once, a scrape only copies
// bytes; streamed from rows, it holds a chunk of them at a time.
package exposition

import (
	"bytes"
	"compress/flate"
	"sync"
	"sync/atomic"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Which renderings stay cached: only those Prometheus asks for, gzip in
// the text formats its default Accept headers negotiate (text 0.0.4,
// OpenMetrics 0.0.1 and 1.0.0, which render alike): at most two per
// generation, a few megabytes, and nothing else can evict them. Identity
// text is streamed from the rows to each request that asks for it (a
// cached copy would be the whole exposition uncompressed, tens of
// megabytes at 10,000 sites: half of the exporter's memory), as is any
// other variant (protobuf, its text forms, name[] selections): stream.go.
// Any client picks its Accept header; none can make a rendering stay.
const maxKeptVariants = 2

// compressionLevel of the cached part: it is compressed once per generation
// and sent many times, so the default level's smaller output pays.
const compressionLevel = flate.DefaultCompression

// Cache holds renderings of one part of a collector.Source, valid as long as
// the part's generation stays the same.
type Cache struct {
	source   collector.Source
	part     string
	gatherer prometheus.Gatherer // the part as const metrics, for protobuf
	errorLog Logger

	// One whole identity render at a time (rows that need a gather; gzip
	// ones from the rows are chunked), and apart from them one odd request
	// (stream.go): that bounds the memory of renders, and odd requests never
	// queue ahead of Prometheus'.
	renderMu sync.Mutex
	oddTurn  chan struct{} // one odd (streamed) request at a time

	mu       sync.Mutex
	gen      uint64
	valid    bool
	entries  map[variant]*entry // kept variants only
	renders  uint64             // number of renders done, for tests
	streamed uint64             // number of odd requests streamed, for tests
	gathers  uint64             // of which through const metrics (protobuf, or rows the text formats cannot carry)
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

// kept reports whether v is one of the variants that stay cached.
func (v variant) kept() bool {
	if !v.gzip {
		return false
	}
	switch v.format.FormatType() {
	case expfmt.TypeTextPlain:
		return true
	case expfmt.TypeOpenMetrics:
		return v.format.Version() == expfmt.OpenMetricsVersion_1_0_0
	}
	return false
}

// variantOf is the rendering a request gets: OpenMetrics 0.0.1 is rendered
// as 1.0.0, which it is byte for byte (fastFormat), so the two share one.
func variantOf(format expfmt.Format, gz bool) variant {
	if format.FormatType() == expfmt.TypeOpenMetrics && format.Version() == expfmt.OpenMetricsVersion_0_0_1 {
		format = expfmt.NewFormat(expfmt.TypeOpenMetrics).WithEscapingScheme(format.ToEscapingScheme())
	}
	return variant{format, gz}
}

type entry struct {
	once sync.Once
	r    atomic.Pointer[rendering]
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

// NewCache returns a cache of one part of src, re-rendered whenever the
// part's generation moves. errorLog may be nil.
func NewCache(src collector.Source, part string, errorLog Logger) *Cache {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.GaugesCollector(src, part))
	return &Cache{source: src, part: part, gatherer: reg, errorLog: errorLog, oddTurn: make(chan struct{}, 1)}
}

// get returns the rendering of the current generation in format, as raw
// DEFLATE when gz, rendering it on first use. Concurrent callers of one
// variant share one render.
func (c *Cache) get(format expfmt.Format, gz bool) *rendering {
	gen := c.source.Generation(c.part)
	v := variantOf(format, gz)
	c.mu.Lock()
	if !c.valid || gen != c.gen {
		c.gen, c.valid, c.entries = gen, true, make(map[variant]*entry, maxKeptVariants)
	}
	e := c.entries[v]
	if e == nil {
		e = &entry{}
		c.entries[v] = e
	}
	c.mu.Unlock()

	e.once.Do(func() { e.r.Store(c.render(v)) })
	return e.r.Load()
}

// render compresses a kept (gzip) variant straight from the rows, chunk by
// chunk, so that the identity rendering is never whole in memory; only
// rows that need a gather (see rows) are rendered whole first, one such
// render at a time (renderMu).
func (c *Cache) render(v variant) *rendering {
	c.mu.Lock()
	c.renders++
	c.mu.Unlock()

	if r := c.encodeRowsGzip(v.format); r != nil {
		return r
	}
	c.renderMu.Lock()
	defer c.renderMu.Unlock()
	r := c.encode(variant{v.format, false})
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

// encode renders rows that only a gather handles (see rows) in one format,
// whole, recording where each family is.
func (c *Cache) encode(v variant) *rendering {
	c.mu.Lock()
	hint := c.sizes[v]
	c.gathers++
	c.mu.Unlock()
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

// Gathers returns how many renders went through const metrics.
func (c *Cache) Gathers() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gathers
}

// Renders returns how many renders the cache has done.
func (c *Cache) Renders() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.renders
}
