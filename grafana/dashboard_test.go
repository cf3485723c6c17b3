package grafana

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/kinsta-exporter/kinsta_exporter/grafana/internal/fleet"
	"github.com/kinsta-exporter/kinsta_exporter/grafana/queries"
)

const dashboardFile = "dashboards/kinsta.json"

// contractMetrics are the metrics kinsta_exporter exposes (docs/architecture.md
// and the collector); the dashboard may use these, their histogram series,
// and the client_golang go_*/process_* collectors, nothing else.
var contractMetrics = []string{
	"kinsta_up",
	"kinsta_site_info",
	"kinsta_site_status",
	"kinsta_site_label_info",
	"kinsta_environment_info",
	"kinsta_environment_blocked",
	"kinsta_environment_premium",
	"kinsta_environment_domain_info",
	"kinsta_environment_domain_active",
	"kinsta_exporter_collector_success",
	"kinsta_exporter_collector_last_success_timestamp_seconds",
	"kinsta_exporter_collector_duration_seconds",
	"kinsta_exporter_api_requests_total",
	"kinsta_exporter_api_request_duration_seconds",
	"kinsta_exporter_build_info",
	// The switchable collectors (collector/registry.go). The activity
	// collector is off by default; the end-to-end test, which requires every
	// panel to show data, switches it on.
	"kinsta_exporter_collector_disabled",
	"kinsta_exporter_refresh_queue_items",
	"kinsta_exporter_refresh_queue_due_items",
	"kinsta_exporter_refresh_queue_oldest_due_timestamp_seconds",
	"kinsta_api_key_expiry_timestamp_seconds",
	"kinsta_api_key_info",
	"kinsta_environment_backup_last_timestamp_seconds",
	"kinsta_environment_backups",
	"kinsta_environment_plugins",
	"kinsta_environment_plugin_updates_available",
	"kinsta_environment_plugins_vulnerable",
	"kinsta_plugin_installs",
	"kinsta_plugin_updates_available",
	"kinsta_plugin_vulnerable_installs",
	"kinsta_plugins_last_updated_timestamp_seconds",
	"kinsta_environment_themes",
	"kinsta_environment_theme_updates_available",
	"kinsta_environment_themes_vulnerable",
	"kinsta_theme_installs",
	"kinsta_theme_updates_available",
	"kinsta_theme_vulnerable_installs",
	"kinsta_themes_last_updated_timestamp_seconds",
	"kinsta_site_visits_this_month",
	"kinsta_site_bandwidth_this_month_bytes",
	"kinsta_site_cdn_bandwidth_this_month_bytes",
	"kinsta_environment_disk_usage_bytes",
	"kinsta_environment_http_responses",
	"kinsta_company_api_key_info",
	"kinsta_company_api_key_expiry_timestamp_seconds",
	"kinsta_activity_operations_total",
	"kinsta_activity_operations_failed_total",
}

var histograms = []string{"kinsta_exporter_api_request_duration_seconds"}

// blackboxMetrics are blackbox_exporter's series of the probes of the sites'
// domains (targets from the exporter's /sd/domains): the Reachability row
// shows them, and the $probe_job variable lists their jobs.
var blackboxMetrics = []string{"probe_success", "probe_ssl_earliest_cert_expiry", "probe_duration_seconds"}

// metricAllowed reports whether name is a contract metric and returns the
// contract metric it belongs to ("" for go_*/process_* metrics).
func metricAllowed(name string) (string, bool) {
	if slices.Contains(contractMetrics, name) || slices.Contains(blackboxMetrics, name) {
		return name, true
	}
	for _, h := range histograms {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if name == h+suffix {
				return h, true
			}
		}
	}
	if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
		return "", true
	}
	return "", false
}

// TestDashboardUpToDate fails when the committed JSON is not what
// internal/fleet generates: run `go run ./generate` in grafana/.
func TestDashboardUpToDate(t *testing.T) {
	want, err := fleet.JSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale (%s); regenerate it with `go run ./generate` in grafana/", dashboardFile, firstDiff(got, want))
	}
	if !bytes.Equal(DashboardJSON, got) {
		t.Fatal("embedded DashboardJSON differs from the file on disk")
	}
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d: committed %q, generated %q", i+1, gl, wl)
		}
	}
	return "no line differs"
}

