package e2e

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/grafana/queries"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// reachabilityRow is the dashboard row of the probe series: only
// TestReachability runs blackbox_exporter, so only it requires their data.
const reachabilityRow = "Reachability"

// probeQuery reports whether a dashboard query reads blackbox_exporter's
// series: the $probe_job variable and the Reachability row. Only
// TestReachability has them; the other end-to-end tests leave them out.
func probeQuery(t *testing.T, q queries.Query) bool {
	return q.Source == "variable probe_job" || dashboardPanels(t)[panelID(q.Source)].row == reachabilityRow
}

// The shipped files TestReachability runs, as shipped but for addresses and
// intervals.
var (
	blackboxFile = filepath.Join("..", "deploy", "blackbox", "blackbox.yml")
	promFile     = filepath.Join("..", "deploy", "prometheus", "prometheus.yml")
)

// reachSite is a site of the test company and what its primary domain does.
type reachSite struct {
	id, slug, display string
	status            int           // the server's answer
	valid             time.Duration // of its certificate
	stopped           bool          // its server is gone: connections are refused
	alerts            []string      // the reachability alerts it must fire
}

var reachSites = []reachSite{
	{id: "6f1c2b7e-0001-4c1a-9a10-000000000001", slug: "harbour-bakery", display: "Harbour Bakery", status: 200, valid: 90 * 24 * time.Hour},
	{id: "6f1c2b7e-0002-4c1a-9a10-000000000002", slug: "orchard-books", display: "Orchard Books", status: 200, valid: 3 * 24 * time.Hour,
		alerts: []string{"KinstaSiteCertificateExpiring"}},
	{id: "6f1c2b7e-0003-4c1a-9a10-000000000003", slug: "cedar-dental", display: "Cedar Dental", status: 503, valid: 90 * 24 * time.Hour,
		alerts: []string{"KinstaSiteDomainDown"}},
	{id: "6f1c2b7e-0004-4c1a-9a10-000000000004", slug: "lumen-studio", display: "Lumen Studio", status: 200, valid: 90 * 24 * time.Hour,
		stopped: true, alerts: []string{"KinstaSiteDomainDown"}},
}

// reachCompany is the fake Kinsta company: the sites above, each with a
// live environment (primary www.<slug>.example, the apex and a wildcard
// beside it) and a staging one, and a suspended site. Only the live sites'
// primary domains are probed by default; no server exists for the others,
// and the proxy refuses them.
func reachCompany() *kinstatest.Company {
	c := &kinstatest.Company{ID: "6f1c2b7e-c0c0-4c1a-9a10-0000000000c0"}
	for _, s := range reachSites {
		c.Sites = append(c.Sites, kinstatest.Site{ID: s.id, Name: s.slug, DisplayName: s.display, Status: "live",
			Environments: []kinstatest.Environment{
				{ID: s.id[:30] + "e1", Name: "live", DisplayName: "Live", PrimaryDomain: "www." + s.slug + ".example",
					Domains: []kinstatest.Domain{{Name: s.slug + ".example"}, {Name: "*." + s.slug + ".example"}}},
				{ID: s.id[:30] + "e2", Name: "staging", DisplayName: "Staging", PrimaryDomain: "staging." + s.slug + ".example"},
			}})
	}
	c.Sites = append(c.Sites, kinstatest.Site{ID: "6f1c2b7e-0005-4c1a-9a10-000000000005", Name: "paused-gallery",
		DisplayName: "Paused Gallery", Status: "suspended", Environments: []kinstatest.Environment{
			{ID: "6f1c2b7e-0005-4c1a-9a10-0000000000e1", Name: "live", DisplayName: "Live", PrimaryDomain: "www.paused-gallery.example"}}})
	return c
}

