package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

const statusTestKey = "status-test-key-0123456789"

// instrumentedAPI serves the demo company over loopback HTTP to a client
// whose transport is instrumented, as main.go builds it, so that the
// exporter's calls reach its call counts.
func instrumentedAPI(t *testing.T) (*kinstatest.Fake, *kinsta.Client) {
	t.Helper()
	fake := kinstatest.New(statusTestKey, kinstatest.DemoCompany(time.Now()))
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	transport := InstrumentTransport(http.DefaultTransport.(*http.Transport).Clone(), prometheus.NewRegistry())
	client, err := kinsta.New(kinsta.Config{BaseURL: srv.URL, APIKey: statusTestKey, Transport: transport})
	if err != nil {
		t.Fatal(err)
	}
	return fake, client
}

// TestStatusOfTheDemoCompany: the status snapshot tells, of a company whose
// collectors have read everything, that it is up, its sites not live by
// display name (bounded), every API call it made, and every collector fresh.
func TestStatusOfTheDemoCompany(t *testing.T) {
	fake, client := instrumentedAPI(t)
	e, _ := startCollectors(t, client, allCollectors(), kinstatest.DemoCompanyID)
	waitSettled(t, e)

	st := e.Status(2)
	if !st.Up || !st.Attempted || st.LastError != "" || st.LastSuccess.IsZero() || st.Company != kinstatest.DemoCompanyID {
		t.Fatalf("not up: %+v", st)
	}
	if st.Sites != 36 || st.NotLiveTotal != 3 || len(st.NotLive) != 2 {
		t.Fatalf("sites %d, not live %d, listed %+v; want 36, 3 and the first 2", st.Sites, st.NotLiveTotal, st.NotLive)
	}
	want := []SiteState{{DisplayName: "Greenleaf Landscaping", Status: "suspended"}, {DisplayName: "Silverline Plumbing", Status: "paused"}}
	for i, w := range want {
		if got := st.NotLive[i]; got.DisplayName != w.DisplayName || got.Status != w.Status || got.ID == "" || got.Name == "" {
			t.Errorf("not live #%d: %+v, want %+v", i, got, w)
		}
	}
	if calls := fake.Requests(""); st.APICalls != calls || st.RateLimited != 0 {
		t.Errorf("%d API calls and %d 429s counted; the fake saw %d calls", st.APICalls, st.RateLimited, calls)
	}
	if !st.Working || len(st.Collectors) != len(CollectorNames()) {
		t.Fatalf("working %v, %d collectors", st.Working, len(st.Collectors))
	}
	for i, c := range st.Collectors {
		if c.Name != CollectorNames()[i] || c.Items == 0 || c.Fresh != c.Items || c.Due != 0 || c.Failing != 0 ||
			!c.NextRefresh.After(time.Now()) || c.Interval != time.Hour {
			t.Errorf("collector %+v: want all %d items fresh, none due, the next refresh ahead", c, c.Items)
		}
	}
}

// TestStatusOfAFailingCompany: a failing refresh shows as such, with the
// client's error (never the key), and a 429 is counted as one.
func TestStatusOfAFailingCompany(t *testing.T) {
	fake, client := instrumentedAPI(t)
	clock := newFakeClock()
	e := newExporter(t, client, testConfig(clock, kinstatest.DemoCompanyID), log.NewNopLogger())
	if st := e.Status(10); st.Attempted || st.Up || st.Sites != 0 || st.NotLive != nil {
		t.Fatalf("before any refresh: %+v", st)
	}
	fake.SetFault(kinstatest.RouteSites, kinstatest.Fault{Status: 500})
	e.Sync(context.Background())
	st := e.Status(10)
	if st.Up || !st.Attempted || !strings.Contains(st.LastError, "500") || strings.Contains(st.LastError, statusTestKey) {
		t.Fatalf("after a 500: %+v", st)
	}
	clock.Add(time.Minute)
	fake.SetFault(kinstatest.RouteSites, kinstatest.Fault{Status: 429})
	e.Sync(context.Background())
	if st := e.Status(10); st.APICalls != 2 || st.RateLimited != 1 || !strings.Contains(st.LastError, "rate_limited") {
		t.Fatalf("after a 429: %d calls, %d 429s, error %q", st.APICalls, st.RateLimited, st.LastError)
	}
}