// strictDecode decodes with the SDK's strict decoder, with the panel and
// query plugins registered so that panel options, field config and
// Prometheus targets are checked too.
//
// UnmarshalJSONStrict returns a typed-nil cog.BuildErrors on success, so
// `err != nil` is always true: only a non-empty BuildErrors (or another
// error type) is a failure. The same gotcha inside the SDK means the decoded
// Dashboard has empty Panels entries (the SDK drops every panel whose
// decoder returned the typed nil), so the structural checks below walk the
// raw JSON instead of the decoded value.
func strictDecode(b []byte) (dashboard.Dashboard, error) {
	plugins.RegisterDefaultPlugins()
	var d dashboard.Dashboard
	err := d.UnmarshalJSONStrict(b)
	var buildErrs cog.BuildErrors
	if errors.As(err, &buildErrs) && len(buildErrs) == 0 {
		err = nil
	}
	return d, err
}

func TestStrictDecode(t *testing.T) {
	d, err := strictDecode(DashboardJSON)
	if err != nil {
		t.Fatalf("strict decode of %s: %v", dashboardFile, err)
	}
	if d.Uid == nil || *d.Uid != "kinsta-fleet" {
		t.Errorf("uid = %v, want kinsta-fleet", d.Uid)
	}
	if d.Title == nil || *d.Title != "Kinsta fleet" {
		t.Errorf("title = %v, want Kinsta fleet", d.Title)
	}
}

