package grafana

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kinsta-exporter/kinsta_exporter/grafana/internal/fleet"
)

// rulesFile is the single source of the alert rules and their runbook_url.
const rulesFile = "../deploy/prometheus/rules.yml"

var (
	alertLine      = regexp.MustCompile(`(?m)^\s*-\s+alert:\s*['"]?(\w+)['"]?\s*$`)
	runbookURLLine = regexp.MustCompile(`(?m)^\s*runbook_url:\s*['"]?([^'"\s]+)['"]?\s*$`)
)

// TestRunbookLinks: the dashboard links to the runbooks, every runbook link
// of a panel is the runbook_url of an alert of rules.yml (so the two move
// together), and every alert of rules.yml is linked from a panel showing its
// data.
func TestRunbookLinks(t *testing.T) {
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	ruleURLs := map[string]bool{}
	for _, m := range runbookURLLine.FindAllStringSubmatch(string(rules), -1) {
		ruleURLs[m[1]] = true
	}
	alerts := map[string]bool{}
	for _, m := range alertLine.FindAllStringSubmatch(string(rules), -1) {
		alerts[m[1]] = true
	}
	if len(alerts) == 0 || len(ruleURLs) != len(alerts) {
		t.Fatalf("%s: %d alerts and %d distinct runbook_url; want one runbook_url per alert", rulesFile, len(alerts), len(ruleURLs))
	}

	d := decodeMap(t)
	dashLinks, _ := d["links"].([]any)
	var docLinked bool
	for _, l := range dashLinks {
		lm := l.(map[string]any)
		if url, _ := lm["url"].(string); strings.HasPrefix(url, fleet.RunbookDoc+"#") {
			docLinked = true
		}
		if _, ok := lm["placement"]; ok {
			t.Errorf("dashboard link %q has a placement: Grafana then hides it in the controls menu", lm["title"])
		}
	}
	if !docLinked {
		t.Errorf("no dashboard link into %s", fleet.RunbookDoc)
	}

	linked := map[string]bool{}
	for _, p := range allPanels(d) {
		links, _ := p["links"].([]any)
		for _, l := range links {
			lm := l.(map[string]any)
			url, _ := lm["url"].(string)
			title, _ := lm["title"].(string)
			alert := strings.TrimPrefix(title, "Runbook: ")
			switch {
			case !ruleURLs[url]:
				t.Errorf("panel %q: link %q to %s is not a runbook_url of %s", p["title"], title, url, rulesFile)
			case !alerts[alert] || !strings.HasSuffix(url, "#runbook-"+strings.ToLower(alert)):
				t.Errorf("panel %q: link titled %q goes to %s", p["title"], title, url)
			case lm["targetBlank"] != true:
				t.Errorf("panel %q: link %q does not open a new tab", p["title"], title)
			}
			linked[alert] = true
		}
	}
	var unlinked []string
	for a := range alerts {
		if !linked[a] {
			unlinked = append(unlinked, a)
		}
	}
	sort.Strings(unlinked)
	if len(unlinked) > 0 {
		t.Errorf("no panel links to the runbook of %v: link it from the panel that shows the alert's data", unlinked)
	}
}

// selectorRE matches a metric name with its optional label matchers. Metric
// names of kinsta_exporter and client_golang never occur in label names or
// strings of the dashboard's queries.
var selectorRE = regexp.MustCompile(`\b((?:kinsta|process|go)_[a-zA-Z0-9_:]*)(\{[^}]*\})?`)

// TestEverySelectorTakesJobAndInstance: every series selector of every panel
// and of the company and label variables is filtered by $job and $instance,
// so that picking a job or an instance narrows the whole dashboard.
func TestEverySelectorTakesJobAndInstance(t *testing.T) {
	var exprs, where []string
	for _, p := range allPanels(decodeMap(t)) {
		targets, _ := p["targets"].([]any)
		for _, tg := range targets {
			exprs = append(exprs, tg.(map[string]any)["expr"].(string))
			where = append(where, "panel "+p["title"].(string))
		}
	}
	var d struct {
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(DashboardJSON, &d); err != nil {
		t.Fatal(err)
	}
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(string); ok && slices.Contains([]string{"company", "label"}, v.Name) {
			exprs = append(exprs, q)
			where = append(where, "variable "+v.Name)
		}
	}
	selectors := 0
	for i, expr := range exprs {
		for _, m := range selectorRE.FindAllStringSubmatch(expr, -1) {
			selectors++
			if !strings.Contains(m[2], `job=~"$job"`) || !strings.Contains(m[2], `instance=~"$instance"`) {
				t.Errorf("%s: selector %s has no job=~\"$job\" and instance=~\"$instance\" matchers", where[i], m[0])
			}
		}
	}
	if selectors < len(exprs) {
		t.Fatalf("found %d selectors in %d expressions: the check is broken", selectors, len(exprs))
	}
}

// probeSelectorRE matches a blackbox_exporter series with its matchers.
var probeSelectorRE = regexp.MustCompile(`\b(probe_[a-zA-Z0-9_:]*)(\{[^}]*\})?`)

// TestProbeSelectorsTakeProbeJobAndCompany: the probe series come from the
// probe job, where instance is the probed domain, so their selectors take
// $probe_job and $company instead of $job and $instance; they appear in the
// Reachability row only.
func TestProbeSelectorsTakeProbeJobAndCompany(t *testing.T) {
	d := decodeMap(t)
	row, n := "", 0
	for _, p := range d["panels"].([]any) {
		pm := p.(map[string]any)
		if pm["type"] == "row" {
			row = pm["title"].(string)
			continue
		}
		targets, _ := pm["targets"].([]any)
		for _, tg := range targets {
			expr := tg.(map[string]any)["expr"].(string)
			for _, m := range probeSelectorRE.FindAllStringSubmatch(expr, -1) {
				n++
				if row != "Reachability" {
					t.Errorf("panel %q in row %q: probe series belong in the Reachability row: %s", pm["title"], row, m[0])
				}
				if !strings.Contains(m[2], `job=~"$probe_job"`) || !strings.Contains(m[2], `company=~"$company"`) {
					t.Errorf("panel %q: selector %s has no job=~\"$probe_job\" and company=~\"$company\" matchers", pm["title"], m[0])
				}
			}
		}
	}
	if n < 6 {
		t.Fatalf("found %d probe selectors: the check is broken", n)
	}
}
