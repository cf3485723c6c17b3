package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEDocumentsEveryMetric keeps the README's metric table true: every
// kinsta_* family the demo exports must have a row.
func TestREADMEDocumentsEveryMetric(t *testing.T) {
	readme := readFile(t, "README.md")
	p := startExporter(t, nil, "--demo")
	_, body := p.get(t, "/metrics")
	families := regexp.MustCompile(`(?m)^# HELP (kinsta_\w+) `).FindAllStringSubmatch(body, -1)
	if len(families) == 0 {
		t.Fatal("no kinsta_* families exported")
	}
	for _, f := range families {
		if !strings.Contains(readme, "| `"+f[1]+"`") {
			t.Errorf("README's metric table has no row for %s", f[1])
		}
	}
}

// TestREADMEHasARunbookForEveryAlert checks that each alert's runbook_url anchor exists.
func TestREADMEHasARunbookForEveryAlert(t *testing.T) {
	readme := readFile(t, "README.md")
	rules := readFile(t, "deploy/prometheus/rules.yml")
	alerts := regexp.MustCompile(`(?m)^\s*- alert: (\w+)`).FindAllStringSubmatch(rules, -1)
	if len(alerts) == 0 {
		t.Fatal("no alerts found in rules.yml")
	}
	for _, a := range alerts {
		anchor := "runbook-" + strings.ToLower(a[1])
		if !strings.Contains(rules, "README.md#"+anchor) {
			t.Errorf("alert %s: runbook_url does not point at README.md#%s", a[1], anchor)
		}
		if !strings.Contains(readme, `<a id="`+anchor+`"></a>`) {
			t.Errorf("alert %s: README has no runbook anchor %s", a[1], anchor)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
