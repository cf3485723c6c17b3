package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// multiKeyAPI serves one fake per API key, chosen by the Authorization
// header: Kinsta keys are scoped to one company.
type multiKeyAPI struct {
	url   string
	fakes map[string]*kinstatest.Fake
}

func newMultiKeyAPI(t *testing.T, companies map[string]*kinstatest.Company) *multiKeyAPI {
	t.Helper()
	a := &multiKeyAPI{fakes: map[string]*kinstatest.Fake{}}
	var any *kinstatest.Fake
	for key, c := range companies {
		a.fakes[key] = kinstatest.New(key, c)
		any = a.fakes[key]
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := a.fakes[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if f == nil {
			f = any // answers 401
		}
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

func (a *multiKeyAPI) total() int {
	n := 0
	for _, f := range a.fakes {
		n += f.Requests("")
	}
	return n
}

func testCompany(id string, sites ...string) *kinstatest.Company {
	c := &kinstatest.Company{ID: id}
	for _, s := range sites {
		c.Sites = append(c.Sites, kinstatest.Site{ID: s, Name: s, DisplayName: s, Status: "live"})
	}
	return c
}

// noCollectors switches the background collectors off, so that the only API
// calls are the ones a test causes.
var noCollectors = []string{"--no-collector.apikey", "--no-collector.backups", "--no-collector.plugins",
	"--no-collector.themes", "--no-collector.usage", "--no-collector.disk", "--no-collector.activity",
	"--no-collector.apikeys", "--no-collector.responses"}

func writeTestFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigFileStartupErrors(t *testing.T) {
	dir := t.TempDir()
	key := writeTestFile(t, filepath.Join(dir, "key"), "secret-key\n")
	good := writeTestFile(t, filepath.Join(dir, "good.yml"), "companies:\n  - {id: a, api_key_file: key}\n")
	checkBadStartup(t, []badStartupCase{
		{"missing file", []string{"--config.file=" + filepath.Join(dir, "nope.yml")}, "--config.file: open " + filepath.Join(dir, "nope.yml")},
		{"unknown field", []string{"--config.file=" + writeTestFile(t, filepath.Join(dir, "unknown.yml"), "companies:\n  - id: a\n    api_key_file: key\n    colour: red\n")},
			`unknown.yml: companies[0] (id "a"): line 4: unknown field "colour"`},
		{"missing key file", []string{"--config.file=" + writeTestFile(t, filepath.Join(dir, "nokey.yml"), "companies:\n  - {id: a, api_key_file: missing.key}\n")},
			`companies[0] (id "a"): api_key_file: open ` + filepath.Join(dir, "missing.key")},
		{"with --kinsta.company", []string{"--config.file=" + good, "--kinsta.company=a"}, "--config.file and --kinsta.company"},
		{"with --kinsta.api-key-file", []string{"--config.file=" + good, "--kinsta.api-key-file=" + key}, "--config.file and --kinsta.api-key-file"},
		{"with --demo", []string{"--config.file=" + good, "--demo"}, "--config.file and --demo exclude each other"},
		{"telemetry path taken", []string{"--config.file=" + good, "--web.telemetry-path=/probe"}, "--web.telemetry-path /probe is taken"},
	})
}

// companiesSetup is an exporter with a configuration file of two companies
// with keys of their own, against a fake API that knows three.
type companiesSetup struct {
	api     *multiKeyAPI
	dir     string
	cfgPath string
	p       *exporterProcess
}

func startWithConfig(t *testing.T, config string, extra ...string) *companiesSetup {
	t.Helper()
	s := &companiesSetup{dir: t.TempDir()}
	s.api = newMultiKeyAPI(t, map[string]*kinstatest.Company{
		"key-a": testCompany("company-a", "site-a1", "site-a2"),
		"key-b": testCompany("company-b", "site-b1"),
		"key-c": testCompany("company-c", "site-c1"),
	})
	for _, k := range []string{"a", "b", "c"} {
		writeTestFile(t, filepath.Join(s.dir, k+".key"), "key-"+k+"\n")
	}
	s.cfgPath = writeTestFile(t, filepath.Join(s.dir, "kinsta.yml"), config)
	args := append([]string{"--config.file=" + s.cfgPath, "--kinsta.api-url=" + s.api.url,
		"--kinsta.cache-ttl=1h", "--kinsta.rate-limit=0"}, noCollectors...)
	s.p = startExporter(t, nil, append(args, extra...)...)
	return s
}

const twoCompanies = `companies:
  - id: company-a
    name: Agency sites
    api_key_file: a.key
  - id: company-b
    api_key_file: b.key
`

func TestProbe(t *testing.T) {
	s := startWithConfig(t, twoCompanies)
	for _, path := range []string{"/probe", "/probe?company=", "/probe?company=company-a&company=company-b"} {
		if code, body := s.p.get(t, path); code != http.StatusBadRequest || !strings.Contains(body, "company parameter") {
			t.Errorf("%s: %d %q, want 400", path, code, body)
		}
	}
	// Unknown companies: 404, and no API call for them (nor for anyone).
	for _, id := range []string{"company-c", "nope", "COMPANY-A"} {
		if code, body := s.p.get(t, "/probe?company="+id); code != http.StatusNotFound || !strings.Contains(body, "not configured") {
			t.Errorf("%s: %d %q, want 404", id, code, body)
		}
	}
	if n := s.api.total(); n != 0 {
		t.Fatalf("%d API calls for unconfigured companies", n)
	}

	code, body := s.p.get(t, "/probe?company=company-a", "X-Prometheus-Scrape-Timeout-Seconds", "5")
	if code != 200 {
		t.Fatalf("/probe: %d %s", code, body)
	}
	for _, want := range []string{`kinsta_up{company="company-a"} 1`, `kinsta_company_info{company="company-a",name="Agency sites"} 1`,
		`kinsta_site_info{company="company-a",display_name="site-a2",name="site-a2",site_id="site-a2"} 1`,
		`kinsta_exporter_collector_success{collector="sites",company="company-a"} 1`, "kinsta_exporter_build_info{"} {
		if !strings.Contains(body, want) {
			t.Errorf("/probe lacks %q:\n%s", want, body)
		}
	}
	for _, unwanted := range []string{"company-b", "go_goroutines", "kinsta_exporter_api_requests_total"} {
		if strings.Contains(body, unwanted) {
			t.Errorf("/probe?company=company-a serves %q", unwanted)
		}
	}
	if a, b := s.api.fakes["key-a"].Requests(kinstatest.RouteSites), s.api.fakes["key-b"].Requests(""); a != 1 || b != 0 {
		t.Fatalf("API calls: company-a %d sites calls (want 1), company-b %d (want 0)", a, b)
	}
	checkMetricsWithPromtool(t, body)

	// /metrics still serves every configured company, each with its own key.
	_, metrics := s.p.get(t, "/metrics")
	for _, want := range []string{`kinsta_up{company="company-a"} 1`, `kinsta_up{company="company-b"} 1`,
		`kinsta_company_info{company="company-b",name=""} 1`, `kinsta_exporter_config_last_reload_successful 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if a := s.api.fakes["key-a"].Requests(kinstatest.RouteSites); a != 1 {
		t.Fatalf("/metrics after /probe refreshed company-a again within the TTL: %d calls", a)
	}
	checkMetricsWithPromtool(t, metrics)
}

// With --web.probe-only, /metrics serves the exporter's own series and never
// calls the API: in a sharded deployment each replica's /metrics can be
// scraped without refreshing every company on every replica.
func TestProbeOnly(t *testing.T) {
	s := startWithConfig(t, twoCompanies, "--web.probe-only")
	_, body := s.p.get(t, "/metrics")
	if strings.Contains(body, "kinsta_up") || strings.Contains(body, "kinsta_company_info") || !strings.Contains(body, "kinsta_exporter_build_info") {
		t.Fatalf("/metrics with --web.probe-only:\n%s", grepLines(body, "kinsta_"))
	}
	if n := s.api.total(); n != 0 {
		t.Fatalf("/metrics made %d API calls", n)
	}
	if code, _ := s.p.get(t, "/probe?company=company-b"); code != 200 {
		t.Fatal("probe")
	}
	_, body = s.p.get(t, "/metrics")
	if !strings.Contains(body, `kinsta_exporter_api_requests_total{code="200",endpoint="/sites"} 1`) || strings.Contains(body, "kinsta_up") {
		t.Fatalf("/metrics after a probe:\n%s", grepLines(body, "kinsta_"))
	}
}

type sdGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

func getSD(t *testing.T, p *exporterProcess) []sdGroup {
	t.Helper()
	resp, err := http.Get(p.url + "/sd")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/sd: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var groups []sdGroup
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&groups); err != nil {
		t.Fatal(err)
	}
	return groups
}

func sdCompanies(groups []sdGroup) string {
	var ids []string
	for _, g := range groups {
		ids = append(ids, g.Labels["__param_company"])
	}
	return strings.Join(ids, ",")
}

func TestServiceDiscovery(t *testing.T) {
	s := startWithConfig(t, twoCompanies)
	host := strings.TrimPrefix(s.p.url, "http://")
	want := []sdGroup{
		{Targets: []string{host}, Labels: map[string]string{"__metrics_path__": "/probe", "__param_company": "company-a", "instance": "company-a",
			"__meta_kinsta_company_id": "company-a", "__meta_kinsta_company_name": "Agency sites"}},
		{Targets: []string{host}, Labels: map[string]string{"__metrics_path__": "/probe", "__param_company": "company-b", "instance": "company-b",
			"__meta_kinsta_company_id": "company-b", "__meta_kinsta_company_name": ""}},
	}
	if got := getSD(t, s.p); !reflect.DeepEqual(got, want) {
		t.Fatalf("/sd:\n%+v\nwant\n%+v", got, want)
	}
	if n := s.api.total(); n != 0 {
		t.Fatalf("/sd made %d API calls", n)
	}
	req, _ := http.NewRequest(http.MethodPost, s.p.url+"/sd", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /sd: %v %v", resp, err)
	}
}

// With flags only, /probe and /sd serve the --kinsta.company list.
func TestProbeWithFlags(t *testing.T) {
	api := newMultiKeyAPI(t, map[string]*kinstatest.Company{"key-a": testCompany("company-a", "s1")})
	p := startExporter(t, []string{"KINSTA_API_KEY=key-a"}, append([]string{"--kinsta.api-url=" + api.url, "--kinsta.company=company-a"}, noCollectors...)...)
	if code, _ := p.get(t, "/probe?company=company-b"); code != 404 {
		t.Fatalf("unconfigured company: %d", code)
	}
	if code, body := p.get(t, "/probe?company=company-a"); code != 200 || !strings.Contains(body, `kinsta_up{company="company-a"} 1`) {
		t.Fatalf("/probe: %d\n%s", code, body)
	}
	if got := sdCompanies(getSD(t, p)); got != "company-a" {
		t.Fatalf("/sd lists %q", got)
	}
	// Without --web.enable-lifecycle, /-/reload is off.
	if code, _ := p.post(t, "/-/reload"); code != http.StatusForbidden {
		t.Fatalf("POST /-/reload: %d, want 403", code)
	}
	// Without a file there are no reload metrics.
	if _, body := p.get(t, "/metrics"); strings.Contains(body, "kinsta_exporter_config_last_reload") {
		t.Fatal("reload metrics without a file to reload")
	}
}

// With neither a configuration file nor --kinsta.company, the key's company
// is found by GET /validate, for /sd as for /metrics.
func TestServiceDiscoveryFindsTheKeysCompany(t *testing.T) {
	api := newMultiKeyAPI(t, map[string]*kinstatest.Company{"key-a": testCompany("company-a", "s1")})
	p := startExporter(t, []string{"KINSTA_API_KEY=key-a"}, append([]string{"--kinsta.api-url=" + api.url}, noCollectors...)...)
	if got := sdCompanies(getSD(t, p)); got != "company-a" {
		t.Fatalf("/sd lists %q", got)
	}
	if n := api.fakes["key-a"].Requests(kinstatest.RouteValidate); n != 1 {
		t.Fatalf("%d GET /validate", n)
	}
	if code, _ := p.get(t, "/probe?company=company-a"); code != 200 {
		t.Fatalf("/probe: %d", code)
	}
}

func (p *exporterProcess) post(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Post(p.url+path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func metricValue(t *testing.T, p *exporterProcess, name string) string {
	t.Helper()
	_, body := p.get(t, "/metrics")
	line := grepLines(body, name+" ")
	if line == "" {
		t.Fatalf("/metrics has no %s", name)
	}
	return strings.Fields(line)[1]
}

func TestReload(t *testing.T) {
	s := startWithConfig(t, twoCompanies, "--web.enable-lifecycle")
	if code, _ := s.p.get(t, "/probe?company=company-a"); code != 200 {
		t.Fatal("probe a")
	}
	startTS := metricValue(t, s.p, "kinsta_exporter_config_last_reload_success_timestamp_seconds")

	// GET is refused.
	if code, _ := s.p.get(t, "/-/reload"); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /-/reload: %d", code)
	}

	// A bad file keeps the old configuration, says why, and sets the metric 0.
	writeTestFile(t, s.cfgPath, twoCompanies+"  - id: company-a\n    api_key_file: c.key\n")
	code, body := s.p.post(t, "/-/reload")
	if code != http.StatusInternalServerError || body != reloadFailedBody {
		t.Fatalf("bad reload: %d %q", code, body)
	}
	if v := metricValue(t, s.p, "kinsta_exporter_config_last_reload_successful"); v != "0" {
		t.Fatalf("last_reload_successful %s after a bad file", v)
	}
	if got := sdCompanies(getSD(t, s.p)); got != "company-a,company-b" {
		t.Fatalf("companies after a bad reload: %q", got)
	}
	if !strings.Contains(s.p.stderr.String(), "Reloading the configuration failed; keeping the previous one") ||
		!strings.Contains(s.p.stderr.String(), `companies[2] (id \"company-a\"): id: duplicate of companies[0]`) {
		t.Fatalf("bad reload not logged with its reason:\n%s", s.p.stderr.String())
	}
	// A key file that went missing is bad too.
	writeTestFile(t, s.cfgPath, "companies:\n  - {id: company-a, api_key_file: gone.key}\n")
	// The answer is the same: it does not tell whether a file exists.
	if code, body := s.p.post(t, "/-/reload"); code != 500 || body != reloadFailedBody {
		t.Fatalf("missing key file: %d %q", code, body)
	}

	// A good file: b goes, c comes; a keeps its cache.
	writeTestFile(t, s.cfgPath, `companies:
  - id: company-a
    name: Renamed
    api_key_file: a.key
  - id: company-c
    api_key_file: c.key
`)
	if code, body := s.p.post(t, "/-/reload"); code != 200 {
		t.Fatalf("good reload: %d %q", code, body)
	}
	if v := metricValue(t, s.p, "kinsta_exporter_config_last_reload_successful"); v != "1" {
		t.Fatalf("last_reload_successful %s after a good file", v)
	}
	if ts := metricValue(t, s.p, "kinsta_exporter_config_last_reload_success_timestamp_seconds"); ts == startTS {
		t.Fatalf("success timestamp unchanged (%s) by a good reload", ts)
	}
	if got := sdCompanies(getSD(t, s.p)); got != "company-a,company-c" {
		t.Fatalf("companies after a good reload: %q", got)
	}
	if code, _ := s.p.get(t, "/probe?company=company-b"); code != 404 {
		t.Fatalf("removed company: %d", code)
	}
	_, body = s.p.get(t, "/probe?company=company-a")
	if !strings.Contains(body, `kinsta_company_info{company="company-a",name="Renamed"} 1`) {
		t.Fatalf("rename not served:\n%s", body)
	}
	if n := s.api.fakes["key-a"].Requests(kinstatest.RouteSites); n != 1 {
		t.Fatalf("company-a: %d sites calls, want 1: the reload threw its cache away", n)
	}
	// /metrics (read for the reload metrics) refreshed company-b once before
	// it was removed; never since.
	bCalls := s.api.fakes["key-b"].Requests("")
	metricValue(t, s.p, "kinsta_exporter_config_last_reload_successful")
	if n := s.api.fakes["key-b"].Requests(""); n != bCalls || n > 1 {
		t.Fatalf("company-b: %d calls, then %d after its removal", bCalls, n)
	}

	// SIGHUP reloads too.
	writeTestFile(t, s.cfgPath, twoCompanies)
	if err := s.p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sdCompanies(getSD(t, s.p)) != "company-a,company-b" {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload:\n%s", s.p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A bad file on SIGHUP: metric 0, old companies kept.
	writeTestFile(t, s.cfgPath, "companies: [")
	s.p.cmd.Process.Signal(syscall.SIGHUP)
	for metricValue(t, s.p, "kinsta_exporter_config_last_reload_successful") != "0" {
		if time.Now().After(deadline) {
			t.Fatal("bad file on SIGHUP did not set the metric 0")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := sdCompanies(getSD(t, s.p)); got != "company-a,company-b" {
		t.Fatalf("companies after a bad SIGHUP: %q", got)
	}
	if n := s.api.fakes["key-a"].Requests(kinstatest.RouteSites); n != 1 {
		t.Fatalf("company-a: %d sites calls after reloads, want 1", n)
	}
	if strings.Contains(s.p.stderr.String(), "key-a") {
		t.Fatal("a key is in the logs")
	}
}

// reloadFailedBody is the whole answer to a failed reload, whatever failed.
const reloadFailedBody = "Reloading failed; the previous configuration stays in use. The exporter's log says why.\n"

// TestReloadNeedsLifecycle: /-/reload is off without --web.enable-lifecycle
// (it was always on, for any caller); SIGHUP reloads without it.
func TestReloadNeedsLifecycle(t *testing.T) {
	s := startWithConfig(t, twoCompanies)
	writeTestFile(t, s.cfgPath, "companies:\n  - {id: company-c, api_key_file: c.key}\n")
	code, body := s.p.post(t, "/-/reload")
	if code != http.StatusForbidden || !strings.Contains(body, "--web.enable-lifecycle") {
		t.Fatalf("POST /-/reload without --web.enable-lifecycle: %d %q, want 403 naming the flag", code, body)
	}
	if got := sdCompanies(getSD(t, s.p)); got != "company-a,company-b" {
		t.Fatalf("companies after a refused reload: %q", got)
	}
	if err := s.p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); sdCompanies(getSD(t, s.p)) != "company-c"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload:\n%s", s.p.stderr.String())
		}
	}
}

// TestReloadFailuresLogRateLimited: 100 failed reloads in a row wrote 100
// error lines; now one per reloadLogEvery, the next saying how many were
// not logged.
func TestReloadFailuresLogRateLimited(t *testing.T) {
	s := startWithConfig(t, twoCompanies, "--web.enable-lifecycle")
	writeTestFile(t, s.cfgPath, "companies: [")
	start := time.Now()
	const posts = 100
	for range posts {
		if code, body := s.p.post(t, "/-/reload"); code != 500 || body != reloadFailedBody {
			t.Fatalf("bad reload: %d %q", code, body)
		}
	}
	periods := int(time.Since(start)/reloadLogEvery) + 1
	s.p.get(t, "/-/healthy") // the log is read through a pipe: let it catch up
	lines := strings.Count(s.p.stderr.String(), "Reloading the configuration failed")
	t.Logf("%d failed reloads in %s: %d log lines", posts, time.Since(start).Round(time.Millisecond), lines)
	if lines < 1 || lines > periods {
		t.Fatalf("%d log lines for %d failed reloads in %d periods of %s, want 1 to %d", lines, posts, periods, reloadLogEvery, periods)
	}
}

func TestThrottle(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := newThrottle(10 * time.Second)
	th.now = func() time.Time { return now }
	if ok, n := th.allow(); !ok || n != 0 {
		t.Fatalf("first: %v %d", ok, n)
	}
	for range 4 {
		now = now.Add(time.Second)
		if ok, _ := th.allow(); ok {
			t.Fatal("allowed within the period")
		}
	}
	now = now.Add(6 * time.Second)
	if ok, n := th.allow(); !ok || n != 4 {
		t.Fatalf("after the period: %v, %d not logged; want true, 4", ok, n)
	}
}

// TestTLSAndBasicAuth runs the binary with --web.config.file (TLS and basic
// auth, exporter-toolkit) and checks it with the real curl: 200 with the
// credentials, 401 without or with wrong ones, on every endpoint.
func TestTLSAndBasicAuth(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not found: install the Debian package curl (.ci/install-deps)")
	}
	dir := t.TempDir()
	certFile, keyFile := writeSelfSignedCert(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := writeTestFile(t, filepath.Join(dir, "web.yml"), fmt.Sprintf(`tls_server_config:
  cert_file: %s
  key_file: %s
basic_auth_users:
  prometheus: %s
`, certFile, keyFile, hash))
	api := newMultiKeyAPI(t, map[string]*kinstatest.Company{"key-a": testCompany("company-a", "s1")})

	addr := freeAddr(t)
	cmd := exec.Command(binary, append([]string{"--web.listen-address=" + addr, "--web.config.file=" + webConfig, "--web.enable-lifecycle",
		"--kinsta.api-url=" + api.url, "--kinsta.company=company-a"}, noCollectors...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "KINSTA_API_KEY=key-a"}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	base := "https://" + addr
	status := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", certFile}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for _, path := range []string{"/metrics", "/probe?company=company-a", "/sd", "/-/healthy"} {
		if got := status("-u", "prometheus:s3cret pass", base+path); got != "200" {
			t.Errorf("%s with credentials: %s, want 200", path, got)
		}
		if got := status(base + path); got != "401" {
			t.Errorf("%s without credentials: %s, want 401", path, got)
		}
		if got := status("-u", "prometheus:wrong", base+path); got != "401" {
			t.Errorf("%s with a wrong password: %s, want 401", path, got)
		}
	}
	if got := status("-u", "prometheus:s3cret pass", "-X", "POST", base+"/-/reload"); got != "200" {
		t.Errorf("POST /-/reload with credentials: %s", got)
	}
	if got := status("-X", "POST", base+"/-/reload"); got != "401" {
		t.Errorf("POST /-/reload without credentials: %s", got)
	}
	// Plain HTTP is not served.
	out, _ := exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://"+addr+"/metrics").CombinedOutput()
	if string(out) == "200" {
		t.Error("plain HTTP answered 200")
	}
	// The certificate is checked: without --cacert curl refuses it.
	if err := exec.Command(curl, "-sS", "-o", "/dev/null", "-u", "prometheus:s3cret pass", base+"/metrics").Run(); err == nil {
		t.Error("curl accepted the self-signed certificate without --cacert")
	}
}

// writeSelfSignedCert writes a self-signed ECDSA certificate for 127.0.0.1
// (its own CA, for curl --cacert) and its key.
func writeSelfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kinsta_exporter test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeTestFile(t, filepath.Join(dir, "cert.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeTestFile(t, filepath.Join(dir, "key.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	return certFile, keyFile
}
