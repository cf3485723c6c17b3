#!/usr/bin/env bash
# Test of `make release`: builds the release into a scratch directory, then
# checks the checksums, every tarball's contents, every binary's platform and
# static linking, and the version the host's own binary reports.
#
# Needs: make, git, tar, gzip, sha256sum and the Go toolchain.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MAKE=${MAKE:-make}
GO=${GO:-go}
PLATFORMS=(linux/amd64 linux/arm64 darwin/arm64)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DIST=$WORK/dist

log() { printf 'release-test: %s\n' "$*" >&2; }
fail() { printf 'release-test: FAIL: %s\n' "$*" >&2; exit 1; }

VERSION=$(cat VERSION)
REVISION=$(git rev-parse --short HEAD) || fail "needs git and a git checkout"
BRANCH=$(git rev-parse --abbrev-ref HEAD)
grep -qF "## [$VERSION]" CHANGELOG.md || fail "CHANGELOG.md has no '## [$VERSION]' section for VERSION $VERSION"

# The Makefile's defaults are under test: VERSION from the file, not the environment.
t0=$SECONDS
env -u VERSION "$MAKE" --no-print-directory release DIST="$DIST" RELEASE_PLATFORMS="${PLATFORMS[*]}" \
  || fail "make release failed"
log "make release took $((SECONDS - t0))s"

# --- the files, and their checksums -----------------------------------------------
want=(sha256sums.txt)
for p in "${PLATFORMS[@]}"; do want+=("kinsta_exporter-$VERSION.${p%/*}-${p#*/}.tar.gz"); done
got=$(cd "$DIST" && ls -A | sort)
[[ $got == "$(printf '%s\n' "${want[@]}" | sort)" ]] || fail "$DIST holds:"$'\n'"$got"$'\n'"want:"$'\n'"$(printf '%s\n' "${want[@]}" | sort)"
(cd "$DIST" && sha256sum --strict -c sha256sums.txt) >&2 || fail "sha256sum -c sha256sums.txt"
[[ $(awk '{print $2}' "$DIST/sha256sums.txt" | sort) == "$(printf '%s\n' "${want[@]:1}" | sort)" ]] \
  || fail "sha256sums.txt does not list exactly the tarballs"

# --- each tarball ----------------------------------------------------------------------
for p in "${PLATFORMS[@]}"; do
  os=${p%/*} arch=${p#*/}
  name=kinsta_exporter-$VERSION.$os-$arch
  tarball=$DIST/$name.tar.gz
  log "$name.tar.gz ($(stat -c %s "$tarball") bytes):"
  tar -tvzf "$tarball" | sed 's/^/  | /' >&2
  entries=$(tar -tzf "$tarball" | sort)
  wanted=$(printf '%s\n' "$name/" "$name/CHANGELOG.md" "$name/LICENSE" "$name/README.md" "$name/kinsta_exporter" | sort)
  [[ $entries == "$wanted" ]] || fail "$name.tar.gz holds:"$'\n'"$entries"
  tar -tvzf "$tarball" | awk -v n="$name" '
    $2 != "0/0" { print "owner " $2 " on " $NF; bad = 1 }
    $NF == n "/kinsta_exporter" && $1 != "-rwxr-xr-x" { print "binary mode " $1; bad = 1 }
    END { exit bad }' >&2 || fail "$name.tar.gz: owners or modes"

  mkdir -p "$WORK/x"
  tar -xzf "$tarball" -C "$WORK/x"
  for doc in LICENSE README.md CHANGELOG.md; do
    cmp -s "$doc" "$WORK/x/$name/$doc" || fail "$name/$doc differs from the checkout's"
  done
  bin=$WORK/x/$name/kinsta_exporter
  # What the Go linker recorded: the platform, no cgo (a static binary), -trimpath.
  info=$("$GO" version -m "$bin") || fail "go version -m $name/kinsta_exporter"
  for setting in "GOOS=$os" "GOARCH=$arch" "CGO_ENABLED=0" "-trimpath=true"; do
    grep -qE "^[[:space:]]+build[[:space:]]+$setting\$" <<<"$info" || fail "$name/kinsta_exporter: build info lacks $setting"$'\n'"$info"
  done
  if [[ $os == linux ]] && LC_ALL=C grep -qaE '/lib(64)?/ld-linux' "$bin"; then
    fail "$name/kinsta_exporter names a dynamic loader: not static"
  fi
done

# --- the host's binary runs and reports the release's version ------------------------------
host=$("$GO" env GOHOSTOS)/$("$GO" env GOHOSTARCH)
[[ " ${PLATFORMS[*]} " == *" $host "* ]] || fail "no release binary for this host ($host) to run"
bin=$WORK/x/kinsta_exporter-$VERSION.${host%/*}-${host#*/}/kinsta_exporter
out=$("$bin" --version 2>&1) || fail "$host binary --version failed: $out"
printf '%s\n' "$out" | sed 's/^/  | /' >&2
want_line="kinsta_exporter, version $VERSION (branch: $BRANCH, revision: $REVISION)"
[[ $(head -n1 <<<"$out") == "$want_line" ]] || fail "--version's first line, want: $want_line"
grep -qE '^ +build date: +[0-9]{8}-[0-9:]{8}$' <<<"$out" || fail "--version lacks a build date"
echo "release-test: 1 passed, 0 failed"
