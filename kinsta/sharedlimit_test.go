package kinsta

import (
	"context"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestSharedLimiter: clients of two API keys given one Limiter share its
// budget (--kinsta.rate-limit is per process, not per key), and Limiter wins
// over RateLimit.
func TestSharedLimiter(t *testing.T) {
	t.Parallel()
	rec := &recorder{body: fixture(t, "sites.json")}
	shared := rate.NewLimiter(1, 2)
	a := clientFor(t, rec, func(c *Config) { c.Limiter = shared; c.RateLimit = 1000; c.Burst = 1000 })
	b := clientFor(t, rec, func(c *Config) { c.APIKey = "another-key"; c.Limiter = shared })
	for _, c := range []*Client{a, b} {
		if _, err := c.Sites(context.Background(), testCompany); err != nil {
			t.Fatal(err)
		}
	}
	// The burst of 2 is spent by the two clients together: a third call
	// would wait about a second, past its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := a.Sites(ctx, testCompany); !IsKind(err, KindTimeout) {
		t.Fatalf("third call: %v, want a rate-limit timeout", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.paths) != 2 {
		t.Fatalf("%d requests, want 2", len(rec.paths))
	}
}
