package collector

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
)

// A company's API calls, as InstrumentTransport sees them: the exporter puts
// a callSink in the context of every request it makes for the company (its
// GET /sites, GET /validate and background items), and the transport hands
// each request that went out to it. The sink counts them over a sliding hour
// for the status page (Status) and, for a debug refresh, logs each one
// (DebugRefresh). Requests the client never sent (held by the back-off
// window, or failing at the rate limit) are no calls.

// callWindow is the number of minute buckets of apiCalls: one hour.
const callWindow = 60

// apiCalls counts one company's API calls and 429 answers over the last
// hour, in minute buckets, so that its memory is fixed.
type apiCalls struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets [callWindow]callBucket
}

type callBucket struct {
	minute         int64 // unix minute the counts are of
	calls, limited int
}

func newAPICalls(now func() time.Time) *apiCalls { return &apiCalls{now: now} }

func (c *apiCalls) record(status int) {
	minute := c.now().Unix() / 60
	c.mu.Lock()
	defer c.mu.Unlock()
	b := &c.buckets[minute%callWindow]
	if b.minute != minute {
		*b = callBucket{minute: minute}
	}
	b.calls++
	if status == http.StatusTooManyRequests {
		b.limited++
	}
}

// lastHour returns the calls and 429 answers of the last hour (the
// current minute and the 59 before it).
func (c *apiCalls) lastHour() (calls, limited int) {
	minute := c.now().Unix() / 60
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.buckets {
		if minute-b.minute < callWindow {
			calls += b.calls
			limited += b.limited
		}
	}
	return calls, limited
}

// APICall is one request of a debug refresh, as it went out and came back.
// It never holds the API key.
type APICall struct {
	Method   string
	Endpoint string // route template: "/sites"
	Status   int    // 0 when no response arrived
	Duration time.Duration
	Err      string // the transport's error, when no response arrived
	// Kind is the kinsta.Kind of the refresh's failure, on the call it
	// failed on (a 200 whose body did not decode is bad_response); "" on
	// the others.
	Kind string
}

// maxTracedCalls bounds a debug refresh's log.
const maxTracedCalls = 100

// callTrace logs the API calls of one debug refresh.
type callTrace struct {
	mu      sync.Mutex
	calls   []APICall
	dropped int
}

func (t *callTrace) add(c APICall) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.calls) >= maxTracedCalls {
		t.dropped++
		return
	}
	t.calls = append(t.calls, c)
}

func (t *callTrace) snapshot() ([]APICall, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]APICall(nil), t.calls...), t.dropped
}

// callSink is where the transport reports a company's calls.
type callSink struct {
	counts *apiCalls
	trace  *callTrace // nil outside a debug refresh
}

type callSinkKey struct{}

// withCalls marks ctx's requests as the company's calls, counted in counts
// and, when trace is not nil, logged in it.
func withCalls(ctx context.Context, counts *apiCalls, trace *callTrace) context.Context {
	return context.WithValue(ctx, callSinkKey{}, callSink{counts, trace})
}

// reportCall hands a request that went out to its company's sink, if any.
func reportCall(r *http.Request, endpoint string, resp *http.Response, err error, took time.Duration) {
	sink, ok := r.Context().Value(callSinkKey{}).(callSink)
	if !ok {
		return
	}
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	if sink.counts != nil {
		sink.counts.record(status)
	}
	if sink.trace == nil {
		return
	}
	c := APICall{Method: r.Method, Endpoint: endpoint, Status: status, Duration: took}
	if err != nil {
		c.Err = redactKey(err.Error(), r.Header.Get("Authorization"))
	}
	sink.trace.add(c)
}

// redactKey removes the API key from text. The transport's errors name the
// URL, never the headers, so this is a second line of defence only.
func redactKey(text, authorization string) string {
	key := strings.TrimSpace(strings.TrimPrefix(authorization, "Bearer "))
	if key == "" {
		return text
	}
	return strings.ReplaceAll(text, key, "[REDACTED]")
}
