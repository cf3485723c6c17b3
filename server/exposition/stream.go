package exposition

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"runtime"
	"sync"

	"github.com/prometheus/common/expfmt"
)

// Every variant but the kept ones (cache.go) is streamed: each request
// gets its exposition written from the part's rows as it goes, never
// whole in memory and never kept. The text formats (identity text, the
// usual answer to curl or a browser, and name[] selections) are written
// by appendFamily in chunks, as fast as a render and in a chunk's memory.
// Odd variants (protobuf and its text forms) are encoded one family at a
// time, one such request per part at a time. Either way a request costs
// CPU, inside its in-flight slot, and the kept renderings are not touched.

// yieldCPU lets other goroutines run between the chunks (or families) of a
// streamed answer. Any client can ask for streamed answers, back to back,
// and each costs a render; Prometheus' scrapes are served from the kept
// renderings, which a background refresh may make it render again. Go's
// scheduler has no priorities, but a goroutine that yields often gets less
// of a busy CPU than one that does not (with four clients cycling Accept
// variants on two CPUs at the default flags, the median Prometheus-style
// scrape went from 56 to 22 ms: bench/accept-results.md). A yield costs
// about a microsecond per 128 KiB.
func yieldCPU() { runtime.Gosched() }

// streamChunk is how much text a streamed request renders before writing
// it out: large enough that writes are few, small next to the exposition.
const streamChunk = 128 << 10

var chunkPool = sync.Pool{New: func() any {
	b := make([]byte, 0, streamChunk+streamChunk/4)
	return &b
}}

// serveStreamed answers a request for any variant but a kept one: the
// caches' families, then the live ones, gzip-compressed on the fly when gz,
// without a Content-Length.
func (h *handler) serveStreamed(ctx context.Context, w http.ResponseWriter, negotiated, format expfmt.Format, gz bool, filter map[string]struct{}) {
	mfs, err := h.live.Gather()
	if err != nil {
		h.logf("error gathering metrics: %v", err)
	}
	hdr := w.Header()
	hdr.Add("Vary", "Accept")
	hdr.Add("Vary", "Accept-Encoding")
	hdr.Set("Content-Type", string(negotiated))
	// Nothing is written until there is something to write, so that when
	// nothing at all could be gathered the answer is promhttp's 500.
	var zw *gzip.Writer
	out := &byteCounter{w: w}
	var dst io.Writer = out
	if gz {
		hdr.Set("Content-Encoding", "gzip")
		zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed) // only fails for a bad level
		out.w = zw
	}
	cached := map[string]struct{}{}
	for _, c := range h.caches {
		if err := c.stream(ctx, dst, format, filter, cached); err != nil {
			return // the client went away, or its deadline passed while it waited
		}
	}
	enc := expfmt.NewEncoder(dst, format)
	for _, mf := range mfs {
		name := mf.GetName()
		if _, clash := cached[name]; clash {
			h.clash(name)
			continue
		}
		if _, ok := filter[name]; filter != nil && !ok {
			continue
		}
		if err := enc.Encode(mf); err != nil {
			h.logf("error encoding and sending metric family: %v", err)
		}
	}
	if err != nil && out.n == 0 {
		hdr.Del("Content-Encoding")
		http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
		return
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		closer.Close() // OpenMetrics: the one "# EOF", after both parts
	}
	if zw != nil {
		zw.Close()
	}
}

// byteCounter counts what goes through it.
type byteCounter struct {
	w io.Writer
	n int64
}

func (c *byteCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// stream writes the part's families in format to w, those in filter only
// (nil: all), and adds every family name of the part to names.
func (c *Cache) stream(ctx context.Context, w io.Writer, format expfmt.Format, filter, names map[string]struct{}) error {
	c.mu.Lock()
	c.streamed++
	c.mu.Unlock()
	if rs, om, ok := c.collectRows(format); ok {
		return c.streamRows(w, rs, om, filter, names)
	}
	return c.streamOdd(ctx, w, format, filter, names)
}

// streamRows writes the indexed rows as text, chunk by chunk.
func (c *Cache) streamRows(w io.Writer, rs rowSet, om bool, filter, names map[string]struct{}) error {
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	var werr error
	flush := func(b []byte) []byte {
		if len(b) < streamChunk {
			return b
		}
		if _, werr = w.Write(b); werr != nil {
			return nil // the client went away: stop
		}
		yieldCPU()
		return b[:0]
	}
	b := (*bp)[:0]
	for _, name := range rs.names {
		names[name] = struct{}{}
		if _, ok := filter[name]; filter != nil && !ok {
			continue
		}
		if b = c.appendFamily(b, name, rs.families[name], om, flush); b == nil {
			return werr
		}
	}
	if len(b) > 0 {
		_, werr = w.Write(b)
	}
	*bp = b[:0]
	return werr
}

// streamOdd writes an odd variant, or text rows only a gather handles. It
// holds the part's odd turn throughout, so that one odd request at a time
// per part holds a family's metrics and their encoding in memory, whatever
// the number of odd requests; the others wait for their turn until ctx
// (their answer deadline, or the client going away) ends, and then give up
// their in-flight slot rather than hold it waiting (the request policy
// bounds how long a slow reader can keep writing).
func (c *Cache) streamOdd(ctx context.Context, w io.Writer, format expfmt.Format, filter, names map[string]struct{}) error {
	select {
	case c.oddTurn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.oddTurn }()
	rs, ok := c.rows()
	if !ok {
		// Rows only a gather handles (see rows): a whole rendering, not kept.
		r := c.encode(variant{format, false})
		for _, f := range r.families {
			names[f.name] = struct{}{}
			if _, ok := filter[f.name]; filter == nil || ok {
				if _, err := w.Write(r.body[f.start:f.end]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	fw := newFamilyWriter(w, format)
	for _, name := range rs.names {
		names[name] = struct{}{}
		if _, ok := filter[name]; filter != nil && !ok {
			continue
		}
		f := rs.families[name]
		c.familyParts(name, f)
		err := fw.write(name, f)
		f.parts = nil
		yieldCPU()
		if err != nil {
			if c.errorLog != nil {
				c.errorLog.Println("error encoding and sending metric family:", err)
			}
			return err // a write error: the client went away; an encoding one cannot happen to valid rows
		}
	}
	return fw.flush()
}

// Streamed returns how many odd requests the cache has streamed.
func (c *Cache) Streamed() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streamed
}
