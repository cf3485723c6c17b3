package collector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

var (
	goldenAt   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	goldenSite = kinstatest.Site{
		ID: "s1", Name: "acme", DisplayName: "Acme", Status: "live",
		Visits: 1234, BandwidthBytes: 5 << 30, CDNBandwidthBytes: 1 << 30,
		Environments: []kinstatest.Environment{
			{
				ID: "e1", Name: "live", DisplayName: "Live", DiskBytes: 3 << 30,
				Backups: []kinstatest.Backup{
					{ID: 1, Type: "scheduled", CreatedAt: goldenAt.Add(-26 * time.Hour)},
					{ID: 2, Type: "scheduled", CreatedAt: goldenAt.Add(-2 * time.Hour)},
					{ID: 3, Type: "manual", CreatedAt: goldenAt.Add(-50 * time.Hour)},
				},
				Plugins: []kinstatest.Extension{
					{Name: "akismet", Status: "active", Version: "5.3", Update: "available", UpdateVersion: "5.4"},
					{Name: "hello-dolly", Status: "inactive", Version: "1.7", Vulnerable: true},
				},
				Themes: []kinstatest.Extension{{Name: "astra", Status: "active", Version: "4.8"}},
			},
			{ID: "e2", Name: "staging", DisplayName: "Staging", DiskBytes: 1 << 30,
				Plugins: []kinstatest.Extension{{Name: "akismet", Status: "active", Version: "5.4"}}},
		},
	}
	goldenCompany = kinstatest.Company{ID: "c1", KeyName: "exporter", KeyExpiresAt: time.Date(2046, 1, 1, 0, 0, 0, 0, time.UTC),
		InventoryUpdatedAt: goldenAt.Add(-3 * time.Hour), Sites: []kinstatest.Site{goldenSite}}
)

