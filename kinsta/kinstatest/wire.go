package kinstatest

import (
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"time"
)

// Wire shapes of the Kinsta API v2 as ../shared/kinsta-api.md documents them,
// quirks included. Field order follows the spec examples. These are this package's
// own structs on purpose: the fake must not share decoding code with the client it
// tests.

// Extra fields the spec does not document, sent so that clients prove they ignore
// unknown fields: site "company_id", environment "created_at", backups
// "environment.id", activity log item "category".

type wireValidate struct {
	Name      string  `json:"name"`
	ExpiresAt *string `json:"expires_at"` // epoch ms as a string, or null
	Company   string  `json:"company"`
	Status    string  `json:"status"`
}

type wireLabelString struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type wireLabelNumber struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type wireSite struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	DisplayName  string            `json:"display_name"`
	Status       string            `json:"status"`
	CompanyID    string            `json:"company_id"` // extra (documented on /sites/{id} only)
	SiteLabels   []wireLabelString `json:"siteLabels,omitempty"`
	SiteLabelsSn []wireLabelNumber `json:"site_labels,omitempty"`
	Environments *[]wireEnv        `json:"environments,omitempty"` // nil: not requested
}

type wireDomain struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	SiteID   *string `json:"site_id,omitempty"`   // nil: not sent (WireDomainsRecorded)
	IsActive *bool   `json:"is_active,omitempty"` // nil: not sent
	Type     string  `json:"type"`
}

type wireEnv struct {
	ID                    string       `json:"id"`
	Name                  string       `json:"name"`
	DisplayName           string       `json:"display_name"`
	IsBlocked             bool         `json:"is_blocked"`
	IDEdgeCache           *string      `json:"id_edge_cache"`
	CDNCacheID            *string      `json:"cdn_cache_id"`
	IsOptOutPHPUpdate     *bool        `json:"is_opt_out_from_automatic_php_update"`
	WebRoot               string       `json:"web_root"`
	ImageOptimizationType *string      `json:"image_optimization_type"`
	IsAdditionalSFTP      bool         `json:"is_additional_sftp_accounts_enabled"`
	IsPremium             bool         `json:"is_premium"`
	WordPressVersion      *string      `json:"wordpress_version"`
	Domains               []wireDomain `json:"domains"`
	PrimaryDomain         rawJSON      `json:"primaryDomain,omitempty"` // a wireDomain, its name or null (domains.go)
	PrimaryDomainSnake    rawJSON      `json:"primary_domain,omitempty"`
	SSHConnection         struct {
		SSHPort any `json:"ssh_port"` // string on live, number elsewhere
		SSHIP   struct {
			ExternalIP string `json:"external_ip"`
		} `json:"ssh_ip"`
	} `json:"ssh_connection"`
	ContainerInfo struct {
		ID               string  `json:"id"`
		PHPEngineVersion *string `json:"php_engine_version"`
	} `json:"container_info"`
	CreatedAt int64 `json:"created_at"` // extra
}

type wireBackup struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	Note      *string `json:"note"`
	Type      string  `json:"type"`
	CreatedAt int64   `json:"created_at"`
}

type wireBackups struct {
	Environment struct {
		ID          string       `json:"id"` // extra
		DisplayName string       `json:"display_name"`
		Backups     []wireBackup `json:"backups"`
	} `json:"environment"`
}

type wireExtension struct {
	Name          string  `json:"name"`
	Title         string  `json:"title"`
	Status        string  `json:"status"`
	Version       string  `json:"version"`
	Update        string  `json:"update"`
	UpdateVersion *string `json:"update_version"`
	UpdateStatus  *string `json:"update_status"`
}

type wireEnvExtensions struct {
	Environment struct {
		ID            string `json:"id"`
		ContainerInfo struct {
			ID      string             `json:"id"`
			Plugins *wireExtensionList `json:"wp_plugins,omitempty"`
			Themes  *wireExtensionList `json:"wp_themes,omitempty"`
		} `json:"container_info"`
	} `json:"environment"`
}

type wireExtensionList struct {
	Data []wireExtension `json:"data"`
}

type wireCompanyPluginEnv struct {
	ID                string  `json:"id"`
	SiteDisplayName   string  `json:"site_display_name"`
	DisplayName       string  `json:"display_name"`
	Status            string  `json:"plugin_status"`
	Version           string  `json:"plugin_version"`
	Update            *string `json:"plugin_update"`
	UpdateVersion     *string `json:"plugin_update_version"`
	VersionVulnerable bool    `json:"is_plugin_version_vulnerable"`
	UpdateVulnerable  bool    `json:"is_plugin_update_version_vulnerable"`
	UpdateStatus      *string `json:"plugin_update_status"`
	AutoUpdateType    *string `json:"auto_update_type"`
}

// wireCompanyThemeEnv has the fields of wireCompanyPluginEnv (so one converts to
// the other) under the theme_ names.
type wireCompanyThemeEnv struct {
	ID                string  `json:"id"`
	SiteDisplayName   string  `json:"site_display_name"`
	DisplayName       string  `json:"display_name"`
	Status            string  `json:"theme_status"`
	Version           string  `json:"theme_version"`
	Update            *string `json:"theme_update"`
	UpdateVersion     *string `json:"theme_update_version"`
	VersionVulnerable bool    `json:"is_theme_version_vulnerable"`
	UpdateVulnerable  bool    `json:"is_theme_update_version_vulnerable"`
	UpdateStatus      *string `json:"theme_update_status"`
	AutoUpdateType    *string `json:"auto_update_type"`
}

