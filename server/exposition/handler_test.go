package exposition

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// source is a collector.API whose answers to GET /sites the test
// switches; the collectors' other methods are not called.
type source struct {
	collector.API
	mu    sync.Mutex
	sites []kinsta.Site
	err   error
	calls int
}

func (s *source) set(sites []kinsta.Site, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sites, s.err = sites, err
}

func (s *source) SitesWithDropped(ctx context.Context, company string) (kinsta.SitesResult, error) {
	sites, err := s.Sites(ctx, company)
	return kinsta.SitesResult{Sites: sites}, err
}

func (s *source) Sites(context.Context, string) ([]kinsta.Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return s.sites, s.err
}

func (s *source) Validate(context.Context) (kinsta.KeyInfo, error) {
	return kinsta.KeyInfo{CompanyID: "c1"}, nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testSites are awkward on purpose: quotes, backslashes, newlines and
// non-ASCII in label values, a non-live site, an environment without versions.
var testSites = []kinsta.Site{
	{ID: "s1", Name: "acme", DisplayName: `Acme "Bakery" \ Café`, Status: "live",
		Labels: []kinsta.Label{{ID: "l1", Name: "client:acme"}, {ID: "l2", Name: "line\nbreak"}},
		Environments: []kinsta.Environment{
			{ID: "e1", Name: "live", DisplayName: "Live", PrimaryDomain: "acme.example", PHPVersion: "8.3", WordPressVersion: "6.7.1"},
			{ID: "e2", Name: "staging", DisplayName: "Staging", IsPremium: true, IsBlocked: true},
		}},
	{ID: "s2", Name: "paused", DisplayName: "Paused Site", Status: "suspended"},
}

// fixture is an exporter over a switchable source, its cache (the site
// series), and a live registry with the exporter's other series, one of each
// metric type and the handler's own counters.
type fixture struct {
	src       *source
	clock     *clock
	exp       *collector.Exporter
	live      *prometheus.Registry
	cache     *Cache
	caches    []*Cache     // cache, then a second one of other families
	handler   http.Handler // ours, instrumented
	reference http.Handler // promhttp over both registries, instrumented alike
	counter   prometheus.Counter
}

func newFixture(t testing.TB, sites []kinsta.Site) *fixture {
	t.Helper()
	f := &fixture{src: &source{}, clock: &clock{now: time.Unix(1_700_000_000, 0)}}
	f.src.set(sites, nil)
	f.exp = newExporter(t, f.src, "c1", f.clock.Now)
	f.exp.Sync(context.Background())

	f.live = prometheus.NewRegistry()
	f.counter = prometheus.NewCounter(prometheus.CounterOpts{Name: "test_events_total", Help: "Events."})
	f.counter.Add(3)
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "test_duration_seconds", Help: "Durations.", Buckets: []float64{0.1, 1}})
	hist.Observe(0.5)
	gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "test_info", Help: "Info."}, []string{"v"})
	gauge.WithLabelValues(`a"b`).Set(1)
	summary := prometheus.NewSummary(prometheus.SummaryOpts{Name: "test_latency_seconds", Help: "Latency.", Objectives: map[float64]float64{0.5: 0.05}})
	summary.Observe(2)
	f.live.MustRegister(f.counter, hist, gauge, summary, collector.LiveCollector(f.exp))

	f.cache = NewCache(f.exp, collector.SitesPart, nil)
	// A second cached part, so that responses join two cached parts: their
	// DEFLATE streams and CRCs.
	other := &staticSource{name: "test_cached_items", help: "A second cached part.", labelNames: []string{"item"}}
	for i := range 300 {
		other.labels = append(other.labels, fmt.Sprintf("item-%03d", i))
		other.values = append(other.values, float64(i))
	}
	f.caches = []*Cache{f.cache, NewCache(other, "other", nil)}
	f.handler = Handler(f.live, f.caches, HandlerOpts{})
	// The reference is the plain way: one registry with the whole exporter.
	full := prometheus.NewRegistry()
	full.MustRegister(f.counter, hist, gauge, summary, collector.GaugesCollector(f.exp, collector.SitesPart),
		collector.LiveCollector(f.exp), collector.GaugesCollector(other, "other"))
	f.reference = promhttp.HandlerFor(full, promhttp.HandlerOpts{EnableOpenMetrics: true})
	return f
}