// TestCollectorsGolden runs every collector against the fake API.
func TestCollectorsGolden(t *testing.T) {
	company := goldenCompany
	fake, client := fakeAPI(t, &company)
	e, logs := startCollectors(t, client, allCollectors(), "c1")
	waitSettled(t, e)

	want := `
# HELP kinsta_api_key_expiry_timestamp_seconds Unix time at which the Kinsta API key expires (GET /validate expires_at, cached by the apikey collector); absent when the key never expires.
# TYPE kinsta_api_key_expiry_timestamp_seconds gauge
kinsta_api_key_expiry_timestamp_seconds{company="c1",key_name="exporter"} 2.3983776e+09
# HELP kinsta_api_key_info The Kinsta API key the exporter uses, with its status as Kinsta reports it (GET /validate: active, revoked, expired; cached by the apikey collector); always 1.
# TYPE kinsta_api_key_info gauge
kinsta_api_key_info{company="c1",key_name="exporter",status="active"} 1
# HELP kinsta_environment_backup_last_timestamp_seconds Unix time of the environment's newest backup of this type (GET /sites/environments/{env_id}/backups created_at, cached by the backups collector).
# TYPE kinsta_environment_backup_last_timestamp_seconds gauge
kinsta_environment_backup_last_timestamp_seconds{company="c1",environment_id="e1",site_id="s1",type="manual"} 1.7721864e+09
kinsta_environment_backup_last_timestamp_seconds{company="c1",environment_id="e1",site_id="s1",type="scheduled"} 1.7723592e+09
# HELP kinsta_environment_backups Number of backups of this type the environment has (GET /sites/environments/{env_id}/backups, cached by the backups collector).
# TYPE kinsta_environment_backups gauge
kinsta_environment_backups{company="c1",environment_id="e1",site_id="s1",type="manual"} 1
kinsta_environment_backups{company="c1",environment_id="e1",site_id="s1",type="scheduled"} 2
# HELP kinsta_environment_disk_usage_bytes Disk space the environment uses, in bytes: the latest daily point of GET /sites/environments/{env_id}/analytics/diskspace (cached by the disk collector); absent while Kinsta has no data for the environment.
# TYPE kinsta_environment_disk_usage_bytes gauge
kinsta_environment_disk_usage_bytes{company="c1",environment_id="e1",site_id="s1"} 3.221225472e+09
kinsta_environment_disk_usage_bytes{company="c1",environment_id="e2",site_id="s1"} 1.073741824e+09
# HELP kinsta_environment_plugin_updates_available WordPress plugins of the environment with an update available (GET /company/{id}/wp-plugins or GET /sites/environments/{env_id}/plugins, cached by the plugins collector).
# TYPE kinsta_environment_plugin_updates_available gauge
kinsta_environment_plugin_updates_available{company="c1",environment_id="e1",site_id="s1"} 1
kinsta_environment_plugin_updates_available{company="c1",environment_id="e2",site_id="s1"} 0
# HELP kinsta_environment_plugins WordPress plugins installed in the environment, by status (active, inactive, ...; GET /company/{id}/wp-plugins, or GET /sites/environments/{env_id}/plugins when the company endpoint is not available, cached by the plugins collector).
# TYPE kinsta_environment_plugins gauge
kinsta_environment_plugins{company="c1",environment_id="e1",site_id="s1",status="active"} 1
kinsta_environment_plugins{company="c1",environment_id="e1",site_id="s1",status="inactive"} 1
kinsta_environment_plugins{company="c1",environment_id="e2",site_id="s1",status="active"} 1
# HELP kinsta_environment_plugins_vulnerable WordPress plugins of the environment whose installed version Kinsta reports as vulnerable (GET /company/{id}/wp-plugins, cached by the plugins collector); absent while the collector uses the per-environment endpoint, which has no vulnerability data.
# TYPE kinsta_environment_plugins_vulnerable gauge
kinsta_environment_plugins_vulnerable{company="c1",environment_id="e1",site_id="s1"} 1
kinsta_environment_plugins_vulnerable{company="c1",environment_id="e2",site_id="s1"} 0
# HELP kinsta_environment_theme_updates_available WordPress themes of the environment with an update available (GET /company/{id}/wp-themes or GET /sites/environments/{env_id}/themes, cached by the themes collector).
# TYPE kinsta_environment_theme_updates_available gauge
kinsta_environment_theme_updates_available{company="c1",environment_id="e1",site_id="s1"} 0
kinsta_environment_theme_updates_available{company="c1",environment_id="e2",site_id="s1"} 0
# HELP kinsta_environment_themes WordPress themes installed in the environment, by status (active, inactive, ...; GET /company/{id}/wp-themes, or GET /sites/environments/{env_id}/themes when the company endpoint is not available, cached by the themes collector).
# TYPE kinsta_environment_themes gauge
kinsta_environment_themes{company="c1",environment_id="e1",site_id="s1",status="active"} 1
# HELP kinsta_environment_themes_vulnerable WordPress themes of the environment whose installed version Kinsta reports as vulnerable (GET /company/{id}/wp-themes, cached by the themes collector); absent while the collector uses the per-environment endpoint, which has no vulnerability data.
# TYPE kinsta_environment_themes_vulnerable gauge
kinsta_environment_themes_vulnerable{company="c1",environment_id="e1",site_id="s1"} 0
kinsta_environment_themes_vulnerable{company="c1",environment_id="e2",site_id="s1"} 0
# HELP kinsta_plugin_installs Environments of the company that have this WordPress plugin installed (GET /company/{id}/wp-plugins, cached by the plugins collector).
# TYPE kinsta_plugin_installs gauge
kinsta_plugin_installs{company="c1",plugin="akismet"} 2
kinsta_plugin_installs{company="c1",plugin="hello-dolly"} 1
# HELP kinsta_plugin_updates_available Environments of the company where this WordPress plugin has an update available (GET /company/{id}/wp-plugins, cached by the plugins collector).
# TYPE kinsta_plugin_updates_available gauge
kinsta_plugin_updates_available{company="c1",plugin="akismet"} 1
kinsta_plugin_updates_available{company="c1",plugin="hello-dolly"} 0
# HELP kinsta_plugin_vulnerable_installs Environments of the company where the installed version of this WordPress plugin is vulnerable (GET /company/{id}/wp-plugins, cached by the plugins collector).
# TYPE kinsta_plugin_vulnerable_installs gauge
kinsta_plugin_vulnerable_installs{company="c1",plugin="akismet"} 0
kinsta_plugin_vulnerable_installs{company="c1",plugin="hello-dolly"} 1
# HELP kinsta_plugins_last_updated_timestamp_seconds Unix time at which Kinsta last updated the company's plugin data (GET /company/{id}/wp-plugins last_updated_at, cached by the plugins collector); Kinsta refreshes it at most every ~12h.
# TYPE kinsta_plugins_last_updated_timestamp_seconds gauge
kinsta_plugins_last_updated_timestamp_seconds{company="c1"} 1.7723556e+09
# HELP kinsta_site_bandwidth_this_month_bytes Bandwidth the site used this month, in bytes (GET /sites/{site_id}/usage/bandwidth/this-month; Kinsta does not document the unit, every client reads bytes; cached by the usage collector).
# TYPE kinsta_site_bandwidth_this_month_bytes gauge
kinsta_site_bandwidth_this_month_bytes{company="c1",site_id="s1"} 5.36870912e+09
# HELP kinsta_site_cdn_bandwidth_this_month_bytes CDN bandwidth the site used this month, in bytes (GET /sites/{site_id}/usage/cdn-bandwidth/this-month; cached by the usage collector).
# TYPE kinsta_site_cdn_bandwidth_this_month_bytes gauge
kinsta_site_cdn_bandwidth_this_month_bytes{company="c1",site_id="s1"} 1.073741824e+09
# HELP kinsta_site_visits_this_month Visits to the site this month as Kinsta counts them for the plan (GET /sites/{site_id}/usage/visits/this-month, cached by the usage collector).
# TYPE kinsta_site_visits_this_month gauge
kinsta_site_visits_this_month{company="c1",site_id="s1"} 1234
# HELP kinsta_theme_installs Environments of the company that have this WordPress theme installed (GET /company/{id}/wp-themes, cached by the themes collector).
# TYPE kinsta_theme_installs gauge
kinsta_theme_installs{company="c1",theme="astra"} 1
# HELP kinsta_theme_updates_available Environments of the company where this WordPress theme has an update available (GET /company/{id}/wp-themes, cached by the themes collector).
# TYPE kinsta_theme_updates_available gauge
kinsta_theme_updates_available{company="c1",theme="astra"} 0
# HELP kinsta_theme_vulnerable_installs Environments of the company where the installed version of this WordPress theme is vulnerable (GET /company/{id}/wp-themes, cached by the themes collector).
# TYPE kinsta_theme_vulnerable_installs gauge
kinsta_theme_vulnerable_installs{company="c1",theme="astra"} 0
# HELP kinsta_themes_last_updated_timestamp_seconds Unix time at which Kinsta last updated the company's theme data (GET /company/{id}/wp-themes last_updated_at, cached by the themes collector); Kinsta refreshes it at most every ~12h.
# TYPE kinsta_themes_last_updated_timestamp_seconds gauge
kinsta_themes_last_updated_timestamp_seconds{company="c1"} 1.7723556e+09
`
	var names []string
	for _, l := range strings.Split(want, "\n") {
		if strings.HasPrefix(l, "# TYPE ") {
			names = append(names, strings.Fields(l)[2])
		}
	}
	if err := testutil.CollectAndCompare(allSeries(e), strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(allSeries(e))
	if err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}

	// One request per item: the key, 2 environments x backups and disk, one
	// site x 3 usage counters, one company call each for plugins, themes and
	// the activity log.
	for route, n := range map[string]int{
		kinstatest.RouteValidate: 1, kinstatest.RouteBackups: 2, kinstatest.RouteDiskspace: 2,
		kinstatest.RouteCompanyPlugins: 1, kinstatest.RouteCompanyThemes: 1, kinstatest.RoutePlugins: 0,
		kinstatest.RouteUsageVisits: 1, kinstatest.RouteUsageBandwidth: 1, kinstatest.RouteUsageCDNBandwidth: 1,
		kinstatest.RouteActivityLogs: 1, kinstatest.RouteSites: 1,
	} {
		if got := fake.Requests(route); got != n {
			t.Errorf("%s: %d requests, want %d", route, got, n)
		}
	}
	for _, name := range CollectorNames() {
		if v := value(t, e, "kinsta_exporter_collector_success", "collector", name, "company", "c1"); v != 1 {
			t.Errorf("collector %s: success %v", name, v)
		}
		if v := value(t, e, "kinsta_exporter_collector_disabled", "collector", name, "company", "c1"); v != 0 {
			t.Errorf("collector %s: disabled %v", name, v)
		}
		if v := value(t, e, "kinsta_exporter_refresh_queue_due_items", "collector", name); v != 0 {
			t.Errorf("collector %s: %v items due", name, v)
		}
		if _, ok := lookup(t, e, "kinsta_exporter_refresh_queue_oldest_due_timestamp_seconds", "collector", name); ok {
			t.Errorf("collector %s: oldest due timestamp with nothing due", name)
		}
		if v := value(t, e, "kinsta_exporter_collector_last_success_timestamp_seconds", "collector", name, "company", "c1"); v <= 0 {
			t.Errorf("collector %s: last success %v", name, v)
		}
	}
	if v := value(t, e, "kinsta_exporter_refresh_queue_items", "collector", "backups"); v != 2 {
		t.Errorf("backups: %v items, want 2", v)
	}
	if strings.Contains(logs.String(), "level=warn") {
		t.Errorf("warnings on a healthy API:\n%s", logs)
	}

	// Nothing is due within the interval: more scrapes make no API calls.
	before := fake.Requests("")
	for range 5 {
		e.Sync(context.Background())
	}
	time.Sleep(50 * time.Millisecond)
	if got := fake.Requests(""); got != before {
		t.Fatalf("scrapes within the interval made %d API calls", got-before)
	}
}

