package collector

import (
	"slices"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// The domain series come from the same GET /sites answer as the rest of the
// sites part: no extra API call.
var (
	envDomainInfo = newGaugeFamily("kinsta_environment_domain_info",
		`A domain of an environment (domains[] and primaryDomain of GET /sites?include_environments=true, cached); always 1. Names are lowercased, wildcards ("*.example.com") left out, each name once; primary="true" for the environment's primary domain. At most --limit.domains-per-environment (100) per environment.`,
		"company", "site_id", "environment_id", "domain", "primary")
	envDomainActive = newGaugeFamily("kinsta_environment_domain_active",
		"1 if Kinsta reports the environment's domain as active (is_active), 0 if inactive (cached). Absent for domains whose is_active the API did not send: not every answer carries it, and a missing field is not an inactive domain.",
		"company", "site_id", "environment_id", "domain")
)

// EnvironmentDomains are the domains of one environment, with what a probe
// target needs to name and route it: part of a company's last good GET
// /sites, built at refresh time and immutable.
type EnvironmentDomains struct {
	SiteID, SiteName, SiteDisplayName, SiteStatus          string
	EnvironmentID, EnvironmentName, EnvironmentDisplayName string
	Domains                                                []Domain // the primary first, then in API order
}

// Domain is one exportable domain name (kinsta.Environment.ExportableDomains).
type Domain struct {
	Name    string // lowercased host name
	Primary bool
	// Active is Kinsta's is_active; ActiveSent is false when the API did not
	// send it, and then Active is false but means nothing.
	Active, ActiveSent bool
}

// Inactive reports whether Kinsta said the domain is not active. A domain
// whose is_active was not sent counts as active.
func (d Domain) Inactive() bool { return d.ActiveSent && !d.Active }

// domainRows builds the domain series and the /sd/domains inventory of one
// refresh next to the previous refresh's (see rowsBuilder): what repeats
// the previous inventory is not stored again; what is new goes into storage
// sized once from the API's lists, so that a refresh of 10,000 sites then
// allocates per environment only what ExportableDomains returns.
type domainRows struct {
	info, active *rowsBuilder
	prev         []EnvironmentDomains // immutable: served
	same         int                  // leading entries equal to prev's, while envs is unused
	moved        bool
	envs         []EnvironmentDomains
	backing      []Domain // every new entry's Domains, sliced
	hintEnvs     int
	hintDomains  int
}

// newDomainRows sizes the domain families' builders, and what a new
// inventory would take, from the API's lists.
func newDomainRows(rows *siteRowsBuilders, prev *siteBuildPrev, sites []kinsta.Site, maxPerEnvironment int) *domainRows {
	n, envs := 0, 0
	for _, site := range sites {
		for _, env := range site.Environments {
			if len(env.Domains) > 0 {
				n += min(len(env.Domains), maxPerEnvironment)
				envs++
			}
		}
	}
	rows[rowEnvDomainInfo] = newRowsBuilder(prev.rows(rowEnvDomainInfo), len(envDomainInfo.labels), n)
	rows[rowEnvDomainActive] = newRowsBuilder(prev.rows(rowEnvDomainActive), len(envDomainActive.labels), n)
	return &domainRows{info: &rows[rowEnvDomainInfo], active: &rows[rowEnvDomainActive],
		prev: prev.domains, hintEnvs: envs, hintDomains: n}
}

// domainsOf returns the exportable domains of env (kinsta's
// ExportableDomains), the primary first, then the others in API order, at
// most l.DomainsPerEnvironment (Kinsta lists every custom domain and its
// wildcard, and a hostile or broken answer must not multiply the series),
// and how many were left out; an error past HardLimitFactor times as many.
func (l Limits) domainsOf(env *kinsta.Environment) (ds []kinsta.Domain, dropped int, err error) {
	exportable := env.ExportableDomains()
	if n := len(exportable); overHard(n, l.DomainsPerEnvironment) {
		return nil, 0, overHardLimit("/sites", "domains in environment "+quoteShort(env.ID), n, l.DomainsPerEnvironment)
	}
	slices.SortStableFunc(exportable, func(a, b kinsta.Domain) int { return boolOrder(b.IsPrimary) - boolOrder(a.IsPrimary) })
	if len(exportable) > l.DomainsPerEnvironment {
		dropped = len(exportable) - l.DomainsPerEnvironment
		exportable = exportable[:l.DomainsPerEnvironment]
	}
	return exportable, dropped, nil
}

// add adds the series and the inventory entry of one environment: its
// domains as domainsOf returned them.
func (b *domainRows) add(company string, site *kinsta.Site, status string, env *kinsta.Environment, exportable []kinsta.Domain) {
	if len(exportable) == 0 {
		return
	}
	for _, d := range exportable {
		dom := domainOf(d)
		b.info.add(1, company, site.ID, env.ID, dom.Name, boolLabel(dom.Primary))
		if dom.ActiveSent {
			b.active.add(boolValue(dom.Active), company, site.ID, env.ID, dom.Name)
		}
	}
	e := EnvironmentDomains{
		SiteID: site.ID, SiteName: site.Name, SiteDisplayName: site.DisplayName, SiteStatus: status,
		EnvironmentID: env.ID, EnvironmentName: env.Name, EnvironmentDisplayName: env.DisplayName,
	}
	if !b.moved {
		if b.same < len(b.prev) && b.prev[b.same].sameAs(&e, exportable) {
			b.same++
			return
		}
		b.moved = true
		b.envs = append(make([]EnvironmentDomains, 0, max(b.hintEnvs, b.same+1)), b.prev[:b.same]...)
		b.backing = make([]Domain, 0, b.hintDomains)
	}
	start := len(b.backing)
	for _, d := range exportable {
		b.backing = append(b.backing, domainOf(d))
	}
	e.Domains = b.backing[start:len(b.backing):len(b.backing)]
	b.envs = append(b.envs, e)
}

// inventory is the /sd/domains inventory built: the previous one (or the
// first of it) when every entry repeated it.
func (b *domainRows) inventory() []EnvironmentDomains {
	if b.moved {
		return b.envs
	}
	return b.prev[:b.same:b.same]
}

func domainOf(d kinsta.Domain) Domain {
	return Domain{Name: d.Name, Primary: d.IsPrimary, Active: d.IsActive != nil && *d.IsActive, ActiveSent: d.IsActive != nil}
}

// sameAs reports whether e is o with exportable as its Domains.
func (e *EnvironmentDomains) sameAs(o *EnvironmentDomains, exportable []kinsta.Domain) bool {
	if e.SiteID != o.SiteID || e.SiteName != o.SiteName || e.SiteDisplayName != o.SiteDisplayName || e.SiteStatus != o.SiteStatus ||
		e.EnvironmentID != o.EnvironmentID || e.EnvironmentName != o.EnvironmentName || e.EnvironmentDisplayName != o.EnvironmentDisplayName ||
		len(e.Domains) != len(exportable) {
		return false
	}
	for i, d := range exportable {
		if e.Domains[i] != domainOf(d) {
			return false
		}
	}
	return true
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Domains returns the company's id and the domains of its environments
// (those that have any) as the last good refresh of its sites found them,
// in API order; nil before the first. It makes no API call, and it keeps
// serving the last good list after the site series expire
// (--kinsta.max-staleness): the domains still answer while the API does
// not, and a probe of them is worth more than no probe. The slice is shared:
// callers must not change it.
func (e *Exporter) Domains() (company string, envs []EnvironmentDomains) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.company, e.domains
}
