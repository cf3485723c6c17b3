package collector

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-kit/log"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

const limitedName = "kinsta_exporter_limited_elements_total"

func TestCutLabel(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
		cut  bool
	}{
		{"short", 10, "short", false},
		{"exactly10!", 10, "exactly10!", false},
		{"abcdefghijk", 10, "abcdefghij", true},
		{"aéé", 4, "aé", true},            // the second é would end at byte 5
		{"a\xffb", 10, "a\uFFFDb", false}, // made valid, not cut
		{"€€", 5, "€", true},
	} {
		got, cut := cutLabel(c.in, c.max)
		if got != c.want || cut != c.cut {
			t.Errorf("cutLabel(%q, %d) = %q, %v; want %q, %v", c.in, c.max, got, cut, c.want, c.cut)
		}
	}
}

// hostileSite is one site with a 100 KB id (two-byte runes after one
// byte, so that the cut falls inside a rune) and n labels.
func hostileSite(n int) kinstatest.Site {
	s := kinstatest.Site{ID: "a" + strings.Repeat("é", 50_000), Name: "hostile", Status: "live",
		Environments: []kinstatest.Environment{{ID: "e-hostile", Name: "live"}}}
	for i := range n {
		s.Labels = append(s.Labels, kinstatest.Label{ID: fmt.Sprint("l", i), Name: fmt.Sprint("label ", i)})
	}
	return s
}

// TestHostileSiteIsBounded: one site with a 100 KB id and 500 labels (a
// 113 KB answer) rendered 50 MB of text before the limits; now its id is
// cut to 1 KiB, 100 of its labels are kept, two sites whose ids differ only
// past the cut are one, and what was left out is counted and logged once
// per refresh.
func TestHostileSiteIsBounded(t *testing.T) {
	twinA := kinstatest.Site{ID: strings.Repeat("x", 1024) + "a", Name: "twin-a", Status: "live"}
	twinB := kinstatest.Site{ID: strings.Repeat("x", 1024) + "b", Name: "twin-b", Status: "suspended"}
	_, client := fakeAPI(t, &kinstatest.Company{ID: "c1", Sites: []kinstatest.Site{hostileSite(500), twinA, twinB}})
	logs := &logBuffer{}
	clock := newFakeClock()
	e := newExporter(t, client, testConfig(clock, "c1"), log.NewLogfmtLogger(logs))
	e.Sync(context.Background())

	text := collectText(t, GaugesCollector(e, SitesPart)) // a pedantic gather: no duplicate series
	t.Logf("site series exposition: %d bytes", len(text))
	if len(text) > 200<<10 {
		t.Errorf("the site series take %d bytes of text, want under 200 KiB", len(text))
	}
	if got := strings.Count(text, "kinsta_site_label_info{"); got != DefaultLabelsPerSite {
		t.Errorf("%d label series, want %d", got, DefaultLabelsPerSite)
	}
	if got := strings.Count(text, "kinsta_site_info{"); got != 2 {
		t.Errorf("%d kinsta_site_info series, want 2 (the twins are one site once cut)", got)
	}
	for _, line := range strings.Split(text, "\n") {
		for _, v := range strings.Split(line, `"`) {
			if len(v) > DefaultLabelValueLength || !utf8.ValidString(v) {
				t.Fatalf("a label value of %d bytes (valid UTF-8: %v)", len(v), utf8.ValidString(v))
			}
		}
	}
	if got := value(t, e, limitedName, "collector", "sites", "limit", "labels_per_site"); got != 400 {
		t.Errorf("labels_per_site counted %v, want 400", got)
	}
	// The hostile id in its site, label and environment rows, and the twins' ids.
	if got := value(t, e, limitedName, "collector", "sites", "limit", "label_value_length"); got < 3 {
		t.Errorf("label_value_length counted %v, want at least 3", got)
	}

	clock.Add(time.Minute)
	e.Sync(context.Background())
	if n := logs.count("Limits left part"); n != 2 {
		t.Errorf("%d log lines about limits after two refreshes, want 2:\n%s", n, logs)
	}
	if got := value(t, e, limitedName, "collector", "sites", "limit", "labels_per_site"); got != 800 {
		t.Errorf("labels_per_site counted %v after two refreshes, want 800", got)
	}
	if n := logs.count("Site status changed"); n != 0 {
		t.Errorf("the twin sites logged a status change:\n%s", logs)
	}
}

