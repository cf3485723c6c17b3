#!/usr/bin/env bash
# Release artefacts, laid out as Prometheus' promu lays them out:
#
#   $DIST/kinsta_exporter-<VERSION>.<os>-<arch>.tar.gz   one per platform, holding the
#         directory kinsta_exporter-<VERSION>.<os>-<arch>/ with the static binary,
#         LICENSE, README.md and CHANGELOG.md
#   $DIST/sha256sums.txt                                 `sha256sum -c` checks the tarballs
#
# Run it through `make release`, which passes the Makefile's LDFLAGS (the one
# definition of the -X version flags) and VERSION (the VERSION file by default).
#
# Environment:
#   VERSION            release version (required)
#   LDFLAGS            -X flags for github.com/prometheus/common/version (required)
#   RELEASE_PLATFORMS  os/arch list   (default: linux/amd64 linux/arm64 darwin/arm64)
#   DIST               output directory, emptied first (default: dist)
#   GO                 go command     (default: go)
#   SOURCE_DATE_EPOCH  time stamped on the tarballs' entries (default: the commit's time)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
GO=${GO:-go}
DIST=${DIST:-dist}
PLATFORMS=${RELEASE_PLATFORMS:-linux/amd64 linux/arm64 darwin/arm64}
: "${LDFLAGS:?LDFLAGS unset: run make release}"
: "${VERSION:?VERSION unset: run make release}"
DOCS=(LICENSE README.md CHANGELOG.md)

log() { printf 'release: %s\n' "$*" >&2; }
fail() { printf 'release: FAIL: %s\n' "$*" >&2; exit 1; }

# The version names files and directories: no slashes, spaces or shell surprises.
[[ $VERSION =~ ^[0-9A-Za-z][0-9A-Za-z.+_-]*$ ]] || fail "VERSION '$VERSION' is not a version"
for doc in "${DOCS[@]}"; do [[ -f $doc ]] || fail "$doc is missing"; done
# Entries dated by the commit, owned by root, sorted: the tarball's layout does
# not depend on who builds it or when (the binaries still carry their build date).
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
rm -rf "$DIST"
mkdir -p "$DIST"

start=$SECONDS
for platform in $PLATFORMS; do
  os=${platform%/*}
  arch=${platform#*/}
  [[ $os != "$platform" && -n $os && -n $arch && $arch != */* ]] || fail "platform '$platform' is not os/arch"
  name=kinsta_exporter-$VERSION.$os-$arch
  exe=kinsta_exporter
  [[ $os == windows ]] && exe+=.exe
  mkdir "$STAGE/$name"
  t0=$SECONDS
  # -s -w drop the symbol table and DWARF (a third of the size); panics still
  # print symbolised stack traces (pclntab stays).
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath -ldflags "$LDFLAGS -s -w" \
    -o "$STAGE/$name/$exe" . || fail "go build for $platform failed"
  cp "${DOCS[@]}" "$STAGE/$name/"
  chmod 0755 "$STAGE/$name" "$STAGE/$name/$exe"
  chmod 0644 "${DOCS[@]/#/$STAGE/$name/}"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" \
    -C "$STAGE" -cf - "$name" | gzip -9n >"$DIST/$name.tar.gz"
  log "$name.tar.gz: binary $(stat -c %s "$STAGE/$name/$exe") bytes, tarball $(stat -c %s "$DIST/$name.tar.gz") bytes ($((SECONDS - t0))s)"
done
(cd "$DIST" && sha256sum -- *.tar.gz >sha256sums.txt)
log "$(wc -l <"$DIST/sha256sums.txt") tarballs and sha256sums.txt in $DIST/ ($((SECONDS - start))s)"
