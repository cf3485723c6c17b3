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
}

// KeyInfo is what GET /validate says about the API key in use.
type KeyInfo struct {
	Name      string
	Status    string // active, revoked, expired (others pass through)
	CompanyID string
	ExpiresAt time.Time // zero when the key never expires
}
