package collector

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// Helpers shared by the tests of package collector.

// fakeSource is an in-memory GET /sites and GET /validate whose answers
// tests switch. The nil API it embeds stands in for the collectors' calls,
// which tests that use it never enable.
type fakeSource struct {
	API
	mu       sync.Mutex
	sites    map[string][]kinsta.Site
	errs     map[string]error
	key      kinsta.KeyInfo
	keyErr   error
	release  chan struct{} // when set, Sites blocks until it is closed or ctx ends
	calls    atomic.Int64
	validate atomic.Int64
}

func newFakeSource() *fakeSource {
	return &fakeSource{sites: map[string][]kinsta.Site{}, errs: map[string]error{}}
}

func (f *fakeSource) set(company string, sites []kinsta.Site, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sites[company], f.errs[company] = sites, err
}

func (f *fakeSource) SitesWithDropped(ctx context.Context, company string) (kinsta.SitesResult, error) {
	sites, err := f.Sites(ctx, company)
	return kinsta.SitesResult{Sites: sites}, err
}

func (f *fakeSource) Sites(ctx context.Context, company string) ([]kinsta.Site, error) {
	f.calls.Add(1)
	f.mu.Lock()
	release, sites, err := f.release, f.sites[company], f.errs[company]
	f.mu.Unlock()
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return sites, err
}

func (f *fakeSource) Validate(context.Context) (kinsta.KeyInfo, error) {
	f.validate.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.key, f.keyErr
}

// inventorySource serves GET /sites from memory and the rest through the
// embedded client.
type inventorySource struct {
	*kinsta.Client
	mu    sync.Mutex
	sites map[string][]kinsta.Site
}

func (s *inventorySource) set(company string, sites []kinsta.Site) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sites == nil {
		s.sites = map[string][]kinsta.Site{}
	}
	s.sites[company] = sites
}

// SitesWithDropped answers from memory, not through the embedded client.
func (s *inventorySource) SitesWithDropped(ctx context.Context, company string) (kinsta.SitesResult, error) {
	sites, err := s.Sites(ctx, company)
	return kinsta.SitesResult{Sites: sites}, err
}

func (s *inventorySource) Sites(_ context.Context, company string) ([]kinsta.Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sites, ok := s.sites[company]; ok {
		return sites, nil
	}
	return nil, fmt.Errorf("no company %q", company)
}

// fakeClock is a settable clock for TTL and staleness tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testConfig is a config for company ("": discovered) on clock.
func testConfig(clock *fakeClock, company string) Config {
	return Config{Company: company, CacheTTL: time.Minute, RefreshTimeout: 5 * time.Second, MaxStaleness: time.Hour, Now: clock.Now}
}

// newExporter is New for configs that cannot fail.
func newExporter(t testing.TB, api API, cfg Config, logger log.Logger) *Exporter {
	t.Helper()
	e, err := New(api, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var exampleSites = []kinsta.Site{
	{
		ID: "s1", Name: "acme", DisplayName: "Acme Bakery", Status: "live",
		Labels: []kinsta.Label{{ID: "l1", Name: "client:acme"}, {ID: "l1", Name: "client:acme"}}, // listed twice by the API
		Environments: []kinsta.Environment{
			{ID: "e1", Name: "live", DisplayName: "Live", PrimaryDomain: "acme.example", PHPVersion: "8.3", WordPressVersion: "6.7.1"},
			{ID: "e2", Name: "staging", DisplayName: "Staging", IsPremium: true, IsBlocked: true, PHPVersion: "8.2"},
		},
	},
	{ID: "s2", Name: "paused", DisplayName: "Paused Site", Status: "suspended"},
	{ID: "s2", Name: "paused", DisplayName: "Paused Site", Status: "suspended"}, // duplicate site
}

// multiCollector is several unchecked collectors as one.
type multiCollector []prometheus.Collector

func (multiCollector) Describe(chan<- *prometheus.Desc) {}

func (m multiCollector) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m {
		c.Collect(ch)
	}
}

// allSeries is everything e serves, as one collector: the gauges of all its
// parts and its live series, what a /metrics of the company shows.
func allSeries(e *Exporter) prometheus.Collector {
	return multiCollector{GaugesCollector(e, Parts(e.cfg.Collectors)...), LiveCollector(e)}
}

// gatherOne returns a collector of the single series named name that e
// serves.
func gatherOne(t *testing.T, e *Exporter, name string) prometheus.Collector {
	t.Helper()
	ch := make(chan prometheus.Metric, 1000)
	allSeries(e).Collect(ch)
	close(ch)
	var found []prometheus.Metric
	for m := range ch {
		if strings.Contains(m.Desc().String(), `"`+name+`"`) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d series named %s, want 1", len(found), name)
	}
	return constCollector{found[0]}
}

type constCollector struct{ m prometheus.Metric }

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.m.Desc() }
func (c constCollector) Collect(ch chan<- prometheus.Metric) { ch <- c.m }

