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
	"unicode/utf8"

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

// siteBuild is what one GET /sites answer becomes: the site series, the
// sites they export (for the background collectors and the change log), the
// domains of their environments (for /sd/domains) and what the limits left
// out.
type siteBuild struct {
	rows    *siteRows
	domains []EnvironmentDomains
	// kept are the exported sites as the API sent them (ids uncut: they go
	// into API requests), each id once.
	kept []kinsta.Site
	// summaries are kept's ids, names and statuses as exported (cut), for
	// the change log.
	summaries []siteSummary
	hits      limitHits
}

type siteSummary struct{ id, name, status string }

// buildSiteRows builds a company's site series, once per refresh, so that a
// scrape only renders them, and the domains of its environments for
// /sd/domains. The API may repeat a site, an environment or a label;
// duplicates are dropped here (the first is kept) because a duplicate
// series would fail the whole scrape. Label values are cut to
// l.LabelValueLength first, so that values equal once cut are duplicates
// too. Labels past l.LabelsPerSite, domains past l.DomainsPerEnvironment and
// whole sites past l.SeriesPerCompany or l.BytesPerCompany are left out;
// past HardLimitFactor times any of them, the answer is refused.
func buildSiteRows(company string, sites []kinsta.Site, l Limits, prev siteBuildPrev) (*siteBuild, error) {
	l = l.withDefaults()
	b := &siteBuild{}
	envs := 0
	for _, site := range sites {
		envs += len(site.Environments)
	}
	// Sized for the common case, a company within the limit.
	n, e := min(len(sites), l.SeriesPerCompany), min(envs, l.SeriesPerCompany)
	var s siteRowsBuilders
	for i, hint := range [...]int{rowSiteInfo: n, rowSiteStatus: n, rowSiteLabel: 0, rowEnvInfo: e, rowEnvBlocked: e, rowEnvPremium: e} {
		s[i] = newRowsBuilder(prev.rows(i), len(siteFamilies[i].labels), hint)
	}
	c := cutter{max: l.LabelValueLength, hits: &b.hits}
	company = c.cut(company)
	seenSites := make(map[string]bool, len(sites))
	seenEnvs := make(map[string]bool, envs)
	kept := budget{maxSeries: l.SeriesPerCompany, maxBytes: l.BytesPerCompany}
	b.kept, b.summaries = make([]kinsta.Site, 0, n), make([]siteSummary, 0, n)
	domains := newDomainRows(&s, &prev, sites, l.DomainsPerEnvironment)
	var envScratch []kinsta.Environment
	var domainScratch [][]kinsta.Domain
	var all budget // every site's, the left out ones included
	for _, site := range sites {
		if overHard(len(site.Labels), l.LabelsPerSite) { // before any work on them
			return nil, overHardLimit("/sites", "labels on site "+quoteShort(site.ID), len(site.Labels), l.LabelsPerSite)
		}
		cs := c.site(site)
		if cs.ID == "" || seenSites[cs.ID] {
			continue
		}
		seenSites[cs.ID] = true
		labels := distinctLabels(cs.Labels)
		if len(labels) > l.LabelsPerSite {
			b.hits[limitLabelsPerSite] += len(labels) - l.LabelsPerSite
			labels = labels[:l.LabelsPerSite]
		}
		siteEnvs := envScratch[:0] // reused: only this iteration reads it
		for _, env := range cs.Environments {
			if env.ID != "" && !seenEnvs[env.ID] {
				seenEnvs[env.ID] = true
				siteEnvs = append(siteEnvs, env)
			}
		}
		envScratch = siteEnvs
		envDomains := domainScratch[:0] // per environment of siteEnvs
		for i := range siteEnvs {
			ds, dropped, err := l.domainsOf(&siteEnvs[i])
			if err != nil {
				return nil, err
			}
			b.hits[limitDomainsPerEnvironment] += dropped
			envDomains = append(envDomains, ds)
		}
		domainScratch = envDomains
		status := cs.Status
		if status == "" {
			status = unknownStatus
		}
		series, bytes := siteSize(company, cs, status, labels, siteEnvs, envDomains)
		all.take(series, bytes)
		if overHard(all.series, l.SeriesPerCompany) {
			return nil, overHardLimit("/sites", "site series", all.series, l.SeriesPerCompany)
		}
		if overHard(all.bytes, l.BytesPerCompany) {
			return nil, overHardLimit("/sites", "bytes of site series", all.bytes, l.BytesPerCompany)
		}
		if ok, over := kept.fits(series, bytes, limitSeriesPerCompany, limitBytesPerCompany); !ok {
			b.hits[over] += series
			continue
		}
		kept.take(series, bytes)
		b.kept = append(b.kept, site)
		b.summaries = append(b.summaries, siteSummary{cs.ID, cs.Name, cs.Status})
		s[rowSiteInfo].add(1, company, cs.ID, cs.Name, cs.DisplayName)
		s[rowSiteStatus].add(boolValue(status == liveStatus), company, cs.ID, liveStatus)
		if status != liveStatus {
			s[rowSiteStatus].add(1, company, cs.ID, status)
		}
		for _, label := range labels {
			s[rowSiteLabel].add(1, company, cs.ID, label.ID, label.Name)
		}
		for i, env := range siteEnvs {
			s[rowEnvInfo].add(1, company, cs.ID, env.ID, env.Name, env.DisplayName, env.PrimaryDomain, env.PHPVersion, env.WordPressVersion)
			s[rowEnvBlocked].add(boolValue(env.IsBlocked), company, cs.ID, env.ID)
			s[rowEnvPremium].add(boolValue(env.IsPremium), company, cs.ID, env.ID)
			domains.add(company, &cs, status, &env, envDomains[i])
		}
	}
	b.rows = &siteRows{}
	for i := range s {
		b.rows[i] = s[i].rows()
	}
	b.domains = domains.inventory()
	return b, nil
}

