# write_report: bench/results.md from what bench/run.sh measured (sourced,
# not run). Each configuration gets a table of the targets, met or not.

med() { median ${1}; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1fx", a/b}'; }
fmt_ms() { awk -v v="$1" 'BEGIN {if (v >= 100) printf "%.0f ms", v; else printf "%.2f ms", v}'; }
fmt_mb() { awk -v b="$1" 'BEGIN {printf "%.2f MB", b/1e6}'; }
ok() { if awk "BEGIN {exit !($1)}"; then echo "met"; else echo "**not met**"; fi; }
codes() { sed -n 's/.*"codes":\({[^}]*}\).*/\1/p'; }
cfg_name() {
  case $1 in
    A) echo "A, site series only" ;;
    B1) echo "B1, default flags, first minutes" ;;
    B2) echo "B2, default collectors filled" ;;
  esac
}

# conc_summary CFG: "slowest errors hwm_kb" over both encodings.
conc_summary() {
  local g=${C[$1/gzip/out]} p=${C[$1/plain/out]}
  echo "$(maxof "$(jget max_ms <<<"$g")" "$(jget max_ms <<<"$p")")" \
    "$(( $(jget errors <<<"$g") + $(jget errors <<<"$p") ))" "${C[$1/hwm]}"
}

# target_rows CFG PEAK_LABEL: the targets every configuration shares.
target_rows() {
  local cfg=$1 label=$2 p l enc slowest errs chwm
  for enc in plain gzip; do
    p=$(med "${P50[$cfg/ours/$enc]}"); l=$(med "${P50[$cfg/limit/$enc]}")
    echo "| cached scrape within 3x the limit, $enc | $(ratio "$p" "$l") ($(fmt_ms "$p") vs $(fmt_ms "$l"); p99 $(fmt_ms "$(med "${P99[$cfg/ours/$enc]}")") vs $(fmt_ms "$(med "${P99[$cfg/limit/$enc]}")")) | $(ok "$p <= 3 * $l") |"
  done
  echo "| peak RSS under 100 MB ($label) | $(mb "${SEQ_HWM[$cfg]}") MB | $(ok "${SEQ_HWM[$cfg]} < 102400") |"
  read -r slowest errs chwm < <(conc_summary "$cfg")
  echo "| $CONC concurrent scrapers: peak RSS under 200 MB | $(mb "$chwm") MB | $(ok "$chwm < 204800") |"
  echo "| $CONC concurrent scrapers: every scrape answered within 10 s | slowest $(fmt_ms "$slowest"), $errs errors | $(ok "$slowest < 10000 && $errs == 0") |"
}

exposition_line() { # CFG
  echo "Exposition at the last round: ${SERIES[$1]} series, $(fmt_mb "${SIZE[$1/plain]}") of text, $(fmt_mb "${SIZE[$1/gzip]}") gzipped. Background API requests during the rounds: ${BG_RPS[$1]}/s."
}

spaced_line() { # CFG WHEN
  local s=${SPACED[$1]} p=${PROBE[$1]}
  echo "Gzip scrapes a second apart $2 (as Prometheus spaces them; most find a collector's results changed and render that part again): median $(fmt_ms "$(jget p50_ms <<<"$s")"), p90 $(fmt_ms "$(jget p90_ms <<<"$s")"), max $(fmt_ms "$(jget max_ms <<<"$s")") ($(jget requests <<<"$s") scrapes). Back-to-back gzip \`/probe?company=$COMPANY\`: median $(fmt_ms "$(jget p50_ms <<<"$p")"), p99 $(fmt_ms "$(jget p99_ms <<<"$p")")."
}