func pedantic(c prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	return reg
}

// collectText is c's output as text, for comparing two moments.
func collectText(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	mfs, err := pedantic(c).Gather()
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

// familyNames are the names of the families c sends.
func familyNames(t *testing.T, c prometheus.Collector) []string {
	t.Helper()
	mfs, err := pedantic(c).Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(mfs))
	for i, mf := range mfs {
		names[i] = mf.GetName()
	}
	return names
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// allCollectors enables every switchable collector with a 1h interval.
func allCollectors() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, name := range CollectorNames() {
		out[name] = time.Hour
	}
	return out
}

// fakeAPI serves companies over loopback HTTP and returns a client without a
// rate limit.
func fakeAPI(t testing.TB, companies ...*kinstatest.Company) (*kinstatest.Fake, *kinsta.Client) {
	t.Helper()
	fake := kinstatest.New("test-key", companies...)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	client, err := kinsta.New(kinsta.Config{BaseURL: srv.URL, APIKey: "test-key"})
	if err != nil {
		t.Fatal(err)
	}
	return fake, client
}

// logBuffer is a logger whose output tests read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startCollectors builds an exporter of company over source with the given
// collectors, starts its refresher and makes the first scrape.
func startCollectors(t *testing.T, source API, collectors map[string]time.Duration, company string) (*Exporter, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg := Config{Company: company, CacheTTL: time.Minute, RefreshTimeout: 5 * time.Second,
		MaxStaleness: time.Hour, Collectors: collectors}
	e := newExporter(t, source, cfg, log.NewLogfmtLogger(logs))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.Start(ctx)
	e.Sync(context.Background())
	return e, logs
}

// settled reports whether every item has been attempted and none is due or
// being refreshed.
func (r *refresher) settled() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.dirty {
		return false
	}
	now, some := r.now(), false
	for it := range r.allItems() {
		some = true
		st := r.states[stateKey{it.reg.name, it.company(r)}]
		paused := st != nil && st.isDisabled(now)
		if it.index < 0 || it.lastAttempt == 0 && !paused || it.isDue(r.stamp(now)) {
			return false
		}
	}
	return some
}

func waitSettled(t testing.TB, e *Exporter) {
	t.Helper()
	waitFor(t, e.ref.settled)
}

// value returns the value of the one series of name that e serves whose
// labels contain every pair of want ("name", "value", ...), or fails.
func value(t *testing.T, e *Exporter, name string, want ...string) float64 {
	t.Helper()
	v, ok := lookup(t, e, name, want...)
	if !ok {
		t.Fatalf("no series %s%v", name, want)
	}
	return v
}

func lookup(t *testing.T, e *Exporter, name string, want ...string) (float64, bool) {
	t.Helper()
	families, err := pedantic(allSeries(e)).Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var found []float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(want); i += 2 {
				if labels[want[i]] != want[i+1] {
					continue next
				}
			}
			switch {
			case m.Gauge != nil:
				found = append(found, m.Gauge.GetValue())
			case m.Counter != nil:
				found = append(found, m.Counter.GetValue())
			}
		}
	}
	if len(found) > 1 {
		t.Fatalf("%d series %s%v, want one", len(found), name, want)
	}
	if len(found) == 0 {
		return 0, false
	}
	return found[0], true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Exported for the external test package (package collector_test), which
// may import packages that import this one.

// WaitSettled waits until e's background refresher has attempted every
// work item and none is due.
func WaitSettled(t testing.TB, e *Exporter) { waitSettled(t, e) }

// newDiskRefresher is a refresher of the disk collector for company c1 on
// clock, whose API is never called: tests drive its items by hand.
func newDiskRefresher(t *testing.T, clock *fakeClock) *refresher {
	t.Helper()
	cfg := testConfig(clock, "c1")
	cfg.Collectors = map[string]time.Duration{"disk": time.Hour}
	client, err := kinsta.New(kinsta.Config{BaseURL: "http://127.0.0.1:1", APIKey: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRefresher(client, cfg, &limitCounters{}, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	return r
}
