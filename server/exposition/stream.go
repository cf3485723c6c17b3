package exposition

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"

	"github.com/prometheus/common/expfmt"
)

// Odd variants (cache.go: any but the text formats Prometheus asks for) are
// never kept: each request gets its exposition streamed, one family at a
// time, encoded from the part's rows. A request costs CPU and one family's
// metrics and encoding, whatever variant it picks; the kept renderings are
// not touched.

// serveStreamed answers a request for an odd variant: the caches' families,
// then the live ones, gzip-compressed on the fly when gz, without a
// Content-Length.
func (h *handler) serveStreamed(ctx context.Context, w http.ResponseWriter, negotiated, format expfmt.Format, gz bool, filter map[string]struct{}) {
	mfs, err := h.live.Gather()
	if err != nil {
		h.logf("error gathering metrics: %v", err)
	}
	hdr := w.Header()
	hdr.Add("Vary", "Accept")
	hdr.Add("Vary", "Accept-Encoding")
	hdr.Set("Content-Type", string(negotiated))
	var out io.Writer = w
	if gz {
		hdr.Set("Content-Encoding", "gzip")
		zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // only fails for a bad level
		defer zw.Close()
		out = zw
	}
	cached := map[string]struct{}{}
	for _, c := range h.caches {
		if err := c.stream(ctx, out, format, filter, cached); err != nil {
			return // the client went away, or its deadline passed while it waited
		}
	}
	enc := expfmt.NewEncoder(out, format)
	for _, mf := range mfs {
		name := mf.GetName()
		if _, clash := cached[name]; clash {
			if !h.clashed.Swap(true) {
				h.logf("error: live metric family %q is also in the cached part; dropping the live one", name)
			}
			continue
		}
		if _, ok := filter[name]; filter != nil && !ok {
			continue
		}
		if err := enc.Encode(mf); err != nil {
			h.logf("error encoding and sending metric family: %v", err)
		}
	}
}

// stream writes the part's families in format to w, those in filter only
// (nil: all), and adds every family name of the part to names. It holds
// the part's odd turn throughout, so that one odd request at a time per
// part holds a family's metrics and their encoding in memory, whatever the
// number of odd requests; the others wait for their turn until ctx (their
// answer deadline, or the client going away) ends, and then give up their
// in-flight slot rather than hold it waiting (the request policy bounds how
// long a slow reader can keep writing).
func (c *Cache) stream(ctx context.Context, w io.Writer, format expfmt.Format, filter, names map[string]struct{}) error {
	select {
	case c.oddTurn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.oddTurn }()
	c.mu.Lock()
	c.streamed++
	c.mu.Unlock()
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
		if err := fw.write(name, rs.families[name]); err != nil {
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
