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
	reg.MustRegister(e.SiteSeries(), e.StateSeries()) // fails on a descriptor in both
	reg.MustRegister(allItemSeries(e)...)
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
	n := testutil.CollectAndCount(e.SiteSeries()) + itemCount(e) + testutil.CollectAndCount(e.StateSeries())
	if n != testutil.CollectAndCount(e) {
		t.Fatalf("the split sends %d series, Collect %d", n, testutil.CollectAndCount(e))
	}
}

// allItemSeries is every switchable collector's ItemSeries.
func allItemSeries(e *Exporter) []prometheus.Collector {
	var cs []prometheus.Collector
	for _, name := range CollectorNames() {
		cs = append(cs, e.ItemSeries(name))
	}
	return cs
}

func itemCount(e *Exporter) int {
	n := 0
	for _, c := range allItemSeries(e) {
		n += testutil.CollectAndCount(c)
	}
	return n
}

func itemGenerations(e *Exporter) []uint64 {
	var gens []uint64
	for _, name := range CollectorNames() {
		gens = append(gens, e.ItemGeneration(name))
	}
	return gens
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
	before := itemGenerations(e)
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
	if n := itemCount(e); n < 20 {
		t.Fatalf("only %d item series: the switchable collectors did not run", n)
	}
	after := itemGenerations(e)
	for i, name := range CollectorNames() {
		if n := testutil.CollectAndCount(e.ItemSeries(name)); n > 0 && after[i] == before[i] {
			t.Errorf("%s stored %d series without a new item generation", name, n)
		}
		checkItemsRenderedFromRows(t, e, name)
	}

	// Scrapes do not change the item generations; expiry does, and takes
	// the expired series out of ItemSeries.
	collectText(t, e)
	if g := itemGenerations(e); !slices.Equal(g, after) {
		t.Fatal("a scrape changed an item generation")
	}
	clock.Add(25*time.Hour + 2*time.Hour) // past the longest interval plus MaxStaleness
	expired := itemGenerations(e)
	for i, name := range CollectorNames() {
		if after[i] != 0 && expired[i] == after[i] {
			t.Errorf("%s's series expired without a new item generation", name)
		}
	}
	if n := itemCount(e); n != 0 {
		t.Fatalf("%d item series served after they expired", n)
	}
}

// TestItemGenerationMovesOnChangeOnly: a refresh that stores the series an
// item already serves changes nothing; other series, or an item served
// again after its series expired, make a new generation.
func TestItemGenerationMovesOnChangeOnly(t *testing.T) {
	clock := newFakeClock()
	cfg := testConfig(clock, "c1")
	cfg.Collectors = map[string]time.Duration{"disk": time.Hour}
	client, err := kinsta.New(kinsta.Config{BaseURL: "http://127.0.0.1:1", APIKey: "unused"}) // never called
	if err != nil {
		t.Fatal(err)
	}
	r := newRefresher(client, cfg, log.NewNopLogger())
	tgt := target{collector: "disk", company: "c1", siteID: "s1", envID: "e1"}
	r.mu.Lock()
	r.addItem(tgt, clock.Now())
	it := r.items[tgt]
	r.mu.Unlock()
	store := func(bytes float64) uint64 {
		var s series
		s.gauge(envDiskFamily, bytes, "c1", "s1", "e1")
		r.mu.Lock()
		r.finish(it, it.reg, &request{target: tgt, start: clock.Now()}, result{series: s}, nil, clock.Now())
		r.mu.Unlock()
		return r.generation(clock.Now(), "disk")
	}
	g0 := r.generation(clock.Now(), "disk")
	g1 := store(100)
	clock.Add(time.Minute)
	g2 := store(100)
	g3 := store(200)
	clock.Add(time.Hour + cfg.MaxStaleness + time.Second)
	g4 := r.generation(clock.Now(), "disk") // expired
	g5 := store(200)
	switch {
	case g1 == g0:
		t.Error("the first series made no new generation")
	case g2 != g1:
		t.Error("the same series again made a new generation")
	case g3 == g2:
		t.Error("other series made no new generation")
	case g4 == g3:
		t.Error("expiry made no new generation")
	case g5 == g4 || g5 == g3:
		t.Errorf("the series served again after expiry: generation %x, before %x and %x", g5, g4, g3)
	}
	if r.generation(clock.Now(), "backups") != 0 {
		t.Error("a collector that is not enabled has a generation")
	}
}

// checkItemsRenderedFromRows: ItemSeries hands everything over as rows, and
// their rendering says what a gather says.
func checkItemsRenderedFromRows(t *testing.T, e *Exporter, collector string) {
	t.Helper()
	cache := exposition.NewCache(e.ItemSeries(collector), func() uint64 { return e.ItemGeneration(collector) }, nil)
	ours := exposition.Handler(prometheus.NewRegistry(), []*exposition.Cache{cache}, exposition.HandlerOpts{})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e.ItemSeries(collector))
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