// TestCollectorNotFound: a 404 switches the collector off for the company
// with one log line (after a few, for per-site and per-environment
// collectors), the others carry on; plugins and themes fall back to the
// per-environment endpoints first.
func TestCollectorNotFound(t *testing.T) {
	company := kinstatest.GenerateCompany("c1", 4, 2, 1) // 4 sites, 8 environments
	for _, tc := range []struct {
		collector string
		routes    []string
		requests  int // to the first route until disabled
		disabled  bool
		series    string // still served (from the fallback), or "" when none
	}{
		{"apikey", []string{kinstatest.RouteValidate}, 1, true, ""},
		{"backups", []string{kinstatest.RouteBackups}, notFoundThreshold, true, ""},
		{"disk", []string{kinstatest.RouteDiskspace}, notFoundThreshold, true, ""},
		{"usage", []string{kinstatest.RouteUsageBandwidth}, notFoundThreshold, true, ""},
		{"activity", []string{kinstatest.RouteActivityLogs}, 1, true, ""},
		{"apikeys", []string{kinstatest.RouteAPIKeys}, 1, true, ""},
		{"responses", []string{kinstatest.RouteResponseCodes}, notFoundThreshold, true, ""},
		{"plugins", []string{kinstatest.RouteCompanyPlugins}, 1, false, "kinsta_environment_plugins"},
		{"themes", []string{kinstatest.RouteCompanyThemes}, 1, false, "kinsta_environment_themes"},
		{"plugins", []string{kinstatest.RouteCompanyPlugins, kinstatest.RoutePlugins}, 1, true, ""},
		{"themes", []string{kinstatest.RouteCompanyThemes, kinstatest.RouteThemes}, 1, true, ""},
	} {
		t.Run(tc.collector+" "+strings.Join(tc.routes, " "), func(t *testing.T) {
			t.Parallel()
			fake, client := fakeAPI(t, company)
			for _, r := range tc.routes {
				fake.SetFault(r, kinstatest.Fault{Status: 404})
			}
			e, logs := startCollectors(t, client, allCollectors(), "c1")
			waitSettled(t, e)

			if got := fake.Requests(tc.routes[0]); got != tc.requests {
				t.Errorf("%s: %d requests, want %d", tc.routes[0], got, tc.requests)
			}
			if len(tc.routes) > 1 { // the per-environment fallback, until it is off too
				if got := fake.Requests(tc.routes[1]); got != notFoundThreshold {
					t.Errorf("%s: %d requests, want %d", tc.routes[1], got, notFoundThreshold)
				}
			}
			if got := value(t, e, "kinsta_exporter_collector_disabled", "collector", tc.collector, "company", "c1"); got != boolValue(tc.disabled) {
				t.Errorf("disabled = %v, want %v", got, tc.disabled)
			}
			if got := value(t, e, "kinsta_exporter_collector_success", "collector", tc.collector, "company", "c1"); got != boolValue(!tc.disabled) {
				t.Errorf("success = %v", got)
			}
			if n := logs.count("Collector disabled"); n != boolInt(tc.disabled) {
				t.Errorf("%d 'Collector disabled' log lines, want %d:\n%s", n, boolInt(tc.disabled), logs)
			}
			if n := logs.count("Company-wide endpoint answered 404"); n != boolInt(tc.collector == "plugins" || tc.collector == "themes") {
				t.Errorf("%d fallback log lines:\n%s", n, logs)
			}
			if tc.series != "" {
				if n := testutil.CollectAndCount(allSeries(e), tc.series); n == 0 {
					t.Errorf("no %s from the per-environment endpoint", tc.series)
				}
				if n := testutil.CollectAndCount(allSeries(e), tc.series+"_vulnerable"); n != 0 {
					t.Errorf("%d %s_vulnerable series without vulnerability data", n, tc.series)
				}
			}
			for _, other := range CollectorNames() {
				if other == tc.collector {
					continue
				}
				if got := value(t, e, "kinsta_exporter_collector_success", "collector", other, "company", "c1"); got != 1 {
					t.Errorf("collector %s: success %v while %s is off", other, got, tc.collector)
				}
			}
			// Paused: more scrapes send nothing to the failing route.
			before := fake.Requests(tc.routes[len(tc.routes)-1])
			e.Sync(context.Background())
			time.Sleep(20 * time.Millisecond)
			if got := fake.Requests(tc.routes[len(tc.routes)-1]); got != before {
				t.Errorf("a disabled collector made %d more calls", got-before)
			}
		})
	}
}

