#!/usr/bin/env bash
# Container image test without a Docker engine: builds ./Dockerfile with buildah,
# runs the image with podman, scrapes it on loopback and checks that it runs as
# uid 65534. See shared/tooling-notes.md section 4 for why it looks like this.
#
# Needs (installed by .ci/install-deps, not here): buildah podman runc debootstrap curl, and
# the Go toolchain on the host (copied into the local build base image).
#
# No registry is reachable, so the public base images (golang:1.26, distroless) are
# replaced by local ones through the Dockerfile's GO_IMAGE/RUN_IMAGE build args:
#   localhost/golang:1.26   debootstrap'ed bookworm minbase + the host's Go toolchain and
#                           CA bundle, built once and cached in the CI storage (rebuilt
#                           when either changes on the host, or with CT_REBUILD_BASE=1)
#   scratch                 as run image: stricter than distroless (no passwd, no /tmp)
#
# Environment knobs (all optional):
#   CT_CONTEXT      build context            (default: repository root)
#   CT_IMAGE        image tag to build       (default: localhost/kinsta_exporter:ci)
#   CT_RUN_IMAGE    run stage base image     (default: scratch)
#   CT_PORT         loopback port to serve   (default: 18055)
#   CT_EXPECT       ERE a /metrics line must match (default: kinsta_up ... 1)
#   CT_MODCACHE     how the build gets modules: "mount" (host GOMODCACHE bind-mounted
#                   read-only; default when the host cache has them) or "proxy"
#                   (downloaded inside the build through GOPROXY)
#   CT_GOCACHE      0 stops mounting the host's Go build cache (only with CT_MODCACHE=mount)
#   CT_KEEP_IMAGE   1 keeps the built image afterwards
#   CT_STORAGE_ROOT container storage root   (default: /var/lib/containers/kinsta_exporter-ci)
#   DEBIAN_MIRROR   mirror for debootstrap   (default: the machine's own Debian mirror, from
#                   the apt sources in /etc/apt; see debian_mirror below)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONTEXT=$(cd "${CT_CONTEXT:-$ROOT}" && pwd)
DOCKERFILE=$ROOT/Dockerfile
IMAGE=${CT_IMAGE:-localhost/kinsta_exporter:ci}
RUN_IMAGE=${CT_RUN_IMAGE:-scratch}
PORT=${CT_PORT:-18055}
EXPECT=${CT_EXPECT:-'^kinsta_up(\{[^}]*\})? 1(\.0+)?$'}
STORAGE_ROOT=${CT_STORAGE_ROOT:-/var/lib/containers/kinsta_exporter-ci}
RUN_ROOT=${CT_RUN_ROOT:-/run/kinsta_exporter-ci}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-}
GO_BASE=localhost/golang:1.26
DEB_BASE=localhost/debian:bookworm-minbase
VERSION=${VERSION:-ci-$(date -u +%Y%m%d%H%M%S)}

STORE=(--storage-driver vfs --root "$STORAGE_ROOT" --runroot "$RUN_ROOT")
bh() { buildah "${STORE[@]}" "$@"; }
pm() { podman "${STORE[@]}" --runtime runc --cgroup-manager cgroupfs "$@"; }

T0=$(date +%s.%N)
TLAST=$T0
declare -a TIMINGS=()
log() { printf 'container-test: %s\n' "$*" >&2; }
fail() { printf 'container-test: FAIL: %s\n' "$*" >&2; exit 1; }
phase() { # phase NAME: record time since the previous phase
  local now; now=$(date +%s.%N)
  TIMINGS+=("$(printf '%-28s %6.1fs' "$1" "$(awk -v a="$now" -v b="$TLAST" 'BEGIN{print a-b}')")")
  TLAST=$now
}
print_timings() {
  local now; now=$(date +%s.%N)
  log "timings:"
  local t; for t in "${TIMINGS[@]}"; do printf '  %s\n' "$t" >&2; done
  printf '  %-28s %6.1fs\n' total "$(awk -v a="$now" -v b="$T0" 'BEGIN{print a-b}')" >&2
}

