package exposition

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
)

// TestOddRequestWaitEndsWithItsContext: an odd request waiting for its
// part's turn gives up when its context ends, instead of holding its
// in-flight slot until the turn comes.
func TestOddRequestWaitEndsWithItsContext(t *testing.T) {
	f := newFixture(t, testSites)
	f.cache.oddTurn <- struct{}{} // another odd request holds the turn
	defer func() { <-f.cache.oddTurn }()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- f.cache.stream(ctx, io.Discard, expfmt.NewFormat(expfmt.TypeProtoDelim), nil, map[string]struct{}{})
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("streamed without the turn")
		}
	case <-time.After(10 * time.Second): // a hang detector, not a timing assertion
		t.Fatal("the waiting request ignored its context")
	}
}
