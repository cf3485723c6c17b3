package collector_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
	"github.com/kinsta-exporter/kinsta_exporter/server/exposition"
)

// This file is an external test package because server/exposition imports
// collector.

// TestItemsRenderedFromRows runs every switchable collector against the
// fake API and checks that each collector's part, rendered by the server's
// exposition cache from its rows, says what a registry gather of it says,
// and is rendered once per generation.
func TestItemsRenderedFromRows(t *testing.T) {
	const key = "rows-test-key"
	company := kinstatest.GenerateCompany("c1", 3, 2, 2)
	company.APIKeys = []kinstatest.APIKey{{Name: "deploy"}, {Name: "old", Status: "revoked", ExpiresAt: time.Unix(1_700_000_000, 0)}}
	company.Sites[0].Environments[0].ResponseCodes = map[int]int64{200: 90, 502: 3}
	fake := kinstatest.New(key, company)
	api := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); api.Close() })
	client, err := kinsta.New(kinsta.Config{BaseURL: api.URL, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	// A frozen clock: the collectors' time-dependent series hold still.
	frozen := time.Unix(1_700_000_000, 0)
	cfg := collector.Config{Company: "c1", CacheTTL: time.Minute, RefreshTimeout: 5 * time.Second,
		MaxStaleness: time.Hour, Now: func() time.Time { return frozen }, Collectors: map[string]time.Duration{}}
	for _, name := range collector.CollectorNames() {
		cfg.Collectors[name] = 0
	}
	e, err := collector.New(client, cfg, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.Start(ctx)
	e.Sync(context.Background())
	collector.WaitSettled(t, e)

	rendered := 0
	for _, part := range collector.Parts(cfg.Collectors) {
		got, want := renderPart(t, e, part)
		if got != want {
			t.Fatalf("part %s rendered from rows:\n%s\ngathered:\n%s", part, got, want)
		}
		if strings.Contains(got, "# TYPE") {
			rendered++
		}
	}
	// sites, and every collector but activity (whose counters are live).
	if want := len(cfg.Collectors); rendered != want {
		t.Fatalf("%d parts have series, want %d", rendered, want)
	}
}

// renderPart serves part of src through an exposition cache (gzip, the
// kept rendering, twice, and identity, streamed from the rows) and through
// promhttp over a registry, and returns the cached body and the gathered
// one with their lines sorted (renderings may order the series of a family
// differently); the streamed body must be the cached one.
func renderPart(t *testing.T, src collector.Source, part string) (cached, gathered string) {
	t.Helper()
	cache := exposition.NewCache(src, part, nil)
	ours := exposition.Handler(prometheus.NewRegistry(), []*exposition.Cache{cache}, exposition.HandlerOpts{})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collector.GaugesCollector(src, part))
	plain := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	gz := httptest.NewRequest("GET", "/metrics", nil)
	gz.Header.Set("Accept-Encoding", "gzip")
	got, streamed, want := httptest.NewRecorder(), httptest.NewRecorder(), httptest.NewRecorder()
	ours.ServeHTTP(got, gz)
	ours.ServeHTTP(streamed, httptest.NewRequest("GET", "/metrics", nil))
	plain.ServeHTTP(want, httptest.NewRequest("GET", "/metrics", nil))
	if cache.Renders() != 1 {
		t.Fatalf("part %s: %d renders for one request", part, cache.Renders())
	}
	ours.ServeHTTP(httptest.NewRecorder(), gz)
	if cache.Renders() != 1 {
		t.Fatalf("part %s: a second request in the same generation rendered again", part)
	}
	if cache.Gathers() != 0 {
		t.Fatalf("part %s: %d renders gathered, want all from the rows", part, cache.Gathers())
	}
	zr, err := gzip.NewReader(got.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if streamed.Body.String() != string(body) {
		t.Fatalf("part %s: the streamed identity body differs from the kept gzip one", part)
	}
	return sortedLines(string(body)), sortedLines(want.Body.String())
}

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
