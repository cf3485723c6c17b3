package main

import (
	_ "embed"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/common/version"
)

// versionFile is the release this source tree is (or is on its way to).
// Embedded so that a build without the Makefile's -X ldflags (go build,
// go run, go install) can still say which release it is based on.
//
//go:embed VERSION
var versionFile string

// buildFields is what prometheus/common/version reports (--version,
// kinsta_exporter_build_info, the startup log line).
type buildFields struct {
	version, revision, branch, buildUser, buildDate string
}

// init fills the version fields that no -X ldflag has set, from what the Go
// toolchain recorded in the binary, so that no build reports an empty
// version. Fields set by ldflags (make build, make release, the Dockerfile)
// are kept as they are.
func init() {
	bi, _ := debug.ReadBuildInfo()
	f := fieldsFromBuildInfo(versionFile, bi)
	fill(&version.Version, f.version)
	fill(&version.Revision, f.revision)
	fill(&version.Branch, f.branch)
	fill(&version.BuildUser, f.buildUser)
	fill(&version.BuildDate, f.buildDate)
}

func fill(field *string, value string) {
	if *field == "" {
		*field = value
	}
}

// pseudoVersion matches the tail of a Go pseudo-version (a commit that is not
// a tagged release): a 14-digit commit time and a 12-hex revision prefix.
var pseudoVersion = regexp.MustCompile(`[-.][0-9]{14}-([0-9a-f]{12})(\+dirty)?$`)

// fieldsFromBuildInfo derives the version fields of a build made without
// ldflags. A tagged module version (go install ...@v1.2.3, or go build of a
// tagged checkout) is reported as it is. Anything else is a development
// build of the embedded VERSION: "<VERSION>-dev", plus "+<revision>" when the
// commit is known and ".dirty" when the tree had uncommitted changes.
// Unknowable fields (Go records no branch and no user) say "unknown".
func fieldsFromBuildInfo(fileVersion string, bi *debug.BuildInfo) buildFields {
	f := buildFields{revision: "unknown", branch: "unknown", buildUser: "unknown", buildDate: "unknown"}
	var vcsRevision string
	var modified bool
	mainVersion := ""
	if bi != nil {
		mainVersion = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				vcsRevision = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			case "vcs.time":
				// The commit's time: Go records no build time (builds are reproducible).
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					f.buildDate = t.UTC().Format("20060102-15:04:05")
				}
			}
		}
	}
	shortRevision := vcsRevision
	if m := pseudoVersion.FindStringSubmatch(mainVersion); m != nil {
		if shortRevision == "" {
			shortRevision = m[1]
		}
		modified = modified || m[2] != ""
		mainVersion = "" // not a release: described from VERSION below
	}
	if len(shortRevision) > 12 {
		shortRevision = shortRevision[:12]
	}
	switch {
	case vcsRevision != "" && modified:
		// The suffix prometheus/common/version itself gives a modified tree.
		f.revision = vcsRevision + "-modified"
	case vcsRevision != "":
		f.revision = vcsRevision
	case shortRevision != "":
		f.revision = shortRevision
	}
	if mainVersion != "" && mainVersion != "(devel)" {
		f.version = strings.TrimPrefix(mainVersion, "v")
		return f
	}
	f.version = devVersion(fileVersion, shortRevision, modified)
	return f
}

// devVersion is a semver pre-release of the VERSION file's release with the
// revision as build metadata, e.g. 0.1.0-dev+0123456789ab.dirty.
func devVersion(fileVersion, shortRevision string, modified bool) string {
	v := strings.TrimSpace(fileVersion)
	if v == "" {
		v = "0.0.0"
	}
	v += "-dev"
	if shortRevision == "" {
		return v
	}
	v += "+" + shortRevision
	if modified {
		v += ".dirty"
	}
	return v
}