// TestCollectorRateLimited: a 429 pauses the whole refresher for the
// back-off instead of burning retries, then the item is retried once.
func TestCollectorRateLimited(t *testing.T) {
	company := kinstatest.GenerateCompany("c1", 2, 2, 1)
	for _, tc := range []struct{ collector, route string }{
		{"apikey", kinstatest.RouteValidate},
		{"backups", kinstatest.RouteBackups},
		{"plugins", kinstatest.RouteCompanyPlugins},
		{"themes", kinstatest.RouteCompanyThemes},
		{"usage", kinstatest.RouteUsageCDNBandwidth},
		{"disk", kinstatest.RouteDiskspace},
		{"activity", kinstatest.RouteActivityLogs},
		{"apikeys", kinstatest.RouteAPIKeys},
		{"responses", kinstatest.RouteResponseCodes},
	} {
		t.Run(tc.collector, func(t *testing.T) {
			t.Parallel()
			fake, client := fakeAPI(t, company)
			fake.SetFault(tc.route, kinstatest.Fault{Status: 429, RetryAfter: "1"})
			e, logs := startCollectors(t, client, allCollectors(), "c1")
			waitFor(t, func() bool { return fake.Requests(tc.route) >= 1 })
			time.Sleep(100 * time.Millisecond) // the refresher has the 429 and pauses for a second
			paused := fake.Requests("")
			if v := value(t, e, "kinsta_exporter_collector_success", "collector", tc.collector, "company", "c1"); v != 0 {
				t.Errorf("success = %v during the back-off", v)
			}
			if v := value(t, e, "kinsta_exporter_refresh_queue_due_items", "collector", tc.collector); v < 1 {
				t.Errorf("%v items due during the back-off; the rate-limited one must stay due", v)
			}
			time.Sleep(500 * time.Millisecond)
			if got := fake.Requests(""); got != paused {
				t.Fatalf("%d API calls during the back-off", got-paused)
			}
			fake.SetFault(tc.route, kinstatest.Fault{})
			waitSettled(t, e)
			if v := value(t, e, "kinsta_exporter_collector_success", "collector", tc.collector, "company", "c1"); v != 1 {
				t.Errorf("success = %v after the back-off", v)
			}
			if got := fake.Requests(tc.route); got < 2 || got > 1+len(company.Sites)*len(company.Sites[0].Environments) {
				t.Errorf("%s: %d requests", tc.route, got)
			}
			if n := logs.count("rate limit hit"); n != 1 {
				t.Errorf("%d rate-limit log lines, want 1:\n%s", n, logs)
			}
			if v := value(t, e, "kinsta_exporter_collector_disabled", "collector", tc.collector, "company", "c1"); v != 0 {
				t.Errorf("a 429 disabled the collector")
			}
		})
	}
}

