#!/usr/bin/env bash
# Side-by-side benchmark on one machine, one fake Kinsta API payload
# (kinstatest.GenerateCompany: $SITES sites x 2 environments x 2 labels),
# loopback only, bounded in time (~20 min at 10,000 sites):
#   - kinsta_exporter (this repository), its cached scrape, in three
#     configurations:
#       A  the site series only (every switchable collector off);
#       B1 the default flags, measured from the start while the background
#          collectors refresh at the default --kinsta.rate-limit (1/s);
#       B2 the default collectors filled: every background item fetched
#          (--kinsta.rate-limit=0, intervals at their 1m minimum), then
#          measured while they keep refreshing at 1 request/s (the fake API
#          paces them), each answer different from the last (fakeapi -vary);
#   - json_exporter v0.7.0, what users configure instead, built from the Go
#     module proxy in a scratch module under bench/json_exporter/ (gitignored,
#     never committed), configured as closely as it can express the data;
#   - the limit: the exporter's latest exposition bytes (identity and gzip,
#     fetched again before each round) served from memory by a trivial Go
#     server (bench/limit).
# Interleaved rounds, medians. Writes $OUT (bench/results.md); report.sh
# says what each number means.
# Usage: bench/run.sh   or   make bench   (SITES=1000 bench/run.sh: a quick check)
set -euo pipefail
cd "$(dirname "$0")/.."

SITES=${SITES:-10000}
ROUNDS=${ROUNDS:-5}                # interleaved rounds of sequential scrapes
RUN=${RUN:-3s}                     # one sequential-scrape run
STARTS=${STARTS:-5}                # starts timed to the first successful scrape
CONC=${CONC:-50}                   # concurrent scrapers
CONC_RUN=${CONC_RUN:-30s}          # per encoding
CONC_TTL=${CONC_TTL:-5s}           # A: --kinsta.cache-ttl under concurrent load
WARM=${WARM:-60s}                  # B1: scrapes a second apart before the rounds
FILL_MAX=${FILL_MAX:-600}          # B2: longest wait for every item fetched (s)
PACE=${PACE:-1}                    # B2: background requests/s once filled
SPACED_RUN=${SPACED_RUN:-20s}      # B2: scrapes a second apart
PROBE_RUN=${PROBE_RUN:-5s}
JSON_CONC_RUN=${JSON_CONC_RUN:-20s}
JSON_RSS_CAP_KB=${JSON_RSS_CAP_KB:-4000000}   # json_exporter is killed above this RSS
GO_BENCH=${GO_BENCH:-1}            # also run the Go benchmarks
OUT=${OUT:-bench/results.md}
GO=${GO:-go}
WORK=bench/.work
JSONEXP=bench/json_exporter
EXP_PORT=${EXP_PORT:-19151}
JSON_PORT=${JSON_PORT:-19152}
KEY=bench-key
COMPANY=bench
TEXT='text/plain;version=0.0.4'    # all three serve the text format; the limit serves ours

# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/report.sh
source bench/report.sh
mkdir -p "$WORK"
START_NS=$(date +%s%N)

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

for port in "$EXP_PORT" "$JSON_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "bench: port $port is in use; set EXP_PORT/JSON_PORT" >&2; exit 1
  fi
done

# ---- build ----------------------------------------------------------------
log "building"
$GO build -o "$WORK/kinsta_exporter" .
$GO build -o "$WORK/fakeapi" ./bench/fakeapi
$GO build -o "$WORK/limit" ./bench/limit
$GO build -o "$WORK/load" ./bench/load
if [ ! -x "$JSONEXP/json_exporter" ]; then
  log "building json_exporter v0.7.0 in $JSONEXP (go install @version is refused by the proxy)"
  mkdir -p "$JSONEXP"
  printf 'module example.com/jsonexp\n\ngo 1.26\n' >"$JSONEXP/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/prometheus-community/json_exporter"\n' >"$JSONEXP/tools.go"
  (cd "$JSONEXP" && $GO get github.com/prometheus-community/json_exporter@v0.7.0 >/dev/null 2>&1 \
    && $GO build -o json_exporter github.com/prometheus-community/json_exporter)
fi
LOAD="$WORK/load"

# ---- fake API and the limit ---------------------------------------------------------
rm -f "$WORK/fake.addr" "$WORK/limit.addr"
"$WORK/fakeapi" -sites "$SITES" -company "$COMPANY" -key "$KEY" -vary -addr-file "$WORK/fake.addr" 2>"$WORK/fakeapi.log" &
PIDS+=($!)
wait_addr "$WORK/fake.addr"
FAKE=$(cat "$WORK/fake.addr")
SITES_URL="http://$FAKE/sites?company=$COMPANY&include_environments=true"
api=$("$LOAD" -url "$SITES_URL" -H "Authorization: Bearer $KEY" -accept application/json -c 1 -d 2s)
API_MS=$(jget p50_ms <<<"$api")
API_BYTES=$(jget bytes <<<"$api")
log "fake API on $FAKE: GET /sites answers $API_BYTES bytes in ${API_MS} ms (median)"
: >"$WORK/latest.txt"; : >"$WORK/latest.txt.gz"
"$WORK/limit" -file "$WORK/latest.txt" -gzip-file "$WORK/latest.txt.gz" -addr-file "$WORK/limit.addr" 2>"$WORK/limit.log" &
PIDS+=($!)
wait_addr "$WORK/limit.addr"
LIMIT=$(cat "$WORK/limit.addr")

