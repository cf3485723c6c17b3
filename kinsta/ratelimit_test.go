package kinsta

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"0", 0, true},
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"3600", time.Hour, true},
		{"3601", time.Hour, true},
		{"99999999999999999999999999", time.Hour, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), time.Hour, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{now.Add(30 * time.Second).Format(time.RFC850), 30 * time.Second, true},
		{now.Add(30 * time.Second).Format(time.ANSIC), 30 * time.Second, true},
		{"", 0, false},
		{"-5", 0, false},
		{"+5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"5s", 0, false},
		{"2030-01-02T03:05:00Z", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestJittered(t *testing.T) {
	for n := 1; n <= 40; n++ {
		exp := backoffCap
		if n < 20 {
			exp = min(time.Second<<(n-1), backoffCap)
		}
		for range 50 {
			if d := jittered(n); d < exp/2 || d > exp {
				t.Fatalf("jittered(%d) = %v, want in [%v, %v]", n, d, exp/2, exp)
			}
		}
	}
}

// switchable answers 429 (with the Retry-After header, if set) while limited
// is true, and the sites fixture otherwise, counting requests and noting when
// each successful one arrived.
type switchable struct {
	limited    atomic.Bool
	retryAfter atomic.Value // string
	count      atomic.Int32
	body429    []byte
	sites      []byte

	mu      sync.Mutex
	arrived []time.Time
}

func newSwitchable(t *testing.T) *switchable {
	s := &switchable{body429: fixture(t, "error-429.json"), sites: fixture(t, "sites.json")}
	s.retryAfter.Store("")
	return s
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.count.Add(1)
	if s.limited.Load() {
		if v := s.retryAfter.Load().(string); v != "" {
			w.Header().Set("Retry-After", v)
		}
		serve(http.StatusTooManyRequests, s.body429)(w, r)
		return
	}
	s.mu.Lock()
	s.arrived = append(s.arrived, time.Now())
	s.mu.Unlock()
	serve(200, s.sites)(w, r)
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestRetryAfterSecondsHoldsEveryCaller uses the real clock: after a 429 with
// Retry-After: 1 no caller reaches the server for a second.
func TestRetryAfterSecondsHoldsEveryCaller(t *testing.T) {
	t.Parallel()
	srv := newSwitchable(t)
	srv.limited.Store(true)
	srv.retryAfter.Store("1")
	c := clientFor(t, srv)

	start := time.Now()
	_, err := c.Sites(context.Background(), testCompany)
	e := asError(t, err)
	if e.Kind != KindRateLimited || e.StatusCode != 429 || e.RetryAfter != time.Second {
		t.Fatalf("err = %v (RetryAfter %v)", err, e.RetryAfter)
	}
	if time.Since(start) >= time.Second {
		t.Fatal("the call slept after the 429")
	}
	srv.limited.Store(false)

	// A caller whose deadline ends inside the window fails at once, without
	// a request.
	_, err = c.Sites(ctxTimeout(t, 200*time.Millisecond), testCompany)
	if e := asError(t, err); e.Kind != KindRateLimited || e.StatusCode != 0 || e.RetryAfter <= 0 || e.RetryAfter > time.Second {
		t.Fatalf("err = %v", err)
	}
	if n := srv.count.Load(); n != 1 {
		t.Fatalf("%d requests during the window", n)
	}

	// Two concurrent callers with room in their deadlines wait it out.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { _, errs[i] = c.Sites(ctxTimeout(t, 5*time.Second), testCompany) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, at := range srv.arrived {
		if at.Before(start.Add(time.Second)) {
			t.Errorf("request arrived %v after the 429, inside the 1s window", at.Sub(start))
		}
	}
	if n := srv.count.Load(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// TestRetryAfterHTTPDate uses a fake clock: the window is measured against
// Config.Now, so a date an hour ahead holds callers until the clock moves.
func TestRetryAfterHTTPDate(t *testing.T) {
	clk := newFakeClock()
	srv := newSwitchable(t)
	srv.limited.Store(true)
	srv.retryAfter.Store(clk.Now().Add(30 * time.Minute).Format(http.TimeFormat))
	c := clientFor(t, srv, withFakeClock(clk))

	_, err := c.Sites(context.Background(), testCompany)
	if e := asError(t, err); e.Kind != KindRateLimited || e.RetryAfter != 30*time.Minute {
		t.Fatalf("err = %v (RetryAfter %v)", err, e.RetryAfter)
	}
	if want := "(retry after 30m0s)"; !strings.Contains(err.Error(), want) {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	srv.limited.Store(false)

	clk.Advance(10 * time.Minute)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			_, err := c.Sites(ctxTimeout(t, 5*time.Second), testCompany)
			if e := asError(t, err); e.Kind != KindRateLimited || e.RetryAfter != 20*time.Minute {
				t.Errorf("err = %v (RetryAfter %v)", err, e.RetryAfter)
			}
		})
	}
	wg.Wait()
	if n := srv.count.Load(); n != 1 {
		t.Fatalf("%d requests inside the window", n)
	}

	clk.Advance(20 * time.Minute)
	if _, err := c.Sites(ctxTimeout(t, 5*time.Second), testCompany); err != nil {
		t.Fatal(err)
	}
}

// TestBackoffWithoutRetryAfter checks the exponential back-off after 429s
// without a header, and its reset after a success.
func TestBackoffWithoutRetryAfter(t *testing.T) {
	clk := newFakeClock()
	srv := newSwitchable(t)
	srv.limited.Store(true)
	c := clientFor(t, srv, withFakeClock(clk))
	ctx := context.Background()

	expect := func(lo, hi time.Duration) time.Duration {
		t.Helper()
		_, err := c.Sites(ctx, testCompany)
		e := asError(t, err)
		if e.Kind != KindRateLimited || e.RetryAfter < lo || e.RetryAfter > hi {
			t.Fatalf("err = %v (RetryAfter %v), want in [%v, %v]", err, e.RetryAfter, lo, hi)
		}
		return e.RetryAfter
	}
	d := expect(500*time.Millisecond, time.Second)
	clk.Advance(d)
	d = expect(time.Second, 2*time.Second)
	clk.Advance(d)
	d = expect(2*time.Second, 4*time.Second)

	// Inside the window: no request, whatever the caller.
	before := srv.count.Load()
	if _, err := c.Sites(ctxTimeout(t, 100*time.Millisecond), testCompany); !IsKind(err, KindRateLimited) {
		t.Fatalf("err = %v", err)
	}
	if srv.count.Load() != before {
		t.Fatal("request sent inside the window")
	}

	clk.Advance(d)
	srv.limited.Store(false)
	if _, err := c.Sites(ctx, testCompany); err != nil {
		t.Fatal(err)
	}
	srv.limited.Store(true)
	expect(500*time.Millisecond, time.Second) // reset by the success
}

// TestTooManyRequestsMessageOpensWindow: Kinsta may say it in the body only.
func TestTooManyRequestsMessageOpensWindow(t *testing.T) {
	clk := newFakeClock()
	rec := &recorder{status: 503, body: []byte(`{"status":503,"message":"Too many requests, slow down"}`)}
	c := clientFor(t, rec, withFakeClock(clk))
	_, err := c.Sites(context.Background(), testCompany)
	if e := asError(t, err); e.Kind != KindRateLimited || e.StatusCode != 503 || e.RetryAfter <= 0 {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.Sites(ctxTimeout(t, 100*time.Millisecond), testCompany); !IsKind(err, KindRateLimited) || len(rec.paths) != 1 {
		t.Fatalf("err = %v after %d requests", err, len(rec.paths))
	}
}

// TestRateLimitSpacing checks only a lower bound: n calls at r per second
// with burst 1 take at least (n-1)/r.
func TestRateLimitSpacing(t *testing.T) {
	t.Parallel()
	const n, r = 6, 20.0
	c := clientFor(t, serve(200, fixture(t, "sites.json")), func(c *Config) { c.RateLimit = r; c.Burst = 1 })
	start := time.Now()
	for range n {
		if _, err := c.Sites(context.Background(), testCompany); err != nil {
			t.Fatal(err)
		}
	}
	minimum := time.Duration(float64(n-1) / r * float64(time.Second))
	if d := time.Since(start); d < minimum-5*time.Millisecond {
		t.Errorf("%d calls took %v, want at least %v", n, d, minimum)
	}
}

// TestRateLimitBurst: at 1/s with burst 3, of 8 concurrent calls whose
// deadline is 600ms exactly 3 reach the server; the rest fail at once with a
// timeout because the limiter knows their wait would pass the deadline.
func TestRateLimitBurst(t *testing.T) {
	t.Parallel()
	rec := &recorder{body: fixture(t, "sites.json")}
	c := clientFor(t, rec, func(c *Config) { c.RateLimit = 1; c.Burst = 3 })
	var wg sync.WaitGroup
	var ok, timeouts atomic.Int32
	for range 8 {
		wg.Go(func() {
			_, err := c.Sites(ctxTimeout(t, 600*time.Millisecond), testCompany)
			switch {
			case err == nil:
				ok.Add(1)
			case IsKind(err, KindTimeout):
				timeouts.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if ok.Load() != 3 || timeouts.Load() != 5 || len(rec.paths) != 3 {
		t.Errorf("%d ok, %d timeouts, %d requests; want 3, 5, 3", ok.Load(), timeouts.Load(), len(rec.paths))
	}
}

func TestRateLimitUnlimited(t *testing.T) {
	t.Parallel()
	rec := &recorder{body: fixture(t, "sites.json")}
	c := clientFor(t, rec, func(c *Config) { c.RateLimit = 0; c.Burst = 1 })
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Sites(ctxTimeout(t, 5*time.Second), testCompany); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
