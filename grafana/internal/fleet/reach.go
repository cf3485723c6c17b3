package fleet

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
)

// The Domains row shows the environments' domains the exporter reads from
// GET /sites (kinsta_environment_domain_*), deduplicated like the other
// fleet rows. The Reachability row shows blackbox_exporter's probes of the
// domains listed by the exporter's /sd/domains: those series come from the
// probe job ($probe_job), not from the exporter, with the target labels of
// the shipped relabelling (company, site_id, environment_id, domain,
// display_name); instance is the domain there, so $instance does not apply.

// domainKey is one domain of one environment.
const domainKey = envKey + ", domain"

// probeSel is the matcher of every probe selector.
const probeSel = `job=~"$probe_job",company=~"$company"`

// probeWorst reduces probe series to one per domain with the smallest value:
// the same domain probed twice (two Prometheus jobs, two exporters' lists
// merged late) counts once, and a failure wins over a success.
func probeWorst(expr string) string { return "min by (" + domainKey + ") (" + expr + ")" }

// probeWorstNamed is probeWorst keeping display_name, exactly one series per
// domain even while two probes disagree on the name for a moment.
func probeWorstNamed(expr string) string {
	return "min by (" + domainKey + ", display_name) (bottomk by (" + domainKey + ") (1, " + expr + "))"
}

func domainPanels(ids *idSeq) []cog.Builder[dashboard.Panel] {
	info := `kinsta_environment_domain_info{` + sel + `}`
	total := statPanel(ids, "Domains",
		"Domains of the selected sites' environments (kinsta_environment_domain_info: domains[] and primaryDomain of GET /sites, wildcards left out, each name once).",
		countOrZero(selectedSitesOf(domainKey, info)), "none", thresholds("blue"))
	inactive := statPanel(ids, "Inactive domains",
		"Domains Kinsta reports inactive (kinsta_environment_domain_active = 0). Domains whose is_active the API does not send are not counted.",
		countOrZero(selectedSitesOf(domainKey, `kinsta_environment_domain_active{`+sel+`} == 0`)),
		"none", thresholds("green", step{1, "orange"}))
	primary := statPanel(ids, "Environments without a primary domain",
		"Environments of the selected sites with no primary domain: nothing to probe by default (/sd/domains lists live environments' primary domains).",
		countOrZero(selectedSitesOf(envKey, `kinsta_environment_info{`+sel+`,primary_domain=""}`)),
		"none", thresholds("green", step{1, "orange"}))

	perSite := bargauge.NewPanelBuilder().
		Id(ids.next()).
		Title("Domains per site").
		Description("The 15 selected sites with the most domains, over all their environments.").
		Datasource(datasourceRef()).
		WithTarget(instantQuery("A",
			`topk(15, (count by (`+siteKey+`) (`+dedup(domainKey, info)+`)`+siteNames+`)`+inSelectedSites+`)`,
			"{{display_name}}")).
		Unit("none").
		Decimals(0).
		Min(0).
		Thresholds(thresholds("blue")).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		Orientation(common.VizOrientationHorizontal).
		ShowUnfilled(true).
		ReduceOptions(lastValue()).
		Height(10).
		Span(8)

	// Active: is_active where the API sent it, else -1 ("not sent").
	active := `(max by (` + domainKey + `) (kinsta_environment_domain_active{` + sel + `})` +
		` or on(` + domainKey + `) (` + dedup(domainKey, info) + ` * 0 - 1))`
	list := tablePanel(ids, "Search domains",
		"Every domain of the selected sites' environments; filter a column (the funnel in its header) to find a domain or a site. Active: Kinsta's is_active, \"not sent\" when the API leaves it out.").
		WithTarget(tableQuery("A",
			active+
				` * on(`+domainKey+`) group_left(primary) `+pick(domainKey, "primary", info)+
				envNames+siteNames+inSelectedSites)).
		WithTransformation(organize(
			[]string{"Time", "__name__", "job", "instance"},
			map[string]string{"domain": "Domain", "display_name": "Site", "environment_display_name": "Environment",
				"primary": "Primary", "Value": "Active", "site_id": "Site ID", "environment_id": "Environment ID", "company": "Company"},
			[]string{"domain", "display_name", "environment_display_name", "primary", "Value", "site_id", "environment_id", "company"})).
		Mappings(domainActiveMappings()).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Domain")}).
		NoValue("No domains").
		Height(10).
		Span(16)

	for _, p := range []interface {
		Span(uint32) *stat.PanelBuilder
	}{total, inactive, primary} {
		p.Span(8)
	}
	return []cog.Builder[dashboard.Panel]{total, inactive, primary, perSite, list}
}

