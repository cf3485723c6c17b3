package fleet

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// query is a Prometheus target on the ${datasource} variable.
func query(refID, expr, legend string) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		RefId(refID).
		EditorMode(prometheus.QueryEditorModeCode).
		Expr(expr)
	if legend != "" {
		q.LegendFormat(legend)
	}
	return q
}

func rangeQuery(refID, expr, legend string) *prometheus.DataqueryBuilder {
	return query(refID, expr, legend).Range()
}

func instantQuery(refID, expr, legend string) *prometheus.DataqueryBuilder {
	return query(refID, expr, legend).Instant()
}

func tableQuery(refID, expr string) *prometheus.DataqueryBuilder {
	return query(refID, expr, "").Instant().Format(prometheus.PromQueryFormatTable)
}

// step is a threshold: from value at on, use color.
type step struct {
	at    float64
	color string
}

func thresholds(base string, steps ...step) *dashboard.ThresholdsConfigBuilder {
	ts := []dashboard.Threshold{{Color: base}}
	for _, st := range steps {
		ts = append(ts, dashboard.Threshold{Value: cog.ToPtr(st.at), Color: st.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(ts)
}

// boolMappings names the 0 and 1 of a boolean gauge, in red and green.
func boolMappings(zero, one string) []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"0": {Text: cog.ToPtr(zero), Color: cog.ToPtr("red"), Index: cog.ToPtr(int32(0))},
			"1": {Text: cog.ToPtr(one), Color: cog.ToPtr("green"), Index: cog.ToPtr(int32(1))},
		},
	}}}
}

func lastValue() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)
}

// tablePanel starts a table panel with what every table here shares: no
// footer, column filters, the dashboard's datasource.
func tablePanel(ids *idSeq, title, desc string) *table.PanelBuilder {
	return table.NewPanelBuilder().
		Id(ids.next()).
		Title(title).
		Description(desc).
		Datasource(datasourceRef()).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{})).
		Filterable(true)
}

func statPanel(ids *idSeq, title, desc, expr, unit string, th *dashboard.ThresholdsConfigBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Id(ids.next()).
		Title(title).
		Description(desc).
		Datasource(datasourceRef()).
		WithTarget(instantQuery("A", expr, "")).
		Unit(unit).
		Thresholds(th).
		ColorMode(common.BigValueColorModeValue).
		GraphMode(common.BigValueGraphModeNone).
		ReduceOptions(lastValue()).
		Height(4).
		Span(4)
}

func timeseriesPanel(ids *idSeq, title, desc, unit string, span uint32, targets ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Id(ids.next()).
		Title(title).
		Description(desc).
		Datasource(datasourceRef()).
		Unit(unit).
		Min(0).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			Calcs([]string{"lastNotNull", "max"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)).
		Height(8).
		Span(span)
	for _, t := range targets {
		p.WithTarget(t)
	}
	return p
}

func organize(exclude []string, rename map[string]string, order []string) dashboard.DataTransformerConfig {
	ex := map[string]bool{}
	for _, f := range exclude {
		ex[f] = true
	}
	idx := map[string]int{}
	for i, f := range order {
		idx[f] = i
	}
	return dashboard.DataTransformerConfig{
		Id: "organize",
		Options: map[string]any{
			"excludeByName": ex,
			"renameByName":  rename,
			"indexByName":   idx,
		},
	}
}

func sortDesc(name string) []cog.Builder[common.TableSortByFieldState] {
	return []cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(name).Desc(true)}
}

// link is a dashboard or panel link to a web page. It is built by hand
// because the SDK's builder always sets placement "inControlsMenu", which
// hides a dashboard link in Grafana's controls menu.
type link dashboard.DashboardLink

func (l link) Build() (dashboard.DashboardLink, error) { return dashboard.DashboardLink(l), nil }

func externalLink(title, tooltip, url string) link {
	return link{Title: title, Type: dashboard.DashboardLinkTypeLink, Tooltip: tooltip, Url: cog.ToPtr(url), Tags: []string{}, TargetBlank: true}
}

// runbookURL is the runbook of an alert of deploy/prometheus/rules.yml.
func runbookURL(alert string) string {
	return RunbookDoc + "#runbook-" + strings.ToLower(alert)
}

// runbooks are the panel links to the runbooks of the alerts a panel shows
// the data of.
func runbooks(alerts ...string) []cog.Builder[dashboard.DashboardLink] {
	out := make([]cog.Builder[dashboard.DashboardLink], len(alerts))
	for i, a := range alerts {
		out[i] = externalLink("Runbook: "+a, "What to do when "+a+" fires", runbookURL(a))
	}
	return out
}
