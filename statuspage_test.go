package main

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// TestStatusPageInChromium loads the demo's status page in a real browser
// (Debian's chromium, headless; .ci/install-deps installs it) once every
// background collector has read everything, and checks the text it
// rendered: the demo company up, its sites that are not live by display
// name, every collector's progress. The screenshot is kept, at the path
// the log prints ($KINSTA_TEST_ARTIFACTS, or the system's temporary
// directory).
func TestStatusPageInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: install the Debian package chromium (.ci/install-deps)")
	}
	start := time.Now()
	p := startExporter(t, nil, "--demo")
	if _, missing := waitForDemoFilled(t, p, start.Add(demoFillDeadline)); missing != "" {
		t.Fatalf("the demo is not filled: %s", missing)
	}

	dom := runChromium(t, chromium, "--dump-dom", p.url+"/")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`<h3>` + kinstatest.DemoCompanyID + `</h3>`),
		regexp.MustCompile(`State:\s*<strong class="up">up</strong>: the last refresh of its sites succeeded`),
		regexp.MustCompile(`Sites: 36, of which not live: 3\.`),
		regexp.MustCompile(`<li>Greenleaf Landscaping: suspended</li>\s*<li>Silverline Plumbing: paused</li>\s*<li>Granite Peak Outfitters: migrating</li>`),
		// collector, items, fresh, due: every item read, none due.
		collectorRow("apikey", 1), collectorRow("backups", 71), collectorRow("plugins", 1),
		collectorRow("themes", 1), collectorRow("usage", 36), collectorRow("disk", 71),
		regexp.MustCompile(`<a href="/metrics">Metrics</a>`),
		regexp.MustCompile(`href="/probe\?company=` + kinstatest.DemoCompanyID + `&amp;debug=true"`),
	} {
		if !want.MatchString(dom) {
			t.Errorf("the rendered page lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("rendered DOM:\n%s", dom)
	}

	shot := filepath.Join(artifactDir(t), "status-page.png")
	runChromium(t, chromium, "--window-size=1280,1400", "--screenshot="+shot, p.url+"/")
	checkScreenshot(t, shot)
	t.Logf("screenshot of the status page: %s", shot)
}

// collectorRow matches a collector's table row with all items fresh.
func collectorRow(name string, items int) *regexp.Regexp {
	n := func(v int) string { return `<td class="n">` + strconv.Itoa(v) + `</td>\s*` }
	return regexp.MustCompile(`<tr><td>` + name + `</td>\s*` + n(items) + n(items) + n(0) + n(0) + `<td>in \d`)
}

// runChromium runs headless chromium on loopback with a throw-away profile
// and returns its standard output; it fails the test if chromium fails.
func runChromium(t *testing.T, chromium string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// artifactDir is where tests keep what a person may want to look at.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("KINSTA_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "kinsta_exporter-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkScreenshot fails unless file is a PNG of the window's size that
// shows something (more than one colour).
func checkScreenshot(t *testing.T, file string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", file, err)
	}
	b := img.Bounds()
	if b.Dx() != 1280 || b.Dy() != 1400 {
		t.Fatalf("screenshot is %dx%d, want 1280x1400", b.Dx(), b.Dy())
	}
	first := img.At(b.Min.X, b.Min.Y)
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			if img.At(x, y) != first {
				return
			}
		}
	}
	t.Fatalf("screenshot %s is blank", file)
}
