// Package e2e is the end-to-end test of kinsta_exporter: the real binary,
// scraped by a real Prometheus that evaluates the shipped alert rules and
// sends to a real Alertmanager, all on 127.0.0.1.
//
//	fake Kinsta API (kinstatest, DemoCompany, in this process)
//	  <- kinsta_exporter --kinsta.api-url=fake --collector.activity   (job "kinsta")
//	     kinsta_exporter --demo                                       (job "kinsta-demo")
//	       <- prometheus (rules.yml with every `for:` shortened to 5s)
//	            -> prometheus-alertmanager (null receiver)
//
// It needs Debian's prometheus, prometheus-alertmanager and promtool
// (.ci/install-deps installs them); a missing one fails the test. Set
// KINSTA_E2E_SKIP=1 to skip it explicitly.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	grafanamodule "github.com/kinsta-exporter/kinsta_exporter/grafana"
	"github.com/kinsta-exporter/kinsta_exporter/grafana/queries"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

const (
	// stepTimeout bounds every asserted step; pollEvery is the poll period.
	stepTimeout = 60 * time.Second
	pollEvery   = 250 * time.Millisecond
	// shortFor replaces every `for:` of rules.yml in the test copy.
	shortFor = "5s"
	// apiErrorsPanel is the one dashboard panel that is empty while the Kinsta
	// API answers only 2xx: it is checked empty while healthy (so the exception
	// stays minimal) and non-empty once the fake answers 500.
	apiErrorsPanel = `"API errors by code"`
)

var shortForDuration, _ = time.ParseDuration(shortFor)

// rulesFile is the single source of the alert rules.
var rulesFile = filepath.Join("..", "deploy", "prometheus", "rules.yml")

