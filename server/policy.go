package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
)

// policy is how /metrics and /probe answer, the one request policy of the
// exporter:
//
//  1. The scrape's deadline is Prometheus' X-Prometheus-Scrape-Timeout-Seconds
//     less the offset (scrapeTimeout), never more than a refresh may take.
//  2. The Source refreshes what is due within that deadline; a refresh that
//     takes longer goes on in the background and the request is answered
//     from the last good data.
//  3. The request then takes one of the in-flight slots, shared by both
//     endpoints, waiting while its client waits (until the deadline plus the
//     offset, or until the client goes away) rather than answering 503 at
//     once: scrapes that waited together for a refresh arrive together, and
//     a 503 fails a scrape as surely as its timeout would. Renders happen
//     inside the slot, so the limit bounds them too.
//  4. Writing the answer is bounded by the same deadline, so a client that
//     stops reading cannot hold a slot for ever.
type policy struct {
	slots          chan struct{} // nil: no limit
	refreshTimeout time.Duration
	offset         time.Duration
}

func newPolicy(maxRequests int, refreshTimeout, offset time.Duration) *policy {
	p := &policy{refreshTimeout: refreshTimeout, offset: offset}
	if maxRequests > 0 {
		p.slots = make(chan struct{}, maxRequests)
	}
	return p
}

// pickFunc chooses what a request serves, within ctx (the scrape's
// deadline). When it cannot (a bad or unknown parameter), it writes the
// error answer itself and returns false.
type pickFunc func(w http.ResponseWriter, r *http.Request) (collector.Source, http.Handler, bool)

// handle serves the requests of an endpoint under the policy.
func (p *policy) handle(pick pickFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timeout := scrapeTimeout(r, p.refreshTimeout, p.offset)
		// An error means the ResponseWriter cannot set deadlines (a test
		// recorder): nothing to bound.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + p.offset + time.Second))
		client := r.Context()
		ctx, cancel := context.WithTimeout(client, timeout)
		defer cancel()
		src, render, ok := pick(w, r.WithContext(ctx))
		if !ok {
			return
		}
		src.Refresh(ctx)
		deadline, _ := ctx.Deadline()
		answer, cancelAnswer := context.WithDeadline(client, deadline.Add(p.offset))
		defer cancelAnswer()
		if !p.acquire(answer) {
			http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", cap(p.slots)),
				http.StatusServiceUnavailable)
			return
		}
		defer p.release()
		render.ServeHTTP(w, r.WithContext(answer))
	})
}

// acquire takes an in-flight slot, waiting until ctx ends; false means
// answer 503.
func (p *policy) acquire(ctx context.Context) bool {
	if p.slots == nil {
		return true
	}
	// A free slot is taken even when ctx has just ended (a refresh that ran
	// to the deadline with no offset left): select would pick at random.
	select {
	case p.slots <- struct{}{}:
		return true
	default:
	}
	select {
	case p.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (p *policy) release() {
	if p.slots != nil {
		<-p.slots
	}
}

// scrapeTimeout is how long a scrape may wait for a refresh: Prometheus'
// scrape timeout minus the offset, never more than one refresh can take.
func scrapeTimeout(r *http.Request, refreshTimeout, offset time.Duration) time.Duration {
	header := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	seconds, err := strconv.ParseFloat(header, 64)
	// !(seconds > 0) also refuses NaN. A timeout that leaves the offset and
	// a whole refresh is the refresh's: min below would choose it anyway,
	// and a huge one (Inf, 1e300) would overflow the conversion.
	if header == "" || err != nil || !(seconds > 0) || seconds >= (refreshTimeout+offset).Seconds() {
		return refreshTimeout
	}
	timeout := time.Duration(seconds * float64(time.Second))
	// A timeout no longer than the offset keeps half of itself to answer in.
	timeout = max(timeout-offset, timeout/2)
	return min(timeout, refreshTimeout)
}
