package kinsta

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestBackgroundYieldsToForeground: eight background callers keep a limiter
// of 5 requests/s busy; a foreground call with a 1s deadline still gets
// through, because background callers never hold a place in the limiter's
// queue (before, their eight reservations made it wait 1.6s, so it failed at
// once with "would exceed context deadline"). The background callers keep
// making progress on what is left.
func TestBackgroundYieldsToForeground(t *testing.T) {
	t.Parallel()
	srv := newSwitchable(t)
	limiter := rate.NewLimiter(5, 1)
	c := clientFor(t, srv, func(cfg *Config) { cfg.Limiter = limiter })

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var background atomic.Int32
	for range 8 {
		wg.Go(func() {
			bctx := WithBackground(ctx)
			for ctx.Err() == nil {
				if _, err := c.Sites(bctx, testCompany); err == nil {
					background.Add(1)
				} else if ctx.Err() == nil {
					t.Errorf("background call: %v", err)
				}
			}
		})
	}
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, "the background callers at work", func() bool { return background.Load() >= 2 })
	for i := range 3 {
		if _, err := c.Sites(ctxTimeout(t, time.Second), testCompany); err != nil {
			t.Fatalf("foreground call %d while background work waits: %v", i, err)
		}
	}
	before := background.Load()
	waitFor(t, "more background calls", func() bool { return background.Load() >= before+2 })
}

// waitFor polls cond for up to 30s (a generous bound, not a measurement).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBackgroundWaitEndsWithContext: a background call waiting for a spare
// token fails with KindTimeout when its context ends, sending nothing.
func TestBackgroundWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	srv := newSwitchable(t)
	limiter := rate.NewLimiter(0.1, 1)
	limiter.Allow() // the only token for 10s
	c := clientFor(t, srv, func(cfg *Config) { cfg.Limiter = limiter })
	_, err := c.Sites(WithBackground(ctxTimeout(t, 100*time.Millisecond)), testCompany)
	if e := asError(t, err); e.Kind != KindTimeout {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if n := srv.count.Load(); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
	// Nothing was reserved: a foreground call waits only for the next token.
	if tokens := limiter.Tokens(); tokens < 0 {
		t.Fatalf("%v tokens left: the background call kept a reservation", tokens)
	}
}

// TestBackgroundHonoursBackoff: a 429 holds background calls too; one whose
// deadline ends inside the window fails at once without a request.
func TestBackgroundHonoursBackoff(t *testing.T) {
	t.Parallel()
	srv := newSwitchable(t)
	srv.limited.Store(true)
	srv.retryAfter.Store("30")
	c := clientFor(t, srv, func(cfg *Config) { cfg.RateLimit = 100 })
	if _, err := c.Sites(context.Background(), testCompany); !IsKind(err, KindRateLimited) {
		t.Fatalf("err = %v, want a 429", err)
	}
	srv.limited.Store(false)
	_, err := c.Sites(WithBackground(ctxTimeout(t, time.Second)), testCompany)
	if e := asError(t, err); e.Kind != KindRateLimited || e.StatusCode != 0 {
		t.Fatalf("err = %v, want the back-off without a request", err)
	}
	if n := srv.count.Load(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}