// TestOverHardLimitKeepsLastGood: an answer past ten times a limit is a bad
// response: kinsta_up 0 and the last good series stay.
func TestOverHardLimitKeepsLastGood(t *testing.T) {
	src := newFakeSource()
	src.set("c1", exampleSites, nil)
	logs := &logBuffer{}
	clock := newFakeClock()
	e := newExporter(t, src, testConfig(clock, "c1"), log.NewLogfmtLogger(logs))
	e.Sync(context.Background())
	good := collectText(t, GaugesCollector(e, SitesPart))

	hostile := kinsta.Site{ID: "h", Status: "live"}
	for i := range 1001 {
		hostile.Labels = append(hostile.Labels, kinsta.Label{ID: fmt.Sprint(i), Name: "x"})
	}
	src.set("c1", append([]kinsta.Site{hostile}, exampleSites...), nil)
	clock.Add(time.Minute)
	e.Sync(context.Background())
	if got := value(t, e, "kinsta_up", "company", "c1"); got != 0 {
		t.Errorf("kinsta_up %v after an answer over the hard limit, want 0", got)
	}
	if got := collectText(t, GaugesCollector(e, SitesPart)); got != good {
		t.Errorf("the site series changed; want the last good ones:\n%s", got)
	}
	if !strings.Contains(logs.String(), "kind=bad_response") || !strings.Contains(logs.String(), "1001 labels on site") {
		t.Errorf("no bad_response warning naming the labels:\n%s", logs)
	}
}

// TestSeriesPerCompanyLeavesWholeSitesOut: sites past the limit are left
// out whole, background collectors get items for the kept ones only, and
// ten times the limit fails the refresh.
func TestSeriesPerCompanyLeavesWholeSitesOut(t *testing.T) {
	sites := make([]kinsta.Site, 10) // 5 series each: info, status live, 3 of one environment
	for i := range sites {
		sites[i] = kinsta.Site{ID: fmt.Sprint("s", i), Status: "live", Environments: []kinsta.Environment{{ID: fmt.Sprint("e", i)}}}
	}
	src := newFakeSource()
	src.set("c1", sites, nil)
	clock := newFakeClock()
	cfg := testConfig(clock, "c1")
	cfg.Limits = Limits{SeriesPerCompany: 12}
	cfg.Collectors = map[string]time.Duration{diskName: time.Hour}
	e := newExporter(t, src, cfg, log.NewNopLogger())
	e.Sync(context.Background())
	if got := e.snapshot.series(); got != 10 {
		t.Errorf("%d site series, want 10 (two whole sites)", got)
	}
	if got := value(t, e, limitedName, "collector", "sites", "limit", "series_per_company"); got != 40 {
		t.Errorf("series_per_company counted %v, want 40", got)
	}
	if got := len(e.ref.inv.envSite); got != 2 {
		t.Errorf("the background collectors have %d environments, want the kept sites' 2", got)
	}

	src.set("c1", append(sites, make([]kinsta.Site, 20)...), nil) // empty ids: still not 120 series
	for i := 10; i < 30; i++ {
		src.sites["c1"][i] = kinsta.Site{ID: fmt.Sprint("s", i), Status: "live", Environments: []kinsta.Environment{{ID: fmt.Sprint("e", i)}}}
	}
	clock.Add(time.Minute)
	e.Sync(context.Background())
	if got := value(t, e, "kinsta_up", "company", "c1"); got != 0 {
		t.Errorf("kinsta_up %v with 150 series at a limit of 12, want 0", got)
	}
	if got := e.snapshot.series(); got != 10 {
		t.Errorf("%d site series after the failed refresh, want the last good 10", got)
	}
}

