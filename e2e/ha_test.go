package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	grafanamodule "github.com/kinsta-exporter/kinsta_exporter/grafana"
	"github.com/kinsta-exporter/kinsta_exporter/grafana/queries"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// TestHADashboard is an HA pair for real: two replicas of the exporter export
// the same company (one fake Kinsta API, one key) and one Prometheus scrapes
// both as one job. Every dashboard query returns data, and every query of the
// fleet rows (counts, sums, tables) returns exactly what it returns with the
// instance variable set to either replica alone: each site and environment
// once, not twice. The main numbers are also checked against the fake's data.
func TestHADashboard(t *testing.T) {
	if os.Getenv("KINSTA_E2E_SKIP") == "1" {
		t.Skip("!!!!! KINSTA_E2E_SKIP=1: the HA dashboard end-to-end test is SKIPPED. !!!!!")
	}
	start := time.Now()
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

	company := kinstatest.DemoCompany(time.Now())
	key := randomHex(t)
	fake := kinstatest.New(key, company)
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	t.Cleanup(fake.Close)

	replicas := []string{freeAddr(t), freeAddr(t)}
	promAddr := freeAddr(t)
	promConfig := writeFile(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: kinsta
    static_configs: [{targets: ['%s', '%s']}]
`, replicas[0], replicas[1]))
	runTool(t, bins.promtool, "check", "config", promConfig)

	// The flags of TestEndToEnd's API-backed exporter, for both replicas.
	exporterEnv := append(withoutKinstaEnv(os.Environ()), "KINSTA_API_KEY="+key)
	for i, addr := range replicas {
		p := startProcess(t, &procs, fmt.Sprintf("kinsta_exporter replica %d", i), dir, exporterEnv, exporterBin,
			"--kinsta.api-url="+api.URL, "--kinsta.cache-ttl=1s", "--kinsta.rate-limit=10",
			"--collector.activity", "--web.listen-address="+addr)
		(&env{t: t, procs: procs}).poll(p.name+" ready", func() (bool, string) {
			err := httpGet("http://"+addr+"/-/ready", nil)
			return err == nil, fmt.Sprint(err)
		})
	}
	// Operations after both replicas started, so that both count them (as in
	// TestEndToEnd) and the Activity row has data.
	opsAt := time.Now().Add(time.Millisecond)
	fake.AddActivities(company.ID,
		kinstatest.Activity{ID: 92000001, SiteID: company.Sites[0].ID, Type: "clearCache", CreatedAt: opsAt, IsDone: true},
		kinstatest.Activity{ID: 92000002, SiteID: company.Sites[0].ID, Type: "pushEnvironment", CreatedAt: opsAt,
			IsDone: true, HasFailed: true})
	startProcess(t, &procs, "prometheus", dir, os.Environ(), bins.prometheus,
		"--config.file="+promConfig, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promAddr, "--log.level=info")
	e := &env{t: t, procs: procs, prom: "http://" + promAddr}
	e.step("both replicas scraped as job kinsta and kinsta_up == 1 on each", func() (bool, string) {
		v, err := e.query(`kinsta_up{job="kinsta"} == 1 and on(instance) up{job="kinsta"} == 1`)
		if err != nil {
			return false, err.Error()
		}
		return len(v) == 2, fmt.Sprintf("kinsta_up == 1 on %d targets, want 2: %v", len(v), v)
	})

	// Every query returns data, as in TestEndToEnd.
	qs := dashboardQueries(t)
	for _, q := range qs {
		if !strings.Contains(q.Source, apiErrorsPanel) && !probeQuery(t, q) {
			e.step("HA dashboard: "+q.Source, func() (bool, string) { return e.nonEmpty(q) })
		}
	}

	// Each fleet query: all instances == replica 0 alone == replica 1 alone.
	panels := dashboardPanels(t)
	compared := 0
	for _, q := range qs {
		p, ok := panels[panelID(q.Source)]
		if !ok || p.row == "Exporter health" || p.title == "Oldest data" || p.row == reachabilityRow {
			continue // variables; per target on purpose; the older replica's age; TestReachability's
		}
		if !strings.Contains(q.Expr, `instance=~"$instance"`) {
			t.Fatalf("%s does not filter by $instance: picking one replica would change nothing: %s", q.Source, q.Expr)
		}
		compared++
		e.step("HA: each replica alone shows the same: "+q.Source, func() (bool, string) {
			return e.sameForEachReplica(q, replicas)
		})
	}
	if compared < 30 {
		t.Fatalf("compared only %d fleet queries: the panel lookup is broken", compared)
	}

	checkHAValues(t, e, company, qs, panels)
	t.Logf("TestHADashboard took %s", time.Since(start).Round(100*time.Millisecond))
}

// checkHAValues checks the main counts of the dashboard, with both replicas
// scraped, against the fake's data: one site, one environment, once.
func checkHAValues(t *testing.T, e *env, company *kinstatest.Company, qs []queries.Query, panels map[int]panelInfo) {
	t.Helper()
	want := map[string]map[string]float64{ // panel -> series (label value) -> value
		"stat/Sites": {"": 0}, "stat/Sites not live": {"": 0}, "stat/Environments": {"": 0},
		"stat/Environments blocked": {"": 0}, "piechart/Sites by status": {}, "bargauge/PHP versions": {},
	}
	var notLiveRows, blockedRows []string
	for _, s := range company.Sites {
		want["stat/Sites"][""]++
		want["piechart/Sites by status"][s.Status]++
		if s.Status != "live" {
			want["stat/Sites not live"][""]++
			if len(s.Labels) == 0 {
				notLiveRows = append(notLiveRows, s.ID+"/")
			}
			for _, l := range s.Labels {
				notLiveRows = append(notLiveRows, s.ID+"/"+l.Name)
			}
		}
		for _, env := range s.Environments {
			want["stat/Environments"][""]++
			php := env.PHPVersion
			if php == "" {
				php = "unknown"
			}
			want["bargauge/PHP versions"][php]++
			if env.IsBlocked {
				want["stat/Environments blocked"][""]++
				blockedRows = append(blockedRows, s.ID+"/"+env.ID)
			}
		}
	}
	seriesKey := map[string]string{"piechart/Sites by status": "status", "bargauge/PHP versions": "php_version"}
	for _, q := range qs {
		p := panels[panelID(q.Source)]
		name := p.typ + "/" + p.title
		switch {
		case want[name] != nil:
			e.step("HA: "+name+" counts each once: "+fmt.Sprint(want[name]), func() (bool, string) {
				got, err := e.query(q.PromQL)
				if err != nil {
					return false, err.Error()
				}
				m := map[string]float64{}
				for _, s := range got {
					m[s.Metric[seriesKey[name]]] = s.Value
				}
				return fmt.Sprint(m) == fmt.Sprint(want[name]), fmt.Sprintf("%s = %v, want %v", name, m, want[name])
			})
		case name == "table/Sites not live":
			e.step("HA: table of sites not live has one row per site and label", tableRows(e, q, notLiveRows, "site_id", "label"))
		case name == "table/Blocked environments":
			e.step("HA: table of blocked environments has one row per environment", tableRows(e, q, blockedRows, "site_id", "environment_id"))
		case name == "timeseries/Exporter memory (RSS)":
			e.step("HA: exporter memory shows each replica", func() (bool, string) {
				got, err := e.query(q.PromQL)
				return err == nil && len(got) == 2, fmt.Sprintf("%v %v, want 2 series", got, err)
			})
		}
	}
}

// tableRows checks that an instant table query returns exactly the rows want,
// each row named by the values of labels joined with "/".
func tableRows(e *env, q queries.Query, want []string, labels ...string) func() (bool, string) {
	sort.Strings(want)
	return func() (bool, string) {
		got, err := e.query(q.PromQL)
		if err != nil {
			return false, err.Error()
		}
		var rows []string
		for _, s := range got {
			var parts []string
			for _, l := range labels {
				parts = append(parts, s.Metric[l])
			}
			rows = append(rows, strings.Join(parts, "/"))
		}
		sort.Strings(rows)
		return fmt.Sprint(rows) == fmt.Sprint(want), fmt.Sprintf("rows %v, want %v", rows, want)
	}
}

// sameForEachReplica evaluates a dashboard query at one instant three times:
// with every instance, and with $instance set to each replica. Grafana runs
// range queries too, but one instant is enough to see a duplicate.
func (e *env) sameForEachReplica(q queries.Query, replicas []string) (bool, string) {
	at := time.Now().Add(-2 * time.Second) // samples up to then are all in
	all, err := e.queryAt(substituteInstance(q.Expr, ".*"), at)
	if err != nil {
		return false, err.Error()
	}
	if len(all) == 0 {
		return false, "no data with every instance"
	}
	for _, r := range replicas {
		// Escaped for a PromQL string, as Grafana escapes a picked value.
		re := strings.ReplaceAll(regexp.QuoteMeta(r), `\`, `\\`)
		one, err := e.queryAt(substituteInstance(q.Expr, re), at)
		if err != nil {
			return false, err.Error()
		}
		if canonical(one) != canonical(all) {
			return false, fmt.Sprintf("with every instance:\n%s\nwith instance %s alone:\n%s", canonical(all), r, canonical(one))
		}
	}
	return true, ""
}

// substituteInstance substitutes the dashboard's variables like
// queries.Extract does (every variable "All"), except $instance.
func substituteInstance(expr, instance string) string {
	vars := map[string]string{"datasource": "", "job": ".*", "company": ".*", "label": ".*", "instance": instance}
	for k, v := range queries.Builtins {
		vars[k] = v
	}
	return queries.Substitute(expr, vars)
}

// queryAt runs an instant query at a given time.
func (e *env) queryAt(q string, at time.Time) ([]sample, error) {
	var r queryResult
	params := url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	err := e.promAPI("/api/v1/query", params, &r)
	var se *statusError
	if errors.As(err, &se) && (se.code == http.StatusBadRequest || se.code == http.StatusUnprocessableEntity) {
		e.t.Fatalf("query fails in Prometheus (waiting won't help): %v", err)
	}
	if err != nil {
		return nil, err
	}
	var raw []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	if r.ResultType != "vector" {
		return nil, fmt.Errorf("%s: result type %s, want vector", q, r.ResultType)
	}
	if err := json.Unmarshal(r.Result, &raw); err != nil {
		return nil, err
	}
	out := make([]sample, len(raw))
	for i, s := range raw {
		v, err := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
		if err != nil {
			return nil, err
		}
		out[i] = sample{Metric: s.Metric, Value: v}
	}
	return out, nil
}

// canonical is a vector as sorted lines of labels and value.
func canonical(v []sample) string {
	lines := make([]string, len(v))
	for i, s := range v {
		keys := make([]string, 0, len(s.Metric))
		for k := range s.Metric {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%q ", k, s.Metric[k])
		}
		lines[i] = b.String() + strconv.FormatFloat(s.Value, 'g', -1, 64)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

type panelInfo struct{ row, typ, title string }

// dashboardPanels maps panel IDs to their row, type and title.
func dashboardPanels(t *testing.T) map[int]panelInfo {
	t.Helper()
	var d struct {
		Panels []struct {
			ID    int    `json:"id"`
			Type  string `json:"type"`
			Title string `json:"title"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(grafanamodule.DashboardJSON, &d); err != nil {
		t.Fatal(err)
	}
	out := map[int]panelInfo{}
	row := ""
	for _, p := range d.Panels {
		if p.Type == "row" {
			row = p.Title
			continue
		}
		out[p.ID] = panelInfo{row: row, typ: p.Type, title: p.Title}
	}
	return out
}

var panelSource = regexp.MustCompile(`^panel (\d+) `)

// panelID is the panel of a queries.Query source, 0 for a variable.
func panelID(source string) int {
	m := panelSource.FindStringSubmatch(source)
	if m == nil {
		return 0
	}
	id, _ := strconv.Atoi(m[1])
	return id
}
