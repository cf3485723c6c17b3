package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// TestShardedProbing is the README's scaling set-up for real: two exporter
// replicas with one configuration file of six companies, each with its own
// API key; a real Prometheus discovers the companies from /sd of one replica
// and spreads them over both with hashmod. Every company must be scraped
// (through /probe) on exactly one replica, which alone calls the API for it.
func TestShardedProbing(t *testing.T) {
	if os.Getenv("KINSTA_E2E_SKIP") == "1" {
		t.Skip("KINSTA_E2E_SKIP=1")
	}
	bins := requireBinaries(t)
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

	// The fake API: one fake per key, picked by the Authorization header.
	fakes := map[string]*kinstatest.Fake{}
	var config strings.Builder
	config.WriteString("companies:\n")
	var ids []string
	for i := range 6 {
		id := fmt.Sprintf("company-%d", i)
		key := randomHex(t)
		fakes[key] = kinstatest.New(key, &kinstatest.Company{ID: id, Sites: []kinstatest.Site{
			{ID: id + "-site", Name: id + "-site", DisplayName: "Site of " + id, Status: "live"}}})
		keyFile := filepath.Join(dir, id+".key")
		if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&config, "  - id: %s\n    name: Client %d\n    api_key_file: %s.key\n", id, i, id)
		ids = append(ids, id)
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := fakes[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]; f != nil {
			f.ServeHTTP(w, r)
			return
		}
		http.Error(w, `{"status":401,"message":"No or invalid API key provided to the request"}`, http.StatusUnauthorized)
	}))
	t.Cleanup(api.Close)
	for _, f := range fakes {
		t.Cleanup(f.Close)
	}
	cfgPath := writeFile(t, dir, "kinsta.yml", config.String())

	replicas := []string{freeAddr(t), freeAddr(t)}
	promAddr := freeAddr(t)
	promConfig := writeFile(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: kinsta
    http_sd_configs:
      - url: http://%[1]s/sd
        refresh_interval: 1s
    relabel_configs:
      - source_labels: [__meta_kinsta_company_id]
        modulus: 2
        action: hashmod
        target_label: __tmp_kinsta_replica
      - source_labels: [__tmp_kinsta_replica]
        regex: "0"
        target_label: __address__
        replacement: %[1]s
      - source_labels: [__tmp_kinsta_replica]
        regex: "1"
        target_label: __address__
        replacement: %[2]s
      - source_labels: [__meta_kinsta_company_name]
        target_label: company_name
  - job_name: kinsta-exporter
    static_configs: [{targets: ['%[1]s', '%[2]s']}]
`, replicas[0], replicas[1]))
	runTool(t, bins.promtool, "check", "config", promConfig)

	procEnv := withoutKinstaEnv(os.Environ())
	for i, addr := range replicas {
		startProcess(t, &procs, fmt.Sprintf("kinsta_exporter replica %d", i), dir, procEnv, exporterBin,
			"--config.file="+cfgPath, "--web.probe-only", "--kinsta.api-url="+api.URL,
			"--kinsta.cache-ttl=1h", "--kinsta.rate-limit=0", "--web.listen-address="+addr)
	}
	startProcess(t, &procs, "prometheus", dir, os.Environ(), bins.prometheus,
		"--config.file="+promConfig, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promAddr, "--log.level=info")
	e := &env{t: t, procs: procs, prom: "http://" + promAddr}

	e.step("every company scraped through /probe and up", func() (bool, string) {
		v, err := e.query(`kinsta_up{job="kinsta"} == 1 and on (instance) up{job="kinsta"} == 1`)
		if err != nil {
			return false, err.Error()
		}
		var got []string
		for _, s := range v {
			if s.Metric["instance"] != s.Metric["company"] {
				return false, fmt.Sprintf("instance %q is not the company %q", s.Metric["instance"], s.Metric["company"])
			}
			got = append(got, s.Metric["company"])
		}
		sort.Strings(got)
		return strings.Join(got, ",") == strings.Join(ids, ","), fmt.Sprintf("companies up: %v", got)
	})

	// Each company's target is on one replica; that replica alone called
	// the API for it: one GET /sites per company in total (TTL 1h).
	var data struct {
		ActiveTargets []struct {
			ScrapePool string            `json:"scrapePool"`
			ScrapeURL  string            `json:"scrapeUrl"`
			Labels     map[string]string `json:"labels"`
		} `json:"activeTargets"`
	}
	if err := e.promAPI("/api/v1/targets", url.Values{"state": {"active"}}, &data); err != nil {
		t.Fatal(err)
	}
	perReplica := map[string]int{}
	for _, tg := range data.ActiveTargets {
		if tg.ScrapePool != "kinsta" {
			continue
		}
		u, err := url.Parse(tg.ScrapeURL)
		if err != nil || u.Path != "/probe" || u.Query().Get("company") != tg.Labels["instance"] {
			t.Fatalf("target %s: want /probe?company=<instance> (labels %v)", tg.ScrapeURL, tg.Labels)
		}
		if !strings.HasPrefix(tg.Labels["company_name"], "Client ") {
			t.Errorf("target %s: company_name %q", tg.ScrapeURL, tg.Labels["company_name"])
		}
		perReplica[u.Host]++
	}
	t.Logf("companies per replica: %v", perReplica)
	time.Sleep(3 * time.Second) // a few more scrapes of everything
	e.step("each replica called GET /sites once per company of its own", func() (bool, string) {
		for _, addr := range replicas {
			got, err := e.query(fmt.Sprintf(`sum(kinsta_exporter_api_requests_total{job="kinsta-exporter",instance=%q,endpoint="/sites"})`, addr))
			if err != nil {
				return false, err.Error()
			}
			n := 0.0
			if len(got) == 1 {
				n = got[0].Value
			}
			if int(n) != perReplica[addr] {
				return false, fmt.Sprintf("replica %s: %g GET /sites, %d companies", addr, n, perReplica[addr])
			}
		}
		return true, ""
	})
	for _, f := range fakes {
		if n := f.Requests(kinstatest.RouteSites); n != 1 {
			t.Errorf("a company got %d GET /sites, want 1", n)
		}
	}
	if v, err := e.query(`{exported_company!=""}`); err != nil || len(v) != 0 {
		t.Errorf("series with exported_company (target and exposed labels clash): %v %v", v, err)
	}
}
