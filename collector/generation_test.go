package collector

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// TestGenerationFollowsGauges checks, step by step, that
// Generation(SitesPart) changes whenever the sites part's output does, and
// only then: not when time passes without reaching the staleness cut-off,
// not on a failed refresh, not on a refresh that stores the same series.
func TestGenerationFollowsGauges(t *testing.T) {
	src := newFakeSource()
	src.set("c1", exampleSites, nil)
	clock := newFakeClock()
	e := newExporter(t, src, testConfig(clock, "c1"), log.NewNopLogger())
	sites := GaugesCollector(e, SitesPart)

	gen, out := e.Generation(SitesPart), collectText(t, sites)
	// step: wantChange says whether the output and the generation change.
	step := func(what string, wantChange bool) {
		t.Helper()
		checkParts(t, e)
		g, o := e.Generation(SitesPart), collectText(t, sites)
		if (o != out) != wantChange {
			t.Fatalf("%s: output changed %v, want %v", what, o != out, wantChange)
		}
		if (g != gen) != wantChange {
			t.Fatalf("%s: generation changed %v (%d -> %d), output changed %v", what, g != gen, gen, g, o != out)
		}
		if g2 := e.Generation(SitesPart); g2 != g {
			t.Fatalf("%s: generation unstable: %d then %d", what, g, g2)
		}
		gen, out = g, o
	}
	// refresh is a scrape that calls the API.
	refresh := func(sites []kinsta.Site, err error) {
		t.Helper()
		src.set("c1", sites, err)
		clock.Add(time.Minute)
		before := src.calls.Load()
		e.Sync(context.Background())
		if src.calls.Load() == before {
			t.Fatal("a scrape after the TTL made no API call")
		}
	}
	failure := &kinsta.Error{Kind: kinsta.KindServer, StatusCode: 500}

	step("nothing", false)
	e.Sync(context.Background())
	step("first refresh", true)
	clock.Add(30 * time.Second)
	e.Sync(context.Background())
	step("refresh within the TTL (no API call)", false)
	refresh(exampleSites, nil)
	step("a refresh with the same sites", false)
	refresh(nil, failure)
	step("a failed refresh", false)
	refresh(exampleSites[:1], nil)
	step("a refresh with other sites", true)

	refresh(nil, failure)
	step("a failed refresh, the last good series still served", false)
	clock.Add(59 * time.Minute) // the last success is exactly max staleness ago
	step("time passes, up to the cut-off", false)
	clock.Add(time.Nanosecond)
	step("past the cut-off", true)
	clock.Add(time.Hour)
	step("long after", false)
	refresh(nil, failure)
	step("a failed refresh after the cut-off", false)

	refresh(exampleSites[:1], nil)
	step("recovery, with the series served before the cut-off", true)
}

// checkParts: the parts of e and its live series are disjoint sets of
// families (a renderer caches each part on its own and would serve a family
// twice), and together they gather cleanly.
func checkParts(t *testing.T, e *Exporter) {
	t.Helper()
	owner := map[string]string{}
	add := func(what string, names []string) {
		for _, name := range names {
			if prev, dup := owner[name]; dup {
				t.Fatalf("family %s comes from %s and from %s", name, prev, what)
			}
			owner[name] = what
		}
	}
	for _, part := range Parts(e.cfg.Collectors) {
		add("part "+part, familyNames(t, GaugesCollector(e, part)))
	}
	add("the live series", familyNames(t, LiveCollector(e)))
	if _, err := pedantic(allSeries(e)).Gather(); err != nil {
		t.Fatal(err)
	}
}

func itemCount(e *Exporter) int {
	n := 0
	for _, name := range CollectorNames() {
		n += testutil.CollectAndCount(GaugesCollector(e, name))
	}
	return n
}

func itemGenerations(e *Exporter) []uint64 {
	var gens []uint64
	for _, name := range CollectorNames() {
		gens = append(gens, e.Generation(name))
	}
	return gens
}

// TestPartsWithSwitchableCollectors runs every switchable collector against
// the fake API (on a frozen clock, so their time-dependent series hold
// still) and checks the parts once their refreshes are done.
func TestPartsWithSwitchableCollectors(t *testing.T) {
	_, client := fakeAPI(t, kinstatest.GenerateCompany("c1", 3, 2, 2))
	clock := newFakeClock()
	cfg := testConfig(clock, "c1")
	cfg.Collectors = map[string]time.Duration{}
	for _, name := range CollectorNames() {
		cfg.Collectors[name] = 0
	}
	e := newExporter(t, client, cfg, log.NewNopLogger())
	before := itemGenerations(e)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.Start(ctx)
	e.Sync(context.Background())
	waitSettled(t, e)
	checkParts(t, e)
	if n := itemCount(e); n < 20 {
		t.Fatalf("only %d item series: the switchable collectors did not run", n)
	}
	after := itemGenerations(e)
	for i, name := range CollectorNames() {
		if n := testutil.CollectAndCount(GaugesCollector(e, name)); n > 0 && after[i] == before[i] {
			t.Errorf("%s stored %d series without a new generation of its part", name, n)
		}
	}

	// Scrapes do not change the item generations; expiry does, and takes
	// the expired series out of the parts.
	collectText(t, allSeries(e))
	if g := itemGenerations(e); !slices.Equal(g, after) {
		t.Fatal("a scrape changed an item generation")
	}
	clock.Add(25*time.Hour + 2*time.Hour) // past the longest interval plus MaxStaleness
	expired := itemGenerations(e)
	for i, name := range CollectorNames() {
		if after[i] != 0 && expired[i] == after[i] {
			t.Errorf("%s's series expired without a new generation of its part", name)
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
	r := newDiskRefresher(t, clock)
	tgt := target{collector: "disk", company: "c1", siteID: "s1", envID: "e1"}
	r.mu.Lock()
	r.company = "c1"
	r.addItem(r.byName["disk"], itemKey{siteID: "s1", envID: "e1"}, clock.Now())
	it := r.byName["disk"].items[itemKey{siteID: "s1", envID: "e1"}]
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
	clock.Add(time.Hour + r.maxStale + time.Second)
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

func TestGenerationCountsDiscovery(t *testing.T) {
	src := newFakeSource()
	src.key = kinsta.KeyInfo{CompanyID: "c9"}
	src.set("c9", exampleSites, nil)
	e := newExporter(t, src, testConfig(newFakeClock(), ""), log.NewNopLogger())
	g := e.Generation(SitesPart)
	e.Sync(context.Background())
	if e.Generation(SitesPart) == g {
		t.Fatal("discovery and the first refresh did not change the generation")
	}
}
