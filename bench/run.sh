#!/usr/bin/env bash
# Side-by-side benchmark on one machine, one fake Kinsta API payload
# (kinstatest.GenerateCompany: $SITES sites x 2 environments x 2 labels),
# loopback only, bounded in time:
#   - kinsta_exporter (this repository), its cached scrape;
#   - json_exporter v0.7.0, what users configure instead, built from the Go
#     module proxy in a scratch module under bench/json_exporter/ (gitignored,
#     never committed), configured as closely as it can express the data;
#   - the limit: the exporter's exposition bytes served from memory by a
#     trivial Go server (bench/limit).
# Interleaved rounds, medians. Writes $OUT (bench/results.md).
# Usage: bench/run.sh   or   make bench
set -euo pipefail
cd "$(dirname "$0")/.."

SITES=${SITES:-10000}
ROUNDS=${ROUNDS:-5}                # interleaved rounds of sequential scrapes
RUN=${RUN:-3s}                     # one sequential-scrape run
STARTS=${STARTS:-5}                # starts timed to the first successful scrape
CONC=${CONC:-50}                   # concurrent scrapers
CONC_RUN=${CONC_RUN:-30s}
CONC_TTL=${CONC_TTL:-5s}           # --kinsta.cache-ttl under concurrent load
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

mkdir -p "$WORK"
log() { echo "bench: $*" >&2; }

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