func newExporter(t testing.TB, src collector.API, company string, now func() time.Time) *collector.Exporter {
	t.Helper()
	exp, err := collector.New(src, collector.Config{Company: company, CacheTTL: time.Minute,
		RefreshTimeout: 5 * time.Second, MaxStaleness: time.Hour, Now: now}, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// staticSource is a collector.Source of one fixed family.
type staticSource struct {
	name, help string
	labelNames []string
	labels     []string // flat, len(labelNames) per value
	values     []float64
}

func (*staticSource) Refresh(context.Context)              {}
func (*staticSource) Generation(string) uint64             { return 1 }
func (*staticSource) CollectLive(chan<- prometheus.Metric) {}
func (s *staticSource) Gauges(_, family string, yield collector.GaugeYield) bool {
	if family != "" && family != s.name {
		return true
	}
	return yield(s.name, s.help, s.labelNames, collector.Rows{LabelValues: s.labels, Values: s.values})
}

type response struct {
	code     int
	header   http.Header
	raw      []byte // as sent
	body     []byte // decoded
	encoding string
}

func get(t testing.TB, h http.Handler, target string, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := response{code: rec.Code, header: rec.Header(), raw: rec.Body.Bytes(), body: rec.Body.Bytes(), encoding: rec.Header().Get("Content-Encoding")}
	if r.encoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(r.raw))
		if err != nil {
			t.Fatal(err)
		}
		if r.body, err = io.ReadAll(zr); err != nil {
			t.Fatalf("gunzip: %v", err)
		}
	}
	return r
}

// blocks splits a text or OpenMetrics exposition into families, keyed by
// name, each the exact text of its HELP and TYPE lines and its sample lines,
// sorted.
func blocks(t *testing.T, body []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	var name string
	var cur strings.Builder
	var samples []string
	flush := func() {
		slices.Sort(samples) // the order of series within a family is free
		for _, l := range samples {
			cur.WriteString(l)
		}
		samples = samples[:0]
		if name != "" {
			if _, dup := out[name]; dup {
				t.Fatalf("family %s appears twice", name)
			}
			out[name] = cur.String()
		}
		cur.Reset()
	}
	for _, line := range strings.SplitAfter(string(body), "\n") {
		if strings.HasPrefix(line, "# HELP ") {
			flush()
			name = strings.Fields(line)[2]
		}
		switch {
		case line == "# EOF\n" || line == "":
		case strings.HasPrefix(line, "#"):
			cur.WriteString(line)
		default:
			samples = append(samples, line)
		}
	}
	flush()
	return out
}

