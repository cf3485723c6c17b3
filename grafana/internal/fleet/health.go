package fleet

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
)

// healthPanels show each exporter target on its own, on purpose: an HA pair's
// replicas have their own API calls, refreshes, memory and version.
func healthPanels(ids *idSeq) []cog.Builder[dashboard.Panel] {
	upTimeline := statetimeline.NewPanelBuilder().
		Id(ids.next()).
		Title("Kinsta API reachable (kinsta_up)").
		Description("kinsta_up per exporter target and company: 1 when the target's last refresh of the company's data succeeded.").
		Datasource(datasourceRef()).
		WithTarget(rangeQuery("A", `kinsta_up{`+sel+`}`, "{{instance}}: {{company}}")).
		Links(runbooks("KinstaAPIFailing")).
		Mappings(boolMappings("down", "up")).
		Thresholds(thresholds("red", step{1, "green"})).
		ShowValue(common.VisibilityModeNever).
		Height(6).
		Span(12)

	collectors := statetimeline.NewPanelBuilder().
		Id(ids.next()).
		Title("Collector success").
		Description("kinsta_exporter_collector_success per exporter target, company and collector.").
		Datasource(datasourceRef()).
		WithTarget(rangeQuery("A", `kinsta_exporter_collector_success{`+sel+`}`, "{{instance}}: {{company}} / {{collector}}")).
		Links(runbooks("KinstaCollectorFailing")).
		Mappings(boolMappings("failed", "ok")).
		Thresholds(thresholds("red", step{1, "green"})).
		ShowValue(common.VisibilityModeNever).
		Height(6).
		Span(12)

	requests := timeseriesPanel(ids, "API requests by endpoint and code",
		"Requests the selected exporters sent to the Kinsta API together (each replica of an HA pair calls the API itself), per route template and HTTP status (\"error\": no response).",
		"reqps", 12,
		rangeQuery("A", `sum by (endpoint, code) (rate(kinsta_exporter_api_requests_total{`+targets+`}[$__rate_interval]))`, "{{endpoint}} {{code}}"))

	errs := timeseriesPanel(ids, "API errors by code",
		"Kinsta API requests that did not return 2xx (429 = rate limited, \"error\" = no response). Empty when there were no errors.",
		"reqps", 12,
		rangeQuery("A", `sum by (code) (rate(kinsta_exporter_api_requests_total{`+targets+`,code!~"2.."}[$__rate_interval]))`, "{{code}}"))
	errs.NoValue("No errors").Links(runbooks("KinstaAPIKeyRejected", "KinstaAPIRateLimited"))

	latency := timeseriesPanel(ids, "API request latency",
		"Quantiles of the Kinsta API request duration over all endpoints, from the kinsta_exporter_api_request_duration_seconds histogram.",
		"s", 12,
		rangeQuery("A", `histogram_quantile(0.5, sum by (le) (rate(kinsta_exporter_api_request_duration_seconds_bucket{`+targets+`}[$__rate_interval])))`, "p50"),
		rangeQuery("B", `histogram_quantile(0.9, sum by (le) (rate(kinsta_exporter_api_request_duration_seconds_bucket{`+targets+`}[$__rate_interval])))`, "p90"),
		rangeQuery("C", `histogram_quantile(0.99, sum by (le) (rate(kinsta_exporter_api_request_duration_seconds_bucket{`+targets+`}[$__rate_interval])))`, "p99"))

	dataAge := timeseriesPanel(ids, "Data age",
		"Seconds since each collector last refreshed successfully (for the background collectors: its least recently refreshed site or environment). It grows while the Kinsta API fails. The sites data is dropped past --kinsta.max-staleness (default 1h); a background collector's past its interval (1h, disk 6h) plus that.",
		"s", 12,
		rangeQuery("A", `time() - kinsta_exporter_collector_last_success_timestamp_seconds{`+sel+`}`, "{{instance}}: {{company}} / {{collector}}"))
	dataAge.Links(runbooks("KinstaDataStale", "KinstaCollectorFailing"))

	refresh := timeseriesPanel(ids, "Refresh duration",
		"How long the last refresh of each company's data took (kinsta_exporter_collector_duration_seconds).",
		"s", 8,
		rangeQuery("A", `kinsta_exporter_collector_duration_seconds{`+sel+`}`, "{{instance}}: {{company}} / {{collector}}"))

	rss := timeseriesPanel(ids, "Exporter memory (RSS)",
		"Resident memory of the kinsta_exporter processes (process metrics of the targets that expose kinsta_exporter_build_info).",
		"bytes", 8,
		rangeQuery("A", `process_resident_memory_bytes{`+targets+`} and on(job, instance) kinsta_exporter_build_info{`+targets+`}`, "{{instance}}"))
	rss.Links(runbooks("KinstaExporterDown"))

	version := stat.NewPanelBuilder().
		Id(ids.next()).
		Title("Exporter version").
		Description("Versions of the running kinsta_exporter targets (kinsta_exporter_build_info), with the number of targets of each: an HA pair counts two.").
		Datasource(datasourceRef()).
		WithTarget(instantQuery("A", `count by (version) (kinsta_exporter_build_info{`+targets+`})`, "{{version}}")).
		Links(runbooks("KinstaExporterDown")).
		Unit("none").
		Thresholds(thresholds("blue")).
		TextMode(common.BigValueTextModeValueAndName).
		ColorMode(common.BigValueColorModeNone).
		GraphMode(common.BigValueGraphModeNone).
		ReduceOptions(lastValue()).
		Height(8).
		Span(8)

	queue := timeseriesPanel(ids, "Background refresh queue",
		"Work items (the API key, companies, sites or environments) per exporter target and background collector, and how many of them are due but not refreshed yet. Each target (each replica of an HA pair) has its own queue and works through its due items one API request at a time within --kinsta.rate-limit, only while scrapes arrive.",
		"none", 8,
		rangeQuery("A", `sum by (instance, collector) (kinsta_exporter_refresh_queue_due_items{`+targets+`})`, "{{instance}}: {{collector}} due"),
		rangeQuery("B", `sum by (instance, collector) (kinsta_exporter_refresh_queue_items{`+targets+`})`, "{{instance}}: {{collector}} items"))
	queue.Links(runbooks("KinstaRefreshBehind"))

	lag := timeseriesPanel(ids, "Background refresh lag",
		"How long each exporter target's background collectors' most overdue item has been waiting (0: none is due). Over an hour fires KinstaRefreshBehind: the collectors need more requests than --kinsta.rate-limit allows.",
		"s", 8,
		rangeQuery("A", `max by (instance, collector) (time() - kinsta_exporter_refresh_queue_oldest_due_timestamp_seconds{`+targets+`}) or max by (instance, collector) (kinsta_exporter_refresh_queue_items{`+targets+`} * 0)`, "{{instance}}: {{collector}}"))
	lag.Links(runbooks("KinstaRefreshBehind")).
		Thresholds(thresholds("green", step{3600, "red"})).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))

	paused := statPanel(ids, "Collectors paused (404)",
		"Collectors paused for a company because the Kinsta API answered 404, which also means the API key's role may not read the data (kinsta_exporter_collector_disabled); they retry after max(6h, their interval). A collector paused by both replicas of an HA pair counts once.",
		countOrZero(`group by (`+companyKey+`, collector) (kinsta_exporter_collector_disabled{`+sel+`} == 1)`),
		"none", thresholds("green", step{1, "orange"}))
	paused.Height(8).Span(8).Links(runbooks("KinstaCollectorDisabled"))

	return []cog.Builder[dashboard.Panel]{upTimeline, collectors, requests, errs, latency, dataAge, refresh, rss, version, queue, lag, paused}
}
