//go:build soak

package soak

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

const (
	apiKey     = "soak-key-0123456789abcdef"
	companyID  = "soak"
	scrapers   = 50
	rateLimit  = 5       // --kinsta.rate-limit
	burst      = 3       // the client's burst
	maxBody    = 4 << 20 // --kinsta.max-response-size=4MiB
	healthyPct = 30      // of API requests answered without a fault
)

// duration is the soak's length: SOAK_DURATION, default 60s.
func duration(t *testing.T) time.Duration {
	s := os.Getenv("SOAK_DURATION")
	if s == "" {
		return time.Minute
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("SOAK_DURATION=%q: %v", s, err)
	}
	return d
}

// otherHost records the Authorization header of every request that reaches
// it: redirects point here.
type otherHost struct {
	requests atomic.Int64
	leaked   atomic.Int64
}

func (o *otherHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	if r.Header.Get("Authorization") != "" {
		o.leaked.Add(1)
	}
	http.Error(w, "not the Kinsta API", http.StatusNotFound)
}

// chaosAPI serves every request from one of several fakes of the same
// company: a healthy one, or one with a fault on every route.
type chaosAPI struct {
	healthy  *kinstatest.Fake
	activity *kinstatest.Fake // every activity log request: thousands of operation types
	faulty   []*kinstatest.Fake
	names    []string
	on       atomic.Bool // faults on
	total    atomic.Int64
	mu       sync.Mutex
	byFault  map[string]int
}

func newChaosAPI(company *kinstatest.Company, other string) *chaosAPI {
	a := &chaosAPI{healthy: kinstatest.New(apiKey, company), activity: kinstatest.New(apiKey, manyActivityTypes(company, soakActivityTypes)),
		byFault: map[string]int{}}
	a.on.Store(true)
	sitesPath := "/sites?company=" + companyID + "&include_environments=true"
	faults := []struct {
		name  string
		fault kinstatest.Fault
	}{
		{"500", kinstatest.Fault{Status: 500}},
		{"502 html", kinstatest.Fault{Status: 502}},
		{"401", kinstatest.Fault{Status: 401}},
		{"404", kinstatest.Fault{Status: 404}},
		{"429 retry-after", kinstatest.Fault{Status: 429, RetryAfter: "1"}},
		{"429", kinstatest.Fault{Status: 429}},
		{"hang", kinstatest.Fault{Hang: true}},
		{"drip 1 B/s", kinstatest.Fault{DripBytesPerSecond: 1}},
		{"truncated", kinstatest.Fault{Body: `{"company":{"sites":[{"id":"x",`}},
		{"oversized", kinstatest.Fault{OversizeBytes: 2 * maxBody}},
		{"redirect other host", kinstatest.Fault{RedirectTo: "http://localhost:" + portOf(other) + sitesPath}},
		{"redirect other port", kinstatest.Fault{RedirectTo: other + sitesPath}},
	}
	for _, f := range faults {
		fake := kinstatest.New(apiKey, company)
		fake.SetFault("", f.fault)
		a.faulty = append(a.faulty, fake)
		a.names = append(a.names, f.name)
	}
	names, hostile := soakHostile(company)
	for i, c := range hostile {
		a.faulty = append(a.faulty, kinstatest.New(apiKey, c))
		a.names = append(a.names, names[i])
	}
	return a
}

func portOf(url string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	return port
}

func (a *chaosAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.total.Add(1)
	if strings.HasSuffix(r.URL.Path, "/activity-logs") {
		a.activity.ServeHTTP(w, r)
		return
	}
	fake, name := a.healthy, "none"
	if a.on.Load() && rand.IntN(100) >= healthyPct {
		i := rand.IntN(len(a.faulty))
		fake, name = a.faulty[i], a.names[i]
	}
	a.mu.Lock()
	a.byFault[name]++
	a.mu.Unlock()
	fake.ServeHTTP(w, r)
}

func (a *chaosAPI) close() {
	a.healthy.Close()
	a.activity.Close()
	for _, f := range a.faulty {
		f.Close()
	}
}