func decodeProto(t *testing.T, body []byte, format expfmt.Format) []*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), format)
	var out []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		out = append(out, mf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

var acceptCases = []struct{ name, accept string }{
	{"none", ""},
	{"prometheus 2", prometheusAccept},
	{"prometheus 3", "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,*/*;q=0.1"},
	{"protobuf first", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5"},
	{"text 0.0.4", "text/plain;version=0.0.4"},
	{"text", "text/plain"},
	{"openmetrics 0.0.1", "application/openmetrics-text"},
	{"openmetrics 1.0.0", "application/openmetrics-text; version=1.0.0"},
	{"openmetrics 2 (not offered)", "application/openmetrics-text; version=2.0.0"},
	{"underscores", "text/plain;version=0.0.4;escaping=underscores"},
	{"protobuf text", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"},
	{"protobuf compact", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=compact-text"},
	{"browser", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
	{"json only", "application/json"},
}

// TestSameAsPromhttp compares every negotiation case with promhttp.HandlerFor
// over the same collectors: same headers, same families, same samples.
func TestSameAsPromhttp(t *testing.T) {
	f := newFixture(t, testSites)
	// Uninstrumented, so that both sides gather exactly the same live values.
	ours := Handler(f.live, f.caches, HandlerOpts{})
	for _, ac := range acceptCases {
		for _, ae := range []string{"", "gzip", "deflate, gzip, br, zstd"} {
			t.Run(ac.name+"/"+ae, func(t *testing.T) {
				h := []string{"Accept", ac.accept, "Accept-Encoding", ae}
				got, want := get(t, ours, "/metrics", h...), get(t, f.reference, "/metrics", h...)
				if got.code != 200 || want.code != 200 {
					t.Fatalf("codes %d, %d", got.code, want.code)
				}
				for _, k := range []string{"Content-Type", "Content-Encoding"} {
					if got.header.Get(k) != want.header.Get(k) {
						t.Fatalf("%s: %q, promhttp %q", k, got.header.Get(k), want.header.Get(k))
					}
				}
				if !slices.Equal(got.header.Values("Vary"), want.header.Values("Vary")) {
					t.Fatalf("Vary: %q, promhttp %q", got.header.Values("Vary"), want.header.Values("Vary"))
				}
				format := expfmt.Format(got.header.Get("Content-Type"))
				// Kept renderings (gzip text) have a length; the rest is
				// streamed (as promhttp streams every answer).
				streamed := !variantOf(format, got.header.Get("Content-Encoding") == "gzip").kept()
				if cl := got.header.Get("Content-Length"); cl != fmt.Sprint(len(got.raw)) && !(streamed && cl == "") {
					t.Fatalf("Content-Length %s, body %d bytes", cl, len(got.raw))
				}
				switch format.FormatType() {
				case expfmt.TypeProtoDelim:
					g, w := decodeProto(t, got.body, format), decodeProto(t, want.body, format)
					if len(g) != len(w) {
						t.Fatalf("%d families, promhttp %d", len(g), len(w))
					}
					for i := range g {
						if !proto.Equal(g[i], w[i]) {
							t.Fatalf("family %d differs:\n%v\npromhttp:\n%v", i, g[i], w[i])
						}
					}
				case expfmt.TypeOpenMetrics:
					if strings.Count(string(got.body), "# EOF") != 1 || !strings.HasSuffix(string(got.body), "\n# EOF\n") {
						t.Fatalf("OpenMetrics must end with exactly one # EOF:\n%s", tail(got.body))
					}
					compareBlocks(t, got.body, want.body)
				case expfmt.TypeTextPlain:
					compareBlocks(t, got.body, want.body)
					compareParsed(t, got.body, want.body)
				default: // protobuf text formats: the same messages, in another order
					g, w := splitMessages(got.body), splitMessages(want.body)
					if !slices.Equal(g, w) {
						t.Fatalf("messages differ:\n%q\npromhttp:\n%q", g, w)
					}
				}
			})
		}
	}
}

func tail(b []byte) string { return string(b[max(0, len(b)-200):]) }

func compareBlocks(t *testing.T, got, want []byte) {
	t.Helper()
	g, w := blocks(t, got), blocks(t, want)
	if len(g) != len(w) {
		t.Fatalf("%d families, promhttp %d", len(g), len(w))
	}
	for name, wb := range w {
		if g[name] != wb {
			t.Fatalf("family %s:\n%s\npromhttp:\n%s", name, g[name], wb)
		}
	}
}

func compareParsed(t *testing.T, got, want []byte) {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	g, err := p.TextToMetricFamilies(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	w, err := p.TextToMetricFamilies(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != len(w) {
		t.Fatalf("%d families, promhttp %d", len(g), len(w))
	}
	for name, wf := range w {
		if !proto.Equal(g[name], wf) {
			t.Fatalf("family %s:\n%v\npromhttp:\n%v", name, g[name], wf)
		}
	}
}

// splitMessages splits a protobuf text exposition into its messages (one per
// family, blank-line or newline separated), sorted.
func splitMessages(b []byte) []string {
	var out []string
	for _, m := range strings.Split(string(b), "\n\n") {
		for _, line := range strings.Split(m, "\n") {
			if strings.TrimSpace(line) != "" {
				out = append(out, line)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestNameFilter(t *testing.T) {
	f := newFixture(t, testSites)
	ours := Handler(f.live, f.caches, HandlerOpts{})
	for _, ae := range []string{"", "gzip"} {
		target := "/metrics?name[]=kinsta_up&name[]=test_events_total&name[]=nope&name[]=kinsta_site_status"
		got, want := get(t, ours, target, "Accept-Encoding", ae), get(t, f.reference, target, "Accept-Encoding", ae)
		compareBlocks(t, got.body, want.body)
		if n := len(blocks(t, got.body)); n != 3 {
			t.Fatalf("%d families, want 3:\n%s", n, got.body)
		}
		om := "application/openmetrics-text;version=1.0.0"
		got = get(t, ours, target, "Accept", om, "Accept-Encoding", ae)
		if !strings.HasSuffix(string(got.body), "# EOF\n") || strings.Count(string(got.body), "# EOF") != 1 {
			t.Fatalf("filtered OpenMetrics:\n%s", got.body)
		}
	}
}

// TestGzipIsOneMember decodes with a single-member reader (any gzip decoder
// reads it), with gzip(1) and with curl --compressed.
func TestGzipIsOneMember(t *testing.T) {
	f := newFixture(t, testSites)
	ours := Handler(f.live, f.caches, HandlerOpts{}) // uninstrumented: the live part stays the same
	for _, accept := range []string{"", "application/openmetrics-text;version=1.0.0"} {
		plain := get(t, ours, "/metrics", "Accept", accept)
		gz := get(t, ours, "/metrics", "Accept", accept, "Accept-Encoding", "gzip")
		if gz.encoding != "gzip" {
			t.Fatalf("Content-Encoding %q", gz.encoding)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz.raw))
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		one, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(one, plain.body) {
			t.Fatalf("first gzip member is not the whole response (%d of %d bytes)", len(one), len(plain.body))
		}
		if err := zr.Reset(bytes.NewReader(nil)); err != io.EOF {
			// Reset on an empty reader reports EOF; nothing else to check.
			_ = err
		}
		if gzipBin, err := exec.LookPath("gzip"); err == nil {
			cmd := exec.Command(gzipBin, "-dc")
			cmd.Stdin = bytes.NewReader(gz.raw)
			out, err := cmd.Output()
			if err != nil || !bytes.Equal(out, plain.body) {
				t.Fatalf("gzip -dc: %v (%d of %d bytes)", err, len(out), len(plain.body))
			}
		}
	}

	curl, err := exec.LookPath("curl")
	if err != nil {
		skipOutsideCI(t, "curl not installed (.ci/install-deps installs it)")
	}
	srv := httptest.NewServer(ours)
	defer srv.Close()
	plain := get(t, ours, "/metrics")
	out, err := exec.Command(curl, "-sS", "--fail", "--compressed", srv.URL+"/metrics").Output()
	if err != nil {
		t.Fatalf("curl --compressed: %v", err)
	}
	if !bytes.Equal(out, plain.body) {
		t.Fatalf("curl --compressed got %d bytes, want %d", len(out), len(plain.body))
	}
}

func TestPromtoolCheckMetrics(t *testing.T) {
	f := newFixture(t, testSites)
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install the Debian package prometheus (.ci/install-deps)")
	}
	body := get(t, f.handler, "/metrics").body
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestLiveMetricsStayLive: the live part is gathered per request while the
// cached part is rendered once.
func TestLiveMetricsStayLive(t *testing.T) {
	f := newFixture(t, testSites)
	// Instrumented as main.go does it: the handler's counters are live series too.
	h := promhttp.InstrumentMetricHandler(f.live, f.handler)
	for _, ae := range []string{"", "gzip"} {
		first := get(t, h, "/metrics", "Accept-Encoding", ae).body
		f.counter.Inc()
		second := get(t, h, "/metrics", "Accept-Encoding", ae).body
		b1, b2 := blocks(t, first), blocks(t, second)
		if b1["test_events_total"] == b2["test_events_total"] {
			t.Fatalf("a live counter did not change between scrapes:\n%s", b2["test_events_total"])
		}
		if b1["promhttp_metric_handler_requests_total"] == b2["promhttp_metric_handler_requests_total"] {
			t.Fatal("the handler's own request counter did not change between scrapes")
		}
		if b1["kinsta_site_info"] != b2["kinsta_site_info"] || b1["kinsta_site_info"] == "" {
			t.Fatal("cached series changed without a refresh")
		}
	}
	// Identity scrapes are streamed from the rows; the gzip one is kept.
	if n := f.cache.Renders(); n != 1 {
		t.Fatalf("%d renders for 4 scrapes in two encodings, want 1", n)
	}
}

func siteCount(t *testing.T, h http.Handler) int {
	t.Helper()
	return strings.Count(blocks(t, get(t, h, "/metrics", "Accept-Encoding", "gzip").body)["kinsta_site_info"], "\nkinsta_site_info{")
}

func upValue(t *testing.T, h http.Handler) string {
	t.Helper()
	b := strings.TrimSpace(blocks(t, get(t, h, "/metrics", "Accept-Encoding", "gzip").body)["kinsta_up"])
	return b[strings.LastIndexByte(b, ' ')+1:]
}

// TestInvalidation: the rendering follows refreshes and the staleness
// cut-off, and is not redone otherwise.
func TestInvalidation(t *testing.T) {
	f := newFixture(t, testSites)
	h := f.handler
	if n := siteCount(t, h); n != 2 {
		t.Fatalf("%d sites, want 2", n)
	}
	get(t, h, "/metrics", "Accept-Encoding", "gzip") // the kept rendering
	renders := f.cache.Renders()
	step := func(what string, wantRender bool) {
		t.Helper()
		before := f.cache.Renders()
		get(t, h, "/metrics", "Accept-Encoding", "gzip")
		if got := f.cache.Renders() != before; got != wantRender {
			t.Fatalf("%s: re-rendered %v, want %v", what, got, wantRender)
		}
	}
	step("nothing changed", false)

	// Within the TTL Refresh does nothing: no new render.
	f.clock.Add(30 * time.Second)
	f.exp.Sync(context.Background())
	step("refresh within the TTL", false)

	// A refresh with new data.
	f.src.set(testSites[:1], nil)
	f.clock.Add(time.Minute)
	f.exp.Sync(context.Background())
	if n := siteCount(t, h); n != 1 {
		t.Fatalf("after a refresh: %d sites, want 1", n)
	}
	step("after the refresh was served", false)

	// A failed refresh changes kinsta_up; the last good sites stay.
	f.src.set(nil, &kinsta.Error{Kind: kinsta.KindServer, StatusCode: 500})
	f.clock.Add(time.Minute)
	f.exp.Sync(context.Background())
	if v := upValue(t, h); v != "0" {
		t.Fatalf("kinsta_up %s after a failure", v)
	}
	if n := siteCount(t, h); n != 1 {
		t.Fatalf("after a failure: %d sites, want the last good 1", n)
	}

	// The staleness cut-off passes without any refresh: the sites go.
	f.clock.Add(59 * time.Minute) // the last success was exactly --kinsta.max-staleness ago: still served
	step("at max staleness", false)
	if n := siteCount(t, h); n != 1 {
		t.Fatalf("at max staleness: %d sites, want 1", n)
	}
	f.clock.Add(time.Nanosecond)
	step("past max staleness", true)
	if n := siteCount(t, h); n != 0 {
		t.Fatalf("past max staleness: %d sites, want 0", n)
	}
	step("still past max staleness", false)

	// Recovery.
	f.src.set(testSites, nil)
	f.clock.Add(time.Minute)
	f.exp.Sync(context.Background())
	if n := siteCount(t, h); n != 2 {
		t.Fatalf("after recovery: %d sites, want 2", n)
	}
	if f.cache.Renders() <= renders {
		t.Fatal("no renders counted")
	}
}

func TestAcceptEncoding(t *testing.T) {
	f := newFixture(t, testSites)
	ours := Handler(f.live, f.caches, HandlerOpts{})
	for _, ae := range []string{"", "gzip", "GZIP", "identity", "gzip, identity", "identity;q=0.5, gzip", "gzip;q=0",
		"gzip;q=0.5, identity;q=0.6", "*", "*;q=0.5, gzip", "br", "deflate", "x-gzip", "gzip;q=1.0", "gzip;level=1", "identity;q=0, gzip;q=0"} {
		got := get(t, ours, "/metrics", "Accept-Encoding", ae)
		want := get(t, f.reference, "/metrics", "Accept-Encoding", ae)
		g, w := got.encoding, want.encoding
		if ae == "GZIP" || ae == "gzip;level=1" {
			w = "gzip" // promhttp compares case-sensitively and stops at a non-q parameter; RFC 9110 does neither
		}
		if g != w {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, promhttp %q", ae, got.encoding, want.encoding)
		}
	}
}

type recordingLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *recordingLog) Println(v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprint(v...))
}

func TestLiveFamilyClashIsDropped(t *testing.T) {
	f := newFixture(t, testSites)
	clash := prometheus.NewGauge(prometheus.GaugeOpts{Name: "kinsta_site_info", Help: "Clash."})
	f.live.MustRegister(clash)
	logs := &recordingLog{}
	h := Handler(f.live, f.caches, HandlerOpts{ErrorLog: logs})
	body := get(t, h, "/metrics").body
	if strings.Contains(string(body), "Clash.") {
		t.Fatal("the clashing live family was served")
	}
	blocks(t, body) // fails on a repeated family
	get(t, h, "/metrics")
	if len(logs.lines) != 1 || !strings.Contains(logs.lines[0], `"kinsta_site_info"`) {
		t.Fatalf("logs: %q", logs.lines)
	}
}

func TestGatherErrorsContinue(t *testing.T) {
	f := newFixture(t, testSites)
	logs := &recordingLog{}
	failing := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, _ := f.live.Gather()
		return mfs[:1], errors.New("boom")
	})
	h := Handler(failing, []*Cache{NewCache(f.exp, collector.SitesPart, logs)}, HandlerOpts{ErrorLog: logs})
	r := get(t, h, "/metrics")
	if r.code != 200 || !strings.Contains(string(r.body), "kinsta_site_info{") {
		t.Fatalf("%d\n%s", r.code, r.body)
	}
	if len(logs.lines) != 1 || !strings.Contains(logs.lines[0], "boom") {
		t.Fatalf("logs: %q", logs.lines)
	}
	empty := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, errors.New("all gone") })
	invalid := &staticSource{name: "", help: "Invalid.", values: []float64{1}} // no name: invalid in any scheme
	h = Handler(empty, []*Cache{NewCache(invalid, "invalid", logs)}, HandlerOpts{ErrorLog: logs})
	if r := get(t, h, "/metrics"); r.code != http.StatusInternalServerError {
		t.Fatalf("nothing gathered: %d, want 500 as promhttp", r.code)
	}
}

// TestOddAcceptCannotEvict: any client picks its Accept header. Cycling
// every variant, over and over, keeps at most Prometheus' two renderings,
// streams the odd ones, and never makes Prometheus' scrape render again
// (the old cache kept the six used last, so cycling evicted Prometheus'
// rendering: 1 render more, and 59 renders while cycling).
func TestOddAcceptCannotEvict(t *testing.T) {
	f := newFixture(t, testSites)
	h := Handler(f.live, f.caches, HandlerOpts{})
	prometheusScrape := func() { get(t, h, "/metrics", "Accept", acceptCases[2].accept, "Accept-Encoding", "gzip") }
	prometheusScrape()
	afterFirst := f.cache.Renders()
	protobuf := "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding="
	for range 3 {
		for _, ac := range acceptCases {
			for _, ae := range []string{"", "gzip"} {
				get(t, h, "/metrics", "Accept", ac.accept, "Accept-Encoding", ae)
			}
		}
		for _, enc := range []string{"delimited", "text", "compact-text"} {
			for _, ae := range []string{"", "gzip"} {
				get(t, h, "/metrics", "Accept", protobuf+enc, "Accept-Encoding", ae)
			}
		}
	}
	f.cache.mu.Lock()
	kept := len(f.cache.entries)
	f.cache.mu.Unlock()
	if kept > maxKeptVariants {
		t.Errorf("%d variants kept, max %d", kept, maxKeptVariants)
	}
	before := f.cache.Renders()
	prometheusScrape()
	if n := f.cache.Renders() - before; n != 0 {
		t.Errorf("Prometheus' scrape rendered %d times after a client cycled every Accept variant, want 0", n)
	}
	// The text formats render once each with gzip (text and OpenMetrics);
	// every other request is streamed and keeps nothing.
	t.Logf("renders: 1 for the first scrape, %d while cycling; %d odd requests streamed", before-afterFirst, f.cache.Streamed())
	if n := before - afterFirst; n > maxKeptVariants-1 {
		t.Errorf("%d renders while cycling, want at most the %d other kept variants", n, maxKeptVariants-1)
	}
	if f.cache.Streamed() == 0 {
		t.Error("no odd request was streamed")
	}
}

// refusingSource hands over a family whose name the text formats cannot
// carry without escaping, so that rendering falls back to gathering.
type refusingSource struct{ collector.Source }

func (s refusingSource) Gauges(part, family string, yield collector.GaugeYield) bool {
	return s.Source.Gauges(part, family, yield) &&
		(family != "" && family != "test.dotted" || yield("test.dotted", "Needs escaping.", nil, collector.Rows{Values: []float64{1}}))
}

// TestRowsAreRenderedWithoutGathering: every format comes from the rows
// (protobuf one family at a time); rows the formats cannot carry as they
// are, are gathered; both equal promhttp's.
func TestRowsAreRenderedWithoutGathering(t *testing.T) {
	f := newFixture(t, testSites)
	for _, refuse := range []bool{false, true} {
		var src collector.Source = f.exp
		if refuse {
			src = refusingSource{f.exp}
		}
		cache := NewCache(src, collector.SitesPart, nil)
		h := Handler(f.live, []*Cache{cache, f.caches[1]}, HandlerOpts{})
		reg := prometheus.NewRegistry()
		reg.MustRegister(f.live, collector.GaugesCollector(src, collector.SitesPart), collector.GaugesCollector(f.caches[1].source, "other"))
		reference := promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
		for _, accept := range []string{"", "application/openmetrics-text;version=1.0.0"} {
			for _, ae := range []string{"", "gzip"} {
				got, want := get(t, h, "/metrics", "Accept", accept, "Accept-Encoding", ae), get(t, reference, "/metrics", "Accept", accept)
				compareBlocks(t, got.body, want.body)
			}
		}
		if gathered := cache.Gathers() > 0; gathered != refuse {
			t.Fatalf("refuse=%v: %d gathers for the text formats", refuse, cache.Gathers())
		}
		delimited := "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
		got, want := get(t, h, "/metrics", "Accept", delimited), get(t, reference, "/metrics", "Accept", delimited)
		format := expfmt.Format(got.header.Get("Content-Type"))
		g, w := decodeProto(t, got.body, format), decodeProto(t, want.body, format)
		if len(g) != len(w) {
			t.Fatalf("refuse=%v: %d protobuf families, promhttp %d", refuse, len(g), len(w))
		}
		for i := range g {
			if !proto.Equal(g[i], w[i]) {
				t.Fatalf("refuse=%v: family %d differs:\n%v\npromhttp:\n%v", refuse, i, g[i], w[i])
			}
		}
		if gathered := cache.Gathers() > 0; gathered != refuse {
			t.Fatalf("refuse=%v: %d gathers with protobuf", refuse, cache.Gathers())
		}
	}
}

// TestLargeGzipIsOneStream: an exposition of several compression chunks,
// streamed from the rows or compressed from a cached identity rendering,
// decodes to the identity one with any gzip reader.
func TestLargeGzipIsOneStream(t *testing.T) {
	f := newFixture(t, generatedSites(t, 3000))
	for _, identityFirst := range []bool{false, true} {
		h := Handler(f.live, []*Cache{NewCache(f.exp, collector.SitesPart, nil)}, HandlerOpts{})
		var plain response
		if identityFirst {
			plain = get(t, h, "/metrics")
		}
		gz := get(t, h, "/metrics", "Accept-Encoding", "gzip")
		if !identityFirst {
			plain = get(t, h, "/metrics")
		}
		if len(plain.body) < 3*deflateChunk {
			t.Fatalf("only %d bytes: not several chunks", len(plain.body))
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz.raw))
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		one, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(one, plain.body) {
			t.Fatalf("identity first %v: %v, %d of %d bytes", identityFirst, err, len(one), len(plain.body))
		}
		if gzipBin, err := exec.LookPath("gzip"); err == nil {
			cmd := exec.Command(gzipBin, "-dc")
			cmd.Stdin = bytes.NewReader(gz.raw)
			if out, err := cmd.Output(); err != nil || !bytes.Equal(out, plain.body) {
				t.Fatalf("gzip -dc: %v", err)
			}
		}
	}
}

// A client cycling through escaping schemes in Accept must not force a render
// of the cached part per request: the names are legacy names, unchanged by any.
func TestEscapingSchemesShareOneRender(t *testing.T) {
	f := newFixture(t, testSites)
	for _, scheme := range []string{"underscores", "allow-utf-8", "dots", "values", "underscores", "allow-utf-8", "dots", "values"} {
		accept := "text/plain;version=0.0.4;escaping=" + scheme
		if body := get(t, f.handler, "/metrics", "Accept", accept, "Accept-Encoding", "gzip").body; !strings.Contains(string(body), "kinsta_site_info{") {
			t.Fatalf("Accept %q: no site series", accept)
		}
	}
	if n := f.cache.Renders(); n != 1 {
		t.Fatalf("%d renders for one format in 4 escaping schemes, want 1", n)
	}
}

// skipOutsideCI skips on a developer's machine that lacks a tool, but fails in
// CI (CI=true), where a missing tool means a missing install step.
func skipOutsideCI(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}