// TestScrapesNeverWaitForCollectors: with the backups endpoint hanging, a
// scrape returns as soon as the sites are fresh and serves the cache.
func TestScrapesNeverWaitForCollectors(t *testing.T) {
	company := goldenCompany
	fake, client := fakeAPI(t, &company)
	fake.SetFault(kinstatest.RouteBackups, kinstatest.Fault{Hang: true})
	e, _ := startCollectors(t, client, allCollectors(), "c1")
	waitFor(t, func() bool { return fake.Requests(kinstatest.RouteBackups) >= 1 })
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		start := time.Now()
		e.Refresh(ctx)
		if ctx.Err() != nil || time.Since(start) > time.Second {
			t.Fatalf("a scrape waited %s for the hung collector", time.Since(start))
		}
		cancel()
		if n := testutil.CollectAndCount(allSeries(e), "kinsta_site_info"); n != 1 {
			t.Fatalf("%d sites", n)
		}
	}
}

// TestNoScrapesNoCalls: the refresher calls the API only while scrapes keep
// its lease.
func TestNoScrapesNoCalls(t *testing.T) {
	company := kinstatest.GenerateCompany("c1", 20, 2, 1)
	fake, client := fakeAPI(t, company)
	cfg := Config{Company: "c1", CacheTTL: time.Hour, RefreshTimeout: 5 * time.Second,
		MaxStaleness: time.Hour, Collectors: map[string]time.Duration{"backups": time.Hour}, lease: 300 * time.Millisecond}
	e := newExporter(t, client, cfg, log.NewNopLogger())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	time.Sleep(100 * time.Millisecond)
	if n := fake.Requests(""); n != 0 {
		t.Fatalf("%d API calls before the first scrape", n)
	}
	// Slow the refresher down so that its work outlasts the lease.
	fake.SetFault(kinstatest.RouteBackups, kinstatest.Fault{Delay: 50 * time.Millisecond})
	e.Sync(context.Background())
	time.Sleep(600 * time.Millisecond) // lease (300ms) over, 40 environments not done
	stopped := fake.Requests(kinstatest.RouteBackups)
	if stopped == 0 || stopped >= 40 {
		t.Fatalf("%d backups calls after one scrape and its lease", stopped)
	}
	time.Sleep(200 * time.Millisecond)
	if got := fake.Requests(kinstatest.RouteBackups); got != stopped {
		t.Fatalf("%d API calls without scrapes", got-stopped)
	}
	if v := value(t, e, "kinsta_exporter_refresh_queue_due_items", "collector", "backups"); v != float64(40-stopped) {
		t.Errorf("due items = %v, want %d", v, 40-stopped)
	}
	e.Sync(context.Background())
	waitFor(t, func() bool { return fake.Requests(kinstatest.RouteBackups) > stopped })
}

