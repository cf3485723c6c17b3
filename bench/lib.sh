# Helpers and measurement steps of bench/run.sh (sourced, not run).
# Results go into the associative arrays declared in run.sh; report.sh
# turns them into $OUT.

log() { echo "bench: $*" >&2; }
jget() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.6g\n", (a[NR/2]+a[NR/2+1])/2}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# reset_hwm sets a process's VmHWM back to its current RSS (Linux clear_refs 5).
reset_hwm() { echo 5 >"/proc/$1/clear_refs"; }
mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k/1024}'; }
secs_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b-a)/1e9}'; }
wait_addr() { for _ in $(seq 300); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "bench: $1 not written" >&2; exit 1; }
wait_http() { for _ in $(seq 600); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done; echo "bench: $1 not answering" >&2; exit 1; }
urlenc() { local s=$1; s=${s//%/%25}; s=${s//:/%3A}; s=${s//\//%2F}; s=${s//\?/%3F}; s=${s//&/%26}; s=${s//=/%3D}; echo "$s"; }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# fake_count ROUTE: requests the fake API has answered on a route ("sites",
# "background": every route but /sites, "total"), since it started.
fake_count() { curl -fs "http://$FAKE/-/requests" | awk -v r="$1" '$1 == r {print $2}'; }
fake_pace() { curl -fs -X POST "http://$FAKE/-/pace?rps=$1"; }

# start_exporter FLAGS...: kinsta_exporter against the fake API; sets EXP_PID.
start_exporter() {
  KINSTA_API_KEY=$KEY "$WORK/kinsta_exporter" --web.listen-address="127.0.0.1:$EXP_PORT" \
    --kinsta.api-url="http://$FAKE" --kinsta.company="$COMPANY" "$@" 2>>"$WORK/exporter.log" &
  EXP_PID=$!
  PIDS+=("$EXP_PID")
}
# start_ready FLAGS...: start_exporter, then wait until it answers.
start_ready() {
  start_exporter "$@"
  wait_http "http://127.0.0.1:$EXP_PORT/-/healthy"
}

# queue_state: "due items" of the exporter's background refresher, summed
# over its collectors, from its own series. Asked for gzip, as Prometheus
# asks, so that polling does not make the exporter render identity bytes.
queue_state() {
  curl -fs -H "Accept: $TEXT" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$EXP_PORT/metrics" | gzip -dc |
    grep -E '^kinsta_exporter_refresh_queue_(due_)?items' |
    awk '/_due_items/ {d += $NF; next} {n += $NF} END {printf "%d %d\n", d, n}'
}

# give_limit_latest: the exporter's current exposition, text format, identity
# and gzip bytes as it sends them, becomes what the limit serves.
give_limit_latest() {
  curl -fs -H "Accept: $TEXT" "http://127.0.0.1:$EXP_PORT/metrics" -o "$WORK/latest.txt"
  curl -fs -H "Accept: $TEXT" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$EXP_PORT/metrics" -o "$WORK/latest.txt.gz"
  curl -fs -X POST "http://$LIMIT/-/reload" >/dev/null
}

# seq_rounds CFG [json]: ROUNDS interleaved rounds; in each, per encoding, the
# limit gets the exporter's latest bytes, then the exporter, the limit (and
# json_exporter) are scraped back to back for RUN each. Medians per CFG/who/enc
# in P50, P99, RPS, CALLS (GET /sites per scrape); sizes of the last bytes;
# background API requests per second over the rounds in BG_RPS[CFG].
seq_rounds() {
  local cfg=$1 who="ours limit" t0 bg0 r enc t gz minn out c0 n
  [ "${2:-}" = json ] && who="ours json limit"
  t0=$(date +%s%N); bg0=$(fake_count background)
  for r in $(seq "$ROUNDS"); do
    for enc in plain gzip; do
      gz=(); [ "$enc" = gzip ] && gz=(-gzip)
      give_limit_latest
      for t in $who; do
        minn=3; [ "$t" = json ] && minn=1
        c0=$(fake_count sites)
        out=$("$LOAD" -url "${URL[$t]}" "${gz[@]}" -accept "$TEXT" -c 1 -d "$RUN" -min-n "$minn" -scrape-timeout 60s)
        n=$(jget requests <<<"$out")
        P50[$cfg/$t/$enc]+="$(jget p50_ms <<<"$out") "
        P99[$cfg/$t/$enc]+="$(jget p99_ms <<<"$out") "
        RPS[$cfg/$t/$enc]+="$(jget rps <<<"$out") "
        CALLS[$cfg/$t/$enc]+="$(awk -v c="$(( $(fake_count sites) - c0 ))" -v n="$n" 'BEGIN {printf "%.4f", c/n}') "
      done
    done
    log "$cfg: round $r of $ROUNDS done"
  done
  BG_RPS[$cfg]=$(awk -v n="$(( $(fake_count background) - bg0 ))" -v s="$(secs_since "$t0")" 'BEGIN {printf "%.1f", n/s}')
  SIZE[$cfg/plain]=$(stat -c %s "$WORK/latest.txt"); SIZE[$cfg/gzip]=$(stat -c %s "$WORK/latest.txt.gz")
  SERIES[$cfg]=$(grep -vc '^#' "$WORK/latest.txt" || true)
  cp "$WORK/latest.txt" "$WORK/exposition-$cfg.txt"
}

# conc_run CFG ENC [ttl-label]: CONC scrapers for CONC_RUN on the running
# exporter; result JSON in C[CFG/ENC/out], GET /sites calls and duration.
conc_run() {
  local cfg=$1 enc=$2 gz=() c0 t0
  [ "$enc" = gzip ] && gz=(-gzip)
  c0=$(fake_count sites); t0=$(date +%s%N)
  C[$cfg/$enc/out]=$("$LOAD" -url "http://127.0.0.1:$EXP_PORT/metrics" "${gz[@]}" -accept "$TEXT" \
    -c "$CONC" -d "$CONC_RUN" -scrape-timeout 10s -max-d 120s)
  C[$cfg/$enc/secs]=$(secs_since "$t0")
  C[$cfg/$enc/calls]=$(( $(fake_count sites) - c0 ))
}

# conc_same CFG TTL_S: both encodings, one after the other, on the exporter
# already running (its caches and background state as the rounds left them);
# peak RSS from the start of the first, after resetting the high-water mark.
conc_same() {
  local cfg=$1 ttl_s=$2 enc
  reset_hwm "$EXP_PID"
  for enc in gzip plain; do
    conc_run "$cfg" "$enc"
    C[$cfg/$enc/budget]=$(awk -v s="${C[$cfg/$enc/secs]}" -v t="$ttl_s" 'BEGIN {printf "%d", int(s/t) + 1}')
  done
  C[$cfg/hwm]=$(hwm "$EXP_PID")
}

# conc_fresh CFG TTL FLAGS...: each encoding on a freshly started exporter
# with --kinsta.cache-ttl=TTL (GET /sites refreshes under load).
conc_fresh() {
  local cfg=$1 ttl=$2 enc h=0 ttl_s; shift 2
  ttl_s=${ttl%s}
  for enc in gzip plain; do
    start_ready --kinsta.cache-ttl="$ttl" "$@"
    conc_run "$cfg" "$enc"
    C[$cfg/$enc/budget]=$(awk -v s="${C[$cfg/$enc/secs]}" -v t="$ttl_s" 'BEGIN {printf "%d", int(s/t) + 1}')
    h=$(maxof "$h" "$(hwm "$EXP_PID")")
    stop "$EXP_PID"
  done
  C[$cfg/hwm]=$h
}

# spaced CFG DURATION: gzip scrapes a second apart (as Prometheus spaces
# them), each likely to find changed results to render; JSON in SPACED[CFG].
spaced() {
  SPACED[$1]=$("$LOAD" -url "http://127.0.0.1:$EXP_PORT/metrics" -gzip -accept "$TEXT" -c 1 -d "$2" -every 1s -scrape-timeout 60s)
}

# probe CFG: back-to-back gzip /probe?company= of the same company.
probe() {
  PROBE[$1]=$("$LOAD" -url "http://127.0.0.1:$EXP_PORT/probe?company=$COMPANY" -gzip -accept "$TEXT" -c 1 -d "$PROBE_RUN")
}

# wait_queue WANT MAX_S: poll the refresher's queue once a second (a scrape
# each time) until WANT holds: "filled" (items, none due) or "due" (some
# due again). Prints the seconds it took; fails after MAX_S.
wait_queue() {
  local want=$1 max=$2 t0 due items
  t0=$(date +%s%N)
  while :; do
    read -r due items < <(queue_state || echo 0 0)
    due=${due:-0}; items=${items:-0}
    case $want in
      filled) [ "$items" -gt 0 ] && [ "$due" -eq 0 ] && break ;;
      due) [ "$due" -gt 0 ] && break ;;
    esac
    if awk -v s="$(secs_since "$t0")" -v m="$max" 'BEGIN {exit !(s > m)}'; then
      echo "bench: refresher not $want after ${max}s (due $due of $items items)" >&2; exit 1
    fi
    sleep 1
  done
  secs_since "$t0"
}
