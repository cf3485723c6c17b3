#!/usr/bin/env bash
# Accept-variant load (issue 11): at $SITES sites, four clients cycle every
# Accept variant (text 0.0.4 and 1.0.0, OpenMetrics 0.0.1 and 1.0.0, the
# three protobuf encodings, every escaping scheme; each with gzip and
# without: bench/load -cycle) while one Prometheus-style client scrapes once
# a second (Prometheus' Accept, gzip). Targets: the Prometheus-style scrapes
# answer within 250 ms, peak RSS stays under 200 MB. Two configurations: the
# site series only, and the default flags (from the start, while the
# background collectors fill at the default rate limit).
# Loopback only, bounded in time (~3 min). Writes $ACCEPT_OUT.
# Usage: bench/accept.sh   (bench/run.sh calls it; ACCEPT_BENCH=0 skips it)
set -euo pipefail
cd "$(dirname "$0")/.."

SITES=${SITES:-10000}
ACCEPT_RUN=${ACCEPT_RUN:-60s}      # the load, per configuration
CYCLERS=${CYCLERS:-4}
ACCEPT_OUT=${ACCEPT_OUT:-bench/accept-results.md}
GO=${GO:-go}
WORK=bench/.work/accept
PORT=${ACCEPT_PORT:-19153}
KEY=bench-key
COMPANY=bench

# shellcheck source=bench/lib.sh
source bench/lib.sh
mkdir -p "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "bench: port $PORT is in use; set ACCEPT_PORT" >&2; exit 1
fi

log "accept: building"
$GO build -o "$WORK/kinsta_exporter" .
$GO build -o "$WORK/fakeapi" ./bench/fakeapi
$GO build -o "$WORK/load" ./bench/load
LOAD="$WORK/load"

rm -f "$WORK/fake.addr"
"$WORK/fakeapi" -sites "$SITES" -company "$COMPANY" -key "$KEY" -addr-file "$WORK/fake.addr" 2>"$WORK/fakeapi.log" &
PIDS+=($!)
wait_addr "$WORK/fake.addr"
FAKE=$(cat "$WORK/fake.addr")
NO_COLLECTORS=$("$WORK/kinsta_exporter" --help 2>&1 | grep -o -- '--\[no-\]collector\.[a-z]*' | sed 's/--\[no-\]/--no-/' | tr '\n' ' ' || true)
URL="http://127.0.0.1:$PORT/metrics"

declare -A R
run_config() { # name flags...
  local name=$1; shift
  KINSTA_API_KEY=$KEY "$WORK/kinsta_exporter" --web.listen-address="127.0.0.1:$PORT" \
    --kinsta.api-url="http://$FAKE" --kinsta.company="$COMPANY" "$@" 2>>"$WORK/exporter.log" &
  local pid=$!
  PIDS+=("$pid")
  "$LOAD" -first -since "$(date +%s%N)" -url "$URL" -gzip -max-d 60s -want "kinsta_up{company=\"$COMPANY\"} 1" >/dev/null
  R[$name/size]=$(curl -fs -H 'Accept: text/plain;version=0.0.4' "$URL" | wc -c)
  reset_hwm "$pid"
  log "accept: $name: $CYCLERS clients cycling every Accept variant and one Prometheus-style client, $ACCEPT_RUN"
  "$LOAD" -url "$URL" -cycle -c "$CYCLERS" -d "$ACCEPT_RUN" -scrape-timeout 10s -max-d 120s >"$WORK/$name-cycle.json" &
  local cycle=$!
  R[$name/prom]=$("$LOAD" -url "$URL" -gzip -c 1 -every 1s -d "$ACCEPT_RUN" -scrape-timeout 10s)
  wait "$cycle"
  R[$name/cycle]=$(cat "$WORK/$name-cycle.json")
  R[$name/hwm]=$(hwm "$pid")
  stop "$pid"
}
run_config sites $NO_COLLECTORS
run_config default

ok() { if awk "BEGIN {exit !($1)}"; then echo "met"; else echo "**not met**"; fi; }
{
  echo "# Accept-variant load"
  echo
  echo "Measured $(date -u +%Y-%m-%d\ %H:%M) UTC by \`bench/accept.sh\` at $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, $($GO version | cut -d' ' -f3); load average at the end $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: other work ran too)."
  echo
  echo "$SITES sites x 2 environments x 2 labels (fake API). For $ACCEPT_RUN, $CYCLERS clients cycle every Accept variant (text 0.0.4 and 1.0.0, OpenMetrics 0.0.1 and 1.0.0, protobuf delimited, text and compact text, each escaping scheme, Prometheus' own, none; with gzip and without), back to back, while a Prometheus-style client scrapes once a second with Prometheus' Accept and gzip. Peak RSS is VmHWM over the load."
  echo
  echo "| configuration | text exposition | Prometheus-style scrapes: median, p99, max | within 250 ms | cycling clients: answers (errors) | peak RSS | under 200 MB |"
  echo "|---|---|---|---|---|---|---|"
  for name in sites default; do
    p=${R[$name/prom]}; c=${R[$name/cycle]}
    label="site series only (\`--no-collector.*\`)"; [ "$name" = default ] && label="default flags, first minutes"
    echo "| $label | $(awk -v b="${R[$name/size]}" 'BEGIN {printf "%.1f MB", b/1e6}') | $(jget p50_ms <<<"$p") ms, $(jget p99_ms <<<"$p") ms, $(jget max_ms <<<"$p") ms ($(jget requests <<<"$p") scrapes, $(jget errors <<<"$p") errors) | $(ok "$(jget max_ms <<<"$p") < 250 && $(jget errors <<<"$p") == 0") | $(jget requests <<<"$c") ($(jget errors <<<"$c")) | $(mb "${R[$name/hwm]}") MB | $(ok "${R[$name/hwm]} < 204800") |"
  done
  echo
  echo "Only the renderings Prometheus asks for are kept (text and OpenMetrics, with gzip); every other variant is streamed from the rows for its request, family by family (protobuf ones one request per cached part at a time, so the cycling clients' protobuf requests queue behind each other; errors are their own 10 s timeouts), and none evicts Prometheus' renderings. The cycling clients' renders do compete with Prometheus' for the two CPUs."
} >"$ACCEPT_OUT"
log "accept: wrote $ACCEPT_OUT"
cat "$ACCEPT_OUT"
