// Package collector turns Kinsta API data into Prometheus metrics: one
// company's Exporter keeps immutable snapshots of GET /sites and of the
// switchable background collectors, and serves them as a Source (source.go)
// that a renderer caches part by part. It knows nothing of HTTP: the server
// package decides when to refresh (with the scrape's deadline) and renders.
// To add a collector: a file like backups.go, one line in registry.go, and
// its methods in the API interface (api.go).
package collector

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// liveStatus is the only site status the Kinsta API documents.
const liveStatus = "live"

// unknownStatus stands in for a missing status, so that the state set still
// says "not live" instead of exporting an empty label value.
const unknownStatus = "unknown"

var upDesc = prometheus.NewDesc("kinsta_up",
	"1 if the last refresh of the company's sites from the Kinsta API (GET /sites) succeeded, 0 otherwise. Refreshed at most once per --kinsta.cache-ttl.",
	[]string{"company"}, nil)

// The site series: tens of thousands at 10,000 sites, so they are kept as
// label values (siteRows), not as const metrics, and rendered without
// client_golang.
var (
	siteInfo = newGaugeFamily("kinsta_site_info",
		"Information about a Kinsta WordPress site (GET /sites, cached); always 1.",
		"company", "site_id", "name", "display_name")
	siteStatus = newGaugeFamily("kinsta_site_status",
		`Site status as a state set (GET /sites, cached): 1 for the site's current status. A status="live" series exists for every site and is 0 while the site is not live.`,
		"company", "site_id", "status")
	siteLabel = newGaugeFamily("kinsta_site_label_info",
		"A label assigned to a Kinsta site in MyKinsta (GET /sites, cached); always 1.",
		"company", "site_id", "label_id", "label")
	envInfo = newGaugeFamily("kinsta_environment_info",
		"Information about an environment (live, staging, premium staging) of a Kinsta site (GET /sites?include_environments=true, cached); always 1.",
		"company", "site_id", "environment_id", "environment_name", "environment_display_name", "primary_domain", "php_version", "wordpress_version")
	envBlocked = newGaugeFamily("kinsta_environment_blocked",
		"1 while Kinsta has the environment locked by another process (is_blocked), 0 otherwise (cached).",
		"company", "site_id", "environment_id")
	envPremium = newGaugeFamily("kinsta_environment_premium",
		"1 for a premium environment (is_premium), 0 otherwise (cached).",
		"company", "site_id", "environment_id")

	// siteFamilies are the families of a sites snapshot, in siteRows order.
	siteFamilies = []*gaugeFamily{siteInfo, siteStatus, siteLabel, envInfo, envBlocked, envPremium, envDomainInfo, envDomainActive}
)

// gaugeFamily is a family of gauges: the name, help and label names that
// rendering it needs.
type gaugeFamily struct {
	name   string
	help   string
	labels []string
}

func newGaugeFamily(name, help string, labels ...string) *gaugeFamily {
	return &gaugeFamily{name: name, help: help, labels: labels}
}

// gaugeRows are the series of one gauge family: per series its label values
// (len(family.labels) of them, flat) and its value.
type gaugeRows struct {
	labels []string
	values []float64
}

func (r *gaugeRows) equal(o *gaugeRows) bool {
	return slices.Equal(r.labels, o.labels) && slices.Equal(r.values, o.values)
}

func (r *gaugeRows) add(value float64, labels ...string) {
	for _, v := range labels {
		r.labels = append(r.labels, strings.ToValidUTF8(v, "\uFFFD"))
	}
	r.values = append(r.values, value)
}

// siteRows is a company's sites snapshot: the rows of each of siteFamilies,
// indexed by the row constants. It is immutable once built. Half a kilobyte
// per series less than const metrics, and rendered directly.
type siteRows [8]gaugeRows

// Indexes of siteRows, in siteFamilies order.
const (
	rowSiteInfo = iota
	rowSiteStatus
	rowSiteLabel
	rowEnvInfo
	rowEnvBlocked
	rowEnvPremium
	rowEnvDomainInfo
	rowEnvDomainActive
)

// series is the number of series.
func (s *siteRows) series() int {
	if s == nil {
		return 0
	}
	n := 0
	for i := range s {
		n += len(s[i].values)
	}
	return n
}

// equal reports whether o holds the same rows.
func (s *siteRows) equal(o *siteRows) bool {
	if s == nil || o == nil {
		return s == o
	}
	for i := range s {
		if !s[i].equal(&o[i]) {
			return false
		}
	}
	return true
}

// families hands each non-empty family to yield; false when yield asked to
// stop.
func (s *siteRows) families(yield GaugeYield) bool {
	if s == nil {
		return true
	}
	for i, f := range siteFamilies {
		if len(s[i].values) > 0 && !yield(f.name, f.help, f.labels, s[i].labels, s[i].values) {
			return false
		}
	}
	return true
}

// buildSiteRows builds a company's site series, once per refresh, so that a
// scrape only renders them, and the domains of its environments for
// /sd/domains. The API may repeat a site, an environment or a label;
// duplicates are dropped here because a duplicate series would fail the
// whole scrape.
func buildSiteRows(company string, sites []kinsta.Site) (*siteRows, []EnvironmentDomains) {
	s := &siteRows{}
	s[rowSiteInfo] = gaugeRows{make([]string, 0, len(sites)*4), make([]float64, 0, len(sites))}
	s[rowSiteStatus] = gaugeRows{make([]string, 0, len(sites)*3), make([]float64, 0, len(sites))}
	envs := 0
	for _, site := range sites {
		envs += len(site.Environments)
	}
	s[rowEnvInfo] = gaugeRows{make([]string, 0, envs*8), make([]float64, 0, envs)}
	s[rowEnvBlocked] = gaugeRows{make([]string, 0, envs*3), make([]float64, 0, envs)}
	s[rowEnvPremium] = gaugeRows{make([]string, 0, envs*3), make([]float64, 0, envs)}
	seenSites := make(map[string]bool, len(sites))
	seenEnvs := make(map[string]bool, envs)
	domains := newDomainRows(s, sites)
	for _, site := range sites {
		if site.ID == "" || seenSites[site.ID] {
			continue
		}
		seenSites[site.ID] = true
		status := site.Status
		if status == "" {
			status = unknownStatus
		}
		s[rowSiteInfo].add(1, company, site.ID, site.Name, site.DisplayName)
		s[rowSiteStatus].add(boolValue(status == liveStatus), company, site.ID, liveStatus)
		if status != liveStatus {
			s[rowSiteStatus].add(1, company, site.ID, status)
		}
		for i, label := range site.Labels {
			if slices.Contains(site.Labels[:i], label) {
				continue
			}
			s[rowSiteLabel].add(1, company, site.ID, label.ID, label.Name)
		}
		for _, env := range site.Environments {
			if env.ID == "" || seenEnvs[env.ID] {
				continue
			}
			seenEnvs[env.ID] = true
			s[rowEnvInfo].add(1, company, site.ID, env.ID, env.Name, env.DisplayName, env.PrimaryDomain, env.PHPVersion, env.WordPressVersion)
			s[rowEnvBlocked].add(boolValue(env.IsBlocked), company, site.ID, env.ID)
			s[rowEnvPremium].add(boolValue(env.IsPremium), company, site.ID, env.ID)
			domains.add(company, &site, status, &env)
		}
	}
	return s, domains.envs
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