// TestBytesPerCompany: sites of long ids (1,000 bytes, two series each,
// about 2.1 KB of text) at a limit of 10,000 bytes: four are kept, and the
// text of their series stays within the limit.
func TestBytesPerCompany(t *testing.T) {
	sites := make([]kinsta.Site, 10)
	for i := range sites {
		sites[i] = kinsta.Site{ID: fmt.Sprintf("%03d", i) + strings.Repeat("x", 997), Status: "live"}
	}
	src := newFakeSource()
	src.set("c1", sites, nil)
	cfg := testConfig(newFakeClock(), "c1")
	cfg.Limits = Limits{BytesPerCompany: 10_000}
	e := newExporter(t, src, cfg, log.NewNopLogger())
	e.Sync(context.Background())
	text := collectText(t, GaugesCollector(e, SitesPart))
	series := 0
	for _, line := range strings.Split(text, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			series += len(line) + 1
		}
	}
	if got := strings.Count(text, "kinsta_site_info{"); got != 4 || series > 10_000 {
		t.Errorf("%d sites in %d bytes of series, want 4 within 10,000", got, series)
	}
	if got := value(t, e, limitedName, "collector", "sites", "limit", "bytes_per_company"); got != 12 {
		t.Errorf("bytes_per_company counted %v, want 12 series", got)
	}
}

// TestRepeatedSiteLogsNoStatusChange: a site listed twice with two statuses
// logged "Site status changed" on every refresh; the first listing counts.
func TestRepeatedSiteLogsNoStatusChange(t *testing.T) {
	src := newFakeSource()
	src.set("c1", []kinsta.Site{{ID: "s1", Status: "live"}, {ID: "s1", Status: "suspended"}}, nil)
	logs := &logBuffer{}
	clock := newFakeClock()
	e := newExporter(t, src, testConfig(clock, "c1"), log.NewLogfmtLogger(logs))
	for range 3 {
		e.Sync(context.Background())
		clock.Add(time.Minute)
	}
	if n := logs.count("Site status changed"); n != 0 {
		t.Errorf("%d status changes logged for an unchanged answer:\n%s", n, logs)
	}
	if got := value(t, e, "kinsta_site_status", "site_id", "s1", "status", "live"); got != 1 {
		t.Errorf("status live = %v, want 1 (the first listing)", got)
	}
}

// TestActivityTypesFolded: kinsta_activity_operations_total had one series
// per type the API named; past the limit, entries count as type "other".
func TestActivityTypesFolded(t *testing.T) {
	now := time.Now()
	company := &kinstatest.Company{ID: "c1"}
	for i := range 300 {
		company.Activities = append(company.Activities, kinstatest.Activity{ID: int64(i + 1), Type: fmt.Sprint("type", i),
			CreatedAt: now.Add(time.Duration(i+1) * time.Second), IsDone: true})
	}
	_, client := fakeAPI(t, company)
	e, _ := startCollectors(t, client, map[string]time.Duration{activityName: time.Hour}, "c1")
	waitSettled(t, e)

	types := 0
	var other float64
	for _, line := range strings.Split(collectText(t, LiveCollector(e)), "\n") {
		if strings.HasPrefix(line, "kinsta_activity_operations_total{") {
			types++
			if strings.Contains(line, `type="other"`) {
				fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &other)
			}
		}
	}
	if types != DefaultActivityTypes+1 || other != 200 {
		t.Errorf("%d operation types with %v as other, want %d with 200", types, other, DefaultActivityTypes+1)
	}
	if got := value(t, e, limitedName, "collector", activityName, "limit", "activity_types"); got != 200 {
		t.Errorf("activity_types counted %v, want 200", got)
	}
}