func TestSoak(t *testing.T) {
	d := duration(t)
	bin := buildExporter(t)

	other := &otherHost{}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	api := newChaosAPI(kinstatest.GenerateCompany(companyID, 200, 2, 2), otherSrv.URL)
	apiSrv := httptest.NewServer(api)
	defer apiSrv.Close()
	defer api.close() // first: releases hung requests so the server can close

	start := time.Now()
	exp := startExporter(t, bin, apiSrv.URL)

	// Baseline: faults off, one good refresh, scrapes idle, connections closed.
	api.on.Store(false)
	waitFor(t, 20*time.Second, "a first good scrape", func() bool {
		resp, err := http.Get(exp.url + "/metrics")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return bytes.Contains(body, []byte(`kinsta_up{company="`+companyID+`"} 1`))
	})
	time.Sleep(3 * time.Second)
	http.DefaultClient.CloseIdleConnections()
	baseGoroutines, baseRSS := exp.sample(t)
	http.DefaultClient.CloseIdleConnections()

	// The soak.
	api.on.Store(true)
	transport := &http.Transport{MaxIdleConnsPerHost: scrapers, DisableCompression: true}
	client := &http.Client{Transport: transport}
	res := &result{byCode: map[int]int{}, slowest: map[time.Duration]time.Duration{}}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	var wg sync.WaitGroup
	for range scrapers {
		wg.Go(func() { scrape(ctx, client, exp.url+"/metrics", res) })
	}
	cycles := newCycleResult()
	wg.Go(func() {
		cycleAccept(ctx, &http.Client{Transport: &http.Transport{DisableCompression: true}}, exp.url+"/metrics", cycles)
	})
	progress := time.NewTicker(max(d/6, 10*time.Second))
	go func() {
		for range progress.C {
			res.mu.Lock()
			t.Logf("%s: %d scrapes, codes %v, %d API requests", time.Since(start).Round(time.Second), res.scrapes, res.byCode, api.total.Load())
			res.mu.Unlock()
		}
	}()
	wg.Wait()
	cancel()
	progress.Stop()
	apiCalls := api.total.Load()
	elapsed := time.Since(start)

	// Settle: faults off, scrapers gone; hung and dripping requests end
	// within --kinsta.timeout.
	api.on.Store(false)
	transport.CloseIdleConnections()
	var goroutines, rss int
	settled := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		http.DefaultClient.CloseIdleConnections()
		goroutines, rss = exp.sample(t)
		http.DefaultClient.CloseIdleConnections()
		if goroutines <= baseGoroutines+goroutineSlack && rss <= rssLimit(baseRSS) {
			settled = true
			break
		}
	}

	api.mu.Lock()
	faults := fmt.Sprint(api.byFault)
	api.mu.Unlock()
	budget := int64(burst + rateLimit*elapsed.Seconds())
	logs := exp.stderr.String()
	t.Logf("soak of %s: %d scrapes by %d scrapers, codes %v; slowest at %.0f%% of its deadline, %d over half of it",
		d, res.scrapes, scrapers, res.byCode, 100*res.maxRatio, res.slow)
	t.Logf("slowest scrape by deadline: %v", res.slowest)
	t.Logf("API requests: %d in %s (budget %d at %d/s, burst %d); by fault: %s", apiCalls, elapsed.Round(time.Second), budget, rateLimit, burst, faults)
	t.Logf("redirects reaching the other host: %d, with an Authorization header: %d", other.requests.Load(), other.leaked.Load())
	t.Logf("goroutines: baseline %d, after %d; RSS: baseline %d kB, after %d kB, peak %d MB", baseGoroutines, goroutines, baseRSS, rss, exp.peakRSS(t)>>10)
	t.Logf("Accept cycler: %s", cycles)
	_, final := getPlain(exp.url + "/metrics")
	limited := grepPrefix(final, "kinsta_exporter_limited_elements_total{")
	t.Logf("limits hit:\n%s", limited)

	for code, n := range res.byCode {
		if code >= 500 || code == 0 {
			t.Errorf("%d scrapes answered %d (0: no answer)", n, code)
		}
	}
	if len(res.late) > 0 {
		t.Errorf("scrapes not answered within their deadline:\n%s", strings.Join(res.late, "\n"))
	}
	if !strings.Contains(limited, `limit="activity_types"`) {
		t.Error("the activity log's thousands of operation types were not folded: the hostile activity log was not read")
	}
	if exp.peakRSS(t) > rssTargetKB {
		t.Errorf("peak RSS %d MB, want under %d MB", exp.peakRSS(t)>>10, rssTargetKB>>10)
	}
	if len(cycles.failures) > 0 || len(cycles.variantsOK) != len(acceptVariants) {
		t.Errorf("the Accept cycler got answers for %d of %d variants; failures:\n%s", len(cycles.variantsOK), len(acceptVariants), strings.Join(cycles.failures, "\n"))
	}
	if cycles.maxPlain > expositionTargetB {
		t.Errorf("a text exposition of %d bytes, want under 25 MB", cycles.maxPlain)
	}
	if res.badBody > 0 {
		t.Errorf("%d scrapes answered 200 without the company's kinsta_up", res.badBody)
	}
	if strings.Contains(logs, "panic") || strings.Contains(logs, "DATA RACE") {
		t.Errorf("the exporter panicked or raced:\n%s", tail(logs, 4000))
	}
	select {
	case <-exp.exited:
		t.Errorf("the exporter exited:\n%s", tail(logs, 4000))
	default:
	}
	if other.leaked.Load() > 0 {
		t.Errorf("the API key reached the other host %d times", other.leaked.Load())
	}
	if other.requests.Load() == 0 {
		t.Error("no redirect reached the other host: the redirect faults were not exercised")
	}
	if apiCalls > budget {
		t.Errorf("%d API requests, more than the budget of %d", apiCalls, budget)
	}
	if !settled {
		t.Errorf("not back to the baseline after 60s: goroutines %d (baseline %d, slack %d), RSS %d kB (limit %d kB)",
			goroutines, baseGoroutines, goroutineSlack, rss, rssLimit(baseRSS))
	}
	if t.Failed() {
		t.Logf("the exporter's log (tail):\n%s", tail(logs, 4000))
	}
}

// goroutineSlack allows for the exporter's idle keep-alive connections to the
// API (two goroutines each, at most a few).
const goroutineSlack = 6

// rssLimit is how far above the baseline RSS may stay after the run: the Go
// runtime returns freed memory to the OS gradually.
func rssLimit(baseKB int) int { return baseKB*3/2 + 16<<10 }

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, d)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
