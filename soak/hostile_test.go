//go:build soak

package soak

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// The hostile answers of issue 11: a small API answer that took gigabytes
// once rendered (a site with a huge id and thousands of labels), an activity
// log naming thousands of operation types, and clients cycling Accept
// variants, whose renderings the exporter used to keep. The fault soak
// serves the first two among its faults and runs one Accept cycler beside
// its scrapers; TestSoakHostile serves each hostile answer to the exporter
// at its default flags and checks peak RSS (under 200 MB) and the
// exposition's size (under 25 MB; an answer built to fill the byte limit,
// under that limit) against their targets.

const (
	rssTargetKB       = 200 << 10 // peak RSS, for every hostile answer
	expositionTargetB = 25e6      // the plain text exposition
	// byteLimitB is --limit.bytes-per-company's default, 32 MiB, with 2 MB
	// for the other parts: an answer of more than 4 MB built to fill it
	// (the large amplifier; collector.MaxExpansion lets the site series of
	// an answer take 8 times its bytes) gets that far. It is above 25 MB
	// because a real company of 10,000 sites with their domains takes 25 MB
	// of site series, from 21.5 MB of JSON.
	byteLimitB = 32<<20 + 2e6
)

// hostileSite is a site with an id of idBytes bytes and n tiny labels.
func hostileSite(tag string, idBytes, labels int) kinstatest.Site {
	s := kinstatest.Site{ID: tag + strings.Repeat("x", idBytes-len(tag)), Name: "hostile-" + tag, Status: "live",
		Environments: []kinstatest.Environment{{ID: "env-" + tag, Name: "live"}}}
	for i := range labels {
		s.Labels = append(s.Labels, kinstatest.Label{ID: strconv.Itoa(i), Name: "l" + strconv.Itoa(i)})
	}
	return s
}

// withSites is company with more sites, as a new company.
func withSites(company *kinstatest.Company, sites ...kinstatest.Site) *kinstatest.Company {
	c := *company
	c.Sites = append(append([]kinstatest.Site{}, company.Sites...), sites...)
	return &c
}

// soakHostile are the hostile /sites answers of the fault soak: the same
// company with one hostile site more, within the soak's 4 MiB size cap.
func soakHostile(company *kinstatest.Company) (names []string, companies []*kinstatest.Company) {
	return []string{"hostile: 100 KB id, 900 labels", "hostile: 100 KB id, 5,000 labels"},
		[]*kinstatest.Company{withSites(company, hostileSite("a", 100_000, 900)), withSites(company, hostileSite("b", 100_000, 5000))}
}

// soakActivityTypes is how many operation types the hostile activity logs
// name, one entry each: three times the default limit, in six pages, which
// one refresh reads within the soak's timeouts and rate limits.
const soakActivityTypes = 300

// manyActivityTypes is company's activity log with n entries of n types,
// created after now, so that the exporter counts them all.
func manyActivityTypes(company *kinstatest.Company, n int) *kinstatest.Company {
	c := *company
	c.Activities = nil
	at := time.Now().Add(time.Hour)
	for i := range n {
		c.Activities = append(c.Activities, kinstatest.Activity{ID: int64(i + 1), Type: fmt.Sprintf("hostileType%05d", i),
			CreatedAt: at.Add(time.Duration(i) * time.Second), IsDone: true})
	}
	return &c
}

// acceptVariants are every Accept header a client could cycle: text,
// OpenMetrics 0.0.1 and 1.0.0, the three protobuf encodings, each escaping
// scheme, Prometheus' own.
var acceptVariants = func() []string {
	proto := "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding="
	list := []string{
		"text/plain;version=0.0.4", "text/plain;version=1.0.0", "application/openmetrics-text;version=0.0.1",
		"application/openmetrics-text;version=1.0.0", proto + "delimited", proto + "text", proto + "compact-text",
		accepts[0], "",
	}
	for _, esc := range []string{"allow-utf-8", "underscores", "dots", "values"} {
		list = append(list, "text/plain;version=1.0.0;escaping="+esc, "application/openmetrics-text;version=1.0.0;escaping="+esc,
			proto+"delimited;escaping="+esc)
	}
	return list
}()