// TestStrictDecodeRejects proves the strict decode above is not vacuous:
// an unknown field at each level the dashboard uses must be reported.
func TestStrictDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(d map[string]any)
		want   string
	}{
		{"dashboard", func(d map[string]any) { d["bogus"] = 1 }, "unexpected field 'bogus'"},
		{"panel", func(d map[string]any) { firstPanel(d, "stat")["bogus"] = 1 }, "bogus"},
		{"panel options", func(d map[string]any) {
			firstPanel(d, "stat")["options"].(map[string]any)["bogus"] = 1
		}, "bogus"},
		{"prometheus target", func(d map[string]any) {
			firstPanel(d, "timeseries")["targets"].([]any)[0].(map[string]any)["exprr"] = "up"
		}, "exprr"},
		{"variable", func(d map[string]any) {
			d["templating"].(map[string]any)["list"].([]any)[1].(map[string]any)["bogus"] = 1
		}, "bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decodeMap(t)
			tc.mutate(d)
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			_, err = strictDecode(b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("strict decode error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func decodeMap(t *testing.T) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(DashboardJSON, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func firstPanel(d map[string]any, typ string) map[string]any {
	for _, p := range allPanels(d) {
		if p["type"] == typ {
			return p
		}
	}
	panic("no panel of type " + typ)
}

// allPanels returns every panel, rows included, also those nested in
// collapsed rows.
func allPanels(d map[string]any) []map[string]any {
	var out []map[string]any
	var walk func([]any)
	walk = func(ps []any) {
		for _, p := range ps {
			pm := p.(map[string]any)
			out = append(out, pm)
			if nested, ok := pm["panels"].([]any); ok {
				walk(nested)
			}
		}
	}
	walk(d["panels"].([]any))
	return out
}

var datasourceRef = map[string]any{"type": "prometheus", "uid": "${datasource}"}

func TestPanelsAndTargets(t *testing.T) {
	d := decodeMap(t)
	ids := map[float64]string{}
	var rows, panels int
	for _, p := range allPanels(d) {
		title, _ := p["title"].(string)
		id, _ := p["id"].(float64)
		if id == 0 {
			t.Errorf("panel %q has no id", title)
		}
		if other, dup := ids[id]; dup {
			t.Errorf("panels %q and %q share id %v", other, title, id)
		}
		ids[id] = title
		if title == "" {
			t.Errorf("panel %v has no title", id)
		}
		gp, _ := p["gridPos"].(map[string]any)
		if gp == nil || gp["x"].(float64)+gp["w"].(float64) > 24 {
			t.Errorf("panel %q: gridPos %v outside the 24-column grid", title, gp)
		}
		if p["type"] == "row" {
			rows++
			continue
		}
		panels++
		if !reflect.DeepEqual(p["datasource"], datasourceRef) {
			t.Errorf("panel %q: datasource = %v, want %v", title, p["datasource"], datasourceRef)
		}
		if desc, _ := p["description"].(string); desc == "" {
			t.Errorf("panel %q has no description", title)
		}
		targets, _ := p["targets"].([]any)
		if len(targets) == 0 {
			t.Errorf("panel %q has no targets", title)
		}
		refIDs := map[string]bool{}
		for i, tg := range targets {
			tm := tg.(map[string]any)
			where := fmt.Sprintf("panel %q target %d", title, i)
			expr, _ := tm["expr"].(string)
			if strings.TrimSpace(expr) == "" {
				t.Errorf("%s: empty expr", where)
			}
			if !reflect.DeepEqual(tm["datasource"], datasourceRef) {
				t.Errorf("%s: datasource = %v, want %v", where, tm["datasource"], datasourceRef)
			}
			ref, _ := tm["refId"].(string)
			if ref == "" || refIDs[ref] {
				t.Errorf("%s: refId %q empty or duplicated", where, ref)
			}
			refIDs[ref] = true
			checkVariableUse(t, where, expr)
		}
	}
	if rows != 10 || panels < 61 {
		t.Errorf("found %d rows and %d panels, want 10 rows (Fleet overview, HTTP responses, API key and backups, WordPress plugins and themes, Usage this month, Disk, Activity, Domains, Reachability, Exporter health) and their panels", rows, panels)
	}
}

var (
	varUse   = regexp.MustCompile(`\$\{?(\w+)|\[\[(\w+)`)
	rangeSel = regexp.MustCompile(`\[[^\]]*\]`)
)

// checkVariableUse: only known variables; $job/$instance/$company/$label
// only inside =~ matchers (so that their ".*" All value is meaningful); range
// selectors use $__rate_interval.
func checkVariableUse(t *testing.T, where, expr string) {
	t.Helper()
	for _, m := range varUse.FindAllStringSubmatchIndex(expr, -1) {
		var name string
		if m[2] >= 0 {
			name = expr[m[2]:m[3]]
		} else {
			name = expr[m[4]:m[5]]
		}
		after := strings.TrimLeft(expr[m[1]:], "}]")
		switch name {
		case "job", "instance", "company", "label", "probe_job":
			if !strings.HasSuffix(expr[:m[0]], `=~"`) || !strings.HasPrefix(after, `"`) {
				t.Errorf("%s: $%s must be used as =~\"$%s\": %s", where, name, name, expr)
			}
		case "__rate_interval":
		default:
			t.Errorf("%s: unexpected variable $%s in %s", where, name, expr)
		}
	}
	for _, r := range rangeSel.FindAllString(expr, -1) {
		if r != "[$__rate_interval]" {
			t.Errorf("%s: range %s, want [$__rate_interval]", where, r)
		}
	}
}

// TestNoHardcodedUIDs walks the whole document: apart from the dashboard's
// own uid, every "uid" is the ${datasource} variable and every "datasource"
// is a reference to it.
func TestNoHardcodedUIDs(t *testing.T) {
	d := decodeMap(t)
	if d["uid"] != "kinsta-fleet" || d["title"] != "Kinsta fleet" {
		t.Errorf("uid, title = %v, %v; want kinsta-fleet, Kinsta fleet", d["uid"], d["title"])
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				p := path + "." + k
				switch k {
				case "uid":
					if p != ".uid" && c != "${datasource}" {
						t.Errorf("%s = %v: hard-coded uid", p, c)
					}
				case "datasource":
					if !reflect.DeepEqual(c, datasourceRef) {
						t.Errorf("%s = %v, want %v", p, c, datasourceRef)
					}
				}
				walk(p, c)
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	walk("", d)
}

func TestTemplating(t *testing.T) {
	var d struct {
		Templating struct {
			List []map[string]any `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(DashboardJSON, &d); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range d.Templating.List {
		names = append(names, v["name"].(string))
	}
	if !slices.Equal(names, []string{"datasource", "job", "instance", "company", "label", "probe_job"}) {
		t.Fatalf("variables = %v, want [datasource job instance company label probe_job]", names)
	}
	multi := func(query string) map[string]any {
		return map[string]any{"type": "query", "query": query, "datasource": datasourceRef, "multi": true, "includeAll": true, "allValue": ".*"}
	}
	want := []map[string]any{
		{"type": "datasource", "query": "prometheus", "multi": false, "includeAll": false},
		multi("label_values(kinsta_exporter_build_info, job)"),
		multi(`label_values(kinsta_exporter_build_info{job=~"$job"}, instance)`),
		multi(`label_values(kinsta_up{job=~"$job",instance=~"$instance"}, company)`),
		multi(`label_values(kinsta_site_label_info{job=~"$job",instance=~"$instance",company=~"$company"}, label)`),
		multi(`label_values(probe_success{site_id!=""}, job)`),
	}
	for i, w := range want {
		v := d.Templating.List[i]
		for k, wv := range w {
			if !reflect.DeepEqual(v[k], wv) {
				t.Errorf("variable %s: %s = %#v, want %#v", names[i], k, v[k], wv)
			}
		}
		if _, ok := v["current"]; ok {
			t.Errorf("variable %s: has a saved current value %v (it may pin a datasource uid)", names[i], v["current"])
		}
	}
}

// TestQueries checks what queries.Queries hands to the end-to-end test: one
// expression per variable query and panel target, with no template variable
// left, using only contract metrics, and together covering all of them.
func TestQueries(t *testing.T) {
	qs, err := queries.Extract(DashboardJSON)
	if err != nil {
		t.Fatal(err)
	}
	var targets int
	for _, p := range allPanels(decodeMap(t)) {
		ts, _ := p["targets"].([]any)
		targets += len(ts)
	}
	if want := 5 + targets; len(qs) != want { // job, instance, company, label and probe_job variables
		t.Errorf("queries.Extract returned %d queries, want %d", len(qs), want)
	}
	plain, err := queries.Queries(DashboardJSON)
	if err != nil || len(plain) != len(qs) {
		t.Fatalf("queries.Queries = %d queries, %v", len(plain), err)
	}

	used := map[string]bool{}
	for _, q := range qs {
		if strings.ContainsAny(q.PromQL, "$") || strings.Contains(q.PromQL, "[[") {
			t.Errorf("%s: template variable left in %s", q.Source, q.PromQL)
		}
		if err := balanced(q.PromQL); err != nil {
			t.Errorf("%s: %v: %s", q.Source, err, q.PromQL)
		}
		names, err := metricNames(q.PromQL)
		if err != nil {
			t.Errorf("%s: %v", q.Source, err)
		}
		if len(names) == 0 {
			t.Errorf("%s: no metric in %s", q.Source, q.PromQL)
		}
		for _, n := range names {
			base, ok := metricAllowed(n)
			if !ok {
				t.Errorf("%s: metric %s is not exposed by kinsta_exporter", q.Source, n)
			}
			used[base] = true
		}
	}
	for _, m := range slices.Concat(contractMetrics, blackboxMetrics) {
		if !used[m] {
			t.Errorf("metric %s is not shown on the dashboard", m)
		}
	}
}

// balanced is a cheap syntax check (the end-to-end test runs the queries on
// a real Prometheus): brackets nest and strings are closed.
func balanced(expr string) error {
	var stack []byte
	pair := map[byte]byte{')': '(', ']': '[', '}': '{'}
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; c {
		case '"', '\'', '`':
			j := skipString(expr, i)
			if j > len(expr) {
				return errors.New("unterminated string")
			}
			i = j - 1
		case '(', '[', '{':
			stack = append(stack, c)
		case ')', ']', '}':
			if len(stack) == 0 || stack[len(stack)-1] != pair[c] {
				return fmt.Errorf("unbalanced %q at %d", c, i)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed %q", stack)
	}
	return nil
}

// skipString returns the index just after the string literal starting at i
// (len(s)+1 if it is not terminated).
func skipString(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			return j + 1
		}
	}
	return len(s) + 1
}

// PromQL words that are not metric names even when not followed by "(".
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"inf": true, "nan": true,
	// aggregation operators, which may be followed by by/without before "("
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
}

// Keywords followed by a parenthesised list of label names.
var labelListKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// metricNames lists the metric names of a PromQL expression with a small
// lexer: identifiers outside strings, label matchers, ranges and label
// lists that are neither keywords nor function calls.
func metricNames(expr string) ([]string, error) {
	isStart := func(c byte) bool { return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isPart := func(c byte) bool { return isStart(c) || c >= '0' && c <= '9' }
	skipTo := func(i int, closing byte) int { // index after the closing byte, minding strings
		for j := i + 1; j < len(expr); j++ {
			switch c := expr[j]; {
			case c == '"' || c == '\'' || c == '`':
				j = skipString(expr, j) - 1
			case c == closing:
				return j + 1
			}
		}
		return len(expr)
	}
	seen := map[string]bool{}
	var names []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
		case c == '{':
			if strings.Contains(expr[i:skipTo(i, '}')], "__name__") {
				return nil, errors.New("__name__ matchers are not supported by this check")
			}
			i = skipTo(i, '}')
		case c == '[':
			i = skipTo(i, ']')
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isPart(expr[i]) || expr[i] == '.') {
				i++
			}
		case isStart(c):
			j := i
			for j < len(expr) && isPart(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && (expr[k] == ' ' || expr[k] == '\t' || expr[k] == '\n') {
				k++
			}
			call := k < len(expr) && expr[k] == '('
			lower := strings.ToLower(word)
			switch {
			case labelListKeywords[lower] && call:
				j = skipTo(k, ')')
			case promqlKeywords[lower] || call:
			default:
				if !seen[word] {
					seen[word] = true
					names = append(names, word)
				}
			}
			i = j
		default:
			i++
		}
	}
	sort.Strings(names)
	return names, nil
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`sum by (code) (rate(a_total{code!~"2..",x="b{c}"}[1m])) or vector(0)`, []string{"a_total"}},
		{`histogram_quantile(0.99, sum(rate(h_bucket[5m])) by (le))`, []string{"h_bucket"}},
		{`a * on(company, site_id) group_left(display_name) b unless on (x) c and ignoring(y) d`, []string{"a", "b", "c", "d"}},
		{`x * on(a) group_left e`, []string{"e", "x"}},
		{`time() - m offset 5m > bool 1e3`, []string{"m"}},
		{`label_replace(vector(1), "a", "$1", "b", "sum(c)")`, nil},
		{`count by (label) (kinsta_site_label_info{company=~".*",label!=""})`, []string{"kinsta_site_label_info"}},
		{`sum without (instance) (max(x) by (job))  # a comment with words`, []string{"x"}},
	} {
		got, err := metricNames(tc.expr)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %q, %v; want %q", tc.expr, got, err, tc.want)
		}
	}
	if _, err := metricNames(`{__name__="x"}`); err == nil {
		t.Error("metricNames accepted a __name__ matcher")
	}
}

// TestProvisioning checks the two paths docker compose relies on.
func TestProvisioning(t *testing.T) {
	for file, wants := range map[string][]string{
		"provisioning/datasources/prometheus.yml": {"apiVersion: 1", "type: prometheus", "url: http://prometheus:9090"},
		"provisioning/dashboards/kinsta.yml":      {"apiVersion: 1", "type: file", "path: /var/lib/grafana/dashboards"},
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Error(err)
			continue
		}
		if bytes.Contains(b, []byte("\t")) {
			t.Errorf("%s: tabs are not valid YAML indentation", file)
		}
		for _, w := range wants {
			if !bytes.Contains(b, []byte(w)) {
				t.Errorf("%s does not contain %q", file, w)
			}
		}
	}
}
