package fleet

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// extensionTable lists every plugin (or theme) of the selected companies with
// its installs, updates and vulnerable installs, vulnerable ones first.
func extensionTable(ids *idSeq, kind, title string) *table.PanelBuilder {
	perCompany := func(metric string) string { return dedup(companyKey+", "+kind, metric+`{`+sel+`}`) }
	return tablePanel(ids, title,
		"Every WordPress "+kind+" of the selected companies (GET /company/{id}/wp-"+kind+"s, "+kind+"s collector; Kinsta refreshes this data at most every ~12h): environments with it installed, with an update available, and with a vulnerable version installed. Vulnerable first.").
		WithTarget(tableQuery("A", perCompany(`kinsta_`+kind+`_installs`))).
		WithTarget(tableQuery("B", perCompany(`kinsta_`+kind+`_updates_available`))).
		WithTarget(tableQuery("C", perCompany(`kinsta_`+kind+`_vulnerable_installs`))).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(organize(
			[]string{"Time", "__name__", "job", "instance"},
			map[string]string{kind: strings.ToUpper(kind[:1]) + kind[1:], "company": "Company",
				"Value #A": "Installs", "Value #B": "Updates available", "Value #C": "Vulnerable installs"},
			[]string{kind, "Value #C", "Value #B", "Value #A", "company"})).
		Unit("none").
		Decimals(0).
		SortBy(sortDesc("Vulnerable installs")).
		NoValue("No " + kind + " data yet").
		Links(runbooks("KinstaVulnerable" + strings.ToUpper(kind[:1]) + kind[1:] + "Installed")).
		Height(10).
		Span(12)
}

func extensionPanels(ids *idSeq) []cog.Builder[dashboard.Panel] {
	pluginUpdates := statPanel(ids, "Plugin updates available",
		"Plugin installs with an update available in the selected sites' environments (kinsta_environment_plugin_updates_available).",
		sumOrZero(selectedSitesOf(envKey, `kinsta_environment_plugin_updates_available{`+sel+`}`)),
		"none", thresholds("green", step{1, "orange"}))
	pluginUpdates.Span(6)

	themeUpdates := statPanel(ids, "Theme updates available",
		"Theme installs with an update available in the selected sites' environments (kinsta_environment_theme_updates_available).",
		sumOrZero(selectedSitesOf(envKey, `kinsta_environment_theme_updates_available{`+sel+`}`)),
		"none", thresholds("green", step{1, "orange"}))
	themeUpdates.Span(6)

	vulnerable := statPanel(ids, "Vulnerable installs",
		"Plugin and theme installs whose installed version Kinsta reports as vulnerable, in the selected sites' environments (only from the company-wide endpoints; fires KinstaVulnerablePluginInstalled / KinstaVulnerableThemeInstalled).",
		`(`+sumOrZero(selectedSitesOf(envKey, `kinsta_environment_plugins_vulnerable{`+sel+`}`))+`) + (`+sumOrZero(selectedSitesOf(envKey, `kinsta_environment_themes_vulnerable{`+sel+`}`))+`)`,
		"none", thresholds("green", step{1, "red"}))
	vulnerable.Span(6).Links(runbooks("KinstaVulnerablePluginInstalled", "KinstaVulnerableThemeInstalled"))

	kinstaAge := stat.NewPanelBuilder().
		Id(ids.next()).
		Title("Kinsta's plugin and theme data age").
		Description("Time since Kinsta last updated its plugin and theme data (last_updated_at of the company endpoints); Kinsta refreshes it at most every ~12h, so installs and updates can lag that much behind the sites.").
		Datasource(datasourceRef()).
		WithTarget(instantQuery("A", `time() - min(kinsta_plugins_last_updated_timestamp_seconds{`+sel+`})`, "plugins")).
		WithTarget(instantQuery("B", `time() - min(kinsta_themes_last_updated_timestamp_seconds{`+sel+`})`, "themes")).
		Unit("s").
		Thresholds(thresholds("green", step{13 * 3600, "orange"}, step{25 * 3600, "red"})).
		TextMode(common.BigValueTextModeValueAndName).
		ColorMode(common.BigValueColorModeValue).
		GraphMode(common.BigValueGraphModeNone).
		ReduceOptions(lastValue()).
		Height(4).
		Span(6)

	byStatus := bargauge.NewPanelBuilder().
		Id(ids.next()).
		Title("Installed by status").
		Description("Plugin and theme installs in the selected sites' environments, by status as Kinsta reports it (active, inactive, must-use, ...).").
		Datasource(datasourceRef()).
		WithTarget(instantQuery("A", `sum by (status) (`+selectedSitesOf(envKey+", status", `kinsta_environment_plugins{`+sel+`}`)+`)`, "plugins {{status}}")).
		WithTarget(instantQuery("B", `sum by (status) (`+selectedSitesOf(envKey+", status", `kinsta_environment_themes{`+sel+`}`)+`)`, "themes {{status}}")).
		Unit("none").
		Decimals(0).
		Min(0).
		Thresholds(thresholds("blue")).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		Orientation(common.VizOrientationHorizontal).
		ShowUnfilled(true).
		ReduceOptions(lastValue()).
		Height(10).
		Span(6)

	plugins := extensionTable(ids, "plugin", "Plugins")
	plugins.Span(9)
	themes := extensionTable(ids, "theme", "Themes")
	themes.Span(9)

	return []cog.Builder[dashboard.Panel]{pluginUpdates, themeUpdates, vulnerable, kinstaAge, byStatus, plugins, themes}
}