// cycleResult is what an Accept cycler saw.
type cycleResult struct {
	mu         sync.Mutex
	requests   int
	byCode     map[int]int
	maxPlain   int // bytes of the largest uncompressed text answer
	slowest    time.Duration
	failures   []string
	variantsOK map[string]bool
}

func (c *cycleResult) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%d requests over %d variants, codes %v, slowest %s, largest text answer %d bytes",
		c.requests, len(c.variantsOK), c.byCode, c.slowest.Round(time.Millisecond), c.maxPlain)
}

// cycleAccept requests url with every Accept variant, with and without
// gzip, in turn, until ctx ends.
func cycleAccept(ctx context.Context, client *http.Client, url string, res *cycleResult) {
	for i := 0; ctx.Err() == nil; i++ {
		accept := acceptVariants[(i/2)%len(acceptVariants)]
		gz := i%2 == 0
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Accept", accept)
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		start := time.Now()
		resp, err := client.Do(req)
		if ctx.Err() != nil {
			return
		}
		code, size, contentType := 0, 0, ""
		if err == nil {
			code, contentType = resp.StatusCode, resp.Header.Get("Content-Type")
			var r io.Reader = resp.Body
			if resp.Header.Get("Content-Encoding") == "gzip" {
				if zr, zerr := gzip.NewReader(resp.Body); zerr == nil {
					r = zr
				} else {
					err = zerr
				}
			}
			if err == nil {
				var n int64
				n, err = io.Copy(io.Discard, r)
				size = int(n)
			}
			resp.Body.Close()
		}
		elapsed := time.Since(start)
		if ctx.Err() != nil {
			return // cut short by the end of the run: not a result
		}
		res.mu.Lock()
		res.requests++
		res.byCode[code]++
		res.slowest = max(res.slowest, elapsed)
		if strings.HasPrefix(contentType, "text/plain") {
			res.maxPlain = max(res.maxPlain, size)
		}
		if err != nil || code != http.StatusOK {
			if len(res.failures) < 10 {
				res.failures = append(res.failures, fmt.Sprintf("Accept %q gzip %v: %d %v", accept, gz, code, err))
			}
		} else {
			res.variantsOK[accept] = true
		}
		res.mu.Unlock()
	}
}

func newCycleResult() *cycleResult {
	return &cycleResult{byCode: map[int]int{}, variantsOK: map[string]bool{}}
}

