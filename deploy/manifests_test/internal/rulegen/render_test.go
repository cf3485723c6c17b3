package rulegen

import (
	"strings"
	"testing"
)

const testTemplate = `# header: ${notRendered}
groups:
  - name: g
    rules:
      - alert: A
        expr: |
          up{${selector}} == 0
        for: ${aMinutes}m
        annotations:
          summary: 'down for ${aMinutes} minutes'
`

const testDefaults = "selector: 'job=\"x\"'\nthresholds:\n  aMinutes: 5\n"

func TestRenderReplacesEveryPlaceholder(t *testing.T) {
	v, err := LoadValues([]byte(testDefaults), []byte("thresholds: {aMinutes: 12}\n"), []byte("selector: 'job=\"y\",env=\"prod\"'\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Render([]byte(testTemplate), v, "# made\n")
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{"# made\ngroups:", `up{job="y",env="prod"} == 0`, "for: 12m", "down for 12 minutes"} {
		if !strings.Contains(s, want) {
			t.Errorf("rendered rules lack %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "${") || strings.Contains(s, "header") {
		t.Errorf("placeholder or template header left in the output:\n%s", s)
	}
}

func TestLoadValuesRefuses(t *testing.T) {
	for _, c := range []struct{ override, want string }{
		{"thresholds: {bMinutes: 5}", "thresholds.bMinutes: no such threshold (known: aMinutes)"},
		{"thresholds: {aMinutes: 1.5}", `thresholds.aMinutes: "1.5" is not a positive whole number`},
		{"thresholds: {aMinutes: 0}", "is not a positive whole number"},
		{"thresholds: {aMinutes: 5m}", "is not a positive whole number"},
		{"thresholds: {aMinutes: -3}", "is not a positive whole number"},
		{"selector: 'job=\"x\"} or up{'", "without braces or line breaks"},
		{"selector: ''", "selector is empty"},
		{"Selector: 'job=\"x\"'", `unknown field "Selector"`},
		{"thresholds: {aMinutes: 5, aMinutes: 6}", `key "aMinutes" already set`},
	} {
		_, err := LoadValues([]byte(testDefaults), []byte(c.override))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("override %q: error %v, want one containing %q", c.override, err, c.want)
		}
	}
	if _, err := LoadValues([]byte("thresholds: {aMinutes: 5}")); err == nil {
		t.Error("defaults without a selector accepted")
	}
}

func TestRenderRefuses(t *testing.T) {
	v := Values{Selector: `job="x"`, Thresholds: map[string]string{"aMinutes": "5"}}
	for _, c := range []struct{ tmpl, want string }{
		{strings.ReplaceAll(testTemplate, "${aMinutes}m", "${bMinutes}m"), "no value for bMinutes"},
		{strings.ReplaceAll(testTemplate, "${aMinutes}", "5"), "value aMinutes is not used"},
		{strings.ReplaceAll(testTemplate, "${aMinutes}m", "${a-b}m"), "malformed placeholder"},
		{"rules: []\n" + testTemplate, "only comments may come before groups:"},
		{strings.ReplaceAll(testTemplate, "summary: 'down", "summary: down: 'x"), "rendered rules"},
	} {
		if _, err := Render([]byte(c.tmpl), v, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
}

func TestChartTemplateKeepsPlaceholders(t *testing.T) {
	out, err := ChartTemplate([]byte(testTemplate), "# chart\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "# chart\ngroups:") || !strings.Contains(string(out), "for: ${aMinutes}m") {
		t.Errorf("chart template:\n%s", out)
	}
	if _, err := ChartTemplate([]byte(testTemplate), "# ${x}\n"); err == nil {
		t.Error("a header with a placeholder was accepted")
	}
}
