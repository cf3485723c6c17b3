package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFieldsFromBuildInfo(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: "2026-03-04T05:06:07Z"},
			{Key: "vcs.modified", Value: modified},
		}
	}
	for _, tc := range []struct {
		name     string
		main     string
		settings []debug.BuildSetting
		want     buildFields
	}{
		{"no build info", "", nil,
			buildFields{"0.1.0-dev", "unknown", "unknown", "unknown", "unknown"}},
		{"go build without VCS stamping", "(devel)", nil,
			buildFields{"0.1.0-dev", "unknown", "unknown", "unknown", "unknown"}},
		{"go build of a clean checkout", "(devel)", vcs("false"),
			buildFields{"0.1.0-dev+0123456789ab", rev, "unknown", "unknown", "20260304-05:06:07"}},
		{"go build of a modified checkout", "(devel)", vcs("true"),
			buildFields{"0.1.0-dev+0123456789ab.dirty", rev + "-modified", "unknown", "unknown", "20260304-05:06:07"}},
		{"go build of an untagged commit (Go pseudo-version)", "v0.0.0-20260304050607-0123456789ab+dirty", vcs("true"),
			buildFields{"0.1.0-dev+0123456789ab.dirty", rev + "-modified", "unknown", "unknown", "20260304-05:06:07"}},
		{"go build of a tagged commit", "v0.1.0", vcs("false"),
			buildFields{"0.1.0", rev, "unknown", "unknown", "20260304-05:06:07"}},
		{"go install of a release", "v0.2.0", nil,
			buildFields{"0.2.0", "unknown", "unknown", "unknown", "unknown"}},
		{"go install of a commit", "v0.1.1-0.20260304050607-0123456789ab", nil,
			buildFields{"0.1.0-dev+0123456789ab", "0123456789ab", "unknown", "unknown", "unknown"}},
		{"go install of a pre-release's commit", "v0.2.0-rc.1.0.20260304050607-0123456789ab", nil,
			buildFields{"0.1.0-dev+0123456789ab", "0123456789ab", "unknown", "unknown", "unknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var bi *debug.BuildInfo
			if tc.main != "" || tc.settings != nil {
				bi = &debug.BuildInfo{Main: debug.Module{Path: "github.com/kinsta-exporter/kinsta_exporter", Version: tc.main}, Settings: tc.settings}
			}
			if got := fieldsFromBuildInfo("0.1.0\n", bi); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if got := devVersion("  \n", "", false); got != "0.0.0-dev" {
		t.Errorf("empty VERSION file: %q", got)
	}
}

// versionLine matches the first line of --version.
var versionLine = regexp.MustCompile(`^kinsta_exporter, version (\S+) \(branch: (\S+), revision: (\S+)\)$`)

// buildPlain builds the exporter as `go build` does without the Makefile:
// no ldflags; extra flags such as -buildvcs pass through.
// -trimpath lets builds of copies elsewhere reuse the build cache.
func buildPlain(t *testing.T, dir string, flags ...string) (version, branch, revision, buildDate string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kinsta_exporter")
	args := append(append([]string{"build", "-trimpath"}, flags...), "-o", bin, ".")
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	m := versionLine.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("--version's first line %q does not match %s", lines[0], versionLine)
	}
	for _, l := range lines {
		if d, ok := strings.CutPrefix(strings.TrimSpace(l), "build date:"); ok {
			buildDate = strings.TrimSpace(d)
		}
	}
	return m[1], m[2], m[3], buildDate
}

func fileVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestPlainBuildWithoutVCS: a build from a source tree without git (a source
// tarball, a container build context) still reports VERSION, as a dev build.
func TestPlainBuildWithoutVCS(t *testing.T) {
	version, branch, revision, date := buildPlain(t, ".", "-buildvcs=false")
	if want := fileVersion(t) + "-dev"; version != want {
		t.Errorf("version %q, want %q", version, want)
	}
	if branch != "unknown" || revision != "unknown" || date != "unknown" {
		t.Errorf("branch %q, revision %q, build date %q: want unknown for each", branch, revision, date)
	}
}

// TestPlainBuildInCheckout: `go build` in a git checkout reports the commit
// it was built from, whether the tree was modified, and a tag on the commit.
// The checkout is a fresh repository holding a copy of this source tree: Go
// does not see git worktrees (a .git file), and the commit's time, tag and
// modified state must be known to the test.
func TestPlainBuildInCheckout(t *testing.T) {
	repo := copyIntoFreshRepo(t)
	git(t, repo, "commit", "-q", "-m", "release candidate")
	head := git(t, repo, "rev-parse", "HEAD")
	wantDate := "20260304-05:06:07" // GIT_COMMITTER_DATE, in --version's format
	check := func(name, wantVersion, wantRevision string) {
		t.Helper()
		version, branch, revision, date := buildPlain(t, repo, "-buildvcs=true")
		if version != wantVersion || revision != wantRevision || branch != "unknown" || date != wantDate {
			t.Errorf("%s: version %q, revision %q, branch %q, build date %q\nwant %q, %q, unknown, %q",
				name, version, revision, branch, date, wantVersion, wantRevision, wantDate)
		}
	}
	check("clean", fileVersion(t)+"-dev+"+head[:12], head)
	if err := os.WriteFile(filepath.Join(repo, "notes.txt"), []byte("local change\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("modified", fileVersion(t)+"-dev+"+head[:12]+".dirty", head+"-modified")
	if err := os.Remove(filepath.Join(repo, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "tag", "v0.98.7")
	check("tagged", "0.98.7", head)
}

// copyIntoFreshRepo copies the files git knows here (tracked, and untracked
// but not ignored) into a new repository and stages them.
func copyIntoFreshRepo(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	files := strings.Fields(git(t, ".", "ls-files", "--cached", "--others", "--exclude-standard"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue // deleted in the working tree, not yet committed
		} else if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(repo, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, repo, "init", "-q")
	git(t, repo, "add", "-A")
	return repo
}

// git runs git in dir with no user or system configuration and a fixed
// identity and commit time; a missing git fails the test.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@127.0.0.1", "GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@127.0.0.1",
		"GIT_AUTHOR_DATE=2026-03-04T05:06:07Z", "GIT_COMMITTER_DATE=2026-03-04T05:06:07Z")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s (needs git): %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// TestBuildInfoMetricOfPlainBuild: the test binary is itself a plain go build
// (TestMain); its build_info must carry the version, never an empty one.
func TestBuildInfoMetricOfPlainBuild(t *testing.T) {
	p := startExporter(t, nil, "--demo")
	_, body := p.get(t, "/metrics")
	line := grepLines(body, "kinsta_exporter_build_info{")
	m := regexp.MustCompile(`[{,]version="([^"]*)"`).FindStringSubmatch(line)
	if m == nil || !strings.HasPrefix(m[1], fileVersion(t)) {
		t.Errorf("build_info %q: want a version starting with %s", line, fileVersion(t))
	}
	for _, empty := range []string{`revision=""`, `branch=""`} {
		if strings.Contains(line, empty) {
			t.Errorf("build_info has %s: %s", empty, line)
		}
	}
}
