package exposition

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// generatedSites are n sites of kinstatest.GenerateCompany (2 environments,
// 2 labels each), through the fake API's wire format and the real decoder.
func generatedSites(tb testing.TB, n int) []kinsta.Site {
	tb.Helper()
	fake := kinstatest.New("bench-key", kinstatest.GenerateCompany("bench", n, 2, 2))
	req := httptest.NewRequest(http.MethodGet, "/sites?company=bench&include_environments=true", nil)
	req.Header.Set("Authorization", "Bearer bench-key")
	rec := httptest.NewRecorder()
	fake.ServeHTTP(rec, req)
	sites, err := kinsta.DecodeSites(rec.Body)
	if err != nil || len(sites) != n {
		tb.Fatalf("%d sites: %v", len(sites), err)
	}
	return sites
}

// benchSetup is the exporter's serving stack over n generated sites: the
// company registry (cached) and a live registry like main.go's.
type benchSetup struct {
	cache    *Cache
	live     *prometheus.Registry
	ours     http.Handler // cached, as main.go serves it
	baseline http.Handler // promhttp.HandlerFor gathering everything per scrape (the previous design)
}

func newBenchSetup(tb testing.TB, n int) *benchSetup {
	tb.Helper()
	src := &source{}
	src.set(generatedSites(tb, n), nil)
	exp := newExporter(tb, src, "bench", time.Now)
	exp.Refresh(context.Background())
	s := &benchSetup{live: prometheus.NewRegistry()}
	s.live.MustRegister(collector.LiveCollector(exp), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("kinsta_exporter"))
	collector.InstrumentTransport(http.DefaultTransport, s.live)
	s.cache = NewCache(exp, collector.SitesPart, nil)
	s.ours = promhttp.InstrumentMetricHandler(s.live, Handler(s.live, []*Cache{s.cache}, HandlerOpts{}))
	both := prometheus.NewRegistry()
	both.MustRegister(collector.GaugesCollector(exp, collector.SitesPart), collector.LiveCollector(exp), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("kinsta_exporter"))
	s.baseline = promhttp.InstrumentMetricHandler(both, promhttp.HandlerFor(both, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	return s
}

var sizes = []int{1000, 10000}

// BenchmarkRender is the cost of rendering the company series in one
// variant: the cached gzip one once per generation, identity text and
// OpenMetrics (streamed, never kept) on every request that asks.
func BenchmarkRender(b *testing.B) {
	for _, n := range sizes {
		s := newBenchSetup(b, n)
		for _, v := range []struct {
			name   string
			format expfmt.Format
			gzip   bool
		}{
			{"text", expfmt.FmtText, false},
			{"text-gzip", expfmt.FmtText, true},
			{"openmetrics", expfmt.FmtOpenMetrics_1_0_0, false},
		} {
			b.Run(fmt.Sprintf("%s/sites=%d", v.name, n), func(b *testing.B) {
				b.ReportAllocs()
				var size int
				for b.Loop() {
					if v.gzip {
						size = len(s.cache.render(variant{v.format, true}).body)
						continue
					}
					w := &countingWriter{header: http.Header{}}
					if err := s.cache.stream(context.Background(), w, v.format, nil, map[string]struct{}{}); err != nil {
						b.Fatal(err)
					}
					size = w.n
				}
				b.ReportMetric(float64(size), "bytes/op")
			})
		}
	}
}

// BenchmarkScrape is one /metrics request: "cached" is this exporter (the
// company series already rendered), "promhttp" gathers and encodes everything
// per request, as the exporter did before.
func BenchmarkScrape(b *testing.B) {
	for _, n := range sizes {
		s := newBenchSetup(b, n)
		for _, h := range []struct {
			name string
			h    http.Handler
		}{{"cached", s.ours}, {"promhttp", s.baseline}} {
			for _, enc := range []string{"plain", "gzip"} {
				b.Run(fmt.Sprintf("%s/%s/sites=%d", h.name, enc, n), func(b *testing.B) {
					req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
					req.Header.Set("Accept", prometheusAccept)
					if enc == "gzip" {
						req.Header.Set("Accept-Encoding", "gzip")
					}
					h.h.ServeHTTP(&countingWriter{header: http.Header{}}, req) // renders the cache
					b.ReportAllocs()
					var size int
					for b.Loop() {
						w := &countingWriter{header: http.Header{}}
						h.h.ServeHTTP(w, req)
						size = w.n
					}
					b.ReportMetric(float64(size), "bytes/op")
				})
			}
		}
	}
}

// countingWriter is a ResponseWriter that only counts, so the benchmark
// measures the handler, not a recorder's buffer.
type countingWriter struct {
	header http.Header
	n      int
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(int)     {}
func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)
