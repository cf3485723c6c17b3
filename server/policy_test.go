package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

func TestScrapeTimeout(t *testing.T) {
	cases := []struct {
		header string
		want   time.Duration
	}{
		{"", 15 * time.Second},
		{"10", 9500 * time.Millisecond},
		{"2.5", 2 * time.Second},
		{"60", 15 * time.Second},        // never longer than a refresh can take
		{"0.3", 150 * time.Millisecond}, // not longer than the offset: half of it
		{"0.8", 400 * time.Millisecond},
		{"garbage", 15 * time.Second},
		{"-1", 15 * time.Second},
		{"NaN", 15 * time.Second},
		{"+Inf", 15 * time.Second},
		{"1e300", 15 * time.Second},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/metrics", nil)
		if tc.header != "" {
			r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", tc.header)
		}
		if got := scrapeTimeout(r, 15*time.Second, 500*time.Millisecond); got != tc.want {
			t.Errorf("header %q: %s, want %s", tc.header, got, tc.want)
		}
	}
}

// slowAPI serves one fake company per API key (company-<n> with key-<n>),
// every answer delayed.
func slowAPI(t *testing.T, n int, delay time.Duration) (url string, companies []fleet.Company) {
	t.Helper()
	fakes := map[string]*kinstatest.Fake{}
	for i := range n {
		id := "company-" + string(rune('a'+i))
		key := "key-" + id
		fakes["Bearer "+key] = kinstatest.New(key, &kinstatest.Company{ID: id,
			Sites: []kinstatest.Site{{ID: "site-" + id, Name: "s", DisplayName: "S", Status: "live"}}})
		companies = append(companies, fleet.Company{ID: id, Key: key})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		fakes[r.Header.Get("Authorization")].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, companies
}

// newTestServer serves a fleet of the companies, as main.go wires it.
func newTestServer(t *testing.T, url string, companies []fleet.Company, maxRequests int) (*routes, *fleet.Fleet) {
	t.Helper()
	// The transport is instrumented, as main.go's, so that the companies'
	// calls are counted (the status page) and logged (debug probes).
	transport := collector.InstrumentTransport(http.DefaultTransport.(*http.Transport).Clone(), prometheus.NewRegistry())
	f := fleet.New(fleet.Options{
		NewClient: func(key string) (*kinsta.Client, error) {
			return kinsta.New(kinsta.Config{BaseURL: url, APIKey: key, Transport: transport})
		},
		Collector: collector.Config{CacheTTL: time.Minute, RefreshTimeout: 10 * time.Second, MaxStaleness: time.Hour},
	})
	if _, err := f.Apply(companies); err != nil {
		t.Fatal(err)
	}
	r, err := newRoutes(Options{Name: "kinsta_exporter", TelemetryPath: "/metrics", MaxRequests: maxRequests,
		RefreshTimeout: 10 * time.Second, TimeoutOffset: 500 * time.Millisecond, Registry: prometheus.NewRegistry(),
		Metrics: f, Parts: collector.Parts(nil), Companies: f, Logger: log.NewNopLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return r, f
}

func serve(h http.Handler, target string, header ...string) (int, string) {
	r := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	body, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(body)
}

// TestProbesShareThePoolAndQueue: five concurrent probes of five companies
// whose API takes a while, with two slots, all succeed: the slot is taken
// after the refresh and a request waits for one, as /metrics does. And
// /probe is counted in promhttp_metric_handler_requests_total like /metrics.
func TestProbesShareThePoolAndQueue(t *testing.T) {
	url, companies := slowAPI(t, 5, 300*time.Millisecond)
	r, _ := newTestServer(t, url, companies, 2)
	h := r.mux
	var wg sync.WaitGroup
	codes := make([]int, len(companies))
	for i, c := range companies {
		wg.Go(func() { codes[i], _ = serve(h, "/probe?company="+c.ID, "X-Prometheus-Scrape-Timeout-Seconds", "5") })
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("probe of %s: %d", companies[i].ID, code)
		}
	}
	_, body := serve(h, "/metrics")
	if !strings.Contains(body, `promhttp_metric_handler_requests_total{code="200"} 5`) {
		t.Fatalf("the probes are not counted:\n%s", grep(body, "promhttp_metric_handler"))
	}
}

// TestSlotWaitEndsAtTheDeadline: with the only slot held, a request waits
// until its scrape deadline plus the offset, then answers 503.
func TestSlotWaitEndsAtTheDeadline(t *testing.T) {
	p := newPolicy(1, time.Second, 100*time.Millisecond)
	if !p.acquire(context.Background()) {
		t.Fatal("no first slot")
	}
	release := make(chan struct{})
	h := p.handle(func(http.ResponseWriter, *http.Request) (collector.Source, http.Handler, bool) {
		return collector.NoSource{}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { <-release }), true
	})
	code, _ := serve(h, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds", "0.5")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("a request with the only slot held: %d, want 503", code)
	}
	// Once the slot is free, a waiting request gets it.
	done := make(chan int)
	go func() { c, _ := serve(h, "/metrics"); done <- c }()
	time.Sleep(20 * time.Millisecond)
	p.release()
	close(release)
	if c := <-done; c != http.StatusOK {
		t.Fatalf("queued request: %d, want 200", c)
	}
}

func grep(body, substr string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
