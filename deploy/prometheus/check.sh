#!/usr/bin/env bash
# Checks the Prometheus/Alertmanager files of this directory:
#   promtool check rules, promtool test rules, promtool check config, amtool check-config.
# Works from any directory. Exits 1 if any check fails, 2 if promtool or amtool
# is missing (never skips). PROMTOOL=/path AMTOOL=/path override the binaries.
# Debian: apt-get install -y --no-install-recommends prometheus prometheus-alertmanager
# rules.yml is generated from rules.tmpl.yml and rules.values.yml; the first
# check is that it is up to date (GO=/path overrides go), the rule checks run on it.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 2

PROMTOOL=${PROMTOOL:-promtool}
AMTOOL=${AMTOOL:-amtool}
missing=0
for tool in "$PROMTOOL" "$AMTOOL"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "check.sh: $tool not found (Debian: apt-get install prometheus prometheus-alertmanager)" >&2
    missing=1
  fi
done
[ "$missing" -eq 0 ] || exit 2

passed=0 failed=0
run() {
  echo "==> $*"
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "FAILED (exit $?): $*" >&2
    failed=$((failed + 1))
  fi
}

run "${GO:-go}" -C ../manifests_test run ./cmd/genrule -check
run "$PROMTOOL" check rules rules.yml
run "$PROMTOOL" test rules rules_test.yml
run "$PROMTOOL" check config prometheus.yml
run "$PROMTOOL" check config prometheus-sharded.yml
run "$AMTOOL" check-config alertmanager.yml

echo "check.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
