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

	"github.com/kinsta-exporter/kinsta_exporter/collector/exposition"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
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
	src, ok := f.SiteSeries().(exposition.GaugeFamilySource)
	if !ok {
		t.Fatal("the fleet's SiteSeries is no GaugeFamilySource")
	}
	n := 0
	if !src.GaugeFamilies(func(_, _ string, _, _ []string, values []float64) bool { n += len(values); return true }) {
		t.Fatal("GaugeFamilies did not hand over everything")
	}
	if want := testCount(t, f.SiteSeries()); n != want {
		t.Fatalf("GaugeFamilies handed over %d series, Collect sends %d", n, want)
	}

	empty := prometheus.NewRegistry()
	ours := exposition.Handler(empty, []*exposition.Cache{exposition.NewCache(f.SiteSeries(), f.Generation, nil)}, exposition.HandlerOpts{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.SiteSeries())
	plain := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	got, want := httptest.NewRecorder(), httptest.NewRecorder()
	ours.ServeHTTP(got, httptest.NewRequest("GET", "/metrics", nil))
	plain.ServeHTTP(want, httptest.NewRequest("GET", "/metrics", nil))
	if !bytes.Equal(sortedLines(got.Body.Bytes()), sortedLines(want.Body.Bytes())) {
		t.Fatalf("rendered from rows:\n%s\ngathered:\n%s", got.Body, want.Body)
	}
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
