package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// benchSites are n sites of kinstatest.GenerateCompany (2 environments and 2
// labels each), through the fake API's wire format and the real decoder.
func benchSites(b testing.TB, n int) []kinsta.Site {
	b.Helper()
	fake := kinstatest.New("bench-key", kinstatest.GenerateCompany("bench", n, 2, 2))
	req := httptest.NewRequest(http.MethodGet, "/sites?company=bench&include_environments=true", nil)
	req.Header.Set("Authorization", "Bearer bench-key")
	rec := httptest.NewRecorder()
	fake.ServeHTTP(rec, req)
	sites, err := kinsta.DecodeSites(rec.Body)
	if err != nil || len(sites) != n {
		b.Fatalf("%d sites: %v", len(sites), err)
	}
	return sites
}

// BenchmarkBuildSiteRows is the work of one refresh after decoding:
// building a company's site series (as rows; see siteRows).
func BenchmarkBuildSiteRows(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		sites := benchSites(b, n)
		b.Run(fmt.Sprintf("sites=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = buildSiteRows("bench", sites, Limits{}, siteBuildPrev{})
			}
		})
		// A refresh that finds the same sites, as most do: it stores no
		// second copy of the rows being served.
		b.Run(fmt.Sprintf("sites=%d/same", n), func(b *testing.B) {
			first, _ := buildSiteRows("bench", sites, Limits{}, siteBuildPrev{})
			prev := siteBuildPrev{snapshot: first.rows, domains: first.domains}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = buildSiteRows("bench", sites, Limits{}, prev)
			}
		})
	}
}

// BenchmarkGather is a registry gather of the exporter, as every scrape did
// before the site series were rendered once per generation (the server's
// exposition.Cache): GaugesCollector builds const metrics from the rows, the
// registry turns them into protobuf messages and sorts them. exposition.Cache
// still gathers for the protobuf formats; the text formats are rendered from
// the rows (see BenchmarkRender there).
func BenchmarkGather(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		src := newFakeSource()
		src.set("bench", benchSites(b, n), nil)
		e := newExporter(b, src, Config{Company: "bench", CacheTTL: time.Hour, RefreshTimeout: time.Minute, MaxStaleness: time.Hour}, log.NewNopLogger())
		e.Sync(context.Background())
		for _, c := range []struct {
			name string
			c    prometheus.Collector
		}{{"exporter", allSeries(e)}, {"site-series", GaugesCollector(e, SitesPart)}, {"live-series", LiveCollector(e)}} {
			reg := prometheus.NewRegistry()
			reg.MustRegister(c.c)
			b.Run(fmt.Sprintf("%s/sites=%d", c.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := reg.Gather(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