# readme_table: both configurations side by side, for the README.
readme_table() {
  local cfg enc p l slowest errs chwm
  echo "| at $SITES sites | A: site series only | B1: default flags, first minutes | B2: default collectors filled | limit (A / B2) |"
  echo "|---|---|---|---|---|"
  for enc in plain gzip; do
    printf '| cached scrape, %s |' "$enc"
    for cfg in A B1 B2; do
      p=$(med "${P50[$cfg/ours/$enc]}"); l=$(med "${P50[$cfg/limit/$enc]}")
      printf ' %s (%s the limit) |' "$(fmt_ms "$p")" "$(ratio "$p" "$l")"
    done
    printf ' %s / %s |\n' "$(fmt_ms "$(med "${P50[A/limit/$enc]}")")" "$(fmt_ms "$(med "${P50[B2/limit/$enc]}")")"
  done
  printf '| peak RSS |'
  for cfg in A B1 B2; do printf ' %s MB |' "$(mb "${SEQ_HWM[$cfg]}")"; done
  echo " – |"
  printf '| %s concurrent scrapers (%s per encoding) |' "$CONC" "$CONC_RUN"
  for cfg in A B1 B2; do
    read -r slowest errs chwm < <(conc_summary "$cfg")
    printf ' %s errors, slowest %s, peak RSS %s MB |' "$errs" "$(fmt_ms "$slowest")" "$(mb "$chwm")"
  done
  echo " – |"
  printf '| exposition |'
  for cfg in A B1 B2; do printf ' %s series, %s (%s gzip) |' "${SERIES[$cfg]}" "$(fmt_mb "${SIZE[$cfg/plain]}")" "$(fmt_mb "${SIZE[$cfg/gzip]}")"; done
  echo " same bytes |"
}

seq_table() {
  local cfg t enc p l name sz ser calls
  echo "| configuration | server | encoding | median | p99 | scrapes/s | x the limit | GET /sites per scrape | exposition | series |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for cfg in A B1 B2; do
    for t in ours json limit; do
      [ -n "${P50[$cfg/$t/plain]:-}" ] || continue
      for enc in plain gzip; do
        p=$(med "${P50[$cfg/$t/$enc]}"); l=$(med "${P50[$cfg/limit/$enc]}")
        case $t in ours) name=kinsta_exporter;; json) name="json_exporter v0.7.0";; limit) name="limit (latest bytes from memory)";; esac
        sz=$(fmt_mb "${SIZE[$cfg/$enc]}"); ser=${SERIES[$cfg]}
        if [ "$t" = json ]; then sz=$(fmt_mb "$(stat -c %s "$WORK/json_exposition.txt$([ "$enc" = gzip ] && echo .gz)")"); ser=$(grep -vc '^#' "$WORK/json_exposition.txt" || true); fi
        calls=$(med "${CALLS[$cfg/$t/$enc]}"); [ "$t" = limit ] && calls="-"
        echo "| $cfg | $name | $enc | $(fmt_ms "$p") | $(fmt_ms "$(med "${P99[$cfg/$t/$enc]}")") | $(printf '%.1f' "$(med "${RPS[$cfg/$t/$enc]}")") | $(ratio "$p" "$l") | $calls | $sz | $ser |"
      done
    done
  done
}

conc_table() {
  local cfg enc o ttl
  echo "| configuration | encoding | duration | scrapes | errors | p99 | max latency | GET /sites calls (budget) | peak RSS |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for cfg in A B1 B2; do
    ttl="TTL 60s, after the rounds, same process"; [ "$cfg" = A ] && ttl="TTL $CONC_TTL, fresh process per encoding"
    for enc in gzip plain; do
      o=${C[$cfg/$enc/out]}
      echo "| $cfg ($ttl) | $enc | ${C[$cfg/$enc/secs]} s | $(jget requests <<<"$o") | $(jget errors <<<"$o") $(codes <<<"$o") | $(fmt_ms "$(jget p99_ms <<<"$o")") | $(fmt_ms "$(jget max_ms <<<"$o")") | ${C[$cfg/$enc/calls]} (<= ${C[$cfg/$enc/budget]}) | $(mb "${C[$cfg/hwm]}") MB |"
    done
  done
  local jk=""
  [ "$JSON_KILLED" = yes ] && jk=" (over the $(mb "$JSON_RSS_CAP_KB") MB cap after ${JSON_KILLED_AFTER} s: killed)"
  echo "| json_exporter v0.7.0 | gzip | $(printf '%.1f' "$(jget seconds <<<"$JC_OUT")") s | $(jget requests <<<"$JC_OUT") | $(jget errors <<<"$JC_OUT") $(codes <<<"$JC_OUT") | $(fmt_ms "$(jget p99_ms <<<"$JC_OUT")") | $(fmt_ms "$(jget max_ms <<<"$JC_OUT")") | $JC_CALLS (one per scrape) | $(mb "$JC_HWM") MB$jk |"
}