func domainActiveMappings() []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"-1": {Text: cog.ToPtr("not sent"), Index: cog.ToPtr(int32(0))},
			"0":  {Text: cog.ToPtr("inactive"), Color: cog.ToPtr("orange"), Index: cog.ToPtr(int32(1))},
			"1":  {Text: cog.ToPtr("active"), Color: cog.ToPtr("green"), Index: cog.ToPtr(int32(2))},
		},
	}}}
}

func reachabilityPanels(ids *idSeq) []cog.Builder[dashboard.Panel] {
	success := `probe_success{` + probeSel + `}`
	certLeft := `(` + probeWorstNamed(`probe_ssl_earliest_cert_expiry{`+probeSel+`}`) + ` - time()) / 86400`

	probed := statPanel(ids, "Domains probed",
		"Domains of the selected sites that blackbox_exporter probes (job $probe_job, targets from the exporter's /sd/domains).",
		countOrZero(probeWorst(success)+inSelectedSites), "none", thresholds("blue"))
	down := statPanel(ids, "Domains down",
		"Probed domains whose last probe got no 2xx over verified HTTPS (probe_success 0).",
		countOrZero(probeWorst(success)+` == 0`+inSelectedSites), "none", thresholds("green", step{1, "red"}))
	down.Links(runbooks("KinstaSiteDomainDown"))
	expiring := statPanel(ids, "Certificates expiring within 14 days",
		"Probed domains whose certificate chain expires within 14 days (probe_ssl_earliest_cert_expiry).",
		countOrZero(`(`+certLeft+` < 14)`+inSelectedSites), "none", thresholds("green", step{1, "orange"}))
	expiring.Links(runbooks("KinstaSiteCertificateExpiring"))

	upDown := tablePanel(ids, "Up or down per site",
		"The last probe of each probed domain, down first: up is a 2xx over verified HTTPS after redirects (module https_2xx).").
		WithTarget(tableQuery("A", probeWorstNamed(success)+inSelectedSites)).
		WithTransformation(organize(
			[]string{"Time", "__name__", "job", "instance"},
			map[string]string{"display_name": "Site", "domain": "Domain", "Value": "State", "site_id": "Site ID",
				"environment_id": "Environment ID", "company": "Company"},
			[]string{"display_name", "domain", "Value", "site_id", "environment_id", "company"})).
		Mappings(boolMappings("down", "up")).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("State")}).
		NoValue("No probes: see Probing the sites' domains in the README").
		Links(runbooks("KinstaSiteDomainDown")).
		Height(10).
		Span(12)

	tlsLeft := bargauge.NewPanelBuilder().
		Id(ids.next()).
		Title("Days of TLS left").
		Description("The 15 probed domains whose certificate chain expires first. Kinsta renews its certificates about 30 days ahead.").
		Datasource(datasourceRef()).
		WithTarget(instantQuery("A", `bottomk(15, `+certLeft+inSelectedSites+`)`, "{{display_name}}: {{domain}}")).
		Unit("d").
		Decimals(1).
		Min(0).
		Thresholds(thresholds("red", step{14, "orange"}, step{30, "green"})).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		Orientation(common.VizOrientationHorizontal).
		ShowUnfilled(true).
		ReduceOptions(lastValue()).
		Links(runbooks("KinstaSiteCertificateExpiring")).
		Height(10).
		Span(12)

	latency := timeseriesPanel(ids, "Probe latency",
		"The 10 slowest probed domains: the whole probe (DNS, connection, TLS, redirects and the answer), averaged per domain. KinstaSiteDomainSlow compares it with the domain's own median of the last day.",
		"s", 24,
		rangeQuery("A", `topk(10, (max by (`+domainKey+`, display_name) (avg_over_time(probe_duration_seconds{`+probeSel+`}[$__rate_interval])))`+
			inSelectedSites+`)`, "{{display_name}}: {{domain}}"))
	latency.Links(runbooks("KinstaSiteDomainSlow"))

	for _, p := range []interface {
		Span(uint32) *stat.PanelBuilder
	}{probed, down, expiring} {
		p.Span(8)
	}
	return []cog.Builder[dashboard.Panel]{probed, down, expiring, upDown, tlsLeft, latency}
}
