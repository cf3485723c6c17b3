# json_exporter v0.7.0 for bench/run.sh (sourced, not run): its configuration,
# start and the concurrent-scraper run, which kills it above JSON_RSS_CAP_KB.

cat >"$WORK/json_exporter.yml" <<EOF2
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
EOF2

start_json() {
  "$JSONEXP/json_exporter" --config.file="$WORK/json_exporter.yml" --web.listen-address="127.0.0.1:$JSON_PORT" \
    2>>"$WORK/json_exporter.log" &
  JSON_PID=$!
  PIDS+=("$JSON_PID")
}

# json_conc: CONC gzip scrapers for JSON_CONC_RUN; sets JC_OUT, JC_HWM,
# JC_CALLS, JSON_KILLED (and JSON_KILLED_AFTER).
json_conc() {
  local c0 load_pid start
  start_json
  wait_http "http://127.0.0.1:$JSON_PORT/"
  c0=$(fake_count sites)
  "$LOAD" -url "$JSON_URL" -gzip -c "$CONC" -d "$JSON_CONC_RUN" -scrape-timeout 10s -max-d 60s >"$WORK/json_conc.json" &
  load_pid=$!
  JSON_KILLED=no
  start=$(date +%s%N)
  while kill -0 "$load_pid" 2>/dev/null; do
    if [ "$JSON_KILLED" = no ] && [ "$(rss "$JSON_PID" 2>/dev/null || echo 0)" -gt "$JSON_RSS_CAP_KB" ]; then
      JSON_KILLED=yes; JC_HWM=$(hwm "$JSON_PID")
      JSON_KILLED_AFTER=$(secs_since "$start")
      kill -9 "$JSON_PID"; kill "$load_pid" # the run ends with what was measured
    fi
    sleep 0.2
  done
  wait "$load_pid" || true
  [ "$JSON_KILLED" = yes ] || JC_HWM=$(hwm "$JSON_PID")
  JC_OUT=$(cat "$WORK/json_conc.json"); JC_CALLS=$(( $(fake_count sites) - c0 ))
  stop "$JSON_PID"
}
