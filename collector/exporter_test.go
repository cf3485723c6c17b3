package collector

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

func TestCollectGolden(t *testing.T) {
	src := newFakeSource()
	src.set("c1", exampleSites, nil)
	clock := newFakeClock()
	e := newExporter(t, src, testConfig(clock, "c1"), log.NewNopLogger())
	e.Sync(context.Background())

	want := `
# HELP kinsta_environment_blocked 1 while Kinsta has the environment locked by another process (is_blocked), 0 otherwise (cached).
# TYPE kinsta_environment_blocked gauge
kinsta_environment_blocked{company="c1",environment_id="e1",site_id="s1"} 0
kinsta_environment_blocked{company="c1",environment_id="e2",site_id="s1"} 1
# HELP kinsta_environment_info Information about an environment (live, staging, premium staging) of a Kinsta site (GET /sites?include_environments=true, cached); always 1.
# TYPE kinsta_environment_info gauge
kinsta_environment_info{company="c1",environment_display_name="Live",environment_id="e1",environment_name="live",php_version="8.3",primary_domain="acme.example",site_id="s1",wordpress_version="6.7.1"} 1
kinsta_environment_info{company="c1",environment_display_name="Staging",environment_id="e2",environment_name="staging",php_version="8.2",primary_domain="",site_id="s1",wordpress_version=""} 1
# HELP kinsta_environment_premium 1 for a premium environment (is_premium), 0 otherwise (cached).
# TYPE kinsta_environment_premium gauge
kinsta_environment_premium{company="c1",environment_id="e1",site_id="s1"} 0
kinsta_environment_premium{company="c1",environment_id="e2",site_id="s1"} 1
# HELP kinsta_exporter_collector_duration_seconds Duration of the collector's last refresh from the Kinsta API, in seconds.
# TYPE kinsta_exporter_collector_duration_seconds gauge
kinsta_exporter_collector_duration_seconds{collector="sites",company="c1"} 0
# HELP kinsta_exporter_collector_last_success_timestamp_seconds Unix time of the collector's last successful refresh from the Kinsta API; absent until the first success.
# TYPE kinsta_exporter_collector_last_success_timestamp_seconds gauge
kinsta_exporter_collector_last_success_timestamp_seconds{collector="sites",company="c1"} 1.7e+09
# HELP kinsta_exporter_collector_success 1 if the collector's last refresh from the Kinsta API succeeded, 0 otherwise.
# TYPE kinsta_exporter_collector_success gauge
kinsta_exporter_collector_success{collector="sites",company="c1"} 1
# HELP kinsta_site_info Information about a Kinsta WordPress site (GET /sites, cached); always 1.
# TYPE kinsta_site_info gauge
kinsta_site_info{company="c1",display_name="Acme Bakery",name="acme",site_id="s1"} 1
kinsta_site_info{company="c1",display_name="Paused Site",name="paused",site_id="s2"} 1
# HELP kinsta_site_label_info A label assigned to a Kinsta site in MyKinsta (GET /sites, cached); always 1.
# TYPE kinsta_site_label_info gauge
kinsta_site_label_info{company="c1",label="client:acme",label_id="l1",site_id="s1"} 1
# HELP kinsta_site_status Site status as a state set (GET /sites, cached): 1 for the site's current status. A status="live" series exists for every site and is 0 while the site is not live.
# TYPE kinsta_site_status gauge
kinsta_site_status{company="c1",site_id="s1",status="live"} 1
kinsta_site_status{company="c1",site_id="s2",status="live"} 0
kinsta_site_status{company="c1",site_id="s2",status="suspended"} 1
# HELP kinsta_up 1 if the last refresh of the company's sites from the Kinsta API (GET /sites) succeeded, 0 otherwise. Refreshed at most once per --kinsta.cache-ttl.
# TYPE kinsta_up gauge
kinsta_up{company="c1"} 1
`
	if err := testutil.CollectAndCompare(allSeries(e), strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(allSeries(e))
	if err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
}

// A scrape that has site series to serve starts the refresh that is due
// but does not wait for it: it answers with what is cached, and a scrape
// after the refresh has the new data. A scrape with nothing to serve waits.
func TestScrapeServesCachedSeriesWhileRefreshing(t *testing.T) {
	src := newFakeSource()
	src.set("c1", exampleSites, nil)
	clock := newFakeClock()
	e := newExporter(t, src, testConfig(clock, "c1"), log.NewNopLogger())
	release := make(chan struct{})
	src.mu.Lock()
	src.release = release
	src.mu.Unlock()
	done := make(chan struct{})
	go func() { e.Refresh(context.Background()); close(done) }()
	select {
	case <-done:
		t.Fatal("the first scrape, with nothing to serve, did not wait for the refresh")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-done

	// The API now answers slowly with one site.
	slow := make(chan struct{})
	src.mu.Lock()
	src.release = slow
	src.mu.Unlock()
	src.set("c1", exampleSites[:1], nil)
	clock.Add(time.Minute)
	e.Refresh(context.Background()) // returns although the API has not answered
	if got := testutil.CollectAndCount(allSeries(e), "kinsta_site_info"); got != 2 || src.calls.Load() != 2 {
		t.Fatalf("while refreshing: %d sites, %d calls; want the cached 2 and the refresh under way", got, src.calls.Load())
	}
	close(slow)
	e.Sync(context.Background())
	if got := testutil.CollectAndCount(allSeries(e), "kinsta_site_info"); got != 1 || src.calls.Load() != 2 {
		t.Fatalf("after the refresh: %d sites, %d calls; want 1 and no second call", got, src.calls.Load())
	}
}

func TestConcurrentScrapesMakeOneCallPerTTL(t *testing.T) {
	src := newFakeSource()
	src.set("c1", exampleSites, nil)
	src.release = make(chan struct{})
	clock := newFakeClock()
	e := newExporter(t, src, testConfig(clock, "c1"), log.NewNopLogger())

	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); e.Refresh(context.Background()) }()
	}
	time.Sleep(20 * time.Millisecond) // let the scrapes pile up on the in-flight refresh
	close(src.release)
	wg.Wait()
	if got := src.calls.Load(); got != 1 {
		t.Fatalf("50 concurrent scrapes made %d API calls, want 1", got)
	}
	e.Sync(context.Background())
	if got := src.calls.Load(); got != 1 {
		t.Fatalf("a scrape within the TTL made an API call (%d calls)", got)
	}
	clock.Add(time.Minute)
	e.Sync(context.Background())
	if got := src.calls.Load(); got != 2 {
		t.Fatalf("after the TTL: %d calls, want 2", got)
	}
}

