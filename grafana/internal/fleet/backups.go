package fleet

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
)

// newestBackup is the time of each environment's newest backup of any type,
// from whichever exporter has seen it.
var newestBackup = dedup(envKey, `kinsta_environment_backup_last_timestamp_seconds{`+sel+`}`)

func keyBackupPanels(ids *idSeq) []cog.Builder[dashboard.Panel] {
	keyExpiry := statPanel(ids, "API key expires in",
		"Time until the exporter's Kinsta API key expires (GET /validate, apikey collector). No value: the key never expires.",
		`min(kinsta_api_key_expiry_timestamp_seconds{`+sel+`}) - time()`,
		"s", thresholds("red", step{14 * 86400, "orange"}, step{30 * 86400, "green"}))
	keyExpiry.NoValue("never").Span(8).Links(runbooks("KinstaAPIKeyExpiringSoon"))

	keyStatus := stat.NewPanelBuilder().
		Id(ids.next()).
		Title("API key").
		Description("Name and status of the exporter's Kinsta API key (kinsta_api_key_info: active, revoked, expired).").
		Datasource(datasourceRef()).
		// Once per key, however many exporters use it.
		WithTarget(instantQuery("A", dedup("company, key_name, status", `kinsta_api_key_info{`+sel+`}`), "{{key_name}}: {{status}}")).
		Links(runbooks("KinstaAPIKeyRejected", "KinstaAPIKeyExpiringSoon")).
		Unit("none").
		Thresholds(thresholds("blue")).
		TextMode(common.BigValueTextModeName).
		ColorMode(common.BigValueColorModeNone).
		GraphMode(common.BigValueGraphModeNone).
		ReduceOptions(lastValue()).
		Height(4).
		Span(8)

	stale := statPanel(ids, "Live environments without a backup in 48h",
		"Live environments of the selected sites whose newest backup (any type) is over 48 hours old (backups collector).",
		countOrZero(`(time() - `+newestBackup+` > 48 * 3600) and on(`+envKey+`) `+liveEnvs+inSelectedSites),
		"none", thresholds("green", step{1, "red"}))
	stale.Span(8).Links(runbooks("KinstaBackupMissing"))

	backupAge := tablePanel(ids, "Newest backup of each live environment",
		"Age of the newest backup (any type: scheduled, system, manual) of the live environment of each selected site, oldest first (GET /sites/environments/{env_id}/backups, refreshed hourly by the backups collector). Over 48h fires KinstaBackupMissing.").
		WithTarget(tableQuery("A",
			`(time() - `+newestBackup+`)`+
				` * on(`+envKey+`) group_left(environment_display_name) `+liveEnvs+
				siteNames+inSelectedSites)).
		WithTransformation(organize(
			[]string{"Time", "__name__", "job", "instance"},
			map[string]string{"display_name": "Site", "environment_display_name": "Environment", "site_id": "Site ID",
				"environment_id": "Environment ID", "company": "Company", "Value": "Newest backup age"},
			[]string{"display_name", "environment_display_name", "Value", "site_id", "environment_id", "company"})).
		Unit("s").
		Thresholds(thresholds("green", step{48 * 3600, "red"})).
		SortBy(sortDesc("Newest backup age")).
		NoValue("No backup data yet").
		Links(runbooks("KinstaBackupMissing")).
		Height(10).
		Span(16)

	byType := piechart.NewPanelBuilder().
		Id(ids.next()).
		Title("Backups by type").
		Description("Backups Kinsta keeps for the selected sites' environments, by type (kinsta_environment_backups).").
		Datasource(datasourceRef()).
		WithTarget(instantQuery("A", `sum by (type) (`+dedup(envKey+", type", `kinsta_environment_backups{`+sel+`}`)+inSelectedSites+`)`, "{{type}}")).
		PieType(piechart.PieChartTypeDonut).
		Unit("none").
		ReduceOptions(lastValue()).
		Legend(piechart.NewPieChartLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementRight).
			Values([]piechart.PieChartLegendValues{piechart.PieChartLegendValuesValue})).
		Height(10).
		Span(8)

	return []cog.Builder[dashboard.Panel]{keyExpiry, keyStatus, stale, backupAge, byType, companyKeysPanel(ids)}
}
