package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
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

// TestREADMEDocumentsEveryMetricInTheSource covers the families the demo does
// not emit at its first scrape (config reload, background collectors): every
// complete kinsta_* name written in the non-test Go sources needs a row.
func TestREADMEDocumentsEveryMetricInTheSource(t *testing.T) {
	readme := readFile(t, "README.md")
	names := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		for _, m := range regexp.MustCompile(`"(kinsta_[a-z0-9_]+)"`).FindAllStringSubmatch(readFile(t, path), -1) {
			names[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range names {
		if isPrefixOfAnother(name, names) {
			continue // a prefix the code builds names from, or the program name
		}
		if !strings.Contains(readme, "| `"+name+"`") {
			t.Errorf("README's metric table has no row for %s", name)
		}
	}
	if len(names) < 20 {
		t.Fatalf("found only %d metric names; the scan is broken", len(names))
	}
}

func isPrefixOfAnother(name string, names map[string]bool) bool {
	for other := range names {
		if other != name && strings.HasPrefix(other, name) {
			return true
		}
	}
	return false
}

// TestREADMEDocumentsEveryDescribedMetric covers names the code builds from
// parts (kinsta_environment_<kind>s, ...): every family the exporter can
// describe, with every switchable collector on, needs a row.
func TestREADMEDocumentsEveryDescribedMetric(t *testing.T) {
	readme := readFile(t, "README.md")
	client, err := kinsta.New(kinsta.Config{APIKey: "describe-only"})
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]time.Duration{}
	for _, name := range collector.CollectorNames() {
		all[name] = time.Hour
	}
	exp := collector.New(client, collector.Config{CacheTTL: time.Minute, RefreshTimeout: time.Second,
		MaxStaleness: time.Hour, Collectors: all}, log.NewNopLogger())
	ch := make(chan *prometheus.Desc, 256)
	exp.Describe(ch)
	close(ch)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	n := 0
	for d := range ch {
		name := fqName.FindStringSubmatch(d.String())[1]
		n++
		if !strings.Contains(readme, "| `"+name+"`") {
			t.Errorf("README's metric table has no row for %s", name)
		}
	}
	if n < 30 {
		t.Fatalf("the exporter described only %d families", n)
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
