package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// binary is the real exporter, built once for the tests that run it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kinsta_exporter-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "kinsta_exporter")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the exporter: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestBadStartupInputExitsWithOneLine(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("secret-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(emptyFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkBadStartup(t, []badStartupCase{
		{"no key", nil, "no Kinsta API key"},
		{"missing key file", []string{"--kinsta.api-key-file=/nonexistent/key"}, "--kinsta.api-key-file"},
		{"empty key file", []string{"--kinsta.api-key-file=" + emptyFile}, "is empty"},
		{"bad duration", []string{"--kinsta.api-key-file=" + keyFile, "--kinsta.cache-ttl=soon"}, "cache-ttl"},
		{"zero ttl", []string{"--kinsta.api-key-file=" + keyFile, "--kinsta.cache-ttl=0s"}, "--kinsta.cache-ttl must be positive"},
		{"offset >= timeout", []string{"--kinsta.api-key-file=" + keyFile, "--kinsta.timeout=1s", "--timeout-offset=1s"}, "--timeout-offset (1s) must be smaller than --kinsta.timeout (1s)"},
		{"unknown flag", []string{"--kinsta.nope"}, "unknown long flag"},
		{"bad log level", []string{"--log.level=loud"}, "log.level"},
		{"bad size", []string{"--kinsta.api-key-file=" + keyFile, "--kinsta.max-response-size=huge"}, "max-response-size"},
		{"offset in seconds >= timeout", []string{"--kinsta.api-key-file=" + keyFile, "--timeout-offset=15"}, "--timeout-offset (15s) must be smaller than --kinsta.timeout (15s)"},
		{"offset not a number", []string{"--kinsta.api-key-file=" + keyFile, "--timeout-offset=NaN"}, `--timeout-offset="NaN": NaN seconds is out of range`},
		{"offset without unit or number", []string{"--kinsta.api-key-file=" + keyFile, "--timeout-offset=half"}, `--timeout-offset="half"`},
		{"config check, missing key file", []string{"--config.check", "--kinsta.api-key-file=/nonexistent/key"}, "--kinsta.api-key-file"},
		{"config check, bad config file", []string{"--config.check", "--config.file=" + writeFile(t, "companies:\n  - id: a\n    api_key_file: /nonexistent/key\n")}, "/nonexistent/key"},
		// kinsta.CheckCompanyID: invalid UTF-8 panicked in the metrics library.
		{"company not UTF-8", []string{"--kinsta.api-key-file=" + keyFile, "--web.listen-address=127.0.0.1:0", "--kinsta.company=c\xff1"},
			`--kinsta.company: invalid company id "c\xff1": not valid UTF-8`},
		{"company ..", []string{"--kinsta.api-key-file=" + keyFile, "--web.listen-address=127.0.0.1:0", "--kinsta.company=a,.."},
			`--kinsta.company: invalid company id "..": "." and ".." are path segments, not ids`},
	})
}

// writeFile writes content to a new file in a temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigCheck: --config.check validates the configuration file and the
// key files it names, or the flags and the key, prints one line and exits 0
// without serving (no --web.listen-address is free to bind here: the
// default port may be taken) or calling the API (the URL is unreachable).
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	key := writeFile(t, "secret-key\n")
	config := filepath.Join(dir, "companies.yml")
	content := "api_key_file: " + key + "\ncompanies:\n  - id: a\n  - id: b\n    name: B\n"
	if err := os.WriteFile(config, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config.file=" + config}, "OK: " + config + ": 2 companies, 1 API key files\n"},
		{[]string{"--kinsta.api-key-file=" + key, "--kinsta.company=a,b", "--timeout-offset=0.5"}, "OK: flags: 2 companies (a,b), API key from " + key + "\n"},
		{[]string{"--demo"}, "OK: --demo, the built-in simulated company\n"},
	} {
		cmd := exec.Command(binary, append([]string{"--config.check", "--kinsta.api-url=http://127.0.0.1:1", "--web.listen-address=256.0.0.1:1"}, tc.args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || string(out) != tc.want || stderr.Len() > 0 {
			t.Errorf("%v: %v\nstdout %q, want %q\nstderr %q", tc.args, err, out, tc.want, stderr.String())
		}
	}
}

// TestDisableExporterMetrics: node_exporter's flag leaves out the Go,
// process and promhttp_* series, and nothing else.
func TestDisableExporterMetrics(t *testing.T) {
	own := []string{"go_goroutines ", "process_resident_memory_bytes ", "promhttp_metric_handler_requests_total{"}
	kept := []string{"kinsta_exporter_build_info{", "kinsta_up{", "kinsta_site_info{", "kinsta_exporter_api_requests_total{"}
	for _, disabled := range []bool{false, true} {
		args := []string{"--demo", "--no-collector.apikey"}
		if disabled {
			args = append(args, "--web.disable-exporter-metrics")
		}
		p := startExporter(t, nil, args...)
		p.get(t, "/probe?company="+kinstatest.DemoCompanyID)
		_, body := p.get(t, "/metrics")
		for _, want := range kept {
			if !strings.Contains(body, want) {
				t.Errorf("disabled=%v: /metrics lacks %s", disabled, want)
			}
		}
		for _, name := range own {
			if strings.Contains(body, "\n"+name) == disabled {
				t.Errorf("disabled=%v: /metrics has %s: %v", disabled, name, !disabled)
			}
		}
	}
}

// badStartupCase is a command line the exporter must refuse.
type badStartupCase struct {
	name string
	args []string
	want string // what the one line on stderr must name
}

// checkBadStartup runs the real binary with each case's arguments and a clean
// environment: it must exit non-zero with one line naming the problem and
// never print the key used by the cases ("secret-key").
func checkBadStartup(t *testing.T, cases []badStartupCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, tc.args...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err == nil {
				t.Fatal("exited 0")
			}
			out := strings.TrimSpace(stderr.String())
			if !strings.Contains(out, tc.want) || strings.Contains(out, "\n") || strings.Contains(out, "secret-key") {
				t.Fatalf("stderr %q: want one line naming %q, without the key", out, tc.want)
			}
		})
	}
}

