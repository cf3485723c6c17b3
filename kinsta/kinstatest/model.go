package kinstatest

import (
	"maps"
	"slices"
	"time"
)

// Company is the simulated data of one Kinsta company. The fields are exported so
// tests can build their own; New takes a deep copy, so a Company can be reused or
// changed after New without affecting the Fake (use SetSiteStatus to change a
// served status).
type Company struct {
	ID           string
	KeyName      string    // GET /validate "name"; "" answers "kinsta-exporter"
	KeyExpiresAt time.Time // GET /validate "expires_at"; zero = never (null)

	Sites      []Site
	Activities []Activity // GET /company/{id}/activity-logs, any order (served newest first)

	// InventoryUpdatedAt is "last_updated_at" of /company/{id}/wp-plugins and
	// /wp-themes; zero = null.
	InventoryUpdatedAt time.Time

	APIKeys       []APIKey // GET /company/{id}/api-keys (apikeys.go)
	APIKeysDenied bool     // that route answers 404, as for a developer-role key
}

// Site is one WordPress site. Visits, BandwidthBytes and CDNBandwidthBytes are the
// this-month usage numbers of /sites/{site_id}/usage/*/this-month.
type Site struct {
	ID, Name, DisplayName, Status string
	Labels                        []Label
	Environments                  []Environment

	Visits, BandwidthBytes, CDNBandwidthBytes float64
}

// Label is a site label. A label with NumericID > 0 is sent in the "site_labels"
// (snake case) list with a numeric id, the variant one client observed; others go in
// "siteLabels" with a string id, as the spec documents. A site can have both lists.
type Label struct {
	ID        string
	NumericID int
	Name      string
}

// Environment is one environment of a site. Name "live" gets live-only wire details
// (edge cache ids, string ssh_port); every other name gets the staging ones (nulls,
// numeric ssh_port).
type Environment struct {
	ID, Name, DisplayName string
	IsBlocked, IsPremium  bool
	PrimaryDomain         string // "" -> "primaryDomain": null and "domains": []
	PHPVersion            string // "8.3" -> "php_engine_version": "php8.3"; "" -> null
	WordPressVersion      string // "" -> "wordpress_version": null
	Backups               []Backup
	Plugins, Themes       []Extension
	DiskBytes             float64 // analytics/diskspace level
	// ResponseCodes are the responses of the last 24 hours per HTTP status
	// code, served by analytics/response-codes (analytics.go); a code with 0
	// is left out, as Kinsta lists only codes that occurred.
	ResponseCodes map[int]int64
	Domains       []Domain    // sent in "domains" after PrimaryDomain's entry (domains.go)
	Wire          WireVariant // the spellings of this environment's data (domains.go)
}

// Backup is one backup of an environment. Type is "manual", "scheduled" or
// "system" in the demo data (only "manual" is documented); Note "" -> null.
type Backup struct {
	ID               int64
	Name, Type, Note string
	CreatedAt        time.Time
}

// Extension is a WordPress plugin or theme installed in one environment.
// Update is "available" when an update exists; "" is sent as "none" per
// environment and as null in the company-wide lists. UpdateVersion "" -> null.
// Vulnerable marks the installed version as vulnerable (company-wide lists only).
type Extension struct {
	Name, Title, Status, Version, Update, UpdateVersion string
	Vulnerable                                          bool
}

// Activity is one entry of the company activity log.
type Activity struct {
	ID          int64
	SiteID      string // "" -> null
	Type        string // e.g. "createBackup", "pushEnvironment"
	Description string // sent as the single element of "descriptions"
	CreatedAt   time.Time
	IsDone      bool
	HasFailed   bool
	HasWarning  bool
	PublicError string // "" -> null
	IPAddress   string // "" -> null
	InitiatedBy string // full name; "" -> no "initiated_by" object (API-key initiated)
}

// clone returns a deep copy of c.
func (c *Company) clone() *Company {
	out := *c
	out.Activities = slices.Clone(c.Activities)
	out.APIKeys = slices.Clone(c.APIKeys)
	out.Sites = make([]Site, len(c.Sites))
	for i, s := range c.Sites {
		s.Labels = slices.Clone(s.Labels)
		envs := make([]Environment, len(s.Environments))
		for j, e := range s.Environments {
			e.Backups = slices.Clone(e.Backups)
			e.Plugins = slices.Clone(e.Plugins)
			e.Themes = slices.Clone(e.Themes)
			e.Domains = slices.Clone(e.Domains)
			e.ResponseCodes = maps.Clone(e.ResponseCodes)
			envs[j] = e
		}
		s.Environments = envs
		out.Sites[i] = s
	}
	return &out
}
