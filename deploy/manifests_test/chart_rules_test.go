package manifests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"

	"github.com/kinsta-exporter/kinsta_exporter/deploy/manifests_test/internal/rulegen"
)

// checkRulesEqualDefaults checks the chart's PrometheusRule holds exactly the
// groups of deploy/prometheus/rules.yml.
func checkRulesEqualDefaults(t *testing.T, pr *monitoringv1.PrometheusRule) {
	t.Helper()
	want, err := rulegen.Groups(readFile(t, rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	checkRuleGroups(t, pr, want, "deploy/prometheus/rules.yml")
}

// checkRulesEqualGenerated checks the chart's PrometheusRule holds exactly
// what genrule makes with the prometheusRule selector and thresholds of the
// chart values file, and that promtool accepts those rules.
func checkRulesEqualGenerated(t *testing.T, pr *monitoringv1.PrometheusRule, valuesFile string) {
	t.Helper()
	var v struct {
		PrometheusRule struct {
			Selector   string         `json:"selector"`
			Thresholds map[string]any `json:"thresholds"`
		} `json:"prometheusRule"`
	}
	if err := yaml.Unmarshal(readFile(t, valuesFile), &v); err != nil {
		t.Fatal(err)
	}
	checkRulesEqualValues(t, pr, v.PrometheusRule.Selector, v.PrometheusRule.Thresholds, valuesFile)
}

// checkRulesEqualValues checks the PrometheusRule is what genrule makes with
// this selector and these thresholds (over the defaults), which must change
// the rules, and runs promtool check rules on them.
func checkRulesEqualValues(t *testing.T, pr *monitoringv1.PrometheusRule, selector string, thresholds map[string]any, from string) {
	t.Helper()
	override, err := yaml.Marshal(map[string]any{"selector": selector, "thresholds": thresholds})
	if err != nil {
		t.Fatal(err)
	}
	vals, err := rulegen.LoadValues(readFile(t, filepath.Join(deployDir, rulegen.DefaultsPath)), override)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := rulegen.Render(readFile(t, filepath.Join(deployDir, rulegen.TemplatePath)), vals, "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := rulegen.Groups(rules)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(rules, readFile(t, rulesFile)) || reflect.DeepEqual(want, mustGroups(t, readFile(t, rulesFile))) {
		t.Fatalf("%s changes nothing in the rules: this check would prove nothing", from)
	}
	checkRuleGroups(t, pr, want, "genrule with the values of "+from)
	file := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(file, rules, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool(t), "check", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules on the rules made with %s: %v\n%s", from, err, out)
	}
}

func mustGroups(t *testing.T, rules []byte) []any {
	t.Helper()
	g, err := rulegen.Groups(rules)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// checkRuleGroups compares the PrometheusRule's groups generically with want.
func checkRuleGroups(t *testing.T, pr *monitoringv1.PrometheusRule, want []any, from string) {
	t.Helper()
	if pr == nil {
		t.Fatal("no PrometheusRule")
	}
	b, err := yaml.Marshal(map[string]any{"groups": pr.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	got, err := rulegen.Groups(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		gy, _ := yaml.Marshal(got)
		wy, _ := yaml.Marshal(want)
		t.Errorf("the chart's PrometheusRule differs from %s:\n--- chart\n%s\n--- %s\n%s", from, gy, from, wy)
	}
}

// The chart's defaults are rules.values.yml's: the same thresholds, and the
// selector job="<jobName>".
func TestChartRuleDefaultsMatchRulesValues(t *testing.T) {
	var chart struct {
		JobName        string `json:"jobName"`
		PrometheusRule struct {
			Selector   string         `json:"selector"`
			Thresholds map[string]any `json:"thresholds"`
		} `json:"prometheusRule"`
	}
	if err := yaml.Unmarshal(readFile(t, filepath.Join(chartDir, "values.yaml")), &chart); err != nil {
		t.Fatal(err)
	}
	var defaults struct {
		Selector   string         `json:"selector"`
		Thresholds map[string]any `json:"thresholds"`
	}
	if err := yaml.Unmarshal(readFile(t, filepath.Join(deployDir, rulegen.DefaultsPath)), &defaults); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(chart.PrometheusRule.Thresholds, defaults.Thresholds) {
		t.Errorf("values.yaml prometheusRule.thresholds %v differ from %s %v", chart.PrometheusRule.Thresholds, rulegen.DefaultsPath, defaults.Thresholds)
	}
	if chart.PrometheusRule.Selector != "" || fmt.Sprintf("job=%q", chart.JobName) != defaults.Selector {
		t.Errorf("values.yaml: selector %q and jobName %q should give %s's selector %s", chart.PrometheusRule.Selector, chart.JobName, rulegen.DefaultsPath, defaults.Selector)
	}
}

// Without a selector of its own the chart's rules select job="<jobName>".
func TestChartRuleSelectorFollowsJobName(t *testing.T) {
	r := render(t, []string{ciValues("default-values.yaml")}, "prometheusRule.enabled=true", "jobName=kinsta-eu",
		"prometheusRule.thresholds.exporterDownMinutes=7")
	checkRulesEqualValues(t, r.rules[chartPrefix], `job="kinsta-eu"`, map[string]any{"exporterDownMinutes": 7}, "jobName=kinsta-eu")
}

// Every file generated from the rules template is up to date.
func TestGeneratedRulesUpToDate(t *testing.T) {
	outs, err := rulegen.Outputs(deployDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if !bytes.Equal(readFile(t, filepath.Join(deployDir, o.Path)), o.Data) {
			t.Errorf("deploy/%s is out of date with %s and %s; run: %s", o.Path, rulegen.TemplatePath, rulegen.DefaultsPath, rulegen.Command)
		}
	}
}

// Values that would install a broken exporter or broken rules are refused
// with a message naming the value.
func TestChartRefusesBadValues(t *testing.T) {
	rules := "apiKey: k\nprometheusRule:\n  enabled: true\n"
	for _, c := range []struct{ values, want string }{
		{"{}", "no Kinsta API key"},
		{"demo: true\napiKey: k", "demo=true runs the built-in simulated company"},
		{"apiKey: k\nexistingSecret: {name: s}", "existingSecret.name excludes apiKey"},
		{"apiKey: k\nconfig:\n  companies: [{id: a, apiKeyFile: /x}]", `unknown field "apiKeyFile"`},
		{"apiKey: k\nconfig:\n  companies: [{name: a}]", "config.companies[0]: id is required"},
		{"apiKey: k\nconfig:\n  companies: [{id: a, secretKey: other}]", `the API key "other" is not in the chart's Secret`},
		{rules + "  thresholds: {siteNotLiveMinutes: 1.5}", `prometheusRule.thresholds.siteNotLiveMinutes: "1.5" is not a positive whole number`},
		{rules + "  thresholds: {siteNotLiveMinutes: 0}", "is not a positive whole number"},
		{rules + "  thresholds: {siteNotLiveMinutes: 5m}", "is not a positive whole number"},
		{rules + "  thresholds: {siteNotLiveMinute: 5}", "prometheusRule.thresholds.siteNotLiveMinute: no such threshold"},
		{rules + `  selector: 'job="a"} or vector(1) or up{'`, "label matchers only"},
	} {
		file := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(file, []byte(c.values+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errOut, err := helm(t, templateArgs([]string{file})...)
		if err == nil || !strings.Contains(errOut, c.want) {
			t.Errorf("values %q: err %v, stderr %q; want an error containing %q", c.values, err, errOut, c.want)
		}
	}
}