// peakRSS is the process's VmHWM, in kB.
func (e *exporter) peakRSS(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestSoakHostile serves each hostile answer, as large as the default size
// cap (64 MiB) allows, to the exporter at its default flags (collectors and
// limits included), while a client cycles every Accept variant: peak RSS
// must stay under 200 MB and the exposition under 25 MB, and the exporter
// must keep answering.
func TestSoakHostile(t *testing.T) {
	bin := buildExporter(t)
	base := kinstatest.GenerateCompany(companyID, 200, 2, 2)
	// The amplifier: 2 KB ids repeated on 100 labels each, 1.6 MB of JSON
	// for 29 MB of site series once cut to the label value limit (the whole
	// ids: 57 MB); the answer's size bounds it (collector.MaxExpansion). The
	// large one, 2,000 such sites (10 MB), fills the byte limit.
	var amplifier, largeAmplifier []kinstatest.Site
	for i := range 2000 {
		s := hostileSite(fmt.Sprintf("a%04d", i), 2000, 100)
		if i < 300 {
			amplifier = append(amplifier, s)
		}
		largeAmplifier = append(largeAmplifier, s)
	}
	// 100 KB ids with 900 labels: 127 KB a site, 19 MB.
	var hugeIDs []kinstatest.Site
	for i := range 150 {
		hugeIDs = append(hugeIDs, hostileSite(fmt.Sprintf("h%03d", i), 100_000, 900))
	}
	// Names of a megabyte a site: 25 MB.
	var longNames []kinstatest.Site
	for i := range 25 {
		s := hostileSite(fmt.Sprintf("n%03d", i), 36, 0)
		s.Name, s.DisplayName = strings.Repeat("n", 500_000), strings.Repeat("d", 500_000)
		longNames = append(longNames, s)
	}
	cases := []struct {
		name       string
		company    *kinstatest.Company
		up         string // kinsta_up after the first refresh; "": either (the client may refuse a large answer)
		exposition int    // bytes the plain text exposition must stay under
	}{
		{"300 sites of 2 KB ids and 100 labels (1.6 MB)", withSites(base, amplifier...), "1", expositionTargetB},
		{"2,000 sites of 2 KB ids and 100 labels (10 MB)", withSites(base, largeAmplifier...), "1", byteLimitB},
		{"one site of a 100 KB id and 5,000 labels", withSites(base, hostileSite("b", 100_000, 5000)), "0", expositionTargetB},
		{"150 sites of 100 KB ids and 900 labels (19 MB)", withSites(base, hugeIDs...), "", expositionTargetB},
		{"25 sites with 1 MB of names (25 MB)", withSites(base, longNames...), "", expositionTargetB},
		{"300 activity types", manyActivityTypes(base, soakActivityTypes), "1", expositionTargetB},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := kinstatest.New(apiKey, c.company)
			srv := httptest.NewServer(fake)
			defer srv.Close()
			defer fake.Close()
			exp := startDefaultWithActivity(t, bin, srv.URL)
			if strings.Contains(c.name, "activity") {
				// The background refresher reads the log at the default rate limit.
				waitFor(t, 120*time.Second, "activity types folded", func() bool {
					_, body := getPlain(exp.url + "/metrics")
					return strings.Contains(body, `limit="activity_types"`)
				})
			}
			waitFor(t, 120*time.Second, "a first refresh", func() bool {
				_, body := getPlain(exp.url + "/metrics")
				refreshed := strings.Contains(body, `kinsta_exporter_collector_last_success_timestamp_seconds{collector="sites"`) ||
					strings.Contains(exp.stderr.String(), "Refreshing sites failed")
				return c.up == "" && refreshed || c.up != "" && upOf(body) == c.up
			})
			// The background collectors work a while, a client cycles every
			// Accept variant twice over meanwhile.
			cycles := newCycleResult()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			cycleAccept(ctx, &http.Client{Transport: &http.Transport{DisableCompression: true}}, exp.url+"/metrics", cycles)
			cancel()
			code, body := getPlain(exp.url + "/metrics")
			peak := exp.peakRSS(t)
			t.Logf("%s: kinsta_up %s, exposition %d bytes, peak RSS %d MB; Accept cycler: %s", c.name,
				upOf(body), len(body), peak>>10, cycles)
			if code != 200 || c.up != "" && upOf(body) != c.up {
				t.Errorf("code %d, kinsta_up %q; want 200 and %s", code, upOf(body), c.up)
			}
			if len(body) > c.exposition || cycles.maxPlain > c.exposition {
				t.Errorf("exposition of %d bytes (largest cycled: %d), want under %d", len(body), cycles.maxPlain, c.exposition)
			}
			if peak > rssTargetKB {
				t.Errorf("peak RSS %d MB, want under 200 MB", peak>>10)
			}
			if len(cycles.failures) > 0 {
				t.Errorf("the Accept cycler failed: %s", strings.Join(cycles.failures, "\n"))
			}
			if t.Failed() {
				t.Logf("the exporter's log (tail):\n%s", tail(exp.stderr.String(), 4000))
			}
		})
	}
}

// startDefaultWithActivity is startDefault with the activity collector on
// too (off by default), so that every collector reads the hostile answer.
func startDefaultWithActivity(t *testing.T, bin, apiURL string) *exporter {
	t.Helper()
	addr := freeAddr(t)
	cmd := execExporter(bin, "--web.listen-address="+addr, "--kinsta.api-url="+apiURL, "--kinsta.company="+companyID,
		"--collector.activity", "--collector.activity.interval=1m")
	return runExporter(t, cmd, addr)
}

func getPlain(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// upOf is the company's kinsta_up value in an exposition.
func upOf(body string) string {
	_, after, ok := strings.Cut(body, "\nkinsta_up{company=\""+companyID+"\"} ")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, "\n")
	return v
}

// grepPrefix is the lines of body that start with prefix.
func grepPrefix(body, prefix string) string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
