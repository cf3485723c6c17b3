package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// domainsCompany is a company whose environments have the domain variants
// the sources disagree on, served by the fake API over HTTP.
func domainsCompany() *kinstatest.Company {
	return &kinstatest.Company{ID: "c1", Sites: []kinstatest.Site{
		{ID: "s1", Name: "acme", DisplayName: "Acme Bakery", Status: "live", Environments: []kinstatest.Environment{
			{ID: "e1", Name: "live", DisplayName: "Live", PrimaryDomain: "WWW.Acme.example", Domains: []kinstatest.Domain{
				{Name: "acme.example"}, {Name: "*.acme.example"}, {Name: "www.acme.example"}, // repeat, other case
				{Name: "old.acme.example", Inactive: true}, {Name: "not a host"},
			}},
			// The recorded shape: no is_active, so no _active series.
			{ID: "e2", Name: "staging", DisplayName: "Staging", PrimaryDomain: "staging-acme.kinsta.cloud.example",
				Wire: kinstatest.WireDomainsRecorded},
		}},
		{ID: "s2", Name: "paused", DisplayName: "Paused Site", Status: "suspended", Environments: []kinstatest.Environment{
			{ID: "e3", Name: "live", DisplayName: "Live"}, // no domain at all
		}},
	}}
}

// TestDomainSeries: one info series per exportable domain, primary marked,
// wildcards and non-host names out, repeats once; _active only where the API
// sent is_active.
func TestDomainSeries(t *testing.T) {
	_, client := fakeAPI(t, domainsCompany())
	e := newExporter(t, client, testConfig(newFakeClock(), "c1"), log.NewNopLogger())
	e.Sync(context.Background())

	want := `
# HELP kinsta_environment_domain_active ` + envDomainActive.help + `
# TYPE kinsta_environment_domain_active gauge
kinsta_environment_domain_active{company="c1",domain="acme.example",environment_id="e1",site_id="s1"} 1
kinsta_environment_domain_active{company="c1",domain="old.acme.example",environment_id="e1",site_id="s1"} 0
kinsta_environment_domain_active{company="c1",domain="www.acme.example",environment_id="e1",site_id="s1"} 1
# HELP kinsta_environment_domain_info ` + envDomainInfo.help + `
# TYPE kinsta_environment_domain_info gauge
kinsta_environment_domain_info{company="c1",domain="acme.example",environment_id="e1",primary="false",site_id="s1"} 1
kinsta_environment_domain_info{company="c1",domain="old.acme.example",environment_id="e1",primary="false",site_id="s1"} 1
kinsta_environment_domain_info{company="c1",domain="staging-acme.kinsta.cloud.example",environment_id="e2",primary="true",site_id="s1"} 1
kinsta_environment_domain_info{company="c1",domain="www.acme.example",environment_id="e1",primary="true",site_id="s1"} 1
`
	c := GaugesCollector(e, SitesPart)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"kinsta_environment_domain_info", "kinsta_environment_domain_active"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}

	company, envs := e.Domains()
	got := company + " " + fmt.Sprint(envs)
	wantDomains := "c1 [" +
		"{s1 acme Acme Bakery live e1 live Live [{www.acme.example true true true} {acme.example false true true} {old.acme.example false false true}]} " +
		"{s1 acme Acme Bakery live e2 staging Staging [{staging-acme.kinsta.cloud.example true false false}]}]"
	if got != wantDomains {
		t.Fatalf("Domains() =\n%s\nwant\n%s", got, wantDomains)
	}
	if d := envs[0].Domains[2]; !d.Inactive() {
		t.Errorf("%+v: Inactive() false, want true", d)
	}
	if d := envs[1].Domains[0]; d.Inactive() {
		t.Errorf("%+v (is_active not sent): Inactive() true, want false", d)
	}
}

