//go:build soak

package soak

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

const (
	apiKey     = "soak-key-0123456789abcdef"
	companyID  = "soak"
	scrapers   = 50
	rateLimit  = 5       // --kinsta.rate-limit
	burst      = 3       // the client's burst
	maxBody    = 4 << 20 // --kinsta.max-response-size=4MiB
	healthyPct = 30      // of API requests answered without a fault
)

// duration is the soak's length: SOAK_DURATION, default 60s.
func duration(t *testing.T) time.Duration {
	s := os.Getenv("SOAK_DURATION")
	if s == "" {
		return time.Minute
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("SOAK_DURATION=%q: %v", s, err)
	}
	return d
}

// otherHost records the Authorization header of every request that reaches
// it: redirects point here.
type otherHost struct {
	requests atomic.Int64
	leaked   atomic.Int64
}

func (o *otherHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	if r.Header.Get("Authorization") != "" {
		o.leaked.Add(1)
	}
	http.Error(w, "not the Kinsta API", http.StatusNotFound)
}

// chaosAPI serves every request from one of several fakes of the same
// company: a healthy one, or one with a fault on every route.
type chaosAPI struct {
	healthy  *kinstatest.Fake
	activity *kinstatest.Fake // every activity log request: thousands of operation types
	faulty   []*kinstatest.Fake
	names    []string
	on       atomic.Bool // faults on
	total    atomic.Int64
	mu       sync.Mutex
	byFault  map[string]int
}

func newChaosAPI(company *kinstatest.Company, other string) *chaosAPI {
	a := &chaosAPI{healthy: kinstatest.New(apiKey, company), activity: kinstatest.New(apiKey, manyActivityTypes(company, soakActivityTypes)),
		byFault: map[string]int{}}
	a.on.Store(true)
	sitesPath := "/sites?company=" + companyID + "&include_environments=true"
	faults := []struct {
		name  string
		fault kinstatest.Fault
	}{
		{"500", kinstatest.Fault{Status: 500}},
		{"502 html", kinstatest.Fault{Status: 502}},
		{"401", kinstatest.Fault{Status: 401}},
		{"404", kinstatest.Fault{Status: 404}},
		{"429 retry-after", kinstatest.Fault{Status: 429, RetryAfter: "1"}},
		{"429", kinstatest.Fault{Status: 429}},
		{"hang", kinstatest.Fault{Hang: true}},
		{"drip 1 B/s", kinstatest.Fault{DripBytesPerSecond: 1}},
		{"truncated", kinstatest.Fault{Body: `{"company":{"sites":[{"id":"x",`}},
		{"oversized", kinstatest.Fault{OversizeBytes: 2 * maxBody}},
		{"redirect other host", kinstatest.Fault{RedirectTo: "http://localhost:" + portOf(other) + sitesPath}},
		{"redirect other port", kinstatest.Fault{RedirectTo: other + sitesPath}},
	}
	for _, f := range faults {
		fake := kinstatest.New(apiKey, company)
		fake.SetFault("", f.fault)
		a.faulty = append(a.faulty, fake)
		a.names = append(a.names, f.name)
	}
	names, hostile := soakHostile(company)
	for i, c := range hostile {
		a.faulty = append(a.faulty, kinstatest.New(apiKey, c))
		a.names = append(a.names, names[i])
	}
	return a
}

func portOf(url string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	return port
}

func (a *chaosAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.total.Add(1)
	if strings.HasSuffix(r.URL.Path, "/activity-logs") {
		a.activity.ServeHTTP(w, r)
		return
	}
	fake, name := a.healthy, "none"
	if a.on.Load() && rand.IntN(100) >= healthyPct {
		i := rand.IntN(len(a.faulty))
		fake, name = a.faulty[i], a.names[i]
	}
	a.mu.Lock()
	a.byFault[name]++
	a.mu.Unlock()
	fake.ServeHTTP(w, r)
}

