package fleet

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// topSites is a bar gauge of the 10 selected sites with the most of metric.
func topSites(ids *idSeq, title, desc, metric, unit string) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().
		Id(ids.next()).
		Title(title).
		Description(desc).
		Datasource(datasourceRef()).
		WithTarget(instantQuery("A",
			`topk(10, (`+dedup(siteKey, metric+`{`+sel+`}`)+siteNames+`)`+inSelectedSites+`)`, "{{display_name}}")).
		Unit(unit).
		Min(0).
		Thresholds(thresholds("blue")).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		Orientation(common.VizOrientationHorizontal).
		ShowUnfilled(true).
		ReduceOptions(lastValue()).
		Height(9).
		Span(8)
}

func usagePanels(ids *idSeq) []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		topSites(ids, "Top sites by visits",
			"This month's visits as Kinsta counts them for the plan (GET /sites/{id}/usage/visits/this-month, usage collector, hourly).",
			"kinsta_site_visits_this_month", "none"),
		topSites(ids, "Top sites by bandwidth",
			"This month's bandwidth (GET /sites/{id}/usage/bandwidth/this-month, usage collector, hourly).",
			"kinsta_site_bandwidth_this_month_bytes", "bytes"),
		topSites(ids, "Top sites by CDN bandwidth",
			"This month's CDN bandwidth (GET /sites/{id}/usage/cdn-bandwidth/this-month, usage collector, hourly).",
			"kinsta_site_cdn_bandwidth_this_month_bytes", "bytes"),
	}
}

func diskPanels(ids *idSeq) []cog.Builder[dashboard.Panel] {
	total := statPanel(ids, "Disk used",
		"Disk space used by the selected sites' environments together (kinsta_environment_disk_usage_bytes, disk collector, every 6h).",
		`sum(`+selectedSitesOf(envKey, `kinsta_environment_disk_usage_bytes{`+sel+`}`)+`)`,
		"bytes", thresholds("blue"))
	total.Height(8).Span(6)

	top := timeseriesPanel(ids, "Disk usage, top 10 environments",
		"Disk space of the 10 largest environments of the selected sites (GET /sites/environments/{env_id}/analytics/diskspace, latest daily point, refreshed every 6h). KinstaEnvironmentDiskFillingUp fires when the last 2 days' growth would pass kinsta:environment_disk_usage_threshold_bytes within 7 days.",
		"bytes", 18,
		rangeQuery("A",
			`topk(10, (`+dedup(envKey, `kinsta_environment_disk_usage_bytes{`+sel+`}`)+envNames+siteNames+`)`+inSelectedSites+`)`,
			"{{display_name}} ({{environment_display_name}})"))
	top.Links(runbooks("KinstaEnvironmentDiskFillingUp"))
	return []cog.Builder[dashboard.Panel]{total, top}
}

// activityOff is said in every panel of the Activity row: its collector is
// the one not on by default.
const activityOff = " The activity collector is off by default: start the exporter with --collector.activity, or this row stays empty. Its counters are per company, so the site label filter does not apply; an HA pair of exporters is counted once."

// activityIncrease is the operations counted per interval, by type: max by
// company and type first, so that two exporters of one company (an HA pair)
// count once.
func activityIncrease(metric string) string {
	return `sum by (type) (` + dedup(companyKey+", type", `increase(`+metric+`{`+sel+`}[$__rate_interval])`) + `)`
}

func activityPanels(ids *idSeq) []cog.Builder[dashboard.Panel] {
	finished := timeseriesPanel(ids, "Operations finished by type",
		"Operations of the selected companies' Kinsta activity log that finished (failed or not), by type, per interval (increase of kinsta_activity_operations_total over $__rate_interval). The activity collector reads GET /company/{id}/activity-logs every --collector.activity.interval (15m), so the counts arrive in steps."+activityOff,
		"none", 8,
		rangeQuery("A", activityIncrease("kinsta_activity_operations_total"), "{{type}}"))

	failed := timeseriesPanel(ids, "Operations failed by type",
		"Operations of the selected companies' Kinsta activity log that failed (has_failed), by type, per interval (increase of kinsta_activity_operations_failed_total over $__rate_interval). A failure fires KinstaOperationsFailing for an hour."+activityOff,
		"none", 8,
		rangeQuery("A", activityIncrease("kinsta_activity_operations_failed_total"), "{{type}}"))
	failed.Links(runbooks("KinstaOperationsFailing"))

	totals := tablePanel(ids, "Operations since the exporter started",
		"Operations of each type finished and failed since the exporter started (kinsta_activity_operations_total and kinsta_activity_operations_failed_total; operations created before the start are not counted), most failures first."+activityOff).
		WithTarget(tableQuery("A", dedup(companyKey+", type", `kinsta_activity_operations_total{`+sel+`}`))).
		WithTarget(tableQuery("B", dedup(companyKey+", type", `kinsta_activity_operations_failed_total{`+sel+`}`))).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(organize(
			[]string{"Time"},
			map[string]string{"type": "Type", "company": "Company", "Value #A": "Finished", "Value #B": "Failed"},
			[]string{"type", "Value #B", "Value #A", "company"})).
		Unit("none").
		Decimals(0).
		SortBy(sortDesc("Failed")).
		NoValue("No operations counted (is --collector.activity on?)").
		Links(runbooks("KinstaOperationsFailing")).
		Height(8).
		Span(8)

	return []cog.Builder[dashboard.Panel]{finished, failed, totals}
}
