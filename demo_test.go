package main

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// backgroundFamilies are the families of every background collector, as the
// demo (which turns them all on) serves them once each has read every item.
var backgroundFamilies = []string{
	"kinsta_api_key_info", "kinsta_api_key_expiry_timestamp_seconds",
	"kinsta_environment_backup_last_timestamp_seconds", "kinsta_environment_backups",
	"kinsta_environment_plugins", "kinsta_environment_plugin_updates_available", "kinsta_environment_plugins_vulnerable",
	"kinsta_plugin_installs", "kinsta_plugin_updates_available", "kinsta_plugin_vulnerable_installs", "kinsta_plugins_last_updated_timestamp_seconds",
	"kinsta_environment_themes", "kinsta_environment_theme_updates_available", "kinsta_environment_themes_vulnerable",
	"kinsta_theme_installs", "kinsta_theme_updates_available", "kinsta_theme_vulnerable_installs", "kinsta_themes_last_updated_timestamp_seconds",
	"kinsta_site_visits_this_month", "kinsta_site_bandwidth_this_month_bytes", "kinsta_site_cdn_bandwidth_this_month_bytes",
	"kinsta_environment_disk_usage_bytes",
	"kinsta_environment_http_responses",
	"kinsta_company_api_key_info", "kinsta_company_api_key_expiry_timestamp_seconds",
	// activity is off by default; the demo turns it on. Its counters of the
	// log's types start at 0 at the first refresh.
	"kinsta_activity_operations_total", "kinsta_activity_operations_failed_total",
}

// demoFillDeadline is how soon after start the demo fills every dashboard
// panel: the promise of --demo's help and the README.
const demoFillDeadline = 30 * time.Second

// TestDemoFillsEveryCollectorWithin30s: the demo paces its own fake API
// faster than Kinsta's 1/s, so that within 30 s of start every background
// collector has read every item (no item due) and serves its families; at
// 1/s its few hundred requests would take minutes.
func TestDemoFillsEveryCollectorWithin30s(t *testing.T) {
	start := time.Now()
	p := startExporter(t, nil, "--demo")
	body, missing := waitForDemoFilled(t, p, start.Add(demoFillDeadline))
	if missing != "" {
		t.Fatalf("%s after %s (the demo's queue: %s)\n%s", missing, demoFillDeadline,
			grepLines(body, "kinsta_exporter_refresh_queue_due_items"), p.stderr.String())
	}
	t.Logf("every background collector filled %.1fs after start", time.Since(start).Seconds())
	if logs := p.stderr.String(); !strings.Contains(logs, "rate_limit=50") {
		t.Errorf("no log of the demo's rate limit:\n%s", logs)
	}
}

// TestDemoKeepsAGivenRateLimit: --kinsta.rate-limit, when given, is the
// operator's word, with --demo too.
func TestDemoKeepsAGivenRateLimit(t *testing.T) {
	p := startExporter(t, nil, "--demo", "--kinsta.rate-limit=2")
	p.get(t, "/metrics")
	if logs := p.stderr.String(); strings.Contains(logs, "rate_limit=") {
		t.Fatalf("the demo changed a given rate limit:\n%s", logs)
	}
}

// waitForDemoFilled scrapes p until every background collector has no item
// due and serves every one of backgroundFamilies, or deadline; it returns
// the last /metrics and what was still missing then ("" when nothing).
func waitForDemoFilled(t *testing.T, p *exporterProcess, deadline time.Time) (body, missing string) {
	t.Helper()
	for {
		_, body = p.get(t, "/metrics") // scrapes also keep the refresher working
		missing = demoMissing(body)
		if missing == "" || time.Now().After(deadline) {
			return body, missing
		}
		time.Sleep(250 * time.Millisecond)
	}
}

var dueItems = regexp.MustCompile(`(?m)^kinsta_exporter_refresh_queue_due_items\{collector="(\w+)"\} (\S+)$`)

// demoMissing names what a filled demo's /metrics lacks, or "".
func demoMissing(body string) string {
	var missing []string
	for _, f := range backgroundFamilies {
		if !strings.Contains(body, "\n"+f+"{") {
			missing = append(missing, f)
		}
	}
	due := dueItems.FindAllStringSubmatch(body, -1)
	if len(due) < 6 {
		missing = append(missing, "the queue series of the six default collectors")
	}
	for _, m := range due {
		if n, err := strconv.ParseFloat(m[2], 64); err != nil || n != 0 {
			missing = append(missing, m[1]+" has "+m[2]+" items due")
		}
	}
	slices.Sort(missing)
	return strings.Join(missing, ", ")
}