// siteRowsBuilders build the families of a siteRows.
type siteRowsBuilders [len(siteRows{})]rowsBuilder

// siteBuildPrev is what the previous refresh built and is being served,
// which buildSiteRows reuses where the new answer repeats it; zero for none.
type siteBuildPrev struct {
	snapshot *siteRows
	domains  []EnvironmentDomains
}

func (p *siteBuildPrev) rows(i int) *gaugeRows {
	if p.snapshot == nil {
		return nil
	}
	return &p.snapshot[i]
}

// siteSize is the number of series a site has and about the bytes of
// their text exposition.
func siteSize(company string, site kinsta.Site, status string, labels []kinsta.Label, envs []kinsta.Environment, envDomains [][]kinsta.Domain) (series, bytes int) {
	series, bytes = 2, siteInfo.rowBytes(company, site.ID, site.Name, site.DisplayName)+siteStatus.rowBytes(company, site.ID, liveStatus)
	if status != liveStatus {
		series, bytes = series+1, bytes+siteStatus.rowBytes(company, site.ID, status)
	}
	for _, label := range labels {
		series, bytes = series+1, bytes+siteLabel.rowBytes(company, site.ID, label.ID, label.Name)
	}
	for i, env := range envs {
		series += 3
		bytes += envInfo.rowBytes(company, site.ID, env.ID, env.Name, env.DisplayName, env.PrimaryDomain, env.PHPVersion, env.WordPressVersion) +
			envBlocked.rowBytes(company, site.ID, env.ID) + envPremium.rowBytes(company, site.ID, env.ID)
		for _, d := range envDomains[i] {
			series, bytes = series+1, bytes+envDomainInfo.rowBytes(company, site.ID, env.ID, d.Name, "false")
			if d.IsActive != nil {
				series, bytes = series+1, bytes+envDomainActive.rowBytes(company, site.ID, env.ID, d.Name)
			}
		}
	}
	return series, bytes
}

// distinctLabels drops repeated labels, keeping the first; labels itself
// when none repeats (the common case, without allocating).
func distinctLabels(labels []kinsta.Label) []kinsta.Label {
	const linear = 16 // up to this many, a search beats a map
	if len(labels) > linear {
		seen := make(map[kinsta.Label]bool, len(labels))
		out := make([]kinsta.Label, 0, len(labels))
		for _, label := range labels {
			if !seen[label] {
				seen[label] = true
				out = append(out, label)
			}
		}
		return out
	}
	repeats := false
	for i := 1; i < len(labels) && !repeats; i++ {
		repeats = slices.Contains(labels[:i], labels[i])
	}
	if !repeats {
		return labels
	}
	out := labels[:0:0]
	for _, label := range labels {
		if !slices.Contains(out, label) {
			out = append(out, label)
		}
	}
	return out
}

// cutter cuts label values to max bytes, counting the cuts.
type cutter struct {
	max  int
	hits *limitHits
}

func (c cutter) cut(v string) string {
	v, cut := cutLabel(v, c.max)
	if cut {
		c.hits[limitLabelValueLength]++
	}
	return v
}

// site returns site with every text that becomes a label value cut: a
// copy when something is cut, site itself otherwise.
func (c cutter) site(site kinsta.Site) kinsta.Site {
	if !c.siteNeedsCut(site) {
		return site
	}
	site.ID, site.Name, site.DisplayName, site.Status = c.cut(site.ID), c.cut(site.Name), c.cut(site.DisplayName), c.cut(site.Status)
	labels := make([]kinsta.Label, len(site.Labels))
	for i, l := range site.Labels {
		labels[i] = kinsta.Label{ID: c.cut(l.ID), Name: c.cut(l.Name)}
	}
	site.Labels = labels
	envs := make([]kinsta.Environment, len(site.Environments))
	for i, env := range site.Environments {
		env.ID, env.Name, env.DisplayName = c.cut(env.ID), c.cut(env.Name), c.cut(env.DisplayName)
		env.PrimaryDomain, env.PHPVersion, env.WordPressVersion = c.cut(env.PrimaryDomain), c.cut(env.PHPVersion), c.cut(env.WordPressVersion)
		envs[i] = env
	}
	site.Environments = envs
	return site
}

func (c cutter) siteNeedsCut(site kinsta.Site) bool {
	if c.needsCut(site.ID, site.Name, site.DisplayName, site.Status) {
		return true
	}
	for _, l := range site.Labels {
		if c.needsCut(l.ID, l.Name) {
			return true
		}
	}
	for _, env := range site.Environments {
		if c.needsCut(env.ID, env.Name, env.DisplayName, env.PrimaryDomain, env.PHPVersion, env.WordPressVersion) {
			return true
		}
	}
	return false
}

func (c cutter) needsCut(values ...string) bool {
	for _, v := range values {
		if len(v) > c.max || !utf8.ValidString(v) {
			return true
		}
	}
	return false
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