func TestEndToEnd(t *testing.T) {
	if os.Getenv("KINSTA_E2E_SKIP") == "1" {
		t.Skip("!!!!! KINSTA_E2E_SKIP=1: the END-TO-END TEST IS SKIPPED; nothing proves that the exporter, " +
			"the alert rules and the dashboard work together. CI must never set KINSTA_E2E_SKIP. !!!!!")
	}
	bins := requireBinaries(t)
	dir := t.TempDir()
	var procs []*process
	t.Cleanup(func() { // runs after every process has been stopped
		if t.Failed() {
			for _, p := range procs {
				t.Logf("----- last lines of %s log (%s) -----\n%s", p.name, p.logPath, tail(p.logPath, 60))
			}
		}
	})
	exporterBin := buildExporter(t, dir)

	// The fake Kinsta API, serving exactly the demo company (no churn).
	company := kinstatest.DemoCompany(time.Now())
	key := randomHex(t)
	fake := kinstatest.New(key, company)
	api := httptest.NewServer(fake) // 127.0.0.1
	t.Cleanup(api.Close)
	t.Cleanup(fake.Close) // before api.Close: releases held requests

	exporterAddr, demoAddr := freeAddr(t), freeAddr(t)
	amAddr, promAddr := freeAddr(t), freeAddr(t)

	// Config files: Alertmanager, the rules copy, Prometheus.
	amConfig := writeFile(t, dir, "alertmanager.yml", `route:
  receiver: "null"
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: "null"
`)
	rulesCopy, shortened := shortenedRules(t)
	writeFile(t, dir, "rules.yml", rulesCopy)
	promConfig := writeFile(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs: [{targets: ['%s']}]
scrape_configs:
  # The rules match job="kinsta".
  - job_name: kinsta
    static_configs: [{targets: ['%s']}]
  # The --demo exporter serves the same company ID as the fake above: the
  # dashboard's joins include job and instance, so two exporters of one
  # company in one Prometheus must not break them (no many-to-many).
  - job_name: kinsta-demo
    static_configs: [{targets: ['%s']}]
`, amAddr, exporterAddr, demoAddr))
	runTool(t, bins.promtool, "check", "config", promConfig) // also checks the rules copy

	// Processes. The API-backed exporter comes first, with the activity
	// collector (off by default) on: it counts only operations created after
	// the exporter started, and its first refresh follows the first scrape.
	// So two operations, one of them failed, go into the fake's activity log
	// once the exporter is ready and before Prometheus starts scraping. The
	// demo company's own entries are older and must not be counted.
	// --kinsta.rate-limit: a GET /sites every second (the 1s TTL, scraped
	// every second) would take all of the default 1 request per second, and
	// background requests only use what /sites leaves.
	exporter := startProcess(t, &procs, "kinsta_exporter", dir,
		append(os.Environ(), "KINSTA_API_KEY="+key),
		exporterBin, "--kinsta.api-url="+api.URL, "--kinsta.cache-ttl=1s", "--kinsta.rate-limit=10",
		"--collector.activity", "--web.listen-address="+exporterAddr)
	(&env{t: t, procs: procs}).poll(exporter.name+" ready", func() (bool, string) {
		err := httpGet("http://"+exporterAddr+"/-/ready", nil)
		return err == nil, fmt.Sprint(err)
	})
	// The API has millisecond resolution: 1ms ahead keeps created_at after
	// the exporter's start once truncated.
	opsAt := time.Now().Add(time.Millisecond)
	fake.AddActivities(company.ID,
		kinstatest.Activity{ID: 91000001, SiteID: company.Sites[0].ID, Type: "clearCache",
			Description: "Clear cache (e2e)", CreatedAt: opsAt, IsDone: true},
		kinstatest.Activity{ID: 91000002, SiteID: company.Sites[0].ID, Type: "pushEnvironment",
			Description: "Push Staging to Live (e2e)", CreatedAt: opsAt, IsDone: true, HasFailed: true,
			PublicError: "The environment is blocked by another process. Please try again a bit later."})
	wantOps := map[string]float64{"kinsta_activity_operations_total/clearCache": 1, "kinsta_activity_operations_total/pushEnvironment": 1,
		"kinsta_activity_operations_failed_total/clearCache": 0, "kinsta_activity_operations_failed_total/pushEnvironment": 1}
	demo := startProcess(t, &procs, "kinsta_exporter --demo", dir, withoutKinstaEnv(os.Environ()),
		exporterBin, "--demo", "--web.listen-address="+demoAddr)
	am := startProcess(t, &procs, "alertmanager", dir, os.Environ(), bins.alertmanager,
		"--config.file="+amConfig, "--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+amAddr, "--web.external-url=http://"+amAddr+"/",
		"--cluster.listen-address=")
	prom := startProcess(t, &procs, "prometheus", dir, os.Environ(), bins.prometheus,
		"--config.file="+promConfig, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promAddr, "--web.external-url=http://"+promAddr+"/",
		"--log.level=info")
	e := &env{t: t, procs: procs, prom: "http://" + promAddr, am: "http://" + amAddr}
	for _, p := range []struct {
		proc *process
		url  string
	}{{exporter, "http://" + exporterAddr + "/-/ready"}, {demo, "http://" + demoAddr + "/-/ready"},
		{am, "http://" + amAddr + "/-/ready"}, {prom, "http://" + promAddr + "/-/ready"}} {
		e.poll(p.proc.name+" ready", func() (bool, string) {
			err := httpGet(p.url, nil)
			return err == nil, fmt.Sprint(err)
		})
	}

	// Expectations, from the fake's data.
	notLive := map[string]string{} // site_id -> display_name
	type envKey struct{ site, env string }
	blocked := map[envKey]bool{}
	for _, s := range company.Sites {
		if s.Status != "live" {
			notLive[s.ID] = s.DisplayName
		}
		for _, env := range s.Environments {
			if env.IsBlocked {
				blocked[envKey{s.ID, env.ID}] = true
			}
		}
	}
	if len(notLive) == 0 || len(blocked) == 0 {
		t.Fatalf("DemoCompany has %d non-live sites and %d blocked environments; the test needs some of each", len(notLive), len(blocked))
	}
	t.Logf("demo company %s: %d sites, non-live %v", company.ID, len(company.Sites), sortedValues(notLive))

	// The rules Prometheus loaded are the shortened copy of rules.yml.
	e.step("rules loaded with every for: shortened", func() (bool, string) {
		rules, err := e.rules()
		if err != nil {
			return false, err.Error()
		}
		var names []string
		for _, r := range rules {
			if r.Type != "alerting" {
				continue
			}
			names = append(names, r.Name)
			if time.Duration(r.Duration*float64(time.Second)) > shortForDuration {
				return false, fmt.Sprintf("rule %s has for %gs, want <= %s", r.Name, r.Duration, shortFor)
			}
		}
		if want := alertNames(rulesCopy); !slices.Equal(sortedCopy(names), want) {
			return false, fmt.Sprintf("loaded alerting rules %v, rules.yml has %v", sortedCopy(names), want)
		}
		return true, ""
	})
	t.Logf("rules.yml copy: %d `for:` shortened to %s", shortened, shortFor)

	// 1. The API-backed exporter is scraped and its refresh works.
	e.step("1. target kinsta up and kinsta_up{job=\"kinsta\"} == 1", func() (bool, string) {
		if ok, detail := e.targetUp("kinsta"); !ok {
			return false, detail
		}
		v, err := e.query(`kinsta_up{job="kinsta"}`)
		if err != nil {
			return false, err.Error()
		}
		if len(v) != 1 || v[0].Value != 1 || v[0].Metric["company"] != company.ID {
			return false, fmt.Sprintf("kinsta_up{job=\"kinsta\"} = %v, want one series, company %q, value 1", v, company.ID)
		}
		n, err := e.scalar(`count(kinsta_site_info{job="kinsta"})`)
		if err != nil || n != float64(len(company.Sites)) {
			return false, fmt.Sprintf("count(kinsta_site_info{job=\"kinsta\"}) = %v (err %v), want %d", n, err, len(company.Sites))
		}
		return true, ""
	})

	// The --demo exporter in the same Prometheus.
	e.step("demo: target kinsta-demo up and kinsta_up{job=\"kinsta-demo\"} == 1", func() (bool, string) {
		if ok, detail := e.targetUp("kinsta-demo"); !ok {
			return false, detail
		}
		v, err := e.query(`kinsta_up{job="kinsta-demo"} == 1`)
		if err != nil {
			return false, err.Error()
		}
		if len(v) != 1 {
			return false, fmt.Sprintf("kinsta_up{job=\"kinsta-demo\"} == 1 returned %v", v)
		}
		n, err := e.scalar(`count(kinsta_site_info{job="kinsta-demo"})`)
		if err != nil || n == 0 {
			return false, fmt.Sprintf("count(kinsta_site_info{job=\"kinsta-demo\"}) = %v (err %v), want > 0", n, err)
		}
		return true, ""
	})

	// 2. KinstaSiteNotLive fires for exactly the non-live sites and reaches
	// Alertmanager with their display names.
	want := sortedKeys(notLive)
	e.step("2. KinstaSiteNotLive firing in Prometheus for exactly the non-live sites", func() (bool, string) {
		alerts, err := e.promAlerts()
		if err != nil {
			return false, err.Error()
		}
		var all, firing []string
		for _, a := range alerts {
			if a.Labels["alertname"] != "KinstaSiteNotLive" || a.Labels["job"] != "kinsta" {
				continue
			}
			all = append(all, a.Labels["site_id"])
			if a.State == "firing" {
				firing = append(firing, a.Labels["site_id"])
			}
		}
		if !slices.Equal(sortedCopy(firing), want) || !slices.Equal(sortedCopy(all), want) {
			return false, fmt.Sprintf("firing %v, pending or firing %v; want %v", sortedCopy(firing), sortedCopy(all), want)
		}
		return true, ""
	})
	e.step("2. KinstaSiteNotLive in Alertmanager with display names", func() (bool, string) {
		alerts, err := e.amAlerts()
		if err != nil {
			return false, err.Error()
		}
		var got []string
		var problems []string
		for _, a := range alerts {
			if a.Labels["alertname"] != "KinstaSiteNotLive" || a.Labels["job"] != "kinsta" {
				continue
			}
			id := a.Labels["site_id"]
			got = append(got, id)
			name, known := notLive[id]
			switch {
			case !known:
				problems = append(problems, "unexpected site_id "+id)
			case a.Labels["display_name"] != name:
				problems = append(problems, fmt.Sprintf("site %s: label display_name %q, want %q", id, a.Labels["display_name"], name))
			case !strings.Contains(a.Annotations["summary"], name) || !strings.Contains(a.Annotations["description"], name):
				problems = append(problems, fmt.Sprintf("site %s: %q missing from summary %q or description %q",
					id, name, a.Annotations["summary"], a.Annotations["description"]))
			case a.Status.State != "active":
				problems = append(problems, fmt.Sprintf("site %s: state %q, want active", id, a.Status.State))
			}
		}
		if !slices.Equal(sortedCopy(got), want) || len(problems) > 0 {
			return false, fmt.Sprintf("Alertmanager has KinstaSiteNotLive for %v, want %v; %s", sortedCopy(got), want, strings.Join(problems, "; "))
		}
		return true, ""
	})
	e.step("KinstaEnvironmentBlocked firing for exactly the blocked environments", func() (bool, string) {
		alerts, err := e.promAlerts()
		if err != nil {
			return false, err.Error()
		}
		got := map[envKey]bool{}
		for _, a := range alerts {
			if a.Labels["alertname"] == "KinstaEnvironmentBlocked" && a.Labels["job"] == "kinsta" && a.State == "firing" {
				got[envKey{a.Labels["site_id"], a.Labels["environment_id"]}] = true
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(blocked) { // fmt sorts map keys
			return false, fmt.Sprintf("firing for %v, want %v", got, blocked)
		}
		return true, ""
	})

	// The activity collector counted exactly the operations added after the
	// start (the types of its history start at 0), and the failed one fires
	// KinstaOperationsFailing.
	e.step("activity: operations counted since the start, by type", func() (bool, string) {
		v, err := e.query(`{__name__=~"kinsta_activity_operations_(failed_)?total",job="kinsta"}`)
		if err != nil {
			return false, err.Error()
		}
		got := map[string]float64{}
		for _, s := range v {
			if s.Metric["company"] != company.ID {
				return false, fmt.Sprintf("series %v: company, want %q", s, company.ID)
			}
			got[s.Metric["__name__"]+"/"+s.Metric["type"]] = s.Value
		}
		// The types of the log's history start at 0; only wantOps count.
		ok := true
		for k, want := range wantOps {
			if g, seen := got[k]; !seen || g != want {
				ok = false
			}
		}
		for k, g := range got {
			if _, wanted := wantOps[k]; !wanted && g != 0 {
				ok = false
			}
		}
		return ok, fmt.Sprintf("activity counters %v, want %v (and others at 0)", got, wantOps)
	})
	e.step("activity: KinstaOperationsFailing firing for pushEnvironment only, in Prometheus and Alertmanager", func() (bool, string) {
		alerts, err := e.promAlerts()
		if err != nil {
			return false, err.Error()
		}
		var firing []string
		for _, a := range alerts {
			if a.Labels["alertname"] == "KinstaOperationsFailing" && a.Labels["job"] == "kinsta" {
				firing = append(firing, a.Labels["company"]+"/"+a.Labels["type"]+"/"+a.State)
			}
		}
		if want := []string{company.ID + "/pushEnvironment/firing"}; !slices.Equal(firing, want) {
			return false, fmt.Sprintf("KinstaOperationsFailing{job=\"kinsta\"} %v, want %v", firing, want)
		}
		am, err := e.amAlerts()
		if err != nil {
			return false, err.Error()
		}
		for _, a := range am {
			if a.Labels["alertname"] == "KinstaOperationsFailing" && a.Labels["type"] == "pushEnvironment" &&
				strings.Contains(a.Annotations["summary"], company.ID) && a.Status.State == "active" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no active KinstaOperationsFailing for pushEnvironment in Alertmanager (%d alerts)", len(am))
	})

	// The responses collector (on by default) reads the demo's response
	// codes: KinstaSiteServerErrors fires for exactly the site with the 5xx
	// burst, with its display name (a quiet site with 5% of 40 responses does
	// not fire). The apikeys collector lists the demo's six keys:
	// KinstaAPIKeyExpiringSoon fires for exactly the active ones expiring
	// within 14 days (the deploy pipeline's), not the revoked or expired ones.
	wantErrors := serverErrorSites(company)
	wantKeys := expiringKeys(company, time.Now())
	if len(wantErrors) == 0 || len(wantKeys) == 0 {
		t.Fatalf("DemoCompany has %d sites with a 5xx burst and %d keys expiring soon; the test needs some of each", len(wantErrors), len(wantKeys))
	}
	e.step("responses: KinstaSiteServerErrors firing for exactly the 5xx-burst sites, by display name", func() (bool, string) {
		got, err := e.firingAlerts("KinstaSiteServerErrors", "site_id", "display_name")
		if err != nil {
			return false, err.Error()
		}
		return fmt.Sprint(got) == fmt.Sprint(wantErrors), fmt.Sprintf("firing for %v, want %v", got, wantErrors)
	})
	e.step("apikeys: KinstaAPIKeyExpiringSoon firing for exactly the active keys expiring within 14 days", func() (bool, string) {
		got, err := e.firingAlerts("KinstaAPIKeyExpiringSoon", "key_name", "key")
		if err != nil {
			return false, err.Error()
		}
		return fmt.Sprint(got) == fmt.Sprint(wantKeys), fmt.Sprintf("firing for %v, want %v", got, wantKeys)
	})

	// While the API is healthy the exporter-health alerts (group
	// kinsta-exporter of rules.yml) are quiet: transients of the start, such as
	// KinstaExporterDown before the first scrape, must have resolved.
	e.step("healthy: every rule of group kinsta-exporter is inactive", func() (bool, string) {
		rules, err := e.rules()
		if err != nil {
			return false, err.Error()
		}
		var active []string
		n := 0
		for _, r := range rules {
			if r.Group != "kinsta-exporter" || r.Type != "alerting" {
				continue
			}
			n++
			if r.State != "inactive" {
				active = append(active, r.Name+" is "+r.State)
			}
		}
		if n == 0 {
			t.Fatal("rules.yml has no alerting rule in group kinsta-exporter: update the test")
		}
		return len(active) == 0, fmt.Sprintf("active exporter-health alerts: %v", active)
	})

	// 3. Every dashboard query returns data (healthy API).
	qs := dashboardQueries(t)
	var exceptions []queries.Query
	for _, q := range qs {
		if probeQuery(t, q) {
			continue // blackbox_exporter's series: TestReachability's
		}
		if strings.Contains(q.Source, apiErrorsPanel) {
			exceptions = append(exceptions, q)
			continue
		}
		e.step("3. dashboard, healthy API: "+q.Source, func() (bool, string) { return e.nonEmpty(q) })
	}
	if len(exceptions) != 1 {
		t.Fatalf("expected exactly one dashboard query in panel %s, found %d: update the exception list", apiErrorsPanel, len(exceptions))
	}
	for _, q := range exceptions { // the exception list is minimal: empty while healthy
		if ok, _ := e.nonEmpty(q); ok {
			t.Fatalf("dashboard query %s returns data while the API answers only 2xx: drop it from the exception list", q.Source)
		}
	}

	// 4. The Kinsta API fails: KinstaAPIFailing fires, site series stay.
	before, err := e.scalar(`count(kinsta_site_info{job="kinsta"})`)
	if err != nil || before == 0 {
		t.Fatalf("count(kinsta_site_info{job=\"kinsta\"}) = %v (err %v) before the fault, want > 0", before, err)
	}
	fake.SetFault("", kinstatest.Fault{Status: http.StatusInternalServerError})
	e.step("4. kinsta_up{job=\"kinsta\"} == 0 once the fake answers 500", func() (bool, string) {
		v, err := e.query(`kinsta_up{job="kinsta"}`)
		if err != nil {
			return false, err.Error()
		}
		return len(v) == 1 && v[0].Value == 0, fmt.Sprintf("kinsta_up{job=\"kinsta\"} = %v, want 0", v)
	})
	e.step("4. KinstaAPIFailing firing while site series stay", func() (bool, string) {
		n, err := e.scalar(`count(kinsta_site_info{job="kinsta"})`)
		if err != nil {
			return false, err.Error()
		}
		if n != before {
			t.Fatalf("count(kinsta_site_info{job=\"kinsta\"}) = %v during the API failure, was %v: site series must survive failed refreshes", n, before)
		}
		alerts, err := e.promAlerts()
		if err != nil {
			return false, err.Error()
		}
		var states []string
		for _, a := range alerts {
			if a.Labels["alertname"] == "KinstaAPIFailing" && a.Labels["job"] == "kinsta" && a.Labels["company"] == company.ID {
				states = append(states, a.State)
			}
		}
		return slices.Equal(states, []string{"firing"}), fmt.Sprintf("KinstaAPIFailing{job=\"kinsta\",company=%q} states %v, want [firing]", company.ID, states)
	})
	e.step("4. KinstaAPIFailing in Alertmanager", func() (bool, string) {
		alerts, err := e.amAlerts()
		if err != nil {
			return false, err.Error()
		}
		for _, a := range alerts {
			if a.Labels["alertname"] == "KinstaAPIFailing" && a.Labels["job"] == "kinsta" && a.Labels["company"] == company.ID {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no KinstaAPIFailing in Alertmanager (%d alerts)", len(alerts))
	})

	// 3, continued: with the API failing every dashboard query returns data,
	// the API error panel included.
	for _, q := range qs {
		if probeQuery(t, q) {
			continue
		}
		e.step("3. dashboard, failing API: "+q.Source, func() (bool, string) { return e.nonEmpty(q) })
	}
	if n, err := e.scalar(`count(kinsta_site_info{job="kinsta"})`); err != nil || n != before {
		t.Fatalf("count(kinsta_site_info{job=\"kinsta\"}) = %v (err %v) at the end, want %v", n, err, before)
	}
}

// ---- binaries and processes ----

type binaries struct{ prometheus, alertmanager, promtool string }

func requireBinaries(t *testing.T) binaries {
	t.Helper()
	var b binaries
	var missing []string
	for _, x := range []struct {
		name string
		dst  *string
	}{{"prometheus", &b.prometheus}, {"prometheus-alertmanager", &b.alertmanager}, {"promtool", &b.promtool}} {
		p, err := exec.LookPath(x.name)
		if err != nil {
			missing = append(missing, x.name)
			continue
		}
		*x.dst = p
	}
	if len(missing) > 0 {
		t.Fatalf("the end-to-end test needs %s in PATH: run .ci/install-deps (Debian: apt-get install -y --no-install-recommends prometheus prometheus-alertmanager)",
			strings.Join(missing, ", "))
	}
	return b
}

func buildExporter(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "kinsta_exporter")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = ".."
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the exporter failed: %v\n%s", err, out)
	}
	t.Logf("built the exporter in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

func runTool(t *testing.T, bin string, args ...string) {
	t.Helper()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
}

type process struct {
	name, logPath string
	cmd           *exec.Cmd
	done          chan struct{}
	err           error // valid after done is closed
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startProcess runs bin in its own process group, logging to a file in dir;
// a cleanup stops the group (SIGTERM, then SIGKILL after 5s).
func startProcess(t *testing.T, procs *[]*process, name, dir string, env []string, bin string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(dir, regexp.MustCompile(`\W+`).ReplaceAllString(name, "_")+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	*procs = append(*procs, p)
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // stragglers of the group, if any
	})
	return p
}

// withoutKinstaEnv drops KINSTA_* variables so the demo exporter runs on its
// flags alone.
func withoutKinstaEnv(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "KINSTA_") })
}

// freeAddr returns a 127.0.0.1 address with a port that was free just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// ---- rules copy ----

var forLine = regexp.MustCompile(`(?m)^(\s+)for:[ \t]*\S+[ \t]*$`)

// shortenedRules returns rules.yml with every `for: X` replaced by shortFor
// and how many were replaced; nothing else changes.
func shortenedRules(t *testing.T) (string, int) {
	t.Helper()
	src, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	n := len(forLine.FindAllIndex(src, -1))
	out := forLine.ReplaceAll(src, []byte("${1}for: "+shortFor))
	if n == 0 {
		t.Fatalf("%s has no `for:` line: the rewrite is out of date", rulesFile)
	}
	if strings.Count(string(src), "for:") != n {
		t.Fatalf("%s has %d `for:` but only %d are lines of their own: the rewrite is out of date", rulesFile, strings.Count(string(src), "for:"), n)
	}
	return string(out), n
}

var alertLine = regexp.MustCompile(`(?m)^\s*-\s+alert:\s*(\S+)\s*$`)

// alertNames lists the alert names of a rules file, sorted, with repeats.
func alertNames(rules string) []string {
	var names []string
	for _, m := range alertLine.FindAllStringSubmatch(rules, -1) {
		names = append(names, strings.Trim(m[1], `'"`))
	}
	sort.Strings(names)
	return names
}

