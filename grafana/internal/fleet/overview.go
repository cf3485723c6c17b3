package fleet

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
)

// fleetPanels count and list the selected sites and environments, each
// once however many exporters export it.
func fleetPanels(ids *idSeq) []cog.Builder[dashboard.Panel] {
	// Not live as KinstaSiteNotLive sees it: any exporter reporting the
	// site's status="live" series at 0.
	liveZero := `kinsta_site_status{` + sel + `,status="live"} == 0`
	// The current status of each site that is not live: one per site.
	nonLiveCurrent := pick(siteKey, "status", `kinsta_site_status{`+sel+`,status!="live"} == 1`)

	sitesTotal := statPanel(ids, "Sites",
		"Sites of the selected companies and labels.",
		countOrZero(selectedSitesOf(siteKey, `kinsta_site_info{`+sel+`}`)),
		"none", thresholds("blue"))

	sitesNotLive := statPanel(ids, "Sites not live",
		`Sites whose kinsta_site_status{status="live"} is 0.`,
		countOrZero(selectedSitesOf(siteKey, liveZero)),
		"none", thresholds("green", step{1, "red"}))
	sitesNotLive.Links(runbooks("KinstaSiteNotLive"))

	envTotal := statPanel(ids, "Environments",
		"Environments (live and staging) of the selected sites.",
		countOrZero(selectedSitesOf(envKey, `kinsta_environment_info{`+sel+`}`)),
		"none", thresholds("blue"))

	envBlocked := statPanel(ids, "Environments blocked",
		"Environments Kinsta reports as blocked.",
		countOrZero(selectedSitesOf(envKey, `kinsta_environment_blocked{`+sel+`} == 1`)),
		"none", thresholds("green", step{1, "red"}))
	envBlocked.Links(runbooks("KinstaEnvironmentBlocked"))

	envPremium := statPanel(ids, "Premium environments",
		"Environments on a premium staging plan.",
		countOrZero(selectedSitesOf(envKey, `kinsta_environment_premium{`+sel+`} == 1`)),
		"none", thresholds("blue"))

	dataAge := statPanel(ids, "Oldest data",
		"Age of the oldest successful refresh of the selected companies' sites (GET /sites, the sites collector): the site, status and environment numbers above are at most this old. The other rows are refreshed in the background every hour or more (Exporter health shows their lag).",
		`max(time() - kinsta_exporter_collector_last_success_timestamp_seconds{`+sel+`,collector="sites"})`,
		"s", thresholds("green", step{300, "orange"}, step{3600, "red"}))
	dataAge.Links(runbooks("KinstaDataStale"))

	byStatus := piechart.NewPanelBuilder().
		Id(ids.next()).
		Title("Sites by status").
		Description("Current kinsta_site_status of the selected sites.").
		Datasource(datasourceRef()).
		WithTarget(instantQuery("A",
			`count by (status) (`+pick(siteKey, "status", `kinsta_site_status{`+sel+`} == 1`)+inSelectedSites+`)`,
			"{{status}}")).
		PieType(piechart.PieChartTypeDonut).
		Unit("none").
		ReduceOptions(lastValue()).
		Legend(piechart.NewPieChartLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementRight).
			Values([]piechart.PieChartLegendValues{piechart.PieChartLegendValuesValue, piechart.PieChartLegendValuesPercent})).
		Height(8).
		Span(8)

	phpVersions := versionBars(ids, "PHP versions", "php_version")
	wpVersions := versionBars(ids, "WordPress versions", "wordpress_version")

	// One row per (non-live site, label): the labelled sites joined with their
	// status and display name, or, for sites without labels, one row with an
	// empty label. A single instant query, so no merge is needed.
	notLive := tablePanel(ids, "Sites not live",
		"Selected sites whose current status is not live, one row per site label (sites without labels get one row with an empty label).").
		WithTarget(tableQuery("A",
			`(`+
				dedup(siteKey+", label_id, label", `kinsta_site_label_info{`+sel+`}`)+
				` * on(`+siteKey+`) group_left(status) `+nonLiveCurrent+siteNames+
				` or `+
				nonLiveCurrent+siteNames+
				` unless on(`+siteKey+`) kinsta_site_label_info{`+sel+`}`+
				`)`+inSelectedSites)).
		WithTransformation(organize(
			[]string{"Time", "Value", "__name__", "job", "instance", "label_id"},
			map[string]string{"display_name": "Site", "site_id": "Site ID", "status": "Status", "label": "Label", "company": "Company"},
			[]string{"display_name", "site_id", "status", "label", "company"})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Site")}).
		NoValue("All selected sites are live").
		Links(runbooks("KinstaSiteNotLive")).
		Height(10).
		Span(14)

	blocked := tablePanel(ids, "Blocked environments",
		"Environments of the selected sites with kinsta_environment_blocked = 1.").
		WithTarget(tableQuery("A",
			dedup(envKey, `kinsta_environment_blocked{`+sel+`} == 1`)+
				` * on(`+envKey+`) group_left(environment_display_name, primary_domain) `+
				pick(envKey, "environment_display_name, primary_domain", `kinsta_environment_info{`+sel+`}`)+
				siteNames+inSelectedSites)).
		WithTransformation(organize(
			[]string{"Time", "Value", "__name__", "job", "instance"},
			map[string]string{
				"display_name": "Site", "environment_display_name": "Environment", "primary_domain": "Primary domain",
				"site_id": "Site ID", "environment_id": "Environment ID", "company": "Company",
			},
			[]string{"display_name", "environment_display_name", "primary_domain", "site_id", "environment_id", "company"})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Site")}).
		NoValue("No blocked environments").
		Links(runbooks("KinstaEnvironmentBlocked")).
		Height(10).
		Span(10)

	return []cog.Builder[dashboard.Panel]{
		sitesTotal, sitesNotLive, envTotal, envBlocked, envPremium, dataAge,
		byStatus, phpVersions, wpVersions,
		notLive, blocked,
	}
}

// versionBars counts the selected environments by a version label, each
// environment once.
func versionBars(ids *idSeq, title, label string) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().
		Id(ids.next()).
		Title(title).
		Description("Environments (live and staging) of the selected sites, by " + label + ", from kinsta_environment_info (\"unknown\": Kinsta reported none).").
		Datasource(datasourceRef()).
		WithTarget(instantQuery("A",
			`sort_desc(count by (`+label+`) (`+
				pick(envKey, label, `label_replace(kinsta_environment_info{`+sel+`}, "`+label+`", "unknown", "`+label+`", "")`)+
				inSelectedSites+`))`,
			"{{"+label+"}}")).
		Unit("none").
		Decimals(0).
		Min(0).
		Thresholds(thresholds("blue")).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		Orientation(common.VizOrientationHorizontal).
		ShowUnfilled(true).
		ReduceOptions(lastValue()).
		Height(8).
		Span(8)
}