# ---- helpers ----------------------------------------------------------------
jget() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.6g\n", (a[NR/2]+a[NR/2+1])/2}'; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k/1024}'; }
wait_addr() { for _ in $(seq 300); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "bench: $1 not written" >&2; exit 1; }
wait_http() { for _ in $(seq 600); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done; echo "bench: $1 not answering" >&2; exit 1; }
urlenc() { local s=$1; s=${s//%/%25}; s=${s//:/%3A}; s=${s//\//%2F}; s=${s//\?/%3F}; s=${s//&/%26}; s=${s//=/%3D}; echo "$s"; }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
sites_calls() { curl -fs "http://$FAKE/-/requests" | awk '$1 == "sites" {print $2}'; }
reset_calls() { curl -fs -X POST "http://$FAKE/-/reset"; }

# ---- fake API ----------------------------------------------------------------
rm -f "$WORK/fake.addr" "$WORK/limit.addr"
"$WORK/fakeapi" -sites "$SITES" -company "$COMPANY" -key "$KEY" -addr-file "$WORK/fake.addr" 2>"$WORK/fakeapi.log" &
PIDS+=($!)
wait_addr "$WORK/fake.addr"
FAKE=$(cat "$WORK/fake.addr")
SITES_URL="http://$FAKE/sites?company=$COMPANY&include_environments=true"
api=$("$LOAD" -url "$SITES_URL" -H "Authorization: Bearer $KEY" -accept application/json -c 1 -d 2s)
API_MS=$(jget p50_ms <<<"$api")
API_BYTES=$(jget bytes <<<"$api")
log "fake API on $FAKE: GET /sites answers $API_BYTES bytes in ${API_MS} ms (median)"

NO_COLLECTORS=$("$WORK/kinsta_exporter" --help 2>&1 | grep -o -- '--\[no-\]collector\.[a-z]*' | sed 's/--\[no-\]/--no-/' | tr '\n' ' ' || true)
start_exporter() { # ttl extra-flags...
  local ttl=$1; shift
  KINSTA_API_KEY=$KEY "$WORK/kinsta_exporter" --web.listen-address="127.0.0.1:$EXP_PORT" \
    --kinsta.api-url="http://$FAKE" --kinsta.company="$COMPANY" --kinsta.cache-ttl="$ttl" "$@" \
    2>>"$WORK/exporter.log" &
  EXP_PID=$!
  PIDS+=("$EXP_PID")
}

cat >"$WORK/json_exporter.yml" <<EOF
# As close to kinsta_exporter's site series as json_exporter v0.7.0 can say:
# no parent fields in a nested path (so no site_id on environments, and site
# labels, whose ids repeat across sites, cannot be exported without duplicate
# series), no value mapping (status as two filtered metrics), no kinsta_up.
modules:
  kinsta:
    http_client_config:
      authorization:
        type: Bearer
        credentials: $KEY
    metrics:
    - name: kinsta_site
      type: object
      help: Information about a Kinsta WordPress site; always 1.
      path: '{.company.sites[*]}'
      labels: {company: $COMPANY, site_id: '{.id}', name: '{.name}', display_name: '{.display_name}'}
      values: {info: 1}
    - name: kinsta_site
      type: object
      help: Site status as a state set.
      path: '{.company.sites[?(@.status == "live")]}'
      labels: {company: $COMPANY, site_id: '{.id}', status: live}
      values: {status: 1}
    - name: kinsta_site
      type: object
      help: Site status as a state set.
      path: '{.company.sites[?(@.status != "live")]}'
      labels: {company: $COMPANY, site_id: '{.id}', status: '{.status}'}
      values: {status: 1}
    - name: kinsta_environment
      type: object
      help: An environment of a Kinsta site.
      path: '{.company.sites[*].environments[*]}'
      labels: {company: $COMPANY, environment_id: '{.id}', environment_name: '{.name}', environment_display_name: '{.display_name}', primary_domain: '{.primaryDomain.name}', php_version: '{.container_info.php_engine_version}', wordpress_version: '{.wordpress_version}'}
      values: {info: 1}
    - name: kinsta_environment
      type: object
      help: Environment flags.
      path: '{.company.sites[*].environments[*]}'
      labels: {company: $COMPANY, environment_id: '{.id}'}
      values: {blocked: '{.is_blocked}', premium: '{.is_premium}'}
EOF
JSON_URL="http://127.0.0.1:$JSON_PORT/probe?module=kinsta&target=$(urlenc "$SITES_URL")"
start_json() {
  "$JSONEXP/json_exporter" --config.file="$WORK/json_exporter.yml" --web.listen-address="127.0.0.1:$JSON_PORT" \
    2>>"$WORK/json_exporter.log" &
  JSON_PID=$!
  PIDS+=("$JSON_PID")
}

# ---- start to first successful scrape ------------------------------------------------
log "start to first successful scrape ($STARTS starts each)"
FIRST=(); FIRST_HWM=(); FIRST_DEFAULT=(); FIRST_DEFAULT_HWM=(); JSON_FIRST=()
for _ in $(seq "$STARTS"); do
  t0=$(date +%s%N); start_exporter 60s $NO_COLLECTORS
  r=$("$LOAD" -first -since "$t0" -url "http://127.0.0.1:$EXP_PORT/metrics" -gzip -max-d 60s -want "kinsta_up{company=\"$COMPANY\"} 1")
  FIRST+=("$(jget since_start_s <<<"$r")"); FIRST_HWM+=("$(hwm "$EXP_PID")"); stop "$EXP_PID"
  t0=$(date +%s%N); start_exporter 60s
  r=$("$LOAD" -first -since "$t0" -url "http://127.0.0.1:$EXP_PORT/metrics" -gzip -max-d 60s -want "kinsta_up{company=\"$COMPANY\"} 1")
  FIRST_DEFAULT+=("$(jget since_start_s <<<"$r")"); FIRST_DEFAULT_HWM+=("$(hwm "$EXP_PID")"); stop "$EXP_PID"
done
for _ in $(seq "$(( (STARTS + 1) / 2 ))"); do
  t0=$(date +%s%N); start_json
  r=$("$LOAD" -first -since "$t0" -url "$JSON_URL" -gzip -max-d 120s -scrape-timeout 60s -want "kinsta_site_info{")
  JSON_FIRST+=("$(jget since_start_s <<<"$r")"); stop "$JSON_PID"
done

# ---- sequential scrapes, interleaved -----------------------------------------------
log "sequential scrapes: $ROUNDS interleaved rounds of $RUN per exporter and encoding"
start_exporter 60s $NO_COLLECTORS
start_json
wait_http "http://127.0.0.1:$EXP_PORT/-/healthy"
wait_http "http://127.0.0.1:$JSON_PORT/"
curl -fs -H "Accept: $TEXT" "http://127.0.0.1:$EXP_PORT/metrics" -o "$WORK/exposition.txt"
curl -fs -H "Accept: $TEXT" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$EXP_PORT/metrics" -o "$WORK/exposition.txt.gz"
curl -fs -H "Accept: $TEXT" "$JSON_URL" -o "$WORK/json_exposition.txt"
curl -fs -H "Accept: $TEXT" -H 'Accept-Encoding: gzip' "$JSON_URL" -o "$WORK/json_exposition.txt.gz"
"$WORK/limit" -file "$WORK/exposition.txt" -addr-file "$WORK/limit.addr" 2>"$WORK/limit.log" &
PIDS+=($!)
wait_addr "$WORK/limit.addr"
LIMIT=$(cat "$WORK/limit.addr")
declare -A URL=([ours]="http://127.0.0.1:$EXP_PORT/metrics" [json]="$JSON_URL" [limit]="http://$LIMIT/metrics")
declare -A P50 RPS CALLS N
for r in $(seq "$ROUNDS"); do
  for t in ours json limit; do
    for enc in plain gzip; do
      gz=(); [ "$enc" = gzip ] && gz=(-gzip)
      minn=3; [ "$t" = json ] && minn=1
      reset_calls
      out=$("$LOAD" -url "${URL[$t]}" "${gz[@]}" -accept "$TEXT" -c 1 -d "$RUN" -min-n "$minn" -scrape-timeout 60s)
      calls=$(sites_calls)
      n=$(jget requests <<<"$out")
      P50[$t/$enc]+="$(jget p50_ms <<<"$out") "
      RPS[$t/$enc]+="$(jget rps <<<"$out") "
      CALLS[$t/$enc]+="$(awk -v c="$calls" -v n="$n" 'BEGIN {printf "%.4f", c/n}') "
      N[$t/$enc]=$(( ${N[$t/$enc]:-0} + n ))
    done
  done
  log "round $r of $ROUNDS done"
done
SEQ_HWM_OURS=$(hwm "$EXP_PID"); SEQ_HWM_JSON=$(hwm "$JSON_PID")
stop "$EXP_PID"; stop "$JSON_PID"

log "sequential scrapes with the default flags (switchable collectors on), /metrics and /probe"
start_exporter 60s
wait_http "http://127.0.0.1:$EXP_PORT/-/healthy"
"$LOAD" -url "http://127.0.0.1:$EXP_PORT/metrics" -gzip -c 1 -d 2s >/dev/null # first refresh and render
DEFAULT_OUT=$("$LOAD" -url "http://127.0.0.1:$EXP_PORT/metrics" -gzip -c 1 -d 10s)
DEFAULT_PLAIN_OUT=$("$LOAD" -url "http://127.0.0.1:$EXP_PORT/metrics" -c 1 -d 10s)
PROBE_OUT=$("$LOAD" -url "http://127.0.0.1:$EXP_PORT/probe?company=$COMPANY" -gzip -c 1 -d 10s)
# A scrape a second, as Prometheus spaces them: while the refresher catches
# up (here all the time), most of them find a collector's results changed.
SPACED_OUT=$("$LOAD" -url "http://127.0.0.1:$EXP_PORT/metrics" -gzip -c 1 -d 20s -every 1s)
DEFAULT_HWM=$(hwm "$EXP_PID")
stop "$EXP_PID"

# ---- concurrent scrapers ---------------------------------------------------------
log "$CONC concurrent scrapers: kinsta_exporter (TTL $CONC_TTL, $CONC_RUN per encoding)"
declare -A C
for enc in gzip plain; do
  gz=(); [ "$enc" = gzip ] && gz=(-gzip)
  start_exporter "$CONC_TTL" $NO_COLLECTORS
  wait_http "http://127.0.0.1:$EXP_PORT/-/healthy"
  reset_calls
  t0=$(date +%s%N)
  out=$("$LOAD" -url "http://127.0.0.1:$EXP_PORT/metrics" "${gz[@]}" -c "$CONC" -d "$CONC_RUN" -scrape-timeout 10s -max-d 120s)
  secs=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {print (b-a)/1e9}')
  C[$enc/out]=$out; C[$enc/calls]=$(sites_calls); C[$enc/hwm]=$(hwm "$EXP_PID"); C[$enc/secs]=$secs
  ttl_s=$(awk -v t="$CONC_TTL" 'BEGIN {sub(/s$/, "", t); print t}')
  C[$enc/budget]=$(awk -v s="$secs" -v t="$ttl_s" 'BEGIN {printf "%d", int(s/t) + 1}')
  stop "$EXP_PID"
done

log "$CONC concurrent scrapers: json_exporter ($JSON_CONC_RUN, killed above $(mb "$JSON_RSS_CAP_KB") MB)"
start_json
wait_http "http://127.0.0.1:$JSON_PORT/"
reset_calls
"$LOAD" -url "$JSON_URL" -gzip -c "$CONC" -d "$JSON_CONC_RUN" -scrape-timeout 10s -max-d 60s >"$WORK/json_conc.json" &
LOAD_PID=$!
JSON_KILLED=no
JSON_START=$(date +%s%N)
while kill -0 "$LOAD_PID" 2>/dev/null; do
  if [ "$JSON_KILLED" = no ] && [ "$(rss "$JSON_PID" 2>/dev/null || echo 0)" -gt "$JSON_RSS_CAP_KB" ]; then
    JSON_KILLED=yes; JC_HWM=$(hwm "$JSON_PID")
    JSON_KILLED_AFTER=$(awk -v a="$JSON_START" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b-a)/1e9}')
    kill -9 "$JSON_PID"; kill "$LOAD_PID" # the run ends with what was measured
  fi
  sleep 0.2
done
wait "$LOAD_PID" || true
[ "$JSON_KILLED" = yes ] || JC_HWM=$(hwm "$JSON_PID")
JC_OUT=$(cat "$WORK/json_conc.json"); JC_CALLS=$(sites_calls)
stop "$JSON_PID"

# ---- Go benchmarks -------------------------------------------------------------
if [ "$GO_BENCH" = 1 ]; then
  log "Go benchmarks"
  $GO test -run '^$' -bench . -benchmem ./... 2>&1 | grep -E '^(pkg:|Benchmark|FAIL)' >"$WORK/gobench.txt" || true
fi

# ---- report ---------------------------------------------------------------------
med() { median ${1}; }
size_plain=$(stat -c %s "$WORK/exposition.txt"); size_gz=$(stat -c %s "$WORK/exposition.txt.gz")
jsize_plain=$(stat -c %s "$WORK/json_exposition.txt"); jsize_gz=$(stat -c %s "$WORK/json_exposition.txt.gz")
series=$(grep -vc '^#' "$WORK/exposition.txt" || true)
jseries=$(grep -vc '^#' "$WORK/json_exposition.txt" || true)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1fx", a/b}'; }
fmt_ms() { awk -v v="$1" 'BEGIN {if (v >= 100) printf "%.0f ms", v; else printf "%.2f ms", v}'; }
{
  echo "# Benchmark results"
  echo
  echo "Measured $(date -u +%Y-%m-%d\ %H:%M) UTC by \`bench/run.sh\` (\`make bench\`) at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet -- . ":(exclude)$OUT" 2>/dev/null || echo ' (uncommitted changes)')."
  echo
  echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r), $($GO version | cut -d' ' -f3). Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Everything on loopback; the load generator shares the CPUs."
  echo
  echo "Payload: the fake Kinsta API (\`bench/fakeapi\`, kinstatest.GenerateCompany) with $SITES sites x 2 environments x 2 labels: GET /sites answers $API_BYTES bytes in $(fmt_ms "$API_MS") (median; the API's own time below)."
  echo "kinsta_exporter runs with \`$NO_COLLECTORS\`: the site series only; the default switchable collectors are measured separately below."
  echo
  p_plain=$(med "${P50[ours/plain]}"); l_plain=$(med "${P50[limit/plain]}")
  p_gz=$(med "${P50[ours/gzip]}"); l_gz=$(med "${P50[limit/gzip]}")
  first=$(median "${FIRST[@]}")
  ok() { if awk "BEGIN {exit !($1)}"; then echo "met"; else echo "**not met**"; fi; }
  maxlat=$(awk -v a="$(jget max_ms <<<"${C[gzip/out]}")" -v b="$(jget max_ms <<<"${C[plain/out]}")" 'BEGIN {print (a > b ? a : b)}')
  conc_hwm=$(awk -v a="${C[gzip/hwm]}" -v b="${C[plain/hwm]}" 'BEGIN {print (a > b ? a : b)}')
  conc_err=$(awk -v a="$(jget errors <<<"${C[gzip/out]}")" -v b="$(jget errors <<<"${C[plain/out]}")" 'BEGIN {print a + b}')
  jsay=" json_exporter, with as many scrapers, answered $(( $(jget requests <<<"$JC_OUT") - $(jget errors <<<"$JC_OUT") )) scrapes in $(printf '%.0f' "$(jget seconds <<<"$JC_OUT")") s, peak RSS $(mb "$JC_HWM") MB."
  [ "$JSON_KILLED" = yes ] && jsay=" json_exporter, with as many scrapers, answered $(( $(jget requests <<<"$JC_OUT") - $(jget errors <<<"$JC_OUT") )) scrapes before it passed $(mb "$JSON_RSS_CAP_KB") MB of RSS after ${JSON_KILLED_AFTER} s and was stopped."
  echo "## Targets at $SITES sites"
  echo
  echo "| target | measured | |"
  echo "|---|---|---|"
  echo "| cached scrape within 3x the limit, plain | $(ratio "$p_plain" "$l_plain") ($(fmt_ms "$p_plain") vs $(fmt_ms "$l_plain")) | $(ok "$p_plain <= 3 * $l_plain") |"
  echo "| cached scrape within 3x the limit, gzip | $(ratio "$p_gz" "$l_gz") ($(fmt_ms "$p_gz") vs $(fmt_ms "$l_gz")) | $(ok "$p_gz <= 3 * $l_gz") |"
  echo "| peak RSS under 100 MB (sequential plain and gzip scrapes, a refresh a minute) | $(mb "$SEQ_HWM_OURS") MB | $(ok "$SEQ_HWM_OURS < 102400") |"
  echo "| peak RSS under 100 MB from start to first scrape | $(mb "$(median "${FIRST_HWM[@]}")") MB (median) | $(ok "$(median "${FIRST_HWM[@]}") < 102400") |"
  echo "| one upstream call per company per TTL with $CONC scrapers | ${C[gzip/calls]} and ${C[plain/calls]} GET /sites in ~$(printf '%.0f' "${C[gzip/secs]}") s at TTL $CONC_TTL (budget ${C[gzip/budget]}) | $(ok "${C[gzip/calls]} <= ${C[gzip/budget]} && ${C[plain/calls]} <= ${C[plain/budget]}") |"
  echo "| under that load peak RSS under 200 MB | $(mb "$conc_hwm") MB | $(ok "$conc_hwm < 204800") |"
  echo "| every scrape answered within 10 s | slowest $(fmt_ms "$maxlat"), $conc_err errors | $(ok "$maxlat < 10000 && $conc_err == 0") |"
  echo "| start to first successful scrape under 1 s plus the API's own time | $(awk -v s="$first" 'BEGIN {printf "%.2f s", s}') (API $(fmt_ms "$API_MS")) | $(ok "$first < 1 + $API_MS / 1000") |"
  echo
  echo "## Performance (text for the README)"
  echo
  echo "kinsta_exporter renders the companies' site series once per refresh result, per format and"
  echo "encoding, straight from compact rows (not through client_golang's gather), and keeps the bytes;"
  echo "a scrape writes them out after its own live series (Go runtime, process, API requests, refresh"
  echo "queue), which are gathered on every scrape. The background collectors' gauges have a render"
  echo "cache of their own, re-rendered when a background refresh stores a result; /probe?company="
  echo "serves one company from caches of the same kind. gzip responses are one gzip member: each"
  echo "cached part is stored as sync-flushed DEFLATE, the live part continues the stream, and the"
  echo "trailer combines the parts' CRCs. Measured on this"
  echo "machine ($(nproc) CPUs) with $SITES sites x 2 environments x 2 labels ($series series, $(awk -v b="$size_plain" 'BEGIN {printf "%.1f MB", b/1e6}') of text, $(awk -v b="$size_gz" 'BEGIN {printf "%.1f MB", b/1e6}') gzipped):"
  echo
  echo "- A scrape takes $(fmt_ms "$p_plain") plain and $(fmt_ms "$p_gz") gzipped, $(ratio "$p_plain" "$l_plain") and $(ratio "$p_gz" "$l_gz") the time a trivial server needs to send the same bytes from memory. json_exporter v0.7.0, configured for the same data, takes $(awk -v v="$(med "${P50[json/gzip]}")" 'BEGIN {printf "%.1f s", v/1000}') gzipped and calls the API on every scrape; kinsta_exporter calls GET /sites once per \`--kinsta.cache-ttl\`, however many scrapers."
  echo "- $CONC concurrent scrapers: no errors, slowest scrape $(fmt_ms "$maxlat"), peak RSS $(mb "$conc_hwm") MB, ${C[gzip/calls]} API calls in $(printf '%.0f' "${C[gzip/secs]}") s at a $CONC_TTL TTL.$jsay"
  echo "- From start to the first successful scrape: $(awk -v s="$first" 'BEGIN {printf "%.2f s", s}') (median), most of it decoding the $(awk -v b="$API_BYTES" 'BEGIN {printf "%.0f MB", b/1e6}') API answer."
  echo "- Peak RSS: $(mb "$(median "${FIRST_HWM[@]}")") MB up to the first scrape, $(mb "$SEQ_HWM_OURS") MB over minutes of plain and gzip scrapes with a refresh every minute (a refresh holds the sites it decodes, as they stream in, and their new rows and renderings next to the old ones until they replace them; the garbage collector runs at 30% heap growth, \`GOGC=30\`, unless told otherwise). \`GOMEMLIMIT\` trades CPU for a lower peak."
  echo
  echo "## Sequential scrapes ($ROUNDS interleaved rounds of $RUN each, medians; text format)"
  echo
  echo "| exporter | encoding | median latency | scrapes/s | x the limit | upstream calls per scrape | exposition | series |"
  echo "|---|---|---|---|---|---|---|---|"
  for t in ours json limit; do
    for enc in plain gzip; do
      p=$(med "${P50[$t/$enc]}"); l=$(med "${P50[limit/$enc]}")
      case $t in ours) name=kinsta_exporter;; json) name="json_exporter v0.7.0";; limit) name="limit (bytes from memory)";; esac
      case $t/$enc in ours/plain|limit/plain) sz=$size_plain;; ours/gzip|limit/gzip) sz=$size_gz;; json/plain) sz=$jsize_plain;; json/gzip) sz=$jsize_gz;; esac
      case $t in json) ser=$jseries;; *) ser=$series;; esac
      calls=$(med "${CALLS[$t/$enc]}"); [ "$t" = limit ] && calls="-"
      echo "| $name | $enc | $(fmt_ms "$p") | $(printf '%.1f' "$(med "${RPS[$t/$enc]}")") | $(ratio "$p" "$l") | $calls | $(awk -v b="$sz" 'BEGIN {printf "%.2f MB", b/1e6}') | $ser |"
    done
  done
  echo
  echo "With the default flags (the switchable collectors on, refreshing in the background at --kinsta.rate-limit 1/s, each collector's gauges rendered once per change in a cache of its own): back-to-back gzip scrapes of /metrics take $(fmt_ms "$(jget p50_ms <<<"$DEFAULT_OUT")") (median of $(jget requests <<<"$DEFAULT_OUT") in 10 s, p99 $(fmt_ms "$(jget p99_ms <<<"$DEFAULT_OUT")"), max $(fmt_ms "$(jget max_ms <<<"$DEFAULT_OUT")"), $(awk -v b="$(jget bytes <<<"$DEFAULT_OUT")" 'BEGIN {printf "%.2f MB", b/1e6}')); scrapes a second apart, most of which find a collector's results changed and render it again, $(fmt_ms "$(jget p50_ms <<<"$SPACED_OUT")") (median of $(jget requests <<<"$SPACED_OUT"), max $(fmt_ms "$(jget max_ms <<<"$SPACED_OUT")")); a plain one $(fmt_ms "$(jget p50_ms <<<"$DEFAULT_PLAIN_OUT")") ($(awk -v b="$(jget bytes <<<"$DEFAULT_PLAIN_OUT")" 'BEGIN {printf "%.2f MB", b/1e6}')); a gzip /probe?company= of the same company $(fmt_ms "$(jget p50_ms <<<"$PROBE_OUT")") (p99 $(fmt_ms "$(jget p99_ms <<<"$PROBE_OUT")")); peak RSS $(mb "$DEFAULT_HWM") MB."
  echo
  echo "Peak RSS over the sequential runs: kinsta_exporter $(mb "$SEQ_HWM_OURS") MB, json_exporter $(mb "$SEQ_HWM_JSON") MB."
  echo "kinsta_exporter's upstream calls: one GET /sites per --kinsta.cache-ttl (60s here), whatever the scrapes; json_exporter calls the API on every scrape."
  echo
  echo "## $CONC concurrent scrapers"
  echo
  echo "| exporter | encoding | duration | scrapes | errors | p99 | max latency | GET /sites calls (budget) | peak RSS |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for enc in gzip plain; do
    o=${C[$enc/out]}
    echo "| kinsta_exporter, TTL $CONC_TTL | $enc | $(printf '%.1f' "${C[$enc/secs]}") s | $(jget requests <<<"$o") | $(jget errors <<<"$o") $(sed -n 's/.*"codes":\({[^}]*}\).*/\1/p' <<<"$o") | $(fmt_ms "$(jget p99_ms <<<"$o")") | $(fmt_ms "$(jget max_ms <<<"$o")") | ${C[$enc/calls]} (<= ${C[$enc/budget]}) | $(mb "${C[$enc/hwm]}") MB |"
  done
  jk=""; [ "$JSON_KILLED" = yes ] && jk=" (over the $(mb "$JSON_RSS_CAP_KB") MB cap after ${JSON_KILLED_AFTER} s: killed)"
  echo "| json_exporter v0.7.0 | gzip | $(printf '%.1f' "$(jget seconds <<<"$JC_OUT")") s | $(jget requests <<<"$JC_OUT") | $(jget errors <<<"$JC_OUT") $(sed -n 's/.*"codes":\({[^}]*}\).*/\1/p' <<<"$JC_OUT") | $(fmt_ms "$(jget p99_ms <<<"$JC_OUT")") | $(fmt_ms "$(jget max_ms <<<"$JC_OUT")") | $JC_CALLS (one per scrape) | $(mb "$JC_HWM") MB$jk |"
  echo
  echo "Scrapes send X-Prometheus-Scrape-Timeout-Seconds: 10 and give up after 10 s (counted as errors)."
  echo
  echo "## Start to first successful scrape"
  echo
  echo "From exec to the end of the first /metrics answer (Prometheus' Accept, gzip) that carries the company's data: the first scrape waits for GET /sites, decodes it, builds the series and renders them."
  echo
  echo "| exporter | median | runs | peak RSS (median) |"
  echo "|---|---|---|---|"
  echo "| kinsta_exporter, site series only | $(awk -v s="$(median "${FIRST[@]}")" 'BEGIN {printf "%.2f s", s}') | $(printf '%s ' "${FIRST[@]}" | awk '{for (i=1;i<=NF;i++) printf "%.2f ", $i}') | $(mb "$(median "${FIRST_HWM[@]}")") MB |"
  echo "| kinsta_exporter, default flags | $(awk -v s="$(median "${FIRST_DEFAULT[@]}")" 'BEGIN {printf "%.2f s", s}') | $(printf '%s ' "${FIRST_DEFAULT[@]}" | awk '{for (i=1;i<=NF;i++) printf "%.2f ", $i}') | $(mb "$(median "${FIRST_DEFAULT_HWM[@]}")") MB |"
  echo "| json_exporter v0.7.0 (first probe) | $(awk -v s="$(median "${JSON_FIRST[@]}")" 'BEGIN {printf "%.2f s", s}') | $(printf '%s ' "${JSON_FIRST[@]}" | awk '{for (i=1;i<=NF;i++) printf "%.2f ", $i}') | - |"
  echo
  echo "The API's own time is $(fmt_ms "$API_MS") of that (GET /sites from the fake, served from memory)."
  if [ -s "$WORK/gobench.txt" ]; then
    echo
    echo "## Go benchmarks (\`go test -bench -benchmem\`)"
    echo
    echo '```'
    cat "$WORK/gobench.txt"
    echo '```'
  fi
} >"$OUT"
log "wrote $OUT"
cat "$OUT"
