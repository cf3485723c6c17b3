package queries

import (
	"reflect"
	"strings"
	"testing"
)

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"company": ".*", "label": ".*", "datasource": ""}
	for name, v := range Builtins {
		vars[name] = v
	}
	for _, tc := range []struct{ in, want string }{
		{`up{company=~"$company"}`, `up{company=~".*"}`},
		{`up{company=~"${company}"}`, `up{company=~".*"}`},
		{`up{company=~"${company:regex}"}`, `up{company=~".*"}`},
		{`up{company=~"[[company]]",label=~"[[label:pipe]]"}`, `up{company=~".*",label=~".*"}`},
		{`rate(x[$__rate_interval])`, `rate(x[1m])`},
		{`rate(x[${__rate_interval}])`, `rate(x[1m])`},
		{`avg_over_time(x[$__interval]) / $__interval_ms`, `avg_over_time(x[30s]) / 30000`},
		{`increase(x[$__range]) / $__range_s + $__range_ms`, `increase(x[5m]) / 300 + 300000`},
		{`x{ds="${datasource}"}`, `x{ds=""}`},
		// Unknown names stay, like Grafana does: $1 is a label_replace group.
		{`label_replace(x, "a", "$1", "b", "(.*)")`, `label_replace(x, "a", "$1", "b", "(.*)")`},
		{`x{company=~"$companyX"}`, `x{company=~"$companyX"}`},
		{`x{a=~"^b$"}`, `x{a=~"^b$"}`},
	} {
		if got := Substitute(tc.in, vars); got != tc.want {
			t.Errorf("Substitute(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestVariableToPromQL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{`label_values(kinsta_up, company)`, `count by (company) (kinsta_up{company!=""})`, ""},
		{`label_values(kinsta_site_label_info{company=~".*"}, label)`, `count by (label) (kinsta_site_label_info{company=~".*",label!=""})`, ""},
		{`label_values(m{a="x,y"} , l)`, `count by (l) (m{a="x,y",l!=""})`, ""},
		{`label_values(m{}, l)`, `count by (l) (m{l!=""})`, ""},
		{`label_values(job)`, `count by (job) ({job!=""})`, ""},
		{` query_result(sum by (a) (rate(x[1m]))) `, `sum by (a) (rate(x[1m]))`, ""},
		{`metrics(kinsta_.*)`, "", "metrics() has no PromQL equivalent"},
		{`label_values(m, "l")`, "", "bad label name"},
		{`kinsta_up`, "", "unsupported variable query"},
		{``, "", "empty query"},
	} {
		got, err := variableToPromQL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("variableToPromQL(%q) error = %v, want it to contain %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("variableToPromQL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

const sample = `{
  "templating": {"list": [
    {"type": "datasource", "name": "datasource", "query": "prometheus"},
    {"type": "query", "name": "company", "query": "label_values(kinsta_up, company)"},
    {"type": "query", "name": "label", "query": {"query": "label_values(kinsta_site_label_info{company=~\"$company\"}, label)", "refId": "X"}},
    {"type": "custom", "name": "env", "query": "live,staging"}
  ]},
  "panels": [
    {"type": "stat", "id": 2, "title": "Sites", "targets": [
      {"refId": "A", "expr": "count(kinsta_site_info{company=~\"$company\"})", "instant": true}
    ]},
    {"type": "row", "id": 3, "title": "Collapsed", "collapsed": true, "panels": [
      {"type": "timeseries", "id": 4, "title": "Rate", "targets": [
        {"refId": "A", "expr": "sum(rate(x{env=~\"${env}\"}[$__rate_interval]))"},
        {"refId": "B", "expr": "up{label=~\"[[label]]\"}"}
      ]}
    ]}
  ]
}`

func TestExtract(t *testing.T) {
	got, err := Extract([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := []Query{
		{Source: "variable company", Expr: `label_values(kinsta_up, company)`, PromQL: `count by (company) (kinsta_up{company!=""})`, Instant: true},
		{Source: "variable label", Expr: `label_values(kinsta_site_label_info{company=~"$company"}, label)`, PromQL: `count by (label) (kinsta_site_label_info{company=~".*",label!=""})`, Instant: true},
		{Source: `panel 2 "Sites" target A`, Expr: `count(kinsta_site_info{company=~"$company"})`, PromQL: `count(kinsta_site_info{company=~".*"})`, Instant: true},
		{Source: `panel 4 "Rate" target A`, Expr: `sum(rate(x{env=~"${env}"}[$__rate_interval]))`, PromQL: `sum(rate(x{env=~".*"}[1m]))`},
		{Source: `panel 4 "Rate" target B`, Expr: `up{label=~"[[label]]"}`, PromQL: `up{label=~".*"}`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Extract:\n got %#v\nwant %#v", got, want)
	}

	qs, err := Queries([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != len(want) || qs[0] != want[0].PromQL || qs[4] != want[4].PromQL {
		t.Errorf("Queries = %q", qs)
	}
}

func TestExtractErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, err string }{
		{"not json", `{`, "decoding dashboard"},
		{"empty expr", `{"panels":[{"id":1,"title":"x","targets":[{"refId":"A","expr":" "}]}]}`, `panel 1 "x" target A: empty expr`},
		{"bad variable", `{"templating":{"list":[{"type":"query","name":"v","query":"metrics(x)"}]}}`, "variable v: metrics() has no PromQL equivalent"},
		{"bad variable query type", `{"templating":{"list":[{"type":"query","name":"v","query":3}]}}`, "variable v: query is neither"},
		{"unnamed variable", `{"templating":{"list":[{"type":"query","query":"x"}]}}`, "without a name"},
	} {
		_, err := Extract([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error = %v, want it to contain %q", tc.name, err, tc.err)
		}
	}
}