type wireCompanyExtension struct {
	Name                      string  `json:"name"`
	Title                     string  `json:"title"`
	Description               *string `json:"description"`
	LatestVersion             *string `json:"latest_version"`
	IsLatestVersionVulnerable bool    `json:"is_latest_version_vulnerable"`
	EnvironmentCount          int     `json:"environment_count"`
	UpdateCount               int     `json:"update_count"`
	Environments              any     `json:"environments"` // []wireCompanyPluginEnv or []wireCompanyThemeEnv
}

type wireCompanyExtensions struct {
	Total         int                    `json:"total"`
	LastUpdatedAt *string                `json:"last_updated_at"`
	Items         []wireCompanyExtension `json:"items"`
}

type wireAnalytics struct {
	Analytics struct {
		AnalyticsResponse struct {
			Key  string       `json:"key"`
			Data []wireSeries `json:"data"`
		} `json:"analytics_response"`
	} `json:"analytics"`
}

type wireSeries struct {
	Name    string          `json:"name"`
	Total   float64         `json:"total"`
	Dataset []wireDatapoint `json:"dataset"`
}

type wireDatapoint struct {
	Key   string `json:"key"`
	Value string `json:"value"` // a number in a string
}

type wireActivity struct {
	ID           int64            `json:"id"`
	SiteID       *string          `json:"site_id"`
	CreatedAt    int64            `json:"created_at"`
	IsDone       bool             `json:"is_done"`
	HasFailed    bool             `json:"has_failed"`
	HasWarning   bool             `json:"has_warning"`
	Type         string           `json:"type"`
	Category     string           `json:"category"` // extra
	PublicError  *string          `json:"public_error"`
	IPAddress    *string          `json:"ip_address"`
	InitiatedBy  *wireInitiatedBy `json:"initiated_by,omitempty"`
	Descriptions []string         `json:"descriptions"`
}

type wireInitiatedBy struct {
	ID        string `json:"id"`
	Role      string `json:"role"`
	FullName  string `json:"full_name"`
	FirstName string `json:"first_name"`
}

type wireActivityLogs struct {
	Company struct {
		ActivityLogs struct {
			Items []wireActivity `json:"items"`
			Total int            `json:"total"`
		} `json:"activity_logs"`
	} `json:"company"`
}

// wireError is the Kinsta error body. Data is omitted when nil, "null" or an
// object otherwise; the fixtures show all three.
type wireError struct {
	Message string          `json:"message"`
	Status  int             `json:"status"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func strPtr(s string) *string { return &s }

// nullable is nil (JSON null) for "".
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// uuidFor returns a stable UUID-shaped id derived from parts.
func uuidFor(parts ...string) string {
	h := fnv.New128a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var b [16]byte
	h.Sum(b[:0])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

func envWire(site *Site, e *Environment, envIndex int) wireEnv {
	live := e.Name == "live"
	w := wireEnv{
		ID:               e.ID,
		Name:             e.Name,
		DisplayName:      e.DisplayName,
		IsBlocked:        e.IsBlocked,
		IsPremium:        e.IsPremium,
		WordPressVersion: nullable(e.WordPressVersion),
		WebRoot:          "/www/" + site.Name + "_" + strconv.Itoa(100+envIndex) + "/" + e.Name,
		// Deterministic, so encoded bodies stay stable between requests.
		CreatedAt: 1_600_000_000_000 + int64(envIndex)*86_400_000,
	}
	domainsWire(site, e, &w)
	if live {
		w.WebRoot = "/release_v1" // the spec's example form; observed values are full paths
		w.IDEdgeCache = strPtr(uuidFor(e.ID, "edge"))
		w.CDNCacheID = strPtr(uuidFor(e.ID, "cdn"))
		w.IsOptOutPHPUpdate = new(bool)
		w.ImageOptimizationType = strPtr("lossy")
		w.SSHConnection.SSHPort = strconv.Itoa(12000 + envIndex)
	} else {
		w.SSHConnection.SSHPort = 36000 + envIndex
	}
	w.SSHConnection.SSHIP.ExternalIP = "203.0.113." + strconv.Itoa(10+envIndex%200)
	w.ContainerInfo.ID = uuidFor(e.ID, "container")
	if e.PHPVersion != "" {
		w.ContainerInfo.PHPEngineVersion = strPtr("php" + e.PHPVersion)
	}
	return w
}

// siteFragment encodes one element of company.sites.
func siteFragment(companyID string, s *Site, withEnvironments bool) []byte {
	w := wireSite{ID: s.ID, Name: s.Name, DisplayName: s.DisplayName, Status: s.Status, CompanyID: companyID}
	for _, l := range s.Labels {
		if l.NumericID > 0 {
			w.SiteLabelsSn = append(w.SiteLabelsSn, wireLabelNumber{ID: l.NumericID, Name: l.Name})
		} else {
			w.SiteLabels = append(w.SiteLabels, wireLabelString{ID: l.ID, Name: l.Name})
		}
	}
	if withEnvironments {
		envs := make([]wireEnv, len(s.Environments))
		for i := range s.Environments {
			envs[i] = envWire(s, &s.Environments[i], i)
		}
		w.Environments = &envs
	}
	return marshal(w)
}

func extensionWire(x Extension) wireExtension {
	update := x.Update
	if update == "" {
		update = "none"
	}
	return wireExtension{Name: x.Name, Title: x.Title, Status: x.Status, Version: x.Version,
		Update: update, UpdateVersion: nullable(x.UpdateVersion)}
}
