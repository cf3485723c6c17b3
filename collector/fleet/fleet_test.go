package fleet

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// api serves one kinstatest.Fake per API key, picked by the Authorization
// header, as the real API scopes every key to its company.
type api struct {
	url   string
	fakes map[string]*kinstatest.Fake // by key
}

func newAPI(t *testing.T, companies map[string]*kinstatest.Company) *api {
	t.Helper()
	a := &api{fakes: map[string]*kinstatest.Fake{}}
	for key, c := range companies {
		a.fakes[key] = kinstatest.New(key, c)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := a.fakes[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if f == nil {
			f = a.fakes["key-a"] // answers 401 for a wrong key
		}
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

func (a *api) sitesCalls(key string) int { return a.fakes[key].Requests(kinstatest.RouteSites) }

func company(id string, sites ...string) *kinstatest.Company {
	c := &kinstatest.Company{ID: id}
	for _, s := range sites {
		c.Sites = append(c.Sites, kinstatest.Site{ID: s, Name: s, DisplayName: s, Status: "live"})
	}
	return c
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newFleet(t *testing.T, a *api, clk *clock, collectors map[string]time.Duration) (*Fleet, *int) {
	t.Helper()
	clients := 0
	limiter := rate.NewLimiter(rate.Inf, 1)
	f := New(Options{
		NewClient: func(key string) (*kinsta.Client, error) {
			clients++
			return kinsta.New(kinsta.Config{BaseURL: a.url, APIKey: key, Limiter: limiter})
		},
		Collector: collector.Config{CacheTTL: time.Minute, RefreshTimeout: 5 * time.Second,
			MaxStaleness: time.Hour, Now: clk.now, Collectors: collectors},
		Logger: log.NewNopLogger(),
	})
	return f, &clients
}

func gather(t *testing.T, f *Fleet) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.GaugesCollector(f, collector.SitesPart), collector.LiveCollector(f))
	n, err := testutil.GatherAndCount(reg)
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	if n == 0 {
		t.Fatal("no series")
	}
	mfs, _ := reg.Gather()
	var b strings.Builder
	for _, mf := range mfs {
		b.WriteString(mf.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestCompaniesWithTheirOwnKeys(t *testing.T) {
	a := newAPI(t, map[string]*kinstatest.Company{
		"key-a": company("company-a", "site-a1", "site-a2"),
		"key-b": company("company-b", "site-b1"),
	})
	clk := &clock{time.Unix(1_700_000_000, 0)}
	f, clients := newFleet(t, a, clk, nil)
	if _, err := f.Apply([]Company{{ID: "company-a", Name: "A", Key: "key-a"}, {ID: "company-b", Key: "key-b"}}); err != nil {
		t.Fatal(err)
	}
	f.Refresh(context.Background())
	if *clients != 2 || a.sitesCalls("key-a") != 1 || a.sitesCalls("key-b") != 1 {
		t.Fatalf("clients %d, sites calls %d %d", *clients, a.sitesCalls("key-a"), a.sitesCalls("key-b"))
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collector.GaugesCollector(f, collector.SitesPart), collector.LiveCollector(f))
	want := `
# HELP kinsta_company_info A Kinsta company the exporter is configured to export (--config.file or --kinsta.company), with its name from the configuration file (empty when none is given); always 1.
# TYPE kinsta_company_info gauge
kinsta_company_info{company="company-a",name="A"} 1
kinsta_company_info{company="company-b",name=""} 1
# HELP kinsta_up 1 if the last refresh of the company's sites from the Kinsta API (GET /sites) succeeded, 0 otherwise. Refreshed at most once per --kinsta.cache-ttl.
# TYPE kinsta_up gauge
kinsta_up{company="company-a"} 1
kinsta_up{company="company-b"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kinsta_company_info", "kinsta_up"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(collector.GaugesCollector(f, collector.SitesPart), "kinsta_site_info"); n != 3 {
		t.Fatalf("%d kinsta_site_info series, want 3", n)
	}
}

func TestReloadKeepsTheCacheOfUnchangedCompanies(t *testing.T) {
	a := newAPI(t, map[string]*kinstatest.Company{
		"key-a": company("company-a", "site-a1"),
		"key-b": company("company-b", "site-b1"),
		"key-c": company("company-c", "site-c1"),
	})
	clk := &clock{time.Unix(1_700_000_000, 0)}
	f, clients := newFleet(t, a, clk, nil)
	if _, err := f.Apply([]Company{{ID: "company-a", Key: "key-a"}, {ID: "company-b", Key: "key-b"}}); err != nil {
		t.Fatal(err)
	}
	f.Refresh(context.Background())
	gen := f.Generation(collector.SitesPart)
	if f.Generation(collector.SitesPart) != gen {
		t.Fatal("generation moved without a change")
	}

	// Same configuration again: nothing changes, not even the generation.
	ch, err := f.Apply([]Company{{ID: "company-a", Key: "key-a"}, {ID: "company-b", Key: "key-b"}})
	if err != nil || len(ch.Kept) != 2 || len(ch.Added)+len(ch.Removed)+len(ch.Restarted) != 0 {
		t.Fatalf("%+v %v", ch, err)
	}
	if f.Generation(collector.SitesPart) != gen {
		t.Fatal("an identical reload changed the generation")
	}

	// b goes, c comes, a is renamed: a keeps its cache.
	clk.t = clk.t.Add(10 * time.Second) // within the TTL
	ch, err = f.Apply([]Company{{ID: "company-a", Name: "renamed", Key: "key-a"}, {ID: "company-c", Key: "key-c"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ch.Added, ",") != "company-c" || strings.Join(ch.Removed, ",") != "company-b" ||
		strings.Join(ch.Kept, ",") != "company-a" || strings.Join(ch.Renamed, ",") != "company-a" {
		t.Fatalf("changes %+v", ch)
	}
	if f.Generation(collector.SitesPart) == gen {
		t.Fatal("a reload that changed the companies kept the generation")
	}
	f.Refresh(context.Background())
	if a.sitesCalls("key-a") != 1 || a.sitesCalls("key-c") != 1 {
		t.Fatalf("sites calls: a %d (want 1: cached), c %d", a.sitesCalls("key-a"), a.sitesCalls("key-c"))
	}
	body := gather(t, f)
	if strings.Contains(body, "company-b") || !strings.Contains(body, `value:"renamed"`) {
		t.Fatalf("removed company still served or rename missing:\n%s", body)
	}
	if *clients != 3 {
		t.Fatalf("%d clients, want 3 (one per key)", *clients)
	}

	// A new key for a restarts that company only.
	a.fakes["key-a2"] = kinstatest.New("key-a2", company("company-a", "site-a1"))
	ch, err = f.Apply([]Company{{ID: "company-a", Key: "key-a2"}, {ID: "company-c", Key: "key-c"}})
	if err != nil || strings.Join(ch.Restarted, ",") != "company-a" || strings.Join(ch.Kept, ",") != "company-c" {
		t.Fatalf("%+v %v", ch, err)
	}
	f.Refresh(context.Background())
	if a.sitesCalls("key-a2") != 1 || a.sitesCalls("key-c") != 1 {
		t.Fatalf("sites calls: a2 %d, c %d", a.sitesCalls("key-a2"), a.sitesCalls("key-c"))
	}
}

func TestLookupMakesNoAPICall(t *testing.T) {
	a := newAPI(t, map[string]*kinstatest.Company{"key-a": company("company-a", "s")})
	f, _ := newFleet(t, a, &clock{time.Unix(1_700_000_000, 0)}, nil)
	if _, err := f.Apply([]Company{{ID: "company-a", Name: "A", Key: "key-a"}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "company-b", "COMPANY-A"} {
		if _, ok := f.Lookup(id); ok {
			t.Fatalf("%q found", id)
		}
	}
	target, ok := f.Lookup("company-a")
	if !ok || target.Name != "A" {
		t.Fatal("company-a not found")
	}
	if n := a.fakes["key-a"].Requests(""); n != 0 {
		t.Fatalf("%d API calls before any refresh", n)
	}
	target.Refresh(context.Background())
	if n := testutil.CollectAndCount(everything(target), "kinsta_site_info", "kinsta_up", "kinsta_company_info"); n != 3 {
		t.Fatalf("%d series", n)
	}
}

func TestDiscoveredCompany(t *testing.T) {
	a := newAPI(t, map[string]*kinstatest.Company{"key-a": company("company-a", "s")})
	f, _ := newFleet(t, a, &clock{time.Unix(1_700_000_000, 0)}, nil)
	if _, err := f.Apply([]Company{{Key: "key-a"}}); err != nil {
		t.Fatal(err)
	}
	if !f.Undiscovered() || len(f.Companies()) != 0 {
		t.Fatal("company known before GET /validate")
	}
	f.Discover(context.Background())
	if f.Undiscovered() {
		t.Fatal("not discovered")
	}
	if got := f.Companies(); len(got) != 1 || got[0].ID != "company-a" {
		t.Fatalf("companies %+v", got)
	}
	if _, ok := f.Lookup("company-a"); !ok {
		t.Fatal("discovered company not found")
	}
	if n := testutil.CollectAndCount(collector.GaugesCollector(f, collector.SitesPart), "kinsta_company_info"); n != 0 {
		t.Fatalf("kinsta_company_info for a company not configured: %d", n)
	}
}

func TestApplyRefusesAndKeepsTheOldCompanies(t *testing.T) {
	a := newAPI(t, map[string]*kinstatest.Company{"key-a": company("company-a", "s")})
	f, _ := newFleet(t, a, &clock{time.Unix(1_700_000_000, 0)}, nil)
	if _, err := f.Apply([]Company{{ID: "company-a", Key: "key-a"}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]Company{
		{{ID: "x", Key: "k"}, {ID: "x", Key: "k"}},
		{{ID: "x"}},
		{{Key: "k"}, {ID: "y", Key: "k"}},
		{{ID: "x", Key: "bad key with spaces"}},
	} {
		if _, err := f.Apply(bad); err == nil {
			t.Fatalf("%+v accepted", bad)
		}
	}
	if got := f.Companies(); len(got) != 1 || got[0].ID != "company-a" {
		t.Fatalf("companies changed: %+v", got)
	}
}

// With switchable collectors every exporter has refresh queue series labelled
// by collector only; they must be merged, not sent once per company.
func TestQueueSeriesMergedAcrossCompanies(t *testing.T) {
	a := newAPI(t, map[string]*kinstatest.Company{
		"key-a": company("company-a", "s1"),
		"key-b": company("company-b", "s2"),
	})
	f, _ := newFleet(t, a, &clock{time.Unix(1_700_000_000, 0)}, map[string]time.Duration{"apikey": 0, "usage": 0})
	if _, err := f.Apply([]Company{{ID: "company-a", Key: "key-a"}, {ID: "company-b", Key: "key-b"}, {ID: "company-c", Key: "key-b"}}); err != nil {
		t.Fatal(err)
	}
	f.Refresh(context.Background())
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.GaugesCollector(f, collector.SitesPart), collector.LiveCollector(f))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	// Two keys: two apikey items, one per key, however many companies.
	items := -1.0
	for _, mf := range mfs {
		if mf.GetName() != "kinsta_exporter_refresh_queue_items" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == "apikey" {
				items = m.GetGauge().GetValue()
			}
		}
	}
	if items != 2 {
		t.Fatalf("apikey queue items %g, want 2", items)
	}
}

// TestKeptCompanyKeepsItsExporterWhenTheKeyOwnerGoes: the company that ran
// the apikey collector for a key is removed; a new company with that key
// takes the collector over, and a kept company with the key keeps its
// exporter, with its caches.
func TestKeptCompanyKeepsItsExporterWhenTheKeyOwnerGoes(t *testing.T) {
	a := newAPI(t, map[string]*kinstatest.Company{"key-a": company("company-a", "s1")})
	f, _ := newFleet(t, a, &clock{time.Unix(1_700_000_000, 0)}, map[string]time.Duration{"apikey": 0})
	if _, err := f.Apply([]Company{{ID: "owner", Key: "key-a"}, {ID: "kept", Key: "key-a"}}); err != nil {
		t.Fatal(err)
	}
	before, _ := f.Lookup("kept")
	ch, err := f.Apply([]Company{{ID: "kept", Key: "key-a"}, {ID: "new", Key: "key-a"}})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := f.Lookup("kept")
	if after.Exporter() != before.Exporter() || !slices.Contains(ch.Kept, "kept") {
		t.Fatalf("the kept company got a new exporter (changes %+v)", ch)
	}
	st := f.state.Load()
	if !st.byID["new"].run.apiKey || st.byID["kept"].run.apiKey {
		t.Fatal("the new company does not run the apikey collector in the owner's place")
	}
}