// TestAPICallsSlideOverAnHour: calls drop out of the count an hour after
// their minute.
func TestAPICallsSlideOverAnHour(t *testing.T) {
	clock := newFakeClock()
	c := newAPICalls(clock.Now)
	c.record(200)
	clock.Add(30 * time.Minute)
	c.record(429)
	c.record(200)
	if calls, limited := c.lastHour(); calls != 3 || limited != 1 {
		t.Fatalf("%d calls, %d 429s; want 3, 1", calls, limited)
	}
	clock.Add(31 * time.Minute) // the first call's minute is now 61 minutes ago
	if calls, limited := c.lastHour(); calls != 2 || limited != 1 {
		t.Fatalf("%d calls, %d 429s; want 2, 1", calls, limited)
	}
	clock.Add(2 * time.Hour)
	c.record(200) // reuses a bucket of two hours ago
	if calls, limited := c.lastHour(); calls != 1 || limited != 0 {
		t.Fatalf("%d calls, %d 429s; want 1, 0", calls, limited)
	}
}

// TestDebugRefreshLogsItsCalls: a debug refresh makes a GET /sites however
// fresh the cache, logs it, and a failure comes with its kind.
func TestDebugRefreshLogsItsCalls(t *testing.T) {
	fake, client := instrumentedAPI(t)
	clock := newFakeClock()
	e := newExporter(t, client, testConfig(clock, kinstatest.DemoCompanyID), log.NewNopLogger())
	e.Sync(context.Background()) // the cache is fresh now
	d, err := e.DebugRefresh(context.Background())
	if err != nil || fake.Requests(kinstatest.RouteSites) != 2 {
		t.Fatalf("%v; %d GET /sites, want 2", err, fake.Requests(kinstatest.RouteSites))
	}
	if len(d.Calls) != 1 || !d.Finished || d.Sites != 36 || d.Err != "" {
		t.Fatalf("debug refresh: %+v", d)
	}
	if c := d.Calls[0]; c.Method != "GET" || c.Endpoint != "/sites" || c.Status != 200 || c.Err != "" || c.Kind != "" {
		t.Fatalf("call: %+v", c)
	}

	fake.SetFault(kinstatest.RouteSites, kinstatest.Fault{Status: 401})
	d, _ = e.DebugRefresh(context.Background())
	if len(d.Calls) != 1 || d.Calls[0].Status != 401 || d.Calls[0].Kind != "unauthorized" || d.ErrKind != "unauthorized" || !strings.Contains(d.Err, "401") {
		t.Fatalf("debug refresh of a 401: %+v", d)
	}
	if st := e.Status(0); st.Up || st.APICalls != 3 {
		t.Fatalf("the debug refresh is a refresh: it is stored and counted; %+v", st)
	}
}

// TestDebugRefreshWaitsForAScrapesRefresh: a scrape's refresh under way is
// not the debug refresh (its calls are not logged): the debug refresh makes
// its own call after it.
func TestDebugRefreshWaitsForAScrapesRefresh(t *testing.T) {
	fake, client := instrumentedAPI(t)
	e := newExporter(t, client, testConfig(newFakeClock(), kinstatest.DemoCompanyID), log.NewNopLogger())
	fake.SetFault(kinstatest.RouteSites, kinstatest.Fault{Delay: 200 * time.Millisecond})
	scraped := make(chan struct{})
	go func() { e.Sync(context.Background()); close(scraped) }()
	waitFor(t, func() bool { return fake.Requests(kinstatest.RouteSites) == 1 })
	d, _ := e.DebugRefresh(context.Background())
	<-scraped
	if fake.Requests(kinstatest.RouteSites) != 2 || len(d.Calls) != 1 || !d.Finished {
		t.Fatalf("%d GET /sites, debug log %+v; want 2 and its own one", fake.Requests(kinstatest.RouteSites), d)
	}
}

// TestDebugRefreshAnswersAtItsDeadline: a hung API does not hold the debug
// refresh past its caller's deadline; the refresh goes on in the background.
func TestDebugRefreshAnswersAtItsDeadline(t *testing.T) {
	fake, client := instrumentedAPI(t)
	e := newExporter(t, client, testConfig(newFakeClock(), kinstatest.DemoCompanyID), log.NewNopLogger())
	fake.SetFault(kinstatest.RouteSites, kinstatest.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	d, err := e.DebugRefresh(ctx)
	if err != nil || d.Finished || d.Err != "" {
		t.Fatalf("%v, %+v; want an unfinished log", err, d)
	}

	undiscovered := newExporter(t, client, testConfig(newFakeClock(), ""), log.NewNopLogger())
	if _, err := undiscovered.DebugRefresh(context.Background()); err != ErrCompanyUnknown {
		t.Fatalf("without a company: %v", err)
	}
}