func TestSplitCompanies(t *testing.T) {
	got := splitCompanies([]string{"a,b", " c ", "", "d,"})
	if strings.Join(got, "|") != "a|b|c|d" {
		t.Fatalf("got %q", got)
	}
}

// exporterProcess is the real binary running on a loopback port.
type exporterProcess struct {
	url    string
	cmd    *exec.Cmd
	stderr *syncBuffer
}

func startExporter(t *testing.T, env []string, args ...string) *exporterProcess {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, append([]string{"--web.listen-address=" + addr}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	p := &exporterProcess{url: "http://" + addr, cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp, err := http.Get(p.url + "/-/healthy"); err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter did not start:\n%s", p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *exporterProcess) get(t *testing.T, path string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", p.url+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestDemoServesSiteStatus(t *testing.T) {
	p := startExporter(t, nil, "--demo", "--log.level=debug")
	code, body := p.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{`kinsta_up{company="`, `kinsta_site_status{`, `status="live"} 0`, "kinsta_environment_info{", "kinsta_exporter_build_info{", "kinsta_exporter_api_requests_total{code=\"200\",endpoint=\"/sites\"} 1", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !strings.Contains(body, "} 1\n") || strings.Contains(body, "kinsta_up{company=\"\"}") {
		t.Errorf("demo company not discovered:\n%s", grepLines(body, "kinsta_up"))
	}
	for path, want := range map[string]string{"/-/healthy": "Healthy", "/-/ready": "Ready", "/": `href="/metrics"`} {
		if code, body := p.get(t, path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %q", path, code, body)
		}
	}
	if code, body := p.get(t, "/metrics", "Accept", "application/openmetrics-text;version=1.0.0"); code != 200 || !strings.HasSuffix(body, "# EOF\n") {
		t.Errorf("OpenMetrics negotiation failed: %d", code)
	}
	checkMetricsWithPromtool(t, body)
}

// TestGCPercent: without GOGC the exporter collects at 20% heap growth (its
// heap is mostly long-lived caches); GOGC, when set, is the operator's word.
func TestGCPercent(t *testing.T) {
	for env, want := range map[string]string{"": "go_gc_gogc_percent 20\n", "GOGC=100": "go_gc_gogc_percent 100\n"} {
		var envs []string
		if env != "" {
			envs = []string{env}
		}
		p := startExporter(t, envs, "--demo")
		if _, body := p.get(t, "/metrics"); !strings.Contains(body, want) {
			t.Errorf("with %q: want %q, got %q", env, want, grepLines(body, "go_gc_gogc"))
		}
	}
}

func checkMetricsWithPromtool(t *testing.T, exposition string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install the Debian package prometheus (.ci/install-deps)")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestAPIKeyNeverLogged(t *testing.T) {
	const key = "sk-test-very-secret-0123456789"
	company := kinstatest.DemoCompany(time.Now())
	fake := kinstatest.New(key, company)
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	p := startExporter(t, []string{"KINSTA_API_KEY=" + key, "KINSTA_API_URL=" + api.URL},
		"--log.level=debug", "--kinsta.cache-ttl=1ms", "--kinsta.rate-limit=0")
	for _, fault := range []kinstatest.Fault{{}, {Status: 401}, {Status: 404}, {Status: 429, RetryAfter: "1"}, {Status: 500}, {Body: "{\"company\":"}, {Status: 502}} {
		fake.SetFault("", fault)
		time.Sleep(5 * time.Millisecond)
		_, body := p.get(t, "/metrics")
		if strings.Contains(body, key) {
			t.Fatalf("fault %+v: the key is in /metrics", fault)
		}
	}
	time.Sleep(100 * time.Millisecond)
	logs := p.stderr.String()
	if strings.Contains(logs, key) || strings.Contains(logs, key[:12]) {
		t.Fatalf("the key is in the logs:\n%s", logs)
	}
	if !strings.Contains(logs, "level=debug") || !strings.Contains(logs, "level=warn") {
		t.Fatalf("expected debug and warn logs, got:\n%s", logs)
	}
}

func TestScrapeAnswersWithinHeaderDeadline(t *testing.T) {
	company := kinstatest.DemoCompany(time.Now())
	fake := kinstatest.New("demo-key-0123456789", company)
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close) // after the exporter stops, which holds a hung request open
	fake.SetFault("/sites", kinstatest.Fault{Hang: true})
	p := startExporter(t, []string{"KINSTA_API_KEY=demo-key-0123456789", "KINSTA_API_URL=" + api.URL},
		"--kinsta.company="+company.ID, "--kinsta.timeout=30s")
	start := time.Now()
	code, body := p.get(t, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds", "1.5")
	elapsed := time.Since(start)
	if code != 200 || !strings.Contains(body, `kinsta_up{company="`+company.ID+`"} 0`) {
		t.Fatalf("%d\n%s", code, grepLines(body, "kinsta_up"))
	}
	// Generous bound: the point is that a hung API does not hold the scrape for --kinsta.timeout (30s).
	if elapsed > 4*time.Second {
		t.Fatalf("scrape took %s with a 1.5s scrape timeout", elapsed)
	}
}

func grepLines(body, prefix string) string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			out = append(out, sc.Text())
		}
	}
	return strings.Join(out, "\n")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects a child's stderr while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
