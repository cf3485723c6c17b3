// Package collector turns Kinsta API data into Prometheus metrics. It knows
// nothing of HTTP serving: main.go decides when to refresh (with the scrape's
// deadline) and how to expose the registry.
package collector

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// liveStatus is the only site status the Kinsta API documents.
const liveStatus = "live"

// unknownStatus stands in for a missing status, so that the state set still
// says "not live" instead of exporting an empty label value.
const unknownStatus = "unknown"

var (
	upDesc = prometheus.NewDesc("kinsta_up",
		"1 if the last refresh of the company's sites from the Kinsta API (GET /sites) succeeded, 0 otherwise. Refreshed at most once per --kinsta.cache-ttl.",
		[]string{"company"}, nil)
	siteInfoDesc = prometheus.NewDesc("kinsta_site_info",
		"Information about a Kinsta WordPress site (GET /sites, cached); always 1.",
		[]string{"company", "site_id", "name", "display_name"}, nil)
	siteStatusDesc = prometheus.NewDesc("kinsta_site_status",
		`Site status as a state set (GET /sites, cached): 1 for the site's current status. A status="live" series exists for every site and is 0 while the site is not live.`,
		[]string{"company", "site_id", "status"}, nil)
	siteLabelDesc = prometheus.NewDesc("kinsta_site_label_info",
		"A label assigned to a Kinsta site in MyKinsta (GET /sites, cached); always 1.",
		[]string{"company", "site_id", "label_id", "label"}, nil)
	envInfoDesc = prometheus.NewDesc("kinsta_environment_info",
		"Information about an environment (live, staging, premium staging) of a Kinsta site (GET /sites?include_environments=true, cached); always 1.",
		[]string{"company", "site_id", "environment_id", "environment_name", "environment_display_name", "primary_domain", "php_version", "wordpress_version"}, nil)
	envBlockedDesc = prometheus.NewDesc("kinsta_environment_blocked",
		"1 while Kinsta has the environment locked by another process (is_blocked), 0 otherwise (cached).",
		[]string{"company", "site_id", "environment_id"}, nil)
	envPremiumDesc = prometheus.NewDesc("kinsta_environment_premium",
		"1 for a premium environment (is_premium), 0 otherwise (cached).",
		[]string{"company", "site_id", "environment_id"}, nil)
)

// siteDescs are the descriptors of the series built from a sites snapshot.
var siteDescs = []*prometheus.Desc{siteInfoDesc, siteStatusDesc, siteLabelDesc, envInfoDesc, envBlockedDesc, envPremiumDesc}

// buildSiteMetrics renders a company's sites as const metrics, once per
// refresh, so that a scrape only copies them out. The API may repeat a site, an
// environment or a label; duplicates are dropped here because a duplicate
// series would fail the whole scrape.
func buildSiteMetrics(company string, sites []kinsta.Site) []prometheus.Metric {
	metrics := make([]prometheus.Metric, 0, len(sites)*8)
	add := func(desc *prometheus.Desc, value float64, labels ...string) {
		for i, v := range labels {
			labels[i] = strings.ToValidUTF8(v, "\uFFFD")
		}
		metrics = append(metrics, prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, value, labels...))
	}
	seenSites := make(map[string]bool, len(sites))
	seenEnvs := make(map[string]bool, len(sites)*2)
	for _, site := range sites {
		if site.ID == "" || seenSites[site.ID] {
			continue
		}
		seenSites[site.ID] = true
		status := site.Status
		if status == "" {
			status = unknownStatus
		}
		add(siteInfoDesc, 1, company, site.ID, site.Name, site.DisplayName)
		add(siteStatusDesc, boolValue(status == liveStatus), company, site.ID, liveStatus)
		if status != liveStatus {
			add(siteStatusDesc, 1, company, site.ID, status)
		}
		seenLabels := make(map[kinsta.Label]bool, len(site.Labels))
		for _, label := range site.Labels {
			if seenLabels[label] {
				continue
			}
			seenLabels[label] = true
			add(siteLabelDesc, 1, company, site.ID, label.ID, label.Name)
		}
		for _, env := range site.Environments {
			if env.ID == "" || seenEnvs[env.ID] {
				continue
			}
			seenEnvs[env.ID] = true
			add(envInfoDesc, 1, company, site.ID, env.ID, env.Name, env.DisplayName, env.PrimaryDomain, env.PHPVersion, env.WordPressVersion)
			add(envBlockedDesc, boolValue(env.IsBlocked), company, site.ID, env.ID)
			add(envPremiumDesc, boolValue(env.IsPremium), company, site.ID, env.ID)
		}
	}
	return metrics
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
