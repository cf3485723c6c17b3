package main

import (
	"context"
	"io/fs"
	"net/http/httptest"
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
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
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

// TestREADMEDocumentsEveryServedMetric covers names the code builds from
// parts (kinsta_environment_<kind>s, ...): every family the exporter serves
// for the demo company, with every switchable collector on and every item
// refreshed, needs a row.
func TestREADMEDocumentsEveryServedMetric(t *testing.T) {
	readme := readFile(t, "README.md")
	fake := kinstatest.New("readme-key", kinstatest.DemoCompany(time.Now()))
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	client, err := kinsta.New(kinsta.Config{BaseURL: srv.URL, APIKey: "readme-key"})
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]time.Duration{}
	for _, name := range collector.CollectorNames() {
		all[name] = time.Hour
	}
	exp, err := collector.New(client, collector.Config{CacheTTL: time.Minute, RefreshTimeout: 5 * time.Second,
		MaxStaleness: time.Hour, Collectors: all}, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	exp.Start(ctx)
	exp.Refresh(ctx)
	for deadline := time.Now().Add(20 * time.Second); !refreshedAll(exp); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the background collectors did not refresh every item: %+v", exp.QueueStats())
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.GaugesCollector(exp, collector.Parts(all)...), collector.LiveCollector(exp))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !strings.Contains(readme, "| `"+mf.GetName()+"`") {
			t.Errorf("README's metric table has no row for %s", mf.GetName())
		}
	}
	if len(mfs) < 30 {
		t.Fatalf("the exporter served only %d families", len(mfs))
	}
}

// refreshedAll reports whether every background item was refreshed: none
// is due.
func refreshedAll(exp *collector.Exporter) bool {
	for _, q := range exp.QueueStats() {
		if q.Due > 0 || q.Items == 0 {
			return false
		}
	}
	return true
}

// repoURL is where runbook_url and dashboard links point: the project's
// files on its default branch.
const repoURL = "https://github.com/kinsta-exporter/kinsta_exporter/blob/main/"

// TestRunbookURLsResolve: every alert has a runbook_url into this
// repository, and the file it names exists with the anchor it names.
func TestRunbookURLsResolve(t *testing.T) {
	rules := readFile(t, "deploy/prometheus/rules.yml")
	alerts := regexp.MustCompile(`(?m)^\s*- alert: (\w+)`).FindAllStringSubmatch(rules, -1)
	urls := regexp.MustCompile(`runbook_url: '([^']+)'`).FindAllStringSubmatch(rules, -1)
	if len(alerts) == 0 || len(urls) < len(alerts) {
		t.Fatalf("%d alerts, %d runbook_urls in rules.yml", len(alerts), len(urls))
	}
	for _, a := range alerts {
		want := "runbook-" + strings.ToLower(a[1])
		if !strings.Contains(rules, "#"+want+"'") {
			t.Errorf("alert %s: no runbook_url with the anchor %s", a[1], want)
		}
	}
	for _, u := range urls {
		path, anchor, ok := strings.Cut(strings.TrimPrefix(u[1], repoURL), "#")
		if !strings.HasPrefix(u[1], repoURL) || !ok {
			t.Errorf("runbook_url %s: not a file#anchor of this repository", u[1])
			continue
		}
		if !strings.Contains(readFile(t, path), `<a id="`+anchor+`"></a>`) {
			t.Errorf("runbook_url %s: %s has no anchor %s", u[1], path, anchor)
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

// TestDocLinksResolve: every relative link of the README and docs/ names a
// file of the repository, and an in-page anchor a heading or anchor there.
func TestDocLinksResolve(t *testing.T) {
	files := []string{"README.md", "docs/runbooks.md", "docs/scaling.md", "docs/performance.md"}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, f := range files {
		text := readFile(t, f)
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			doc := text
			if path != "" {
				full := filepath.Join(filepath.Dir(f), path)
				if st, err := os.Stat(full); err == nil && st.IsDir() {
					continue // a folder: GitHub lists it
				}
				b, err := os.ReadFile(full)
				if err != nil {
					t.Errorf("%s: link %s: %v", f, target, err)
					continue
				}
				doc = string(b)
			}
			if anchor != "" && !hasAnchor(doc, anchor) {
				t.Errorf("%s: link %s: no heading or anchor %q", f, target, anchor)
			}
		}
	}
}

// hasAnchor reports whether a Markdown text has an explicit anchor or a
// heading whose GitHub slug is anchor.
func hasAnchor(doc, anchor string) bool {
	if strings.Contains(doc, `id="`+anchor+`"`) {
		return true
	}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		slug := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		slug = strings.ReplaceAll(drop.ReplaceAllString(slug, ""), " ", "-")
		if slug == anchor {
			return true
		}
	}
	return false
}