// TestDomainsBoundedPerEnvironment: a list of many domains keeps
// DefaultDomainsPerEnvironment of them, the primary among them even when the
// API lists it last.
func TestDomainsBoundedPerEnvironment(t *testing.T) {
	var many []kinsta.Domain
	for i := range 3 * DefaultDomainsPerEnvironment {
		many = append(many, kinsta.Domain{Name: fmt.Sprintf("d%03d.example", i)})
	}
	// Nothing promises the primary comes first: here it comes last.
	many = append(many, kinsta.Domain{Name: "primary.example", IsPrimary: true})
	src := newFakeSource()
	src.set("c1", []kinsta.Site{{ID: "s1", Name: "big", Status: "live",
		Environments: []kinsta.Environment{{ID: "e1", Name: "live", PrimaryDomain: "primary.example", Domains: many}}}}, nil)
	e := newExporter(t, src, testConfig(newFakeClock(), "c1"), log.NewNopLogger())
	e.Sync(context.Background())

	_, envs := e.Domains()
	if len(envs) != 1 || len(envs[0].Domains) != DefaultDomainsPerEnvironment {
		t.Fatalf("Domains() kept %d environments, %v domains; want 1 with %d", len(envs), len(envs[0].Domains), DefaultDomainsPerEnvironment)
	}
	if d := envs[0].Domains[0]; d.Name != "primary.example" || !d.Primary {
		t.Fatalf("first domain %+v, want the primary", d)
	}
	if n := testutil.CollectAndCount(GaugesCollector(e, SitesPart), "kinsta_environment_domain_info"); n != DefaultDomainsPerEnvironment {
		t.Fatalf("%d kinsta_environment_domain_info series, want %d", n, DefaultDomainsPerEnvironment)
	}
}

// TestDomainsSurviveFailuresAndExpiry: a failed refresh keeps the last good
// domains, and so does the staleness cut-off that drops the series.
func TestDomainsSurviveFailuresAndExpiry(t *testing.T) {
	fake, client := fakeAPI(t, domainsCompany())
	clock := newFakeClock()
	e := newExporter(t, client, testConfig(clock, "c1"), log.NewNopLogger())
	if _, envs := e.Domains(); envs != nil {
		t.Fatalf("Domains() before any refresh = %v, want nil", envs)
	}
	e.Sync(context.Background())
	_, before := e.Domains()
	fake.SetFault("", kinstatest.Fault{Status: 500})
	clock.Add(2 * e.cfg.MaxStaleness)
	e.Sync(context.Background())
	if n := testutil.CollectAndCount(GaugesCollector(e, SitesPart), "kinsta_environment_domain_info"); n != 0 {
		t.Fatalf("%d domain series after the staleness cut-off, want 0", n)
	}
	if _, after := e.Domains(); fmt.Sprint(after) != fmt.Sprint(before) || len(after) == 0 {
		t.Fatalf("Domains() after failures = %v, want the last good %v", after, before)
	}
}

// BenchmarkBuildSiteRowsDomains is BenchmarkBuildSiteRows with a realistic
// domain list: each live environment has its primary www domain, the apex
// and a wildcard (left out), each staging environment its primary. It
// reports the series of the sites part and how many are domain series.
func BenchmarkBuildSiteRowsDomains(b *testing.B) {
	co := kinstatest.GenerateCompany("bench", 10000, 2, 2)
	for i := range co.Sites {
		e := &co.Sites[i].Environments[0]
		apex := co.Sites[i].Name + ".example.com"
		e.Domains = []kinstatest.Domain{{Name: apex}, {Name: "*." + apex}}
	}
	fake := kinstatest.New("bench-key", co)
	req := httptest.NewRequest(http.MethodGet, "/sites?company=bench&include_environments=true", nil)
	req.Header.Set("Authorization", "Bearer bench-key")
	rec := httptest.NewRecorder()
	fake.ServeHTTP(rec, req)
	sites, err := kinsta.DecodeSites(rec.Body)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var rows *siteRows
	for b.Loop() {
		built, _ := buildSiteRows("bench", sites, Limits{}, siteBuildPrev{})
		rows = built.rows
	}
	b.ReportMetric(float64(rows.series()), "series")
	b.ReportMetric(float64(len(rows[rowEnvDomainInfo].values)+len(rows[rowEnvDomainActive].values)), "domain-series")
}