// TestSeriesPerCollector: a background collector's series for a company
// stop at the limit; ten times it fails the item as bad_response.
func TestSeriesPerCollector(t *testing.T) {
	backups := func(types int) []kinstatest.Backup {
		var out []kinstatest.Backup
		for i := range types {
			out = append(out, kinstatest.Backup{ID: int64(i + 1), Type: fmt.Sprint("type", i), CreatedAt: time.Now()})
		}
		return out
	}
	company := &kinstatest.Company{ID: "c1", Sites: []kinstatest.Site{
		{ID: "s1", Status: "live", Environments: []kinstatest.Environment{
			{ID: "e1", Name: "live", Backups: backups(50)},   // 100 series: cut to 20
			{ID: "e2", Name: "staging", Backups: backups(2)}, // 4 series: none left
		}},
	}}
	_, client := fakeAPI(t, company)
	logs := &logBuffer{}
	cfg := Config{Company: "c1", CacheTTL: time.Minute, RefreshTimeout: 5 * time.Second, MaxStaleness: time.Hour,
		Collectors: map[string]time.Duration{backupsName: time.Hour}, Limits: Limits{SeriesPerCollector: 20}}
	e := newExporter(t, client, cfg, log.NewLogfmtLogger(logs))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	e.Sync(context.Background())
	waitSettled(t, e)

	text := collectText(t, GaugesCollector(e, backupsName))
	if got := strings.Count(text, "\nkinsta_environment_backup"); got != 20 {
		t.Errorf("%d backup series, want 20:\n%s", got, text)
	}
	if got := value(t, e, limitedName, "collector", backupsName, "limit", "series_per_collector"); got != 84 {
		t.Errorf("series_per_collector counted %v, want 84", got)
	}
	if n := logs.count(`level=warn msg="Limits left part`); n != 1 {
		t.Errorf("%d warnings about limits for one pass over the items, want 1:\n%s", n, logs)
	}

	e2 := newExporter(t, client, Config{Company: "c1", CacheTTL: time.Minute, RefreshTimeout: 5 * time.Second, MaxStaleness: time.Hour,
		Collectors: map[string]time.Duration{backupsName: time.Hour}, Limits: Limits{SeriesPerCollector: 5}}, log.NewNopLogger())
	e2.Start(ctx)
	e2.Refresh(context.Background())
	waitSettled(t, e2)
	if got := value(t, e2, "kinsta_exporter_collector_success", "collector", backupsName); got != 0 {
		t.Errorf("collector_success %v with 100 series of one item at a limit of 5, want 0", got)
	}

	// The bytes: about 150 a series here.
	e3 := newExporter(t, client, Config{Company: "c1", CacheTTL: time.Minute, RefreshTimeout: 5 * time.Second, MaxStaleness: time.Hour,
		Collectors: map[string]time.Duration{backupsName: time.Hour}, Limits: Limits{BytesPerCollector: 3000}}, log.NewNopLogger())
	e3.Start(ctx)
	e3.Refresh(context.Background())
	waitSettled(t, e3)
	bytes := 0
	for _, line := range strings.Split(collectText(t, GaugesCollector(e3, backupsName)), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			bytes += len(line) + 1
		}
	}
	if left := value(t, e3, limitedName, "collector", backupsName, "limit", "bytes_per_collector"); bytes > 3000 || bytes < 2000 || left == 0 {
		t.Errorf("%d bytes of backup series with %v left out, want 2,000 to 3,000 and some left out", bytes, left)
	}
}

// TestValidateCompanyIsChecked: the company GET /validate names goes into
// every label and request path; ".." or a long one is a bad response.
func TestValidateCompanyIsChecked(t *testing.T) {
	for _, id := range []string{"..", strings.Repeat("c", 200), "a/b", "a\xffb"} {
		src := newFakeSource()
		src.key = kinsta.KeyInfo{Name: "k", Status: "active", CompanyID: id}
		logs := &logBuffer{}
		e := newExporter(t, src, testConfig(newFakeClock(), ""), log.NewLogfmtLogger(logs))
		e.Sync(context.Background())
		if e.Company() != "" || src.calls.Load() != 0 {
			t.Errorf("company %q from GET /validate was taken (%d GET /sites)", id, src.calls.Load())
		}
		if !strings.Contains(logs.String(), "bad_response") {
			t.Errorf("company %q: no bad_response logged:\n%s", id, logs)
		}
	}
}