// ---- dashboard ----

func dashboardQueries(t *testing.T) []queries.Query {
	t.Helper()
	qs, err := queries.Extract(grafanamodule.DashboardJSON)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := queries.Queries(grafanamodule.DashboardJSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) == 0 || len(plain) != len(qs) {
		t.Fatalf("queries.Extract gave %d queries, queries.Queries %d", len(qs), len(plain))
	}
	for i := range qs {
		if qs[i].PromQL != plain[i] {
			t.Fatalf("queries.Extract and queries.Queries disagree on %s", qs[i].Source)
		}
	}
	return qs
}

// ---- polling and the HTTP APIs ----

type env struct {
	t        *testing.T
	procs    []*process
	prom, am string
}

// poll calls f every pollEvery until it returns true, failing the test after
// stepTimeout or as soon as one of the processes exits.
func (e *env) poll(what string, f func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ok, detail := f()
		if ok {
			return
		}
		for _, p := range e.procs {
			if p.exited() {
				e.t.Fatalf("%s: %s exited early (%v); last check: %s", what, p.name, p.err, detail)
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not reached within %s; last check: %s", what, stepTimeout, detail)
		}
		time.Sleep(pollEvery)
	}
}

// step is a logged poll.
func (e *env) step(what string, f func() (bool, string)) {
	e.t.Helper()
	start := time.Now()
	e.poll(what, f)
	e.t.Logf("ok after %5.1fs: %s", time.Since(start).Seconds(), what)
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// httpGet GETs url and decodes a 2xx JSON body into dst (nil: discard).
func httpGet(u string, dst any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &statusError{code: resp.StatusCode, msg: fmt.Sprintf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(body))}
	}
	if dst == nil {
		return nil
	}
	return json.Unmarshal(body, dst)
}

