package exposition

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// HandlerOpts tunes Handler. Errors are handled as promhttp's ContinueOnError:
// logged, and whatever could be gathered is served.
type HandlerOpts struct {
	// ErrorLog receives gathering and encoding errors; nil discards them.
	ErrorLog Logger
}

// Handler serves the caches' parts, in order, followed by live's families,
// freshly gathered, as one exposition: the gzip text formats Prometheus asks
// for from the caches' renderings, everything else streamed from the rows
// (stream.go). It negotiates like
// promhttp.HandlerFor with EnableOpenMetrics: the format (OpenMetrics only
// when the client offers it, protobuf, text, with the escaping scheme asked
// for) from Accept, gzip from Accept-Encoding, and honours name[] query
// parameters. The parts must not share family names; a live family that has
// the name of a cached one is dropped and logged. Data that changes at
// different paces (site series per API refresh, each background collector's
// series per stored result) goes in caches of its own, so that a change of
// one does not re-render the others.
//
// OpenMetrics' "# EOF" is written once, at the very end. A gzip response is
// one gzip member: each cached part is kept as a byte-aligned DEFLATE stream
// without a final block, the live part is compressed per request as the
// following blocks, and the trailer's CRC-32 combines the parts' CRCs.
//
// It has no limit of its own on concurrent requests: the server's request
// policy admits a request before it gets here, renders included.
func Handler(live prometheus.Gatherer, caches []*Cache, opts HandlerOpts) http.Handler {
	return &handler{live: live, caches: caches, errorLog: opts.ErrorLog}
}

// Caches returns one cache per part of src, in order.
func Caches(src collector.Source, parts []string, errorLog Logger) []*Cache {
	caches := make([]*Cache, len(parts))
	for i, part := range parts {
		caches[i] = NewCache(src, part, errorLog)
	}
	return caches
}

type handler struct {
	live     prometheus.Gatherer
	caches   []*Cache
	errorLog Logger
	clashed  atomic.Bool // a live family clashed with a cached one (logged once)
}

var (
	bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	// The live part is compressed on every request, so for speed: it is a
	// few kilobytes next to the cached part's megabytes.
	flatePool = sync.Pool{New: func() any {
		w, _ := flate.NewWriter(nil, flate.BestSpeed)
		return w
	}}
)

// maxPooledBuffer: larger buffers (a name[] response) are left to the GC
// rather than kept alive by the pool.
const maxPooledBuffer = 1 << 20

func getBuffer() *bytes.Buffer {
	b := bufferPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		bufferPool.Put(b)
	}
}

// gzipHeader is a gzip member header: no file name, no modification time, OS
// unknown (RFC 1952).
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

func (h *handler) logf(format string, args ...any) {
	if h.errorLog != nil {
		h.errorLog.Println(fmt.Sprintf(format, args...))
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	negotiated := expfmt.NegotiateAccept(req.Header, expfmt.DefaultOpenMetricsAcceptedFormats()...)
	// Rendering pins the escaping scheme: every name here is a legacy name,
	// which no scheme changes, and a client cycling through schemes in Accept
	// must not be able to force a new render of the cached part every time.
	format := negotiated.WithEscapingScheme(model.UnderscoreEscaping)
	gz := acceptsGzip(req)
	filter := nameFilter(req)
	if filter != nil || !variantOf(format, gz).kept() {
		h.serveStreamed(req.Context(), w, negotiated, format, gz, filter)
		return
	}
	// Concurrent requests share one render of each cached part.
	cached := make([]*rendering, len(h.caches))
	cachedFamilies := 0
	for i, c := range h.caches {
		cached[i] = c.get(format, gz)
		cachedFamilies += len(cached[i].names)
	}

	mfs, err := h.live.Gather()
	if err != nil {
		h.logf("error gathering metrics: %v", err)
		if len(mfs) == 0 && cachedFamilies == 0 {
			http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	live := getBuffer()
	defer putBuffer(live)
	enc := expfmt.NewEncoder(live, format)
	for _, mf := range mfs {
		if inAny(cached, mf.GetName()) {
			h.clash(mf.GetName())
			continue
		}
		if err := enc.Encode(mf); err != nil {
			h.logf("error encoding and sending metric family: %v", err)
		}
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		closer.Close() // OpenMetrics: the one "# EOF", after both parts
	}

	// The cached parts' DEFLATE streams, byte-aligned, concatenate into one;
	// the live part follows as the final blocks.
	var crc uint32
	var size int64
	out := [][]byte{gzipHeader}
	for _, r := range cached {
		out = append(out, r.body)
		crc = crc32Combine(crc, r.crc, r.size)
		size += r.size
	}
	z := getBuffer()
	defer putBuffer(z)
	zw := flatePool.Get().(*flate.Writer)
	zw.Reset(z)
	zw.Write(live.Bytes()) // to a bytes.Buffer: cannot fail
	zw.Close()             // the final block
	flatePool.Put(zw)
	crc = crc32.Update(crc, crc32.IEEETable, live.Bytes())
	size += int64(live.Len())
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc)
	binary.LittleEndian.PutUint32(trailer[4:], uint32(size)) // ISIZE is the size modulo 2^32
	out = append(out, z.Bytes(), trailer[:])

	n := 0
	for _, p := range out {
		n += len(p)
	}
	hdr := w.Header()
	hdr.Add("Vary", "Accept")
	hdr.Add("Vary", "Accept-Encoding")
	hdr.Set("Content-Type", string(negotiated))
	hdr.Set("Content-Encoding", "gzip")
	hdr.Set("Content-Length", strconv.Itoa(n))
	for _, p := range out {
		if _, err := w.Write(p); err != nil {
			return // the client went away
		}
	}
}

// clash logs, once, that a live family has the name of a cached one.
func (h *handler) clash(name string) {
	if !h.clashed.Swap(true) {
		h.logf("error: live metric family %q is also in the cached part; dropping the live one", name)
	}
}

// nameFilter returns the name[] query parameters as a set, nil without any.
func nameFilter(req *http.Request) map[string]struct{} {
	if req.URL == nil {
		return nil
	}
	names := req.URL.Query()["name[]"]
	if len(names) == 0 {
		return nil
	}
	set := make(map[string]struct{}, len(names))
	for _, n := range names {
		set[n] = struct{}{}
	}
	return set
}

// inAny reports whether a family of that name is in one of the renderings.
func inAny(renderings []*rendering, name string) bool {
	for _, r := range renderings {
		if _, ok := r.names[name]; ok {
			return true
		}
	}
	return false
}