func (a *chaosAPI) close() {
	a.healthy.Close()
	a.activity.Close()
	for _, f := range a.faulty {
		f.Close()
	}
}

// exporter is the real binary on a loopback port.
type exporter struct {
	url    string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan struct{}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// buildExporter builds the binary, or returns SOAK_BIN when set (another
// build, for a before-and-after comparison).
func buildExporter(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SOAK_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "kinsta_exporter")
	args := []string{"build", "-o", bin}
	if os.Getenv("SOAK_RACE") == "1" {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
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

// noCollectors are the --no-collector.<name> flags of every switchable
// collector, from --help.
func noCollectors(t *testing.T, bin string) []string {
	t.Helper()
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	var flags []string
	for _, f := range strings.Fields(string(out)) {
		if name, ok := strings.CutPrefix(f, "--[no-]collector."); ok {
			flags = append(flags, "--no-collector."+name)
		}
	}
	return flags
}

func startExporter(t *testing.T, bin, apiURL string) *exporter {
	t.Helper()
	addr := freeAddr(t)
	args := []string{
		"--web.listen-address=" + addr,
		"--kinsta.api-url=" + apiURL,
		"--kinsta.company=" + companyID,
		"--kinsta.cache-ttl=1s",
		"--kinsta.rate-limit=" + strconv.Itoa(rateLimit),
		"--kinsta.max-response-size=4MiB",
		"--kinsta.timeout=5s",
		"--log.level=warn",
	}
	// SOAK_COLLECTORS=1 keeps the switchable collectors (on by default in the
	// exporter); the soak's default is the site series alone.
	if os.Getenv("SOAK_COLLECTORS") != "1" {
		for _, f := range noCollectors(t, bin) {
			if f != "--no-collector.activity" {
				args = append(args, f)
			}
		}
	}
	// The activity collector reads a log of thousands of operation types.
	args = append(args, "--collector.activity", "--collector.activity.interval=1m")
	t.Logf("kinsta_exporter %s", strings.Join(args, " "))
	return runExporter(t, execExporter(bin, args...), addr)
}

// execExporter is the command of the binary with the soak's key.
func execExporter(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "KINSTA_API_KEY=" + apiKey}
	return cmd
}

// runExporter starts cmd, listening on addr, and waits until it answers.
func runExporter(t *testing.T, cmd *exec.Cmd, addr string) *exporter {
	t.Helper()
	e := &exporter{url: "http://" + addr, cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = e.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(e.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-e.exited
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if resp, err := http.Get(e.url + "/-/healthy"); err == nil {
			resp.Body.Close()
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exporter did not start:\n%s", e.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sample reads go_goroutines from /metrics and VmRSS from /proc.
func (e *exporter) sample(t *testing.T) (goroutines int, rssKB int) {
	t.Helper()
	resp, err := http.Get(e.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			goroutines, _ = strconv.Atoi(v)
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rssKB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return goroutines, rssKB
}

// result is what the scrapers saw.
type result struct {
	mu       sync.Mutex
	scrapes  int
	byCode   map[int]int
	late     []string                        // answered after the deadline, or not at all
	maxRatio float64                         // slowest scrape, as a fraction of its deadline
	slow     int                             // scrapes that took over half their deadline
	badBody  int                             // 200 without kinsta_up, or an undecodable body
	slowest  map[time.Duration]time.Duration // by deadline
}

func (r *result) add(code int, elapsed, deadline time.Duration, err error, bodyOK bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scrapes++
	r.byCode[code]++
	r.slowest[deadline] = max(r.slowest[deadline], elapsed.Round(time.Millisecond))
	ratio := float64(elapsed) / float64(deadline)
	r.maxRatio = max(r.maxRatio, ratio)
	if ratio > 0.5 {
		r.slow++
	}
	if err != nil || elapsed > deadline {
		if len(r.late) < 10 {
			r.late = append(r.late, fmt.Sprintf("code %d after %s (deadline %s): %v", code, elapsed.Round(time.Millisecond), deadline, err))
		}
	}
	if code == http.StatusOK && !bodyOK {
		r.badBody++
	}
}

var accepts = []string{
	"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
	"text/plain;version=0.0.4",
	"",
}

// scrape runs one scraper until ctx ends: Prometheus' headers, a random
// scrape timeout, the client giving up at that deadline.
func scrape(ctx context.Context, client *http.Client, url string, res *result) {
	for ctx.Err() == nil {
		timeout := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second}[rand.IntN(3)]
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Accept", accepts[rand.IntN(len(accepts))])
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
		gz := rand.IntN(2) == 0
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		resp, err := client.Do(req.WithContext(rctx))
		code, bodyOK := 0, false
		if err == nil {
			code = resp.StatusCode
			var body []byte
			var r io.Reader = resp.Body
			if resp.Header.Get("Content-Encoding") == "gzip" {
				if zr, zerr := gzip.NewReader(resp.Body); zerr == nil {
					r = zr
				} else {
					err = zerr
				}
			}
			if err == nil {
				body, err = io.ReadAll(r)
			}
			resp.Body.Close()
			bodyOK = err == nil && bytes.Contains(body, []byte(`kinsta_up{company="`+companyID+`"}`))
		}
		elapsed := time.Since(start)
		cancel()
		res.add(code, elapsed, timeout, err, bodyOK)
	}
}

func TestSoak(t *testing.T) {
	d := duration(t)
	bin := buildExporter(t)

	other := &otherHost{}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	api := newChaosAPI(kinstatest.GenerateCompany(companyID, 200, 2, 2), otherSrv.URL)
	apiSrv := httptest.NewServer(api)
	defer apiSrv.Close()
	defer api.close() // first: releases hung requests so the server can close

	start := time.Now()
	exp := startExporter(t, bin, apiSrv.URL)

	// Baseline: faults off, one good refresh, scrapes idle, connections closed.
	api.on.Store(false)
	waitFor(t, 20*time.Second, "a first good scrape", func() bool {
		resp, err := http.Get(exp.url + "/metrics")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return bytes.Contains(body, []byte(`kinsta_up{company="`+companyID+`"} 1`))
	})
	time.Sleep(3 * time.Second)
	http.DefaultClient.CloseIdleConnections()
	baseGoroutines, baseRSS := exp.sample(t)
	http.DefaultClient.CloseIdleConnections()

	// The soak.
	api.on.Store(true)
	transport := &http.Transport{MaxIdleConnsPerHost: scrapers, DisableCompression: true}
	client := &http.Client{Transport: transport}
	res := &result{byCode: map[int]int{}, slowest: map[time.Duration]time.Duration{}}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	var wg sync.WaitGroup
	for range scrapers {
		wg.Go(func() { scrape(ctx, client, exp.url+"/metrics", res) })
	}
	cycles := newCycleResult()
	wg.Go(func() {
		cycleAccept(ctx, &http.Client{Transport: &http.Transport{DisableCompression: true}}, exp.url+"/metrics", cycles)
	})
	progress := time.NewTicker(max(d/6, 10*time.Second))
	go func() {
		for range progress.C {
			res.mu.Lock()
			t.Logf("%s: %d scrapes, codes %v, %d API requests", time.Since(start).Round(time.Second), res.scrapes, res.byCode, api.total.Load())
			res.mu.Unlock()
		}
	}()
	wg.Wait()
	cancel()
	progress.Stop()
	apiCalls := api.total.Load()
	elapsed := time.Since(start)

	// Settle: faults off, scrapers gone; hung and dripping requests end
	// within --kinsta.timeout.
	api.on.Store(false)
	transport.CloseIdleConnections()
	var goroutines, rss int
	settled := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		http.DefaultClient.CloseIdleConnections()
		goroutines, rss = exp.sample(t)
		http.DefaultClient.CloseIdleConnections()
		if goroutines <= baseGoroutines+goroutineSlack && rss <= rssLimit(baseRSS) {
			settled = true
			break
		}
	}

	api.mu.Lock()
	faults := fmt.Sprint(api.byFault)
	api.mu.Unlock()
	budget := int64(burst + rateLimit*elapsed.Seconds())
	logs := exp.stderr.String()
	t.Logf("soak of %s: %d scrapes by %d scrapers, codes %v; slowest at %.0f%% of its deadline, %d over half of it",
		d, res.scrapes, scrapers, res.byCode, 100*res.maxRatio, res.slow)
	t.Logf("slowest scrape by deadline: %v", res.slowest)
	t.Logf("API requests: %d in %s (budget %d at %d/s, burst %d); by fault: %s", apiCalls, elapsed.Round(time.Second), budget, rateLimit, burst, faults)
	t.Logf("redirects reaching the other host: %d, with an Authorization header: %d", other.requests.Load(), other.leaked.Load())
	t.Logf("goroutines: baseline %d, after %d; RSS: baseline %d kB, after %d kB, peak %d MB", baseGoroutines, goroutines, baseRSS, rss, exp.peakRSS(t)>>10)
	t.Logf("Accept cycler: %s", cycles)
	_, final := getPlain(exp.url + "/metrics")
	limited := grepPrefix(final, "kinsta_exporter_limited_elements_total{")
	t.Logf("limits hit:\n%s", limited)

	for code, n := range res.byCode {
		if code >= 500 || code == 0 {
			t.Errorf("%d scrapes answered %d (0: no answer)", n, code)
		}
	}
	if len(res.late) > 0 {
		t.Errorf("scrapes not answered within their deadline:\n%s", strings.Join(res.late, "\n"))
	}
	if !strings.Contains(limited, `limit="activity_types"`) {
		t.Error("the activity log's thousands of operation types were not folded: the hostile activity log was not read")
	}
	if exp.peakRSS(t) > rssTargetKB {
		t.Errorf("peak RSS %d MB, want under %d MB", exp.peakRSS(t)>>10, rssTargetKB>>10)
	}
	if len(cycles.failures) > 0 || len(cycles.variantsOK) != len(acceptVariants) {
		t.Errorf("the Accept cycler got answers for %d of %d variants; failures:\n%s", len(cycles.variantsOK), len(acceptVariants), strings.Join(cycles.failures, "\n"))
	}
	if cycles.maxPlain > expositionTargetB {
		t.Errorf("a text exposition of %d bytes, want under 25 MB", cycles.maxPlain)
	}
	if res.badBody > 0 {
		t.Errorf("%d scrapes answered 200 without the company's kinsta_up", res.badBody)
	}
	if strings.Contains(logs, "panic") || strings.Contains(logs, "DATA RACE") {
		t.Errorf("the exporter panicked or raced:\n%s", tail(logs, 4000))
	}
	select {
	case <-exp.exited:
		t.Errorf("the exporter exited:\n%s", tail(logs, 4000))
	default:
	}
	if other.leaked.Load() > 0 {
		t.Errorf("the API key reached the other host %d times", other.leaked.Load())
	}
	if other.requests.Load() == 0 {
		t.Error("no redirect reached the other host: the redirect faults were not exercised")
	}
	if apiCalls > budget {
		t.Errorf("%d API requests, more than the budget of %d", apiCalls, budget)
	}
	if !settled {
		t.Errorf("not back to the baseline after 60s: goroutines %d (baseline %d, slack %d), RSS %d kB (limit %d kB)",
			goroutines, baseGoroutines, goroutineSlack, rss, rssLimit(baseRSS))
	}
	if t.Failed() {
		t.Logf("the exporter's log (tail):\n%s", tail(logs, 4000))
	}
}

// goroutineSlack allows for the exporter's idle keep-alive connections to the
// API (two goroutines each, at most a few).
const goroutineSlack = 6

// rssLimit is how far above the baseline RSS may stay after the run: the Go
// runtime returns freed memory to the OS gradually.
func rssLimit(baseKB int) int { return baseKB*3/2 + 16<<10 }

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, d)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