type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

// promAPI GETs a Prometheus /api/v1 path and decodes its data.
func (e *env) promAPI(path string, params url.Values, data any) error {
	var r struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	u := e.prom + path
	if params != nil {
		u += "?" + params.Encode()
	}
	if err := httpGet(u, &r); err != nil {
		return err
	}
	if r.Status != "success" {
		return fmt.Errorf("%s: %s: %s", path, r.ErrorType, r.Error)
	}
	return json.Unmarshal(r.Data, data)
}

type sample struct {
	Metric map[string]string
	Value  float64
}

func (s sample) String() string { return fmt.Sprintf("%v=%g", s.Metric, s.Value) }

type queryResult struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// query runs an instant query that must return a vector.
func (e *env) query(q string) ([]sample, error) {
	var r queryResult
	if err := e.promAPI("/api/v1/query", url.Values{"query": {q}}, &r); err != nil {
		return nil, err
	}
	if r.ResultType != "vector" {
		return nil, fmt.Errorf("%s: result type %s, want vector", q, r.ResultType)
	}
	var raw []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	if err := json.Unmarshal(r.Result, &raw); err != nil {
		return nil, err
	}
	out := make([]sample, len(raw))
	for i, s := range raw {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: value %v: %w", q, s.Value[1], err)
		}
		out[i] = sample{Metric: s.Metric, Value: v}
	}
	return out, nil
}

