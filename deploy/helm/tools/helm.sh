#!/usr/bin/env bash
# Runs Helm v4 for the chart tests, built once from the Go module proxy in this
# scratch module (go.mod and go.sum pin Helm and every dependency; its modules
# stay out of the exporter's go.mod) and kept outside the repository, beside
# Go's build cache, under a name that changes with go.mod/go.sum:
#   deploy/helm/tools/helm.sh template my-release deploy/helm/kinsta-exporter
#   deploy/helm/tools/helm.sh --print-path     # build if needed, print the binary's path
# The first build takes minutes (the Kubernetes client libraries); later runs
# start the cached binary at once. To bump Helm:
#   cd deploy/helm/tools && go get -tool helm.sh/helm/v4/cmd/helm@vX.Y.Z && go mod tidy
# HELM_TOOLS_CACHE overrides the cache directory. Exits non-zero if the build fails.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GO=${GO:-go}
cache=${HELM_TOOLS_CACHE:-$(dirname "$("$GO" env GOCACHE)")/kinsta_exporter-helm}
sum=$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)
bin="$cache/helm-$sum"
if [ ! -x "$bin" ]; then
  mkdir -p "$cache"
  version=$(awk '$1 == "helm.sh/helm/v4" {print $2}' "$here/go.mod")
  echo "helm.sh: building Helm $version into $bin (once)" >&2
  tmp=$(mktemp "$bin.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  (cd "$here" && "$GO" build -mod=readonly -o "$tmp" helm.sh/helm/v4/cmd/helm)
  mv -f "$tmp" "$bin"
  trap - EXIT
  # Older builds (other go.mod/go.sum) are not needed any more.
  find "$cache" -maxdepth 1 -name 'helm-*' ! -name '*.*' ! -name "${bin##*/}" -delete
fi
if [ "${1-}" = --print-path ]; then
  echo "$bin"
  exit 0
fi
exec "$bin" "$@"
