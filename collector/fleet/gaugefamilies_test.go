package fleet

import (
	"bytes"
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
	"github.com/kinsta-exporter/kinsta_exporter/server/exposition"
)

// TestSiteSeriesRenderedFromRows: the fleet's site series are a
// GaugeFamilySource, and their rendering without gathering says what a
// gather says.
func TestSiteSeriesRenderedFromRows(t *testing.T) {
	a := newAPI(t, map[string]*kinstatest.Company{
		"key-a": company("company-a", "s1", "s2"),
		"key-b": company("company-b", "s3"),
	})
	f, _ := newFleet(t, a, &clock{t: time.Unix(1_700_000_000, 0)}, nil)
	if _, err := f.Apply([]Company{{ID: "company-a", Name: "A \"quoted\"", Key: "key-a"}, {ID: "company-b", Key: "key-b"}}); err != nil {
		t.Fatal(err)
	}
	f.Refresh(context.Background())
	n := 0
	if !f.Gauges(collector.SitesPart, "", func(_, _ string, _ []string, rows collector.Rows) bool { n += len(rows.Values); return true }) {
		t.Fatal("Gauges did not hand over everything")
	}
	// kinsta_company_info of both companies and 2+1 sites' info and status.
	if want := 2 + 3 + 3; n != want {
		t.Fatalf("Gauges handed over %d series, want %d", n, want)
	}
	checkRenderedFromRows(t, f, collector.SitesPart)
}

// checkRenderedFromRows: a cache of src's part renders what a gather of its
// const metrics says.
func checkRenderedFromRows(t *testing.T, src collector.Source, part string) {
	t.Helper()
	empty := prometheus.NewRegistry()
	ours := exposition.Handler(empty, []*exposition.Cache{exposition.NewCache(src, part, nil)}, exposition.HandlerOpts{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.GaugesCollector(src, part))
	plain := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	got, want := httptest.NewRecorder(), httptest.NewRecorder()
	ours.ServeHTTP(got, httptest.NewRequest("GET", "/metrics", nil))
	plain.ServeHTTP(want, httptest.NewRequest("GET", "/metrics", nil))
	if !bytes.Equal(sortedLines(got.Body.Bytes()), sortedLines(want.Body.Bytes())) {
		t.Fatalf("rendered from rows:\n%s\ngathered:\n%s", got.Body, want.Body)
	}
}

// TestItemSeriesAcrossCompanies: the fleet's ItemSeries joins every
// company's gauges of one collector, renders from rows as a gather says, and
// its generation moves when a reload removes a company.
func TestItemSeriesAcrossCompanies(t *testing.T) {
	a := newAPI(t, map[string]*kinstatest.Company{
		"key-a": company("company-a", "s1", "s2"),
		"key-b": company("company-b", "s3"),
	})
	f, _ := newFleet(t, a, &clock{t: time.Unix(1_700_000_000, 0)}, map[string]time.Duration{"usage": time.Hour})
	if _, err := f.Apply([]Company{{ID: "company-a", Key: "key-a"}, {ID: "company-b", Key: "key-b"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f.Start(ctx)
	f.Refresh(ctx) // a scrape: the background refreshers start working
	usage := collector.GaugesCollector(f, "usage")
	for deadline := time.Now().Add(10 * time.Second); testCount(t, usage) < 9; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d usage series of 3 sites, want 9", testCount(t, usage))
		}
	}
	checkRenderedFromRows(t, f, "usage")
	g := f.Generation("usage")
	if f.Generation("usage") != g {
		t.Fatal("the item generation moved without a change")
	}
	if _, err := f.Apply([]Company{{ID: "company-a", Key: "key-a"}}); err != nil {
		t.Fatal(err)
	}
	if f.Generation("usage") == g {
		t.Fatal("removing a company did not move the item generation")
	}
	if n := testCount(t, usage); n != 6 {
		t.Fatalf("%d usage series after company-b was removed, want 6", n)
	}
}

// everything is src's gauges of every part and its live series.
func everything(src collector.Source) prometheus.Collector {
	return sourceCollector{src}
}

type sourceCollector struct{ src collector.Source }

func (sourceCollector) Describe(chan<- *prometheus.Desc) {}

func (c sourceCollector) Collect(ch chan<- prometheus.Metric) {
	collector.GaugesCollector(c.src, collector.Parts(map[string]time.Duration{"usage": 0, "apikey": 0})...).Collect(ch)
	c.src.CollectLive(ch)
}

func testCount(t *testing.T, c prometheus.Collector) int {
	t.Helper()
	ch := make(chan prometheus.Metric, 1000)
	c.Collect(ch)
	close(ch)
	return len(ch)
}

// sortedLines is the exposition's lines, sorted: the two renderings may
// order the series of a family differently.
func sortedLines(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	slices.Sort(lines)
	return []byte(strings.Join(lines, "\n"))
}