// TestReachability: the exporter's /sd/domains, the shipped blackbox module
// and kinsta-domains job, the real blackbox_exporter and Prometheus, and the
// shipped rules (every `for:` shortened): exactly the expected reachability
// alerts fire, named by the site's display name. The exporter runs with
// --web.probe-only, so its inventory comes from /probe scrapes alone.
func TestReachability(t *testing.T) {
	if os.Getenv("KINSTA_E2E_SKIP") == "1" {
		t.Skip("!!!!! KINSTA_E2E_SKIP=1: the reachability end-to-end test is SKIPPED. !!!!!")
	}
	start := time.Now()
	bins := requireBinaries(t)
	blackboxBin, err := exec.LookPath("prometheus-blackbox-exporter")
	if err != nil {
		t.Fatal("the reachability test needs prometheus-blackbox-exporter in PATH: run .ci/install-deps " +
			"(Debian: apt-get install -y --no-install-recommends prometheus-blackbox-exporter)")
	}
	dir := t.TempDir()
	var procs []*process
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range procs {
				t.Logf("----- last lines of %s log -----\n%s", p.name, tail(p.logPath, 40))
			}
		}
	})
	exporterBin := buildExporter(t, dir)

	company := reachCompany()
	key := randomHex(t)
	fake := kinstatest.New(key, company)
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	t.Cleanup(fake.Close)

	ca := newTestCA(t)
	routes := map[string]string{}
	for _, s := range reachSites {
		routes["www."+s.slug+".example:443"] = siteServer(t, ca, "www."+s.slug+".example", time.Now().Add(s.valid), s.status, s.stopped)
	}
	proxy, proxyAddr := startConnectProxy(t, routes)

	exporterAddr, blackboxAddr, promAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	caFile := writeFile(t, dir, "ca.pem", string(ca.pem))
	bbConfig := writeFile(t, dir, "blackbox.yml", testBlackboxConfig(t, caFile, proxyAddr))
	runTool(t, blackboxBin, "--config.file="+bbConfig, "--config.check")
	rulesCopy, _ := shortenedRules(t)
	writeFile(t, dir, "rules.yml", rulesCopy)
	promConfig := writeFile(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  # The company from /sd, scraped at /probe?company=<id>: with
  # --web.probe-only that is what refreshes the exporter's inventory.
  - job_name: kinsta
    http_sd_configs: [{url: 'http://%s/sd', refresh_interval: 1s}]
%s`, exporterAddr, testDomainsJob(t, exporterAddr, blackboxAddr)))
	runTool(t, bins.promtool, "check", "config", promConfig)

	startProcess(t, &procs, "kinsta_exporter", dir, append(withoutKinstaEnv(os.Environ()), "KINSTA_API_KEY="+key),
		exporterBin, "--web.probe-only", "--kinsta.company="+company.ID, "--kinsta.api-url="+api.URL,
		"--kinsta.rate-limit=10", "--web.listen-address="+exporterAddr)
	// One /probe of the company, as Prometheus' kinsta job will make, before
	// Prometheus starts: its first read of /sd/domains then lists the domains
	// instead of waiting for the next refresh_interval and scrape-manager tick.
	(&env{t: t, procs: procs}).poll("exporter ready and the company probed once", func() (bool, string) {
		err := httpGet("http://"+exporterAddr+"/probe?company="+company.ID, nil)
		return err == nil, fmt.Sprint(err)
	})
	blackbox := startProcess(t, &procs, "blackbox_exporter", dir, os.Environ(), blackboxBin,
		"--config.file="+bbConfig, "--web.listen-address="+blackboxAddr)
	prom := startProcess(t, &procs, "prometheus", dir, os.Environ(), bins.prometheus,
		"--config.file="+promConfig, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promAddr, "--web.external-url=http://"+promAddr+"/")
	e := &env{t: t, procs: procs, prom: "http://" + promAddr}
	for _, p := range []struct {
		proc *process
		url  string
	}{{blackbox, "http://" + blackboxAddr + "/-/healthy"},
		{prom, "http://" + promAddr + "/-/ready"}} {
		e.poll(p.proc.name+" ready", func() (bool, string) {
			err := httpGet(p.url, nil)
			return err == nil, fmt.Sprint(err)
		})
	}

	e.step("kinsta-domains probes exactly the live sites' primary domains, with their site labels", func() (bool, string) {
		return e.domainTargets(company.ID)
	})
	e.step("probe_success: 1 for the answering domains, 0 for the 503 and the stopped one", func() (bool, string) {
		v, err := e.query(`probe_success{job="kinsta-domains"}`)
		if err != nil {
			return false, err.Error()
		}
		got := map[string]float64{}
		for _, s := range v {
			got[s.Metric["instance"]] = s.Value
		}
		want := map[string]float64{}
		for _, s := range reachSites {
			want["www."+s.slug+".example"] = boolFloat(s.status/100 == 2 && !s.stopped)
		}
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprintf("probe_success %v, want %v", got, want)
	})
	e.step("exactly the expected reachability alerts fire, by display name", e.reachabilityAlerts)
	time.Sleep(3 * time.Second) // a few more evaluations: nothing else starts
	e.step("and nothing else after 3s more", e.reachabilityAlerts)

	n := 0
	wantStat := map[string]float64{"Domains probed": 4, "Domains down": 2, "Certificates expiring within 14 days": 1}
	for _, q := range dashboardQueries(t) {
		if !probeQuery(t, q) {
			continue
		}
		n++
		e.step("dashboard, probe series: "+q.Source, func() (bool, string) { return e.nonEmpty(q) })
		if want, ok := wantStat[dashboardPanels(t)[panelID(q.Source)].title]; ok {
			e.step(fmt.Sprintf("dashboard: %s = %g", q.Source, want), func() (bool, string) {
				v, err := e.scalar(q.PromQL)
				return err == nil && v == want, fmt.Sprintf("%v (err %v), want %g", v, err, want)
			})
			delete(wantStat, dashboardPanels(t)[panelID(q.Source)].title)
		}
	}
	if len(wantStat) > 0 {
		t.Fatalf("no dashboard panels %v", wantStat)
	}
	if n < 7 {
		t.Fatalf("found %d dashboard queries of probe series (the Reachability row and $probe_job), want 7 or more", n)
	}
	asked := proxy.hosts()
	if len(asked) != len(routes) {
		t.Fatalf("blackbox asked the proxy for %v, want exactly %d names: the live sites' primary domains", asked, len(routes))
	}
	for host := range asked {
		if _, ok := routes[host]; !ok {
			t.Fatalf("blackbox asked the proxy for %s, which /sd/domains should not list by default (asked: %v)", host, asked)
		}
	}
	t.Logf("TestReachability took %s", time.Since(start).Round(100*time.Millisecond))
}

// domainTargets checks the kinsta-domains targets: one per live site, the
// primary domain as instance, and the labels of the shipped relabelling.
func (e *env) domainTargets(companyID string) (bool, string) {
	var data struct {
		ActiveTargets []struct {
			ScrapePool string            `json:"scrapePool"`
			Labels     map[string]string `json:"labels"`
			ScrapeURL  string            `json:"scrapeUrl"`
		} `json:"activeTargets"`
	}
	if err := e.promAPI("/api/v1/targets", url.Values{"state": {"active"}}, &data); err != nil {
		return false, err.Error()
	}
	var got, want []string
	for _, tg := range data.ActiveTargets {
		if tg.ScrapePool == "kinsta-domains" {
			l := tg.Labels
			got = append(got, strings.Join([]string{l["instance"], l["domain"], l["company"], l["site_id"], l["name"],
				l["display_name"], l["environment_name"], l["primary"], scrapeTarget(tg.ScrapeURL)}, " "))
		}
	}
	for _, s := range reachSites {
		d := "www." + s.slug + ".example"
		want = append(want, strings.Join([]string{d, d, companyID, s.id, s.slug, s.display, "live", "true", "https://" + d}, " "))
	}
	sort.Strings(got)
	sort.Strings(want)
	return slices.Equal(got, want), fmt.Sprintf("targets\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
}

// scrapeTarget is the target parameter of a probe's scrape URL.
func scrapeTarget(scrapeURL string) string {
	u, err := url.Parse(scrapeURL)
	if err != nil {
		return err.Error()
	}
	return u.Query().Get("target")
}

// reachabilityAlerts checks that the alerts of group kinsta-reachability
// are exactly those of reachSites, firing, with the display name in the
// labels and the summary, and the last status in KinstaSiteDomainDown's
// description.
func (e *env) reachabilityAlerts() (bool, string) {
	alerts, err := e.promAlerts()
	if err != nil {
		return false, err.Error()
	}
	var got, want, problems []string
	for _, s := range reachSites {
		for _, a := range s.alerts {
			want = append(want, a+" "+s.display+" www."+s.slug+".example firing")
		}
	}
	for _, a := range alerts {
		name := a.Labels["alertname"]
		if !strings.HasPrefix(name, "KinstaSiteDomain") && name != "KinstaSiteCertificateExpiring" {
			continue
		}
		display := a.Labels["display_name"]
		got = append(got, name+" "+display+" "+a.Labels["instance"]+" "+a.State)
		if !strings.Contains(a.Annotations["summary"], display) {
			problems = append(problems, fmt.Sprintf("%s: summary %q lacks %q", name, a.Annotations["summary"], display))
		}
		if name == "KinstaSiteDomainDown" {
			status := map[string]string{"Cedar Dental": "last HTTP status: 503 ", "Lumen Studio": "last HTTP status: 0 "}[display]
			if !strings.Contains(a.Annotations["description"], status) {
				problems = append(problems, fmt.Sprintf("%s for %s: description %q lacks %q", name, display, a.Annotations["description"], status))
			}
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) || len(problems) > 0 {
		return false, fmt.Sprintf("reachability alerts\n%s\nwant\n%s\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), strings.Join(problems, "\n"))
	}
	return true, ""
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// testBlackboxConfig is the shipped module file with the test's network:
// the proxy that maps the test domains to loopback, and the test CA.
func testBlackboxConfig(t *testing.T, caFile, proxyAddr string) string {
	t.Helper()
	src := string(readShipped(t, blackboxFile))
	return replaceOnce(t, blackboxFile, src,
		"    http:\n", "    http:\n      proxy_url: http://"+proxyAddr+"\n      skip_resolve_phase_with_proxy: true\n",
		"      tls_config:\n", "      tls_config:\n        ca_file: "+caFile+"\n")
}

// testDomainsJob is the shipped kinsta-domains job (the last job of
// prometheus.yml) with the test's addresses and short intervals.
func testDomainsJob(t *testing.T, exporterAddr, blackboxAddr string) string {
	t.Helper()
	src := string(readShipped(t, promFile))
	i := strings.Index(src, "  - job_name: kinsta-domains\n")
	if i < 0 || strings.Contains(src[i+1:], "  - job_name:") {
		t.Fatalf("%s: job kinsta-domains must be the last job: the test takes it from there to the end", promFile)
	}
	return replaceOnce(t, promFile, src[i:],
		"scrape_interval: 60s", "scrape_interval: 1s",
		"scrape_timeout: 15s", "scrape_timeout: 1s",
		"http://localhost:10055/sd/domains", "http://"+exporterAddr+"/sd/domains",
		"refresh_interval: 5m", "refresh_interval: 1s",
		"replacement: localhost:9115", "replacement: "+blackboxAddr)
}

func readShipped(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceOnce makes each replacement (old, new pairs), each old text having
// to occur exactly once, so that a change to the shipped file fails here
// rather than testing something else.
func replaceOnce(t *testing.T, file, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if n := strings.Count(s, pairs[i]); n != 1 {
			t.Fatalf("%s: %q occurs %d times, want once: update the test", file, pairs[i], n)
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}
