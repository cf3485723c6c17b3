//go:build soak

package soak

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The fault soak's scrapers: Prometheus' headers, random scrape timeouts,
// and what they saw.

// result is what the scrapers saw.
type result struct {
	mu       sync.Mutex
	scrapes  int
	byCode   map[int]int
	late     []string                        // answered after the deadline, or not at all
	maxRatio float64                         // slowest scrape, as a fraction of its deadline
	slow     int                             // scrapes that took over half their deadline
	badBody  int                             // 200 without kinsta_up, or an undecodable body
	slowest  map[time.Duration]time.Duration // by deadline
}

func (r *result) add(code int, elapsed, deadline time.Duration, err error, bodyOK bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scrapes++
	r.byCode[code]++
	r.slowest[deadline] = max(r.slowest[deadline], elapsed.Round(time.Millisecond))
	ratio := float64(elapsed) / float64(deadline)
	r.maxRatio = max(r.maxRatio, ratio)
	if ratio > 0.5 {
		r.slow++
	}
	if err != nil || elapsed > deadline {
		if len(r.late) < 10 {
			r.late = append(r.late, fmt.Sprintf("code %d after %s (deadline %s): %v", code, elapsed.Round(time.Millisecond), deadline, err))
		}
	}
	if code == http.StatusOK && !bodyOK {
		r.badBody++
	}
}

var accepts = []string{
	"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
	"text/plain;version=0.0.4",
	"",
}

// scrape runs one scraper until ctx ends: Prometheus' headers, a random
// scrape timeout, the client giving up at that deadline.
func scrape(ctx context.Context, client *http.Client, url string, res *result) {
	for ctx.Err() == nil {
		timeout := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second}[rand.IntN(3)]
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Accept", accepts[rand.IntN(len(accepts))])
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
		gz := rand.IntN(2) == 0
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		resp, err := client.Do(req.WithContext(rctx))
		code, bodyOK := 0, false
		if err == nil {
			code = resp.StatusCode
			var body []byte
			var r io.Reader = resp.Body
			if resp.Header.Get("Content-Encoding") == "gzip" {
				if zr, zerr := gzip.NewReader(resp.Body); zerr == nil {
					r = zr
				} else {
					err = zerr
				}
			}
			if err == nil {
				body, err = io.ReadAll(r)
			}
			resp.Body.Close()
			bodyOK = err == nil && bytes.Contains(body, []byte(`kinsta_up{company="`+companyID+`"}`))
		}
		elapsed := time.Since(start)
		cancel()
		res.add(code, elapsed, timeout, err, bodyOK)
	}
}
