package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
)

// /probe?company=<id>&debug=true answers, instead of metrics, with the log
// of one refresh of the company's sites that it forces (GET /sites now,
// whatever the cache's age), as blackbox_exporter's debug=true answers with
// a probe's log. It runs under the request policy like any probe: in an
// in-flight slot and within the scrape deadline. Since each costs an API
// call, a company gets at most one per debugInterval.

// debugInterval is the least time between two debug refreshes of a company.
const debugInterval = 5 * time.Second

// debugRequested reports whether a /probe request asks for the debug log.
func debugRequested(r *http.Request) bool {
	debug, err := strconv.ParseBool(r.URL.Query().Get("debug"))
	return err == nil && debug
}

// debugProbes bounds debug refreshes per company.
type debugProbes struct {
	mu   sync.Mutex
	last map[*collector.Exporter]time.Time // when each company's last one started
}

// admit reports how long the company must wait for its next debug
// refresh; 0: now, and it is counted as started.
func (d *debugProbes) admit(exp *collector.Exporter, now time.Time) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.last == nil {
		d.last = map[*collector.Exporter]time.Time{}
	}
	for e, t := range d.last { // forget what is past, and companies a reload removed
		if now.Sub(t) >= debugInterval {
			delete(d.last, e)
		}
	}
	if t, ok := d.last[exp]; ok {
		return debugInterval - now.Sub(t)
	}
	d.last[exp] = now
	return 0
}

// handler answers one debug probe of target, within the request's context
// less the offset the policy keeps to answer in.
func (d *debugProbes) handler(target *fleet.Target, offset time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait := d.admit(target.Exporter(), time.Now()); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+1)))
			http.Error(w, fmt.Sprintf("A debug refresh of company %s ran less than %s ago; each costs a Kinsta API call, so one per %s per company. Try again in %s.",
				target.ID, debugInterval, debugInterval, wait.Round(time.Second)), http.StatusTooManyRequests)
			return
		}
		ctx := r.Context()
		if deadline, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline.Add(-offset))
			defer cancel()
		}
		refresh, err := target.Exporter().DebugRefresh(ctx)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		writeDebugLog(w, target, refresh, err)
	})
}

// writeDebugLog writes the log for a person to read.
func writeDebugLog(w io.Writer, target *fleet.Target, d collector.DebugRefresh, err error) {
	var b strings.Builder
	name := target.ID
	if target.Name != "" {
		name += " (" + target.Name + ")"
	}
	fmt.Fprintf(&b, "Debug refresh of company %s\n", name)
	if err != nil {
		fmt.Fprintf(&b, "Not refreshed: %v.\n", err)
		_, _ = io.WriteString(w, b.String())
		return
	}
	fmt.Fprintf(&b, "Started %s: GET /sites now, whatever the cache's age, through the exporter's client (its rate limit and Kinsta's 429 back-off).\n",
		d.Started.UTC().Format(time.RFC3339Nano))
	b.WriteString("Requests carry the API key in the Authorization header: Bearer <redacted>.\n\nAPI calls:\n")
	for i, c := range d.Calls {
		fmt.Fprintf(&b, "%3d. %s %s: %s, %s\n", i+1, c.Method, c.Endpoint, callOutcome(c), roundForLog(c.Duration))
	}
	if d.Dropped > 0 {
		fmt.Fprintf(&b, "     and %d more, not logged\n", d.Dropped)
	}
	if len(d.Calls) == 0 {
		b.WriteString("     none: the client sent no request (see the result)\n")
	}
	b.WriteString("\n")
	switch {
	case !d.Finished:
		b.WriteString("Result: not finished within the request's deadline; the refresh goes on in the background and the next scrape serves what it got.\n")
	case d.Err != "":
		fmt.Fprintf(&b, "Result: failed after %s (kind %s): %s\nThe last good data stays served until --kinsta.max-staleness.\n", roundForLog(d.Duration), d.ErrKind, d.Err)
	default:
		fmt.Fprintf(&b, "Result: success after %s: %d sites, stored and served as any refresh.\n", roundForLog(d.Duration), d.Sites)
	}
	_, _ = io.WriteString(w, b.String())
}

// callOutcome is a call's status in words: "200 OK", or the transport's
// error when no response arrived, and the kind of the refresh's failure
// on the call it failed on.
func callOutcome(c collector.APICall) string {
	outcome := fmt.Sprintf("%d %s", c.Status, http.StatusText(c.Status))
	if c.Status == 0 {
		outcome = "no response (" + c.Err + ")"
	}
	if c.Kind != "" {
		outcome += ", failed: " + c.Kind
	}
	return outcome
}

// roundForLog keeps three significant digits or so: 2ms, 274µs, 1.52s.
func roundForLog(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(10 * time.Millisecond)
}
