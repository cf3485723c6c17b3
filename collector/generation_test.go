package collector

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/kinsta-exporter/kinsta_exporter/collector/exposition"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// collectText is c's output as text, for comparing two moments.
func collectText(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestGenerationFollowsCollect checks, step by step, that Generation changes
// whenever SiteSeries' output does and not when time passes without reaching
// a cut-off, and that SiteSeries and StateSeries together send what Collect
// sends.
func TestGenerationFollowsCollect(t *testing.T) {
	src := newFakeSource()
	src.set("c1", exampleSites, nil)
	src.set("c2", exampleSites[:1], nil)
	clock := newFakeClock()
	e := New(src, testConfig(clock, "c1", "c2"), log.NewNopLogger())

	gen, out := e.Generation(), collectText(t, e.SiteSeries())
	// step: wantChange says whether the output and the generation change.
	step := func(what string, wantChange bool) {
		t.Helper()
		checkSplit(t, e)
		g, o := e.Generation(), collectText(t, e.SiteSeries())
		if (o != out) != wantChange {
			t.Fatalf("%s: output changed %v, want %v", what, o != out, wantChange)
		}
		if (g != gen) != wantChange {
			t.Fatalf("%s: generation changed %v (%d -> %d), output changed %v", what, g != gen, gen, g, o != out)
		}
		if g2 := e.Generation(); g2 != g {
			t.Fatalf("%s: generation unstable: %d then %d", what, g, g2)
		}
		gen, out = g, o
	}
	step("nothing", false)
	e.Refresh(context.Background())
	step("first refresh", true)
	clock.Add(30 * time.Second)
	e.Refresh(context.Background())
	step("refresh within the TTL (no API call)", false)

	clock.Add(time.Minute)
	src.set("c1", nil, &kinsta.Error{Kind: kinsta.KindServer, StatusCode: 500})
	src.set("c2", exampleSites, nil)
	e.Refresh(context.Background())
	step("c1 failed, c2 refreshed with a new site", true)

	// c1 ages past the cut-off first, then c2.
	src.set("c2", nil, &kinsta.Error{Kind: kinsta.KindServer, StatusCode: 500})
	clock.Add(59*time.Minute - 30*time.Second) // c1's last success is exactly max staleness ago
	step("time passes, before the cut-off", false)
	clock.Add(time.Nanosecond)
	step("c1 past the cut-off", true)
	clock.Add(30 * time.Second)
	step("c2 not yet past it", false)
	clock.Add(time.Minute)
	step("c2 past the cut-off", true)
	clock.Add(time.Hour)
	step("long after", false)

	// A failed refresh of an expired company changes no site series, but
	// any write may change the generation: that costs one render, no more.
	e.Refresh(context.Background())
	gen = e.Generation()
	step("after the failed refresh", false)

	src.set("c1", exampleSites, nil)
	clock.Add(time.Minute)
	e.Refresh(context.Background())
	step("recovery", true)
}

// checkSplit: SiteSeries and StateSeries send Collect's series, and their
// descriptors are Describe's.
func checkSplit(t *testing.T, e *Exporter) {
	t.Helper()
	whole := collectText(t, e)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e.SiteSeries(), e.ItemSeries(), e.StateSeries()) // fails on a descriptor in both
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		expfmt.MetricFamilyToText(&b, mf)
	}
	if b.String() != whole {
		t.Fatalf("SiteSeries + ItemSeries + StateSeries:\n%s\nCollect:\n%s", b.String(), whole)
	}
	n := testutil.CollectAndCount(e.SiteSeries()) + testutil.CollectAndCount(e.ItemSeries()) + testutil.CollectAndCount(e.StateSeries())
	if n != testutil.CollectAndCount(e) {
		t.Fatalf("the split sends %d series, Collect %d", n, testutil.CollectAndCount(e))
	}
}

// TestSplitWithSwitchableCollectors runs every switchable collector against
// the fake API (on a frozen clock, so their time-dependent series hold
// still) and checks the split once their refreshes are done.
func TestSplitWithSwitchableCollectors(t *testing.T) {
	const key = "split-test-key"
	fake := kinstatest.New(key, kinstatest.GenerateCompany("c1", 3, 2, 2))
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	t.Cleanup(fake.Close)
	client, err := kinsta.New(kinsta.Config{BaseURL: api.URL, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	cfg := testConfig(clock, "c1")
	cfg.Collectors = map[string]time.Duration{}
	for _, name := range CollectorNames() {
		cfg.Collectors[name] = 0
	}
	e := New(client, cfg, log.NewNopLogger())
	before := e.ItemGeneration()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.Start(ctx)
	e.Refresh(context.Background())
	// Wait until the background refreshes have settled.
	prev := ""
	for deadline := time.Now().Add(10 * time.Second); ; {
		time.Sleep(50 * time.Millisecond)
		cur := collectText(t, e)
		if cur == prev {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background refreshes did not settle")
		}
		prev = cur
	}
	checkSplit(t, e)
	if n := testutil.CollectAndCount(e.ItemSeries()); n < 20 {
		t.Fatalf("only %d item series: the switchable collectors did not run", n)
	}
	if e.ItemGeneration() == before {
		t.Fatal("the refreshes stored series without a new item generation")
	}
	checkItemsRenderedFromRows(t, e)

	// Scrapes do not change the item generation; expiry does, and takes
	// the expired series out of ItemSeries.
	g := e.ItemGeneration()
	collectText(t, e)
	if e.ItemGeneration() != g {
		t.Fatal("a scrape changed the item generation")
	}
	clock.Add(25*time.Hour + 2*time.Hour) // past the longest interval plus MaxStaleness
	if e.ItemGeneration() == g {
		t.Fatal("the items' series expired without a new item generation")
	}
	if n := testutil.CollectAndCount(e.ItemSeries()); n != 0 {
		t.Fatalf("%d item series served after they expired", n)
	}
}

// checkItemsRenderedFromRows: ItemSeries hands everything over as rows, and
// their rendering says what a gather says.
func checkItemsRenderedFromRows(t *testing.T, e *Exporter) {
	t.Helper()
	cache := exposition.NewCache(e.ItemSeries(), e.ItemGeneration, nil)
	ours := exposition.Handler(prometheus.NewRegistry(), []*exposition.Cache{cache}, exposition.HandlerOpts{})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e.ItemSeries())
	plain := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	got, want := httptest.NewRecorder(), httptest.NewRecorder()
	ours.ServeHTTP(got, httptest.NewRequest("GET", "/metrics", nil))
	plain.ServeHTTP(want, httptest.NewRequest("GET", "/metrics", nil))
	if sortedLines(got.Body.String()) != sortedLines(want.Body.String()) {
		t.Fatalf("rendered from rows:\n%s\ngathered:\n%s", got.Body, want.Body)
	}
	if cache.Renders() != 1 {
		t.Fatalf("%d renders for one request", cache.Renders())
	}
	ours.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/metrics", nil))
	if cache.Renders() != 1 {
		t.Fatal("a second request in the same item generation rendered again")
	}
}

// sortedLines: renderings may order the series of a family differently.
func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func TestGenerationCountsDiscovery(t *testing.T) {
	src := newFakeSource()
	src.key = kinsta.KeyInfo{CompanyID: "c9"}
	src.set("c9", exampleSites, nil)
	e := New(src, testConfig(newFakeClock()), log.NewNopLogger())
	g := e.Generation()
	e.Refresh(context.Background())
	if e.Generation() == g {
		t.Fatal("discovery and the first refresh did not change the generation")
	}
}