WORK=$(mktemp -d)
CID=""
BCTR=""
cleanup() {
  local rc=$?
  set +e
  if [[ -n $CID ]]; then
    if (( rc != 0 )); then log "container logs:"; pm logs "$CID" 2>&1 | tail -n 40 >&2; fi
    pm rm -f -t 0 "$CID" >/dev/null 2>&1
  fi
  [[ -n $BCTR ]] && bh rm "$BCTR" >/dev/null 2>&1
  if [[ ${CT_KEEP_IMAGE:-0} != 1 ]]; then bh rmi -f "$IMAGE" >/dev/null 2>&1; fi
  # dangling build-stage images left by a failed build
  bh rmi --prune >/dev/null 2>&1
  rm -rf "$WORK"
  (( ${#TIMINGS[@]} )) && print_timings
  if (( rc != 0 )); then log "container test FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# debian_mirror prints the URI of the machine's own Debian mirror, from its apt
# sources (one-line sources.list format and deb822 .sources), so that no mirror
# is written in the project. Candidates are enabled `deb` entries with the main
# component and a release suite (no "-updates", "-security" or "/"): first one
# whose suite is bookworm (what debootstrap fetches) or whose downloaded
# Release file says Origin: Debian, else the first.
APT_ETC=${APT_ETC:-/etc/apt}
APT_LISTS=${APT_LISTS:-/var/lib/apt/lists}
debian_mirror() {
  local f files=()
  [[ -f $APT_ETC/sources.list ]] && files+=("$APT_ETC/sources.list")
  for f in "$APT_ETC"/sources.list.d/*.list "$APT_ETC"/sources.list.d/*.sources; do
    [[ -f $f ]] && files+=("$f")
  done
  (( ${#files[@]} )) || return 1
  local uri suite best="" first=""
  while read -r uri suite; do
    [[ -n $first ]] || first=$uri
    local list=${uri#*://}
    list=${list%/}
    list=${list//\//_}_dists_${suite}_
    if [[ $suite == bookworm ]] || grep -qsx 'Origin: Debian' "$APT_LISTS/${list}InRelease" "$APT_LISTS/${list}Release"; then
      best=$uri
      break
    fi
  done < <(awk '
    function candidate(types, uris, suites, comps, enabled,   n, i, u, s) {
      if (enabled == "no" || (" " types " ") !~ / deb / || (" " comps " ") !~ / main /) return
      split(uris, u, " "); n = split(suites, s, " ")
      for (i = 1; i <= n; i++) if (s[i] !~ /[-\/]/ && u[1] != "") print u[1], s[i]
    }
    function flush() { if (para) candidate(T, U, S, C, E); para = 0; T = U = S = C = E = ""; key = "" }
    FNR == 1 { flush() }
    FILENAME ~ /\.list$/ {                      # deb [ options ] uri suite component...
      sub(/#.*/, "")
      if ($1 != "deb") next
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      comps = ""; for (j = i + 2; j <= NF; j++) comps = comps " " $j
      candidate("deb", $i, $(i + 1), comps, "yes")
      next
    }
    /^#/ { next }                               # deb822: comment lines
    /^[ \t]*$/ { flush(); next }                # blank line ends a paragraph
    /^[ \t]/ { if (key != "") V[key] = V[key] " " $0; set(key); next }  # continued value
    {
      para = 1; key = tolower(substr($0, 1, index($0, ":") - 1))
      V[key] = substr($0, index($0, ":") + 1); set(key)
    }
    function set(k) {
      if (k == "types") T = V[k]; else if (k == "uris") U = V[k]
      else if (k == "suites") S = V[k]; else if (k == "components") C = V[k]
      else if (k == "enabled") { E = V[k]; gsub(/[ \t]/, "", E); E = tolower(E) }
    }
    END { flush() }' "${files[@]}")
  uri=${best:-$first}
  [[ -n $uri ]] || return 1
  printf '%s\n' "$uri"
}

# --- tools -------------------------------------------------------------------
missing=()
for t in buildah podman runc debootstrap curl go; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
(( ${#missing[@]} == 0 )) || fail "missing tools: ${missing[*]} (apt-get install -y buildah podman runc debootstrap curl)"
[[ -f $DOCKERFILE ]] || fail "no Dockerfile at $DOCKERFILE"
[[ -f $CONTEXT/go.mod ]] || fail "no go.mod in build context $CONTEXT"
log "buildah $(buildah --version | awk '{print $3}'), podman $(podman --version | awk '{print $3}'), $(runc --version | head -n1)"
log "context $CONTEXT, image $IMAGE, run image $RUN_IMAGE, storage $STORAGE_ROOT"

# --- Dockerfile lint (report-only: npm may be unavailable) ---------------------
# dockerfilelint cannot expand build args and flags `FROM ${GO_IMAGE}` as
# "missing tag"; lint a copy with each FROM's arg replaced by its default, as
# docker would expand it, so no rule has to be turned off. It also predates
# FROM --platform (it takes the flag for the image), so the copy drops the flag.
if command -v npx >/dev/null 2>&1; then
  mkdir -p "$WORK/lint"
  awk '
    /^ARG [A-Za-z_]+=/ { split(substr($0, 5), kv, "="); def[kv[1]] = substr($0, 5 + length(kv[1]) + 1) }
    /^FROM / { sub(/--platform=[^ ]+ /, ""); for (k in def) gsub("\\$\\{" k "\\}", def[k]) }
    { print }' "$DOCKERFILE" >"$WORK/lint/Dockerfile"
  set +e
  lint_out=$(cd "$WORK/lint" && timeout 120 npx --yes dockerfilelint@1.8.0 Dockerfile 2>&1)
  lint_rc=$?
  set -e
  if (( lint_rc == 0 )); then
    log "dockerfilelint@1.8.0: no issues"
  elif grep -q '^Issues:' <<<"$lint_out"; then
    printf '%s\n' "$lint_out" >&2
    log "WARNING: dockerfilelint reported issues (report-only)"
  else
    log "WARNING: dockerfilelint could not run (rc=$lint_rc): $(tail -n 3 <<<"$lint_out" | tr '\n' ' ')"
  fi
else
  log "WARNING: npx not found, dockerfilelint skipped"
fi
phase lint

# --- local base image: localhost/golang:1.26 ---------------------------------
GOROOT_HOST=$(go env GOROOT)
GOVERSION_HOST=$(go env GOVERSION)
[[ $GOVERSION_HOST == go1.26* ]] || fail "host Go is $GOVERSION_HOST, the Dockerfile's GO_IMAGE is golang:1.26"

HOST_CA=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
[[ -f $HOST_CA ]] || fail "no CA bundle at $HOST_CA"
BASE_ID="$GOVERSION_HOST ca:$(sha256sum "$HOST_CA" | cut -c1-16)"
base_id() {
  bh inspect --type image --format '{{index .OCIv1.Config.Labels "org.kinsta-exporter.ci.base-id"}}' "$GO_BASE" 2>/dev/null || true
}
if [[ ${CT_REBUILD_BASE:-0} != 1 ]] && [[ $(base_id) == "$BASE_ID" ]]; then
  log "reusing cached $GO_BASE ($BASE_ID)"
else
  if [[ ${CT_REBUILD_BASE:-0} == 1 ]] || ! bh inspect --type image "$DEB_BASE" >/dev/null 2>&1; then
    if [[ -z $DEBIAN_MIRROR ]]; then
      DEBIAN_MIRROR=$(debian_mirror) || fail "no Debian mirror in the apt sources ($APT_ETC/sources.list, $APT_ETC/sources.list.d/*.list or *.sources: an enabled 'deb' entry with a release suite and the main component); set DEBIAN_MIRROR"
    fi
    log "debootstrap bookworm minbase from $DEBIAN_MIRROR (once; cached afterwards)"
    rootfs=$WORK/rootfs
    debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$DEBIAN_MIRROR" \
      >"$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    bh rmi -f "$DEB_BASE" >/dev/null 2>&1 || true
    BCTR=$(bh from --pull-never scratch)
    bh copy "$BCTR" "$rootfs/" / >/dev/null
    bh config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash "$BCTR"
    bh commit -q --rm "$BCTR" "$DEB_BASE" >/dev/null
    BCTR=""
    rm -rf "$rootfs"
    phase "debootstrap base"
  fi
  log "building $GO_BASE from $DEB_BASE + $GOROOT_HOST ($GOVERSION_HOST)"
  bh rmi -f "$GO_BASE" >/dev/null 2>&1 || true
  BCTR=$(bh from --pull-never "$DEB_BASE")
  bh copy "$BCTR" "$GOROOT_HOST" /usr/local/go >/dev/null
  # The host's CA bundle, so that the build trusts whatever the host trusts on its
  # way to the module proxy (Debian's own bundle is not enough on every network).
  bh copy "$BCTR" "$HOST_CA" /etc/ssl/certs/ca-certificates.crt >/dev/null
  # Mirrors the official golang image (GOPATH=/go, go on PATH), plus GOTOOLCHAIN=local
  # so that a newer `go` line in go.mod fails loudly instead of trying a download.
  bh config \
    --env GOPATH=/go \
    --env GOTOOLCHAIN=local \
    --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --workingdir /go \
    --label "org.kinsta-exporter.ci.base-id=$BASE_ID" "$BCTR"
  bh run --isolation chroot "$BCTR" -- mkdir -p /go/src /go/bin
  bh commit -q --rm "$BCTR" "$GO_BASE" >/dev/null
  BCTR=""
  phase "golang base image"
fi

# --- build ---------------------------------------------------------------------
# Modules: the Dockerfile runs `go mod download` (through the proxy, as for any user).
# In CI the host module cache (already filled by the host build) is bind-mounted
# read-only for the build only, so the image build does not download again; the
# Dockerfile itself is unchanged. CT_MODCACHE=proxy exercises the download path.
GOMODCACHE_HOST=$(go env GOMODCACHE)
MODCACHE=${CT_MODCACHE:-}
if [[ -z $MODCACHE ]]; then
  # Same step as the Dockerfile's (go.mod and go.sum alone), offline, on a copy so
  # that the checkout is never touched.
  mkdir -p "$WORK/modcheck"
  cp "$CONTEXT/go.mod" "$CONTEXT/go.sum" "$WORK/modcheck/"
  if (cd "$WORK/modcheck" && GOPROXY=off GOFLAGS='' go mod download >/dev/null 2>&1); then
    MODCACHE=mount
  else
    MODCACHE=proxy
  fi
fi
build_args=(
  --build-arg "GO_IMAGE=$GO_BASE"
  --build-arg "RUN_IMAGE=$RUN_IMAGE"
  --build-arg "VERSION=$VERSION"
  --build-arg "REVISION=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
  --build-arg "BRANCH=$(git -C "$ROOT" rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)"
  --build-arg "BUILD_USER=ci@$(hostname)"
  --build-arg "BUILD_DATE=$(date -u +%Y%m%d-%H:%M:%S)"
)
case $MODCACHE in
  mount)
    log "modules: host cache $GOMODCACHE_HOST mounted read-only at /go/pkg/mod"
    build_args+=(--volume "$GOMODCACHE_HOST:/go/pkg/mod:ro" --build-arg GOPROXY=off)
    # and the host build cache (Go's cache is safe to share), which saves most of
    # the compile time; the Dockerfile's build is otherwise unchanged.
    GOCACHE_HOST=$(go env GOCACHE)
    if [[ ${CT_GOCACHE:-1} == 1 && -d $GOCACHE_HOST ]]; then
      log "build cache: host $GOCACHE_HOST mounted at /root/.cache/go-build"
      build_args+=(--volume "$GOCACHE_HOST:/root/.cache/go-build")
    fi
    ;;
  proxy)
    log "modules: downloaded in the build via GOPROXY=$(go env GOPROXY)"
    build_args+=(--build-arg "GOPROXY=$(go env GOPROXY)")
    ;;
  *) fail "CT_MODCACHE must be mount or proxy, not $MODCACHE" ;;
esac
log "building $IMAGE"
if ! bh bud --isolation chroot --pull-never --network host --layers=false \
    "${build_args[@]}" -f "$DOCKERFILE" -t "$IMAGE" "$CONTEXT" >"$WORK/build.log" 2>&1; then
  tail -n 40 "$WORK/build.log" >&2
  fail "image build failed"
fi
grep -A5 -m1 '^kinsta_exporter, version' "$WORK/build.log" | sed 's/^/  | /' >&2 || true
# The Dockerfile builds for TARGETOS/TARGETARCH, which buildah sets to this machine's platform.
built="built kinsta_exporter $VERSION for $(go env GOOS)/$(go env GOARCH)"
grep -qx "$built" "$WORK/build.log" || { tail -n 20 "$WORK/build.log" >&2; fail "the build log lacks '$built'"; }
phase "image build"

# --- image metadata ------------------------------------------------------------
size=$(bh images --format '{{.Size}}' "$IMAGE" | head -n1)
cfg_user=$(bh inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")
cfg_entry=$(bh inspect --type image --format '{{.OCIv1.Config.Entrypoint}}' "$IMAGE")
cfg_ports=$(bh inspect --type image --format '{{.OCIv1.Config.ExposedPorts}}' "$IMAGE")
cfg_version=$(bh inspect --type image --format '{{index .OCIv1.Config.Labels "org.opencontainers.image.version"}}' "$IMAGE")
log "image $IMAGE: size $size, user $cfg_user, entrypoint $cfg_entry, ports $cfg_ports"
[[ $cfg_user == 65534:65534 ]] || fail "image USER is '$cfg_user', want 65534:65534"
[[ $cfg_entry == '[/bin/kinsta_exporter]' ]] || fail "image ENTRYPOINT is $cfg_entry"
[[ $cfg_ports == *'10055/tcp'* ]] || fail "image does not EXPOSE 10055/tcp: $cfg_ports"
[[ $cfg_version == "$VERSION" ]] || fail "label org.opencontainers.image.version is '$cfg_version', want $VERSION"

# --version from the image proves the -X ldflags reached prometheus/common/version.
ver_out=$(pm run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none "$IMAGE" --version 2>&1) \
  || { printf '%s\n' "$ver_out" >&2; fail "'$IMAGE --version' failed"; }
grep -q "version $VERSION " <<<"$ver_out" || { printf '%s\n' "$ver_out" >&2; fail "--version does not report $VERSION"; }
phase "image checks"

# --- run -------------------------------------------------------------------------
if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/"; then
  fail "127.0.0.1:$PORT is already in use; set CT_PORT"
fi
log "running $IMAGE --demo on 127.0.0.1:$PORT"
CID=$(pm run -d --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network host \
  "$IMAGE" --demo "--web.listen-address=127.0.0.1:$PORT") || fail "podman run failed"
deadline=$((SECONDS + 60))
until curl -sf --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$WORK/metrics.txt" 2>/dev/null \
    && grep -Eq "$EXPECT" "$WORK/metrics.txt"; do
  state=$(pm inspect --format '{{.State.Status}}' "$CID" 2>/dev/null || echo gone)
  [[ $state == running ]] || fail "container is $state before serving metrics"
  (( SECONDS < deadline )) || { head -c 2000 "$WORK/metrics.txt" >&2 || true; fail "no /metrics line matching /$EXPECT/ within 60s"; }
  sleep 0.2
done
log "/metrics: $(grep -Ec '^[a-z_]' "$WORK/metrics.txt") samples; $(grep -E "$EXPECT" "$WORK/metrics.txt" | head -n1)"
phase "start + first good scrape"

for p in /-/healthy /-/ready; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT$p")
  [[ $code == 200 ]] || fail "GET $p returned $code, want 200"
done

pid=$(pm inspect --format '{{.State.Pid}}' "$CID")
[[ $pid =~ ^[0-9]+$ && $pid -gt 0 ]] || fail "no pid for container $CID"
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
gids=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
[[ $uids == "65534 65534 65534 65534" ]] || fail "process uids are '$uids', want 65534"
[[ $gids == "65534 65534 65534 65534" ]] || fail "process gids are '$gids', want 65534"
exe=$(readlink "/proc/$pid/exe" || true)
log "process $pid runs as uid/gid 65534 ($(tr '\0' ' ' <"/proc/$pid/cmdline"))"
[[ $exe == */bin/kinsta_exporter ]] || fail "container process is $exe, not /bin/kinsta_exporter"

pm stop -t 10 "$CID" >/dev/null || fail "podman stop failed"
code=$(pm inspect --format '{{.State.ExitCode}}' "$CID")
log "stopped with exit code $code"
pm rm "$CID" >/dev/null
CID=""
phase "run checks + stop"

log "image size: $size"
echo "container-test: 1 passed, 0 failed"
