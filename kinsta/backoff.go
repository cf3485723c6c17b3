package kinsta

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// maxRetryAfter bounds a Retry-After header: a buggy or hostile value
	// must not silence the exporter for days.
	maxRetryAfter = time.Hour
	// backoffBase and backoffCap shape the back-off after a 429 without a
	// usable Retry-After: 1s, 2s, 4s, ... up to 5 minutes, with equal jitter.
	backoffBase = time.Second
	backoffCap  = 5 * time.Minute
)

// ParseRetryAfter parses a Retry-After header value: delta seconds ("120") or
// an HTTP date, measured from now. ok is false for an empty, negative or
// unparsable value. Values above an hour are clamped to an hour; a date in the
// past means no wait (0, true).
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		secs, err := strconv.ParseInt(v, 10, 64)
		// All digits, so the only possible error is overflow: a huge value.
		if err != nil || secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		return 0, true
	}
	return min(d, maxRetryAfter), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// backoff is the 429 window shared by every caller of one Client: the API key
// is what Kinsta throttles, so one caller's 429 holds them all.
type backoff struct {
	mu          sync.Mutex
	until       time.Time // no request before this instant (Config.Now's clock)
	consecutive int       // 429s since the last 2xx
}

// remaining is how long the window is still open at now.
func (b *backoff) remaining(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.until.Sub(now)
}

// rateLimited opens (or extends) the window after a 429 and returns how long
// it stays open. retryAfter is the raw header; without a usable one the window
// grows exponentially with the number of consecutive 429s.
func (b *backoff) rateLimited(now time.Time, retryAfter string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.consecutive++
	d, ok := ParseRetryAfter(retryAfter, now)
	if !ok {
		d = jittered(b.consecutive)
	}
	if end := now.Add(d); end.After(b.until) {
		b.until = end
	}
	return max(b.until.Sub(now), 0)
}

// succeeded resets the exponential back-off after a 2xx. An open window is
// kept: it was the server's instruction.
func (b *backoff) succeeded() {
	b.mu.Lock()
	b.consecutive = 0
	b.mu.Unlock()
}

// jittered returns the n-th (1-based) back-off: half of base*2^(n-1), capped,
// plus a random part up to the other half ("equal jitter"), so callers of
// several exporters do not retry in lockstep yet always wait a minimum.
func jittered(n int) time.Duration {
	exp := backoffCap
	if n < 20 { // 2^19 s is far past the cap; avoid shifting into overflow
		exp = min(backoffBase<<(max(n, 1)-1), backoffCap)
	}
	half := exp / 2
	return half + rand.N(half+1)
}

// minHoldOff is the least HoldOff returns for a rate-limit error: a 429
// whose window already closed still means the key is at its limit.
const minHoldOff = time.Second

// HoldOff is how long every caller of the client should send nothing after
// err: for a rate-limit error, the back-off window the client opened for the
// whole process (Retry-After, or the exponential back-off), at least a
// second; 0 for any other error or none. This is the one place that decides
// what a 429 means for callers; the client itself already waits out the
// window before its next request.
func HoldOff(err error) time.Duration {
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindRateLimited {
		return 0
	}
	return max(e.RetryAfter, minHoldOff)
}
