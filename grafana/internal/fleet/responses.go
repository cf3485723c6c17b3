package fleet

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// The HTTP responses row: kinsta_environment_http_responses, the responses
// of each live environment over Kinsta's last 24 hours by status code. Each
// (environment, code) is reduced to one series before any sum, so that an
// HA pair of exporters counts once.

// responsesOf is the responses of the selected sites' live environments
// whose code matches codeMatcher (`,code=~"5.."`, or "" for all), one series
// per environment.
func responsesOf(codeMatcher string) string {
	return `sum by (` + envKey + `) (` +
		dedup(envKey+", code", `kinsta_environment_http_responses{`+sel+codeMatcher+`}`) + inSelectedSites + `)`
}

var (
	serverErrors = responsesOf(`,code=~"5.."`)
	allResponses = responsesOf("")
	// serverErrorShare is each live environment's 5xx share; environments
	// without any 5xx code have no series (0 would hide nothing).
	serverErrorShare = `(` + serverErrors + ` / ` + allResponses + `)`
)

// responsesAbout is said in every panel of the row.
const responsesAbout = " Kinsta's analytics of each site's live environment over the last 24 hours (GET /sites/environments/{env_id}/analytics/response-codes, responses collector, hourly): a sliding window, so a burst shows for a day."

func responsePanels(ids *idSeq) []cog.Builder[dashboard.Panel] {
	failing := statPanel(ids, "Live environments over 5% 5xx",
		"Live environments with at least 5% 5xx of at least 100 responses, as KinstaSiteServerErrors sees them."+responsesAbout,
		countOrZero(`(`+serverErrorShare+` >= 0.05) and on(`+envKey+`) (`+allResponses+` >= 100)`),
		"none", thresholds("green", step{1, "red"}))
	failing.Links(runbooks("KinstaSiteServerErrors"))

	fleetShare := statPanel(ids, "5xx share, all selected sites",
		"5xx responses of the selected sites' live environments over all their responses."+responsesAbout,
		`sum(`+serverErrors+`) / sum(`+allResponses+`)`,
		"percentunit", thresholds("green", step{0.01, "orange"}, step{0.05, "red"}))
	fleetShare.Decimals(2)

	total := statPanel(ids, "Responses, last 24 h",
		"Responses of the selected sites' live environments."+responsesAbout,
		sumOrZero(allResponses), "short", thresholds("blue"))

	share := timeseriesPanel(ids, "5xx share, top 10 sites",
		"Share of 5xx in the responses of each site's live environment, the 10 highest. KinstaSiteServerErrors fires at 5% of at least 100 responses for 30 minutes."+responsesAbout,
		"percentunit", 12,
		rangeQuery("A", `topk(10, `+serverErrorShare+siteNames+`)`, "{{display_name}}"))
	share.Thresholds(thresholds("green", step{0.05, "red"})).Links(runbooks("KinstaSiteServerErrors"))

	top := bargauge.NewPanelBuilder().
		Id(ids.next()).
		Title("Top sites by 5xx, last 24 h").
		Description("The 10 sites whose live environment answered the most 5xx." + responsesAbout).
		Datasource(datasourceRef()).
		WithTarget(instantQuery("A", `topk(10, `+serverErrors+siteNames+` > 0)`, "{{display_name}}")).
		Unit("short").
		Min(0).
		Thresholds(thresholds("orange")).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		Orientation(common.VizOrientationHorizontal).
		ShowUnfilled(true).
		ReduceOptions(lastValue()).
		Links(runbooks("KinstaSiteServerErrors")).
		Height(8).
		Span(6)

	byCode := timeseriesPanel(ids, "Responses by code",
		"Responses of the selected sites' live environments by HTTP status code."+responsesAbout,
		"short", 6,
		rangeQuery("A", `sum by (code) (`+
			dedup(envKey+", code", `kinsta_environment_http_responses{`+sel+`}`)+inSelectedSites+`)`, "{{code}}"))

	return []cog.Builder[dashboard.Panel]{failing.Span(8), fleetShare.Span(8), total.Span(8), share, top, byCode}
}
