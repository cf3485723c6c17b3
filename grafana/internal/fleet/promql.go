package fleet

// The PromQL building blocks of the dashboard.
//
// Every selector carries the $job and $instance matchers (targets) and, for
// per-company metrics, $company (sel). Two exporters may export the same
// company: an HA pair, or the old and new replica during a resharding. They
// export every site and environment once each, under different instance
// labels (and, under Kubernetes, different pod labels). So the fleet rows
// never count or join raw series: they first reduce a metric to one series
// per Kinsta object with dedup or pick, which keep only the object's key and
// the labels they are asked for. The Exporter health row is per target on
// purpose.

// targets is the $job and $instance matcher of every selector.
const targets = `job=~"$job",instance=~"$instance"`

// sel is the matcher of every per-company selector.
const sel = targets + `,company=~"$company"`

// The labels that identify one Kinsta object, whichever exporter exported it.
const (
	companyKey = "company"
	siteKey    = "company, site_id"
	envKey     = "company, site_id, environment_id"
)

// dedup reduces a vector to one series per distinct value of keys (the
// object's key, plus whatever else must stay apart such as a backup type),
// with the largest value: two replicas export the same value, and where one
// lags (a counter since its start, a newer backup) the larger is the truth.
func dedup(keys, expr string) string {
	return "max by (" + keys + ") (" + expr + ")"
}

// pick reduces an info-style vector to exactly one series per key, labelled
// with the key and attrs only. Where two replicas disagree on an attribute
// for a while (one has refreshed since a site's status changed, the other
// not yet), it keeps one of them, so that the object still counts once and
// a group_left join on it can never find two matches.
func pick(key, attrs, expr string) string {
	return "max by (" + key + ", " + attrs + ") (topk by (" + key + ") (1, " + expr + "))"
}

// selectedSites is every (company, site_id) that passes the $label filter.
//
// The label variable's "All" value is the regex ".*", which also matches an
// absent label. kinsta_site_info has no "label" label, so with label=All its
// matcher keeps every site (labelled or not), and with one or more labels
// picked it matches nothing, leaving only the sites that carry one of the
// picked labels in kinsta_site_label_info. Fleet queries intersect with this
// set (`and` never needs unique matches, so replicas do no harm here).
const selectedSites = `(kinsta_site_info{` + sel + `,label=~"$label"} or on(` + siteKey + `) kinsta_site_label_info{` + sel + `,label=~"$label"})`

// inSelectedSites restricts a per-site vector to the sites picked by $label.
const inSelectedSites = ` and on(` + siteKey + `) ` + selectedSites

// countOrZero counts the series of expr, 0 when there are none.
func countOrZero(expr string) string { return "count(" + expr + ") or vector(0)" }

// sumOrZero sums expr, 0 when it is empty.
func sumOrZero(expr string) string { return "sum(" + expr + ") or vector(0)" }

// selectedSitesOf is the selected sites' objects of metric, one per key.
func selectedSitesOf(key, metric string) string {
	return dedup(key, metric) + inSelectedSites
}

// siteNames adds display_name to a per-site vector.
var siteNames = ` * on(` + siteKey + `) group_left(display_name) ` +
	pick(siteKey, "display_name", `kinsta_site_info{`+sel+`}`)

// liveEnvs is the live environment of each site, with its display name.
var liveEnvs = pick(envKey, "environment_display_name", `kinsta_environment_info{`+sel+`,environment_name="live"}`)

// envNames adds environment_display_name to a per-environment vector.
var envNames = ` * on(` + envKey + `) group_left(environment_display_name) ` +
	pick(envKey, "environment_display_name", `kinsta_environment_info{`+sel+`}`)