NO_COLLECTORS=$("$WORK/kinsta_exporter" --help 2>&1 | grep -o -- '--\[no-\]collector\.[a-z]*' | sed 's/--\[no-\]/--no-/' | tr '\n' ' ' || true)
INTERVALS_1M=$("$WORK/kinsta_exporter" --help 2>&1 | grep -o -- '--collector\.[a-z]*\.interval' | sed 's/$/=1m/' | tr '\n' ' ' || true)
B2_FLAGS="--kinsta.rate-limit=0 $INTERVALS_1M"

source bench/json_exporter.sh
JSON_URL="http://127.0.0.1:$JSON_PORT/probe?module=kinsta&target=$(urlenc "$SITES_URL")"
declare -A URL=([ours]="http://127.0.0.1:$EXP_PORT/metrics" [json]="$JSON_URL" [limit]="http://$LIMIT/metrics")
declare -A P50 P99 RPS CALLS SIZE SERIES BG_RPS SEQ_HWM SPACED PROBE C

# ---- start to first successful scrape ------------------------------------------------
log "start to first successful scrape ($STARTS starts each)"
FIRST=(); FIRST_HWM=(); FIRST_DEFAULT=(); FIRST_DEFAULT_HWM=(); JSON_FIRST=()
first_scrape() { # flags...: sets FS_S (seconds) and FS_HWM (kB)
  local t0 r
  t0=$(date +%s%N); start_exporter "$@"
  r=$("$LOAD" -first -since "$t0" -url "http://127.0.0.1:$EXP_PORT/metrics" -gzip -max-d 60s -want "kinsta_up{company=\"$COMPANY\"} 1")
  FS_S=$(jget since_start_s <<<"$r"); FS_HWM=$(hwm "$EXP_PID"); stop "$EXP_PID"
}
for _ in $(seq "$STARTS"); do
  first_scrape $NO_COLLECTORS; FIRST+=("$FS_S"); FIRST_HWM+=("$FS_HWM")
  first_scrape; FIRST_DEFAULT+=("$FS_S"); FIRST_DEFAULT_HWM+=("$FS_HWM")
done
for _ in $(seq "$(( (STARTS + 1) / 2 ))"); do
  t0=$(date +%s%N); start_json
  r=$("$LOAD" -first -since "$t0" -url "$JSON_URL" -gzip -max-d 120s -scrape-timeout 60s -want "kinsta_site_info{")
  JSON_FIRST+=("$(jget since_start_s <<<"$r")"); stop "$JSON_PID"
done

# ---- A: site series only, with json_exporter -----------------------------------------
log "A (site series only): $ROUNDS interleaved rounds of $RUN per exporter and encoding"
start_ready $NO_COLLECTORS
start_json
wait_http "http://127.0.0.1:$JSON_PORT/"
curl -fs -H "Accept: $TEXT" "$JSON_URL" -o "$WORK/json_exposition.txt"
curl -fs -H "Accept: $TEXT" -H 'Accept-Encoding: gzip' "$JSON_URL" -o "$WORK/json_exposition.txt.gz"
seq_rounds A json
SEQ_HWM[A]=$(hwm "$EXP_PID"); SEQ_HWM[json]=$(hwm "$JSON_PID")
stop "$EXP_PID"; stop "$JSON_PID"

# ---- B1: default flags, the first minutes ---------------------------------------------
log "B1 (default flags): $WARM of scrapes a second apart, then the rounds, then $CONC scrapers"
B1_T0=$(date +%s%N)
start_ready
spaced B1 "$WARM"
seq_rounds B1
probe B1
SEQ_HWM[B1]=$(hwm "$EXP_PID")
conc_same B1 60
B1_SECS=$(secs_since "$B1_T0")
stop "$EXP_PID"

# ---- B2: default collectors, filled, refreshing at 1/s ---------------------------------
log "B2 (default collectors filled): $B2_FLAGS"
fake_pace 0
bg0=$(fake_count background)
start_ready $B2_FLAGS
FILL_S=$(wait_queue filled "$FILL_MAX")
B2_FILL_REQS=$(( $(fake_count background) - bg0 ))
read -r _ B2_ITEMS < <(queue_state)
log "B2: every background item fetched after ${FILL_S}s; background paced to ${PACE}/s"
fake_pace "$PACE"
DUE_S=$(wait_queue due 180)
spaced B2 "$SPACED_RUN"
seq_rounds B2
probe B2
SEQ_HWM[B2]=$(hwm "$EXP_PID")
conc_same B2 60
stop "$EXP_PID"
fake_pace 0

# ---- A: concurrent scrapers, then json_exporter's ----------------------------------------
log "A: $CONC concurrent scrapers (TTL $CONC_TTL, $CONC_RUN per encoding)"
conc_fresh A "$CONC_TTL" $NO_COLLECTORS
log "$CONC concurrent scrapers: json_exporter ($JSON_CONC_RUN, killed above $(mb "$JSON_RSS_CAP_KB") MB)"
json_conc

# ---- Accept variants cycled (issue 11): bench/accept.sh, its own report ----------
if [ "${ACCEPT_BENCH:-1}" = 1 ]; then bench/accept.sh >&2; fi

# ---- Go benchmarks -------------------------------------------------------------
if [ "$GO_BENCH" = 1 ]; then
  log "Go benchmarks"
  $GO test -run '^$' -bench . -benchmem ./... 2>&1 | grep -E '^(pkg:|Benchmark|FAIL)' >"$WORK/gobench.txt" || true
fi

write_report >"$OUT"
log "wrote $OUT in $(secs_since "$START_NS") s"
cat "$OUT"