starts_row() { # label values...
  local label=$1; shift
  printf '| %s | %s | %s |' "$label" "$(awk -v s="$(median "$@")" 'BEGIN {printf "%.2f s", s}')" "$(printf '%s ' "$@" | awk '{for (i=1;i<=NF;i++) printf "%.2f ", $i}')"
}

write_report() {
  local first; first=$(median "${FIRST[@]}")
  echo "# Benchmark results"
  echo
  echo "Measured $(date -u +%Y-%m-%d\ %H:%M) UTC by \`bench/run.sh\` (\`make bench\`, $(awk -v s="$(secs_since "$START_NS")" 'BEGIN {printf "%.0f", s/60}') min) at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- . ':(exclude)bench/results.md' 2>/dev/null || echo ' (uncommitted changes)')."
  echo
  echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r), $($GO version | cut -d' ' -f3). Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Everything on loopback; the load generator and the fake API share the CPUs."
  echo
  echo "Payload: the fake Kinsta API (\`bench/fakeapi\`, kinstatest.GenerateCompany) with $SITES sites x 2 environments x 2 labels: GET /sites answers $API_BYTES bytes in $(fmt_ms "$API_MS") (median; the API's own time). Text format throughout (\`Accept: $TEXT\`)."
  echo
  echo "## Configurations"
  echo
  echo "- **A, site series only**: \`$NO_COLLECTORS\`, every other flag at its default."
  echo "- **B1, default flags, first minutes**: no flag but the API URL and the company. The background collectors refresh at the default \`--kinsta.rate-limit=1\` (they take the tokens GET /sites leaves). Measured from the start: $WARM of gzip scrapes a second apart, then the rounds and the concurrent scrapers, $(awk -v s="${B1_SECS:-0}" 'BEGIN {printf "%.0f", s}') s in all. The company-wide plugins and themes items (one request each) give every environment its series in the first seconds; usage, backups and disk (one item per site or environment) fill at about one request a second, so the exposition keeps growing."
  echo "- **B2, default collectors filled**: \`$B2_FLAGS\`. The ${B2_ITEMS:-?} background items of $SITES sites take ${B2_FILL_REQS:-?} API requests to fill: $(awk -v n="${B2_FILL_REQS:-0}" 'BEGIN {printf "%.1f", n/3600}') hours at the default rate limit of 1/s$(awk -v n="${B2_FILL_REQS:-0}" 'BEGIN {if (n > 3600) printf ", more than the collectors'"'"' default 1h intervals: at the default flags the refresher of such a fleet never catches up, it refreshes all the time"}'). The bench lifts the exporter's rate limit, which fetched every item in ${FILL_S:-?} s, then has the fake API serve the background routes at $PACE request/s (the exporter's limit cannot change without a restart, which would empty its caches), and the 1m intervals make every item due again a minute after its fetch: the refresher keeps working at $PACE/s with every series present, as it would on such a fleet at the default flags once filled. The worst case for scrape size. Measured from ${DUE_S:-?} s after the fill (once items were due again): $SPACED_RUN of gzip scrapes a second apart, then the rounds and the concurrent scrapers."
  echo "- In B1 and B2 the fake API (\`-vary\`) answers each backups, usage and diskspace request with values that moved on since the last, so every background refresh stores changed series and the next scrape renders that collector's part again (in a real fleet visits and bandwidth change on most refreshes, backups and disk about daily)."
  echo "- The limit (\`bench/limit\`) serves, in each round and encoding, the bytes the exporter sent just before: its identity and gzip answers, reloaded."
  echo
  echo "## Targets at $SITES sites"
  for cfg in A B1 B2; do
    echo
    echo "### $(cfg_name "$cfg")"
    echo
    echo "| target | measured | |"
    echo "|---|---|---|"
    case $cfg in
      A) target_rows A "sequential plain and gzip scrapes, a GET /sites refresh a minute" ;;
      B1) target_rows B1 "from the start, through $WARM of refreshes and the rounds" ;;
      B2) target_rows B2 "from the start, through the fill and the rounds" ;;
    esac
    if [ "$cfg" = A ]; then
      echo "| peak RSS under 100 MB from start to first scrape | $(mb "$(median "${FIRST_HWM[@]}")") MB (median) | $(ok "$(median "${FIRST_HWM[@]}") < 102400") |"
      echo "| one upstream call per company per TTL with $CONC scrapers | ${C[A/gzip/calls]} and ${C[A/plain/calls]} GET /sites in ~$(printf '%.0f' "${C[A/gzip/secs]}") s at TTL $CONC_TTL (budget ${C[A/gzip/budget]}) | $(ok "${C[A/gzip/calls]} <= ${C[A/gzip/budget]} && ${C[A/plain/calls]} <= ${C[A/plain/budget]}") |"
      echo "| start to first successful scrape under 1 s plus the API's own time | $(awk -v s="$first" 'BEGIN {printf "%.2f s", s}') (API $(fmt_ms "$API_MS")) | $(ok "$first < 1 + $API_MS / 1000") |"
    fi
    echo
    exposition_line "$cfg"
    case $cfg in
      B1) echo; spaced_line B1 "during the first $WARM" ;;
      B2) echo; spaced_line B2 "before the rounds" ;;
    esac
  done
  echo
  echo "## README table"
  echo
  readme_table
  echo
  echo "## Sequential scrapes ($ROUNDS interleaved rounds of $RUN each, medians of the rounds' medians)"
  echo
  seq_table
  echo
  echo "Peak RSS over the rounds: json_exporter $(mb "${SEQ_HWM[json]}") MB. kinsta_exporter calls GET /sites once per --kinsta.cache-ttl (60s here), whatever the scrapes; json_exporter calls the API on every scrape."
  echo
  echo "## $CONC concurrent scrapers"
  echo
  conc_table
  echo
  echo "Scrapes send X-Prometheus-Scrape-Timeout-Seconds: 10 and give up after 10 s (counted as errors). In B1 and B2 the peak RSS is the high-water mark from the start of the gzip run (reset then) to the end of the plain one."
  echo
  echo "## Start to first successful scrape"
  echo
  echo "From exec to the end of the first /metrics answer (Prometheus' Accept, gzip) that carries the company's data: the first scrape waits for GET /sites, decodes it, builds the series and renders them."
  echo
  echo "| exporter | median | runs | peak RSS (median) |"
  echo "|---|---|---|---|"
  echo "$(starts_row "kinsta_exporter, site series only" "${FIRST[@]}") $(mb "$(median "${FIRST_HWM[@]}")") MB |"
  echo "$(starts_row "kinsta_exporter, default flags" "${FIRST_DEFAULT[@]}") $(mb "$(median "${FIRST_DEFAULT_HWM[@]}")") MB |"
  echo "$(starts_row "json_exporter v0.7.0 (first probe)" "${JSON_FIRST[@]}") - |"
  if [ -s "$WORK/gobench.txt" ]; then
    echo
    echo "## Go benchmarks (\`go test -bench -benchmem\`)"
    echo
    echo '```'
    cat "$WORK/gobench.txt"
    echo '```'
  fi
}
