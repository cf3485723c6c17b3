// Package rulegen generates kinsta_exporter's alerting rules files from their
// template, deploy/prometheus/rules.tmpl.yml: Render replaces its ${name}
// placeholders with the selector and thresholds of rules.values.yml (or a
// user's overrides) to make rules.yml; Generate turns rules.yml into the
// Prometheus Operator's PrometheusRule deploy/kubernetes/prometheusrule.yaml;
// ChartTemplate makes the Helm chart's copy of the template, whose
// placeholders the chart replaces itself; Outputs lists all checked-in ones.
//
// Generate copies the rule groups textually, indented under spec:, so that
// comments, block scalars and key order survive; it then parses both
// documents and refuses to return a manifest whose spec.groups differ from
// the rules file's groups.
package rulegen

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// Command is how to regenerate the manifest; it is written into its header.
const Command = "cd deploy/manifests_test && go run ./cmd/genrule"

const header = `# Code generated from deploy/prometheus/rules.yml by deploy/manifests_test/cmd/genrule. DO NOT EDIT.
# Regenerate after changing the rules: ` + Command + `
# spec.groups is exactly the groups of rules.yml (checked by the manifests tests).
# Your Prometheus resource's ruleSelector may require extra labels here.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: kinsta-exporter
  labels:
    app.kubernetes.io/name: kinsta-exporter
    app.kubernetes.io/component: exporter
spec:
`

var groupsLine = regexp.MustCompile(`^groups:[ \t]*(#.*)?$`)

// Generate returns the PrometheusRule manifest for a Prometheus rules file.
func Generate(rules []byte) ([]byte, error) {
	want, err := Groups(rules)
	if err != nil {
		return nil, fmt.Errorf("rules file: %w", err)
	}
	text := strings.ReplaceAll(string(rules), "\r\n", "\n")
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	start := -1
	for i, l := range lines {
		if groupsLine.MatchString(l) {
			start = i
			break
		}
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") && t != "---" {
			return nil, fmt.Errorf("rules file: line %d: only comments may come before groups:, got %q", i+1, l)
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("rules file: no top-level groups: line")
	}
	var b bytes.Buffer
	b.WriteString(header)
	for i, l := range lines[start:] {
		if l == "---" || l == "..." {
			return nil, fmt.Errorf("rules file: line %d: more than one YAML document", start+i+1)
		}
		if strings.TrimSpace(l) == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("  ")
		b.WriteString(l)
		b.WriteString("\n")
	}
	out := b.Bytes()
	got, err := SpecGroups(out)
	if err != nil {
		return nil, fmt.Errorf("generated manifest: %w", err)
	}
	if !reflect.DeepEqual(got, want) {
		return nil, fmt.Errorf("generated manifest: spec.groups differ from the rules file's groups")
	}
	return out, nil
}

// Groups parses a Prometheus rules file generically and returns its groups. The
// file must have no other top-level key.
func Groups(rules []byte) ([]any, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(rules, &doc); err != nil {
		return nil, err
	}
	for k := range doc {
		if k != "groups" {
			return nil, fmt.Errorf("unexpected top-level key %q", k)
		}
	}
	g, ok := doc["groups"].([]any)
	if !ok || len(g) == 0 {
		return nil, fmt.Errorf("groups is missing, empty or not a list")
	}
	return g, nil
}

// SpecGroups parses a PrometheusRule manifest generically and returns spec.groups.
func SpecGroups(manifest []byte) ([]any, error) {
	var doc struct {
		Spec map[string]any `json:"spec"`
	}
	if err := yaml.Unmarshal(manifest, &doc); err != nil {
		return nil, err
	}
	g, ok := doc.Spec["groups"].([]any)
	if !ok || len(g) == 0 {
		return nil, fmt.Errorf("spec.groups is missing, empty or not a list")
	}
	return g, nil
}
