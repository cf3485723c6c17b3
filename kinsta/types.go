package kinsta

import "time"

// Site is one WordPress site of a company, as GET /sites?include_environments=true
// returns it. Optional or null fields in the API become zero values here.
type Site struct {
	ID           string
	Name         string // slug
	DisplayName  string
	Status       string // "live" is the only documented value; others pass through
	Labels       []Label
	Environments []Environment
}

// SitesResult is GET /sites decoded (Client.SitesWithDropped): the sites,
// and the malformed elements left out of them.
type SitesResult struct {
	Sites   []Site
	Dropped Dropped
	// BodyBytes is the size of the answer's body: what the sites were
	// decoded from, for a caller that bounds what it builds from them
	// relative to it.
	BodyBytes int64
}

// Dropped counts the malformed elements of an answer that were left out,
// each costing only itself instead of the whole answer: an element that is
// not an object (null included) where the list holds objects, and a list
// that is neither an array nor null (counted as one element).
type Dropped struct {
	Sites        int // elements of company.sites; their environments and labels are not counted
	Environments int // elements of a site's environments
	Labels       int // elements of a site's siteLabels or site_labels
}

// Total is the number of elements dropped.
func (d Dropped) Total() int { return d.Sites + d.Environments + d.Labels }

// Label is a site label. The API sends its id as a string or a number; it is
// always a string here.
type Label struct {
	ID   string
	Name string
}

// Environment is one environment (live, staging, premium staging, ...) of a site.
type Environment struct {
	ID               string
	Name             string
	DisplayName      string
	IsBlocked        bool
	IsPremium        bool
	PrimaryDomain    string // name of primaryDomain; "" when absent or null
	PHPVersion       string // "8.3" from container_info.php_engine_version "php8.3"; "" when absent
	WordPressVersion string // "" when null or absent

	// Domains are domains[] and primaryDomain; see Domain and ExportableDomains.
	Domains []Domain
}

// KeyInfo is what GET /validate says about the API key in use.
type KeyInfo struct {
	Name      string
	Status    string // active, revoked, expired (others pass through)
	CompanyID string
	ExpiresAt time.Time // zero when the key never expires
}

// Backup is one backup of an environment (GET /sites/environments/{env_id}/backups).
type Backup struct {
	ID        string // a JSON number in the API; its decimal text here
	Name      string
	Type      string    // "manual" is the only documented value; others pass through
	CreatedAt time.Time // zero when absent
}

// EnvironmentExtension is one WordPress plugin or theme installed in an
// environment (GET /sites/environments/{env_id}/plugins or /themes). Nulls are "".
type EnvironmentExtension struct {
	Name          string // slug
	Title         string
	Status        string // "active", "inactive", "must-use", ... (not enumerated by Kinsta)
	Version       string
	Update        string // "available" when an update exists; other values pass through
	UpdateVersion string
	UpdateStatus  string // "updated" or "" (null)
}

// CompanyExtensions is the company-wide plugin or theme inventory
// (GET /company/{company_id}/wp-plugins or /wp-themes), all pages joined.
type CompanyExtensions struct {
	LastUpdatedAt time.Time // zero when absent or null
	Items         []CompanyExtension
}

// CompanyExtension is one plugin or theme across the company's environments.
type CompanyExtension struct {
	Name                    string
	Title                   string
	LatestVersion           string
	LatestVersionVulnerable bool
	EnvironmentCount        int
	UpdateCount             int
	Installs                []ExtensionInstall
}

// ExtensionInstall is one environment that has a CompanyExtension installed. The
// API prefixes these fields with plugin_ or theme_; both are accepted, and so
// are the unprefixed names (status, version, update, update_version,
// is_version_vulnerable).
type ExtensionInstall struct {
	EnvironmentID   string
	SiteDisplayName string
	DisplayName     string // environment display name ("Live", ...)
	Status          string
	Version         string
	Update          string
	UpdateVersion   string
	Vulnerable      bool // the installed version is vulnerable
}

// UsageKind selects a this-month usage counter of a site.
type UsageKind string

// The usage counters of GET /sites/{site_id}/usage/{kind}/this-month.
const (
	UsageVisits       UsageKind = "visits"
	UsageBandwidth    UsageKind = "bandwidth"
	UsageCDNBandwidth UsageKind = "cdn-bandwidth"
)

// DiskUsage is the latest disk usage point of an environment.
//
// At is the day of the data point; it is zero when Kinsta sent only a total
// without a dated point. Bytes == 0 with a zero At means Kinsta has no disk
// usage data for the environment (for example a new one).
type DiskUsage struct {
	Bytes float64
	At    time.Time
}

// Activity is one entry of the company activity log.
type Activity struct {
	ID        string // a JSON number in the API; its decimal text here
	SiteID    string // "" when null (company-level actions)
	Type      string // "deleteSite", ... (not enumerated)
	CreatedAt time.Time
	IsDone    bool
	HasFailed bool
}

// ActivityPage is one page of the activity log.
type ActivityPage struct {
	Items []Activity
	Total int // total entries on the server; 0 when the API omits it
}