// scalar runs an instant query that must return exactly one sample.
func (e *env) scalar(q string) (float64, error) {
	v, err := e.query(q)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("%s returned %d samples, want 1", q, len(v))
	}
	return v[0].Value, nil
}

// nonEmpty runs a dashboard query the way Grafana would (instant, or a range
// over the last minute) and reports whether it returned data.
func (e *env) nonEmpty(q queries.Query) (bool, string) {
	var r queryResult
	var err error
	if q.Instant {
		err = e.promAPI("/api/v1/query", url.Values{"query": {q.PromQL}}, &r)
	} else {
		now := time.Now()
		err = e.promAPI("/api/v1/query_range", url.Values{
			"query": {q.PromQL},
			"start": {strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)},
			"end":   {strconv.FormatInt(now.Unix(), 10)},
			"step":  {"1"},
		}, &r)
	}
	var se *statusError
	if errors.As(err, &se) && (se.code == http.StatusBadRequest || se.code == http.StatusUnprocessableEntity) {
		// bad_data or an execution error such as many-to-many matching: waiting won't help.
		e.t.Fatalf("dashboard query %s fails in Prometheus: %v", q.Source, err)
	}
	if err != nil {
		return false, fmt.Sprintf("%s: %v", q.PromQL, err)
	}
	switch r.ResultType {
	case "scalar", "string":
		return true, ""
	case "vector", "matrix":
		var items []json.RawMessage
		if err := json.Unmarshal(r.Result, &items); err != nil {
			return false, err.Error()
		}
		return len(items) > 0, fmt.Sprintf("%s returned an empty %s", q.PromQL, r.ResultType)
	}
	return false, fmt.Sprintf("%s: unknown result type %q", q.PromQL, r.ResultType)
}