// TestDomainsPerEnvironment: an environment's domains past the limit are
// left out of the series and /sd/domains alike, the primary kept first;
// ten times the limit fails the refresh.
func TestDomainsPerEnvironment(t *testing.T) {
	env := func(n int) kinsta.Environment {
		e := kinsta.Environment{ID: "e1", Name: "live"}
		for i := range n {
			e.Domains = append(e.Domains, kinsta.Domain{Name: fmt.Sprintf("d%d.example", i), IsPrimary: i == n-1})
		}
		return e
	}
	src := newFakeSource()
	src.set("c1", []kinsta.Site{{ID: "s1", Status: "live", Environments: []kinsta.Environment{env(15)}}}, nil)
	clock := newFakeClock()
	cfg := testConfig(clock, "c1")
	cfg.Limits = Limits{DomainsPerEnvironment: 10}
	e := newExporter(t, src, cfg, log.NewNopLogger())
	e.Sync(context.Background())
	_, envs := e.Domains()
	if len(envs) != 1 || len(envs[0].Domains) != 10 || envs[0].Domains[0].Name != "d14.example" {
		t.Fatalf("domains %+v, want 10 with the primary d14.example first", envs)
	}
	if got := strings.Count(collectText(t, GaugesCollector(e, SitesPart)), "kinsta_environment_domain_info{"); got != 10 {
		t.Errorf("%d domain series, want 10", got)
	}
	if got := value(t, e, limitedName, "collector", "sites", "limit", "domains_per_environment"); got != 5 {
		t.Errorf("domains_per_environment counted %v, want 5", got)
	}
	src.set("c1", []kinsta.Site{{ID: "s1", Status: "live", Environments: []kinsta.Environment{env(101)}}}, nil)
	clock.Add(time.Minute)
	e.Sync(context.Background())
	if got := value(t, e, "kinsta_up", "company", "c1"); got != 0 {
		t.Errorf("kinsta_up %v with 101 domains at a limit of 10, want 0", got)
	}
}

// A small GET /sites answer built to amplify (long ids repeated on many
// labels) gets at most MaxExpansion times its bytes of site series, and at
// least MinExpansionBytes; the rest is left out and counted, as past the
// byte limit. An answer whose size is unknown keeps the byte limit.
func TestSmallAnswerBoundsItsSeries(t *testing.T) {
	var sites []kinsta.Site
	for i := range 200 {
		s := kinsta.Site{ID: fmt.Sprintf("%04d", i) + strings.Repeat("x", 1000), Name: "n", Status: "live"}
		for j := range 100 {
			s.Labels = append(s.Labels, kinsta.Label{ID: fmt.Sprint(j), Name: "l"})
		}
		sites = append(sites, s)
	}
	seriesBytes := func(b *siteBuild) int {
		n := 0
		for i, f := range siteFamilies {
			arity := len(f.labels)
			for j := range b.rows[i].values {
				n += f.rowBytes(b.rows[i].labels[j*arity : (j+1)*arity]...)
			}
		}
		return n
	}
	const body = 700_000 // about what such an answer weighs
	for _, tc := range []struct {
		sites     int
		bodyBytes int64
		max       int
	}{
		{200, body, MaxExpansion * body},
		{20, 10_000, MinExpansionBytes},
		{200, 0, DefaultBytesPerCompany},
	} {
		built, err := buildSiteRows("c1", sites[:tc.sites], Limits{}.forAnswer(tc.bodyBytes), siteBuildPrev{})
		if err != nil {
			t.Fatalf("body %d: %v", tc.bodyBytes, err)
		}
		got := seriesBytes(built)
		if got > tc.max || got < tc.max*9/10 && tc.bodyBytes > 0 {
			t.Errorf("body %d: %d bytes of site series, want at most %d (and about as many)", tc.bodyBytes, got, tc.max)
		}
		if tc.bodyBytes > 0 && built.hits[limitBytesPerCompany] == 0 {
			t.Errorf("body %d: nothing counted as left out", tc.bodyBytes)
		}
	}
	// Over ten times the lowered limit, the answer is refused, as over ten
	// times any limit.
	if _, err := buildSiteRows("c1", sites, Limits{}.forAnswer(10_000), siteBuildPrev{}); !kinsta.IsKind(err, kinsta.KindBadResponse) {
		t.Errorf("22 MB of series from a 10 KB answer: %v, want bad_response", err)
	}
}