// TestInventoryChanges: items follow GET /sites; a removed environment's
// series go with it.
func TestInventoryChanges(t *testing.T) {
	company := goldenCompany
	_, client := fakeAPI(t, &company)
	src := &inventorySource{Client: client}
	src.set(company.ID, []kinsta.Site{{ID: "s1", Status: "live", Environments: []kinsta.Environment{{ID: "e1"}, {ID: "e2"}}}})
	cfg := Config{Company: "c1", CacheTTL: time.Millisecond, RefreshTimeout: 5 * time.Second,
		MaxStaleness: time.Hour, Collectors: map[string]time.Duration{"disk": time.Hour}}
	e := newExporter(t, src, cfg, log.NewNopLogger())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	e.Sync(context.Background())
	waitSettled(t, e)
	if n := testutil.CollectAndCount(allSeries(e), "kinsta_environment_disk_usage_bytes"); n != 2 {
		t.Fatalf("%d disk series, want 2", n)
	}
	src.set(company.ID, []kinsta.Site{{ID: "s1", Status: "live", Environments: []kinsta.Environment{{ID: "e1"}}}})
	time.Sleep(2 * time.Millisecond)
	e.Sync(context.Background())
	waitFor(t, func() bool { return testutil.CollectAndCount(allSeries(e), "kinsta_environment_disk_usage_bytes") == 1 })
	if v := value(t, e, "kinsta_exporter_refresh_queue_items", "collector", "disk"); v != 1 {
		t.Fatalf("%v disk items, want 1", v)
	}
}