// targetUp reports whether every active target of a scrape pool is up.
func (e *env) targetUp(pool string) (bool, string) {
	var data struct {
		ActiveTargets []struct {
			ScrapePool string `json:"scrapePool"`
			ScrapeURL  string `json:"scrapeUrl"`
			Health     string `json:"health"`
			LastError  string `json:"lastError"`
		} `json:"activeTargets"`
	}
	if err := e.promAPI("/api/v1/targets", url.Values{"state": {"active"}}, &data); err != nil {
		return false, err.Error()
	}
	n := 0
	for _, tg := range data.ActiveTargets {
		if tg.ScrapePool != pool {
			continue
		}
		n++
		if tg.Health != "up" {
			return false, fmt.Sprintf("target %s of %s is %q (%s)", tg.ScrapeURL, pool, tg.Health, tg.LastError)
		}
	}
	return n == 1, fmt.Sprintf("%d active targets in pool %s, want 1", n, pool)
}

type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
}

func (e *env) promAlerts() ([]promAlert, error) {
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	err := e.promAPI("/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

type promRule struct {
	Group    string  `json:"-"`
	Name     string  `json:"name"`
	Type     string  `json:"type"`
	State    string  `json:"state"` // alerting rules: inactive, pending or firing
	Duration float64 `json:"duration"`
}

func (e *env) rules() ([]promRule, error) {
	var data struct {
		Groups []struct {
			Name  string     `json:"name"`
			Rules []promRule `json:"rules"`
		} `json:"groups"`
	}
	if err := e.promAPI("/api/v1/rules", nil, &data); err != nil {
		return nil, err
	}
	var out []promRule
	for _, g := range data.Groups {
		for _, r := range g.Rules {
			r.Group = g.Name
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no rules loaded yet")
	}
	return out, nil
}

type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

func (e *env) amAlerts() ([]amAlert, error) {
	var alerts []amAlert
	err := httpGet(e.am+"/api/v2/alerts", &alerts)
	return alerts, err
}

// ---- small helpers ----

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