func TestScrapeDeadlineServesLastGoodAndRefreshFinishes(t *testing.T) {
	src := newFakeSource()
	src.set("c1", exampleSites, nil)
	clock := newFakeClock()
	e := newExporter(t, src, testConfig(clock, "c1"), log.NewNopLogger())
	e.Sync(context.Background())

	// The API hangs now; the scrape must give up at its deadline with the old data.
	src.mu.Lock()
	src.release = make(chan struct{})
	src.mu.Unlock()
	src.set("c1", exampleSites[:1], nil)
	clock.Add(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { e.Refresh(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Refresh did not return at the scrape deadline")
	}
	if got := testutil.CollectAndCount(allSeries(e), "kinsta_site_info"); got != 2 {
		t.Fatalf("during a slow refresh: %d sites, want the last good 2", got)
	}

	// The refresh was not cancelled by the impatient scrape: it completes and fills the cache.
	close(src.release)
	waitFor(t, func() bool { return testutil.CollectAndCount(allSeries(e), "kinsta_site_info") == 1 })
	if got := src.calls.Load(); got != 2 {
		t.Fatalf("calls = %d, want 2", got)
	}
}

func TestFailureKeepsLastGoodThenStalenessDropsSites(t *testing.T) {
	src := newFakeSource()
	src.set("c1", exampleSites, nil)
	clock := newFakeClock()
	e := newExporter(t, src, testConfig(clock, "c1"), log.NewNopLogger())
	e.Sync(context.Background())

	src.set("c1", nil, &kinsta.Error{Kind: kinsta.KindServer, StatusCode: 500})
	clock.Add(time.Minute)
	e.Sync(context.Background())
	if v := testutil.ToFloat64(gatherOne(t, e, "kinsta_up")); v != 0 {
		t.Fatalf("kinsta_up = %v after a failure, want 0", v)
	}
	if got := testutil.CollectAndCount(allSeries(e), "kinsta_site_info"); got != 2 {
		t.Fatalf("after a failure: %d sites, want the last good 2", got)
	}

	clock.Add(59 * time.Minute) // exactly max staleness since the last success: still served
	e.Sync(context.Background())
	if got := testutil.CollectAndCount(allSeries(e), "kinsta_site_info"); got != 2 {
		t.Fatalf("at max staleness: %d sites, want 2", got)
	}
	clock.Add(time.Second)
	if got := testutil.CollectAndCount(allSeries(e), "kinsta_site_info"); got != 0 {
		t.Fatalf("past max staleness: %d sites, want 0", got)
	}
	for _, name := range []string{"kinsta_up", "kinsta_exporter_collector_success", "kinsta_exporter_collector_last_success_timestamp_seconds"} {
		if got := testutil.CollectAndCount(allSeries(e), name); got != 1 {
			t.Fatalf("past max staleness: %d %s series, want 1", got, name)
		}
	}

	src.set("c1", exampleSites[:1], nil)
	clock.Add(time.Minute)
	e.Sync(context.Background())
	if got := testutil.CollectAndCount(allSeries(e), "kinsta_site_info"); got != 1 {
		t.Fatalf("after recovery: %d sites, want 1", got)
	}
}

// TestCompaniesFailIndependently: two companies' exporters over one API
// client (as the fleet has them): one company's failure is not the other's.
func TestCompaniesFailIndependently(t *testing.T) {
	src := newFakeSource()
	src.set("good", exampleSites, nil)
	src.set("bad", nil, &kinsta.Error{Kind: kinsta.KindNotFound, StatusCode: 404})
	clock := newFakeClock()
	good := newExporter(t, src, testConfig(clock, "good"), log.NewNopLogger())
	bad := newExporter(t, src, testConfig(clock, "bad"), log.NewNopLogger())
	good.Refresh(context.Background())
	bad.Refresh(context.Background())
	want := `
# HELP kinsta_up 1 if the last refresh of the company's sites from the Kinsta API (GET /sites) succeeded, 0 otherwise. Refreshed at most once per --kinsta.cache-ttl.
# TYPE kinsta_up gauge
kinsta_up{company="bad"} 0
kinsta_up{company="good"} 1
`
	both := multiCollector{allSeries(good), allSeries(bad)}
	if err := testutil.CollectAndCompare(both, strings.NewReader(want), "kinsta_up"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(allSeries(good), "kinsta_site_info"); n != 2 {
		t.Errorf("the good company serves %d sites, want 2", n)
	}
	if n := testutil.CollectAndCount(allSeries(bad), "kinsta_site_info"); n != 0 {
		t.Errorf("the failing company serves %d sites, want 0", n)
	}
}

func TestDiscoversCompanyFromValidate(t *testing.T) {
	src := newFakeSource()
	src.keyErr = &kinsta.Error{Kind: kinsta.KindUnauthorized, StatusCode: 401}
	src.set("c9", exampleSites, nil)
	clock := newFakeClock()
	e := newExporter(t, src, testConfig(clock, ""), log.NewNopLogger())
	e.Sync(context.Background())
	want := `
# HELP kinsta_up 1 if the last refresh of the company's sites from the Kinsta API (GET /sites) succeeded, 0 otherwise. Refreshed at most once per --kinsta.cache-ttl.
# TYPE kinsta_up gauge
kinsta_up{company=""} 0
`
	if err := testutil.CollectAndCompare(allSeries(e), strings.NewReader(want), "kinsta_up"); err != nil {
		t.Fatal(err)
	}
	e.Sync(context.Background())
	if got := src.validate.Load(); got != 1 {
		t.Fatalf("GET /validate called %d times within one TTL, want 1", got)
	}

	src.mu.Lock()
	src.key, src.keyErr = kinsta.KeyInfo{CompanyID: "c9"}, nil
	src.mu.Unlock()
	clock.Add(time.Minute)
	e.Sync(context.Background())
	want = strings.Replace(want, `kinsta_up{company=""} 0`, `kinsta_up{company="c9"} 1`, 1)
	if err := testutil.CollectAndCompare(allSeries(e), strings.NewReader(want), "kinsta_up"); err != nil {
		t.Fatal(err)
	}
	if got := e.Company(); got != "c9" {
		t.Fatalf("Company() = %q after discovery, want c9", got)
	}
	if v := value(t, e, "kinsta_site_info", "company", "c9", "site_id", "s1"); v != 1 {
		t.Fatalf("kinsta_site_info of the discovered company = %v", v)
	}
}

func TestInvalidUTF8IsSanitised(t *testing.T) {
	src := newFakeSource()
	src.set("c1", []kinsta.Site{{ID: "s1", Name: "bad\xff", DisplayName: "x", Status: ""}}, nil)
	e := newExporter(t, src, testConfig(newFakeClock(), "c1"), log.NewNopLogger())
	e.Sync(context.Background())
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(allSeries(e))
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	if got := testutil.CollectAndCount(allSeries(e), "kinsta_site_status"); got != 2 {
		t.Fatalf("a site without status: %d status series, want live=0 and unknown=1", got)
	}
}

func TestRefreshErrorIsNotSwallowedByContextError(t *testing.T) {
	// A refresh that fails on its own timeout reports kinsta_up 0, like any failure.
	src := newFakeSource()
	src.release = make(chan struct{})
	cfg := testConfig(newFakeClock(), "c1")
	cfg.RefreshTimeout = 20 * time.Millisecond
	e := newExporter(t, src, cfg, log.NewNopLogger())
	e.Sync(context.Background())
	if v := testutil.ToFloat64(gatherOne(t, e, "kinsta_up")); v != 0 {
		t.Fatalf("kinsta_up = %v after a timed-out refresh", v)
	}
	if !errors.Is(e.state.lastErr, context.DeadlineExceeded) {
		t.Fatalf("lastErr = %v", e.state.lastErr)
	}
}
