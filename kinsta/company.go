package kinsta

import (
	"context"
	"io"
	"net/url"
	"strconv"
	"time"
)

// companyPageLimit is the page size asked for the company plugin/theme
// inventory; a server may send fewer per page (no source documents a
// maximum). maxCompanyPages stops a server that never ends (100 pages of 100
// are 10,000 plugins).
const (
	companyPageLimit = 100
	maxCompanyPages  = 100
)

// companyOrder is the order asked for the inventory, as one client sends it
// (JSON in the query): by name, ascending, so that pages follow each other
// even where the server's default order is not stable.
const companyOrder = `{"field":"name","order":"ascend"}`

func companyCall(companyID, suffix string, query url.Values) call {
	return call{
		endpoint: "/company/{company_id}" + suffix,
		path:     "/company/" + url.PathEscape(companyID) + suffix,
		query:    query,
	}
}

// CompanyPlugins returns the company-wide plugin inventory with update and
// vulnerability flags: GET /company/{company_id}/wp-plugins, all pages.
func (c *Client) CompanyPlugins(ctx context.Context, companyID string) (CompanyExtensions, error) {
	return c.companyExtensions(ctx, companyID, "/wp-plugins", "plugins")
}

// CompanyThemes is CompanyPlugins for themes: GET /company/{company_id}/wp-themes.
func (c *Client) CompanyThemes(ctx context.Context, companyID string) (CompanyExtensions, error) {
	return c.companyExtensions(ctx, companyID, "/wp-themes", "themes")
}

// companyExtensions pages with offset, limit and order_by as query
// parameters (sources disagree between query and a GET body; query is what
// an HTTP client, proxy and cache handle reliably). It stops only when it
// has been sent `total` items, at an empty page, or after maxCompanyPages
// (an error): a page shorter than the limit asked is not the end, as a
// server may cap the page size below it. An item already held (by name) is
// not added again, in case the list shifted between pages; a page with
// nothing new is an error (a server that ignores offset). Any failed page
// fails the call: a partial inventory would look like uninstalled plugins.
func (c *Client) companyExtensions(ctx context.Context, companyID, suffix, wrapper string) (CompanyExtensions, error) {
	if err := c.checkCompany("/company/{company_id}"+suffix, companyID); err != nil {
		return CompanyExtensions{}, err
	}
	var out CompanyExtensions
	held := map[string]bool{}
	sent := 0 // items the server has sent: the next offset
	for page := 0; ; page++ {
		q := url.Values{"offset": {strconv.Itoa(sent)}, "limit": {strconv.Itoa(companyPageLimit)}, "order_by": {companyOrder}}
		cl := companyCall(companyID, suffix, q)
		var p extensionPage
		err := c.getStream(ctx, cl, func(body io.Reader) (errBody *apiErrorBody, err error) {
			p, errBody, err = streamCompanyExtensions(body, wrapper)
			return errBody, err
		})
		if err != nil {
			return CompanyExtensions{}, err
		}
		if page == 0 {
			out.LastUpdatedAt = p.lastUpdatedAt
		}
		sent += len(p.items)
		added := out.addNew(p.items, held)
		switch {
		case len(p.items) == 0, p.total >= 0 && sent >= p.total:
			return out, nil
		case added == 0:
			return CompanyExtensions{}, &Error{Kind: KindBadResponse, Endpoint: cl.endpoint,
				Message: "page " + strconv.Itoa(page+1) + " held only items of earlier pages (offset ignored?)"}
		case page+1 >= maxCompanyPages:
			return CompanyExtensions{}, &Error{Kind: KindBadResponse, Endpoint: cl.endpoint,
				Message: "pagination did not end after " + strconv.Itoa(maxCompanyPages) + " pages"}
		}
	}
}

// addNew appends the items whose names are not held yet and returns how
// many it added.
func (x *CompanyExtensions) addNew(items []CompanyExtension, held map[string]bool) int {
	n := 0
	for _, it := range items {
		if !held[it.Name] {
			held[it.Name] = true
			x.Items = append(x.Items, it)
			n++
		}
	}
	return n
}

type extensionPage struct {
	items         []CompanyExtension
	total         int // -1 when absent
	lastUpdatedAt time.Time
}

// wireCompanyExtension is one item of a company inventory page, read
// member by member (companystream.go).
type wireCompanyExtension struct {
	Name             flexString
	Title            flexString
	LatestVersion    flexString
	LatestVulnerable flexBool
	EnvironmentCount optFloat
	UpdateCount      optFloat
	Environments     []ExtensionInstall // decoded one at a time
}

// wireInstall has the three field spellings: plugin_* on wp-plugins,
// theme_* on wp-themes, and unprefixed (one client's reading of the newer
// spec).
type wireInstall struct {
	Status              flexString `json:"status"`
	Version             flexString `json:"version"`
	Update              flexString `json:"update"`
	UpdateVersion       flexString `json:"update_version"`
	Vulnerable          flexBool   `json:"is_version_vulnerable"`
	ID                  flexString `json:"id"`
	EnvironmentID       flexString `json:"environment_id"`
	SiteDisplayName     flexString `json:"site_display_name"`
	DisplayName         flexString `json:"display_name"`
	PluginStatus        flexString `json:"plugin_status"`
	PluginVersion       flexString `json:"plugin_version"`
	PluginUpdate        flexString `json:"plugin_update"`
	PluginUpdateVersion flexString `json:"plugin_update_version"`
	PluginVulnerable    flexBool   `json:"is_plugin_version_vulnerable"`
	ThemeStatus         flexString `json:"theme_status"`
	ThemeVersion        flexString `json:"theme_version"`
	ThemeUpdate         flexString `json:"theme_update"`
	ThemeUpdateVersion  flexString `json:"theme_update_version"`
	ThemeVulnerable     flexBool   `json:"is_theme_version_vulnerable"`
}

func (w *wireCompanyExtension) extension() CompanyExtension {
	x := CompanyExtension{
		Name:                    string(w.Name),
		Title:                   string(w.Title),
		LatestVersion:           string(w.LatestVersion),
		LatestVersionVulnerable: bool(w.LatestVulnerable),
		EnvironmentCount:        w.EnvironmentCount.int(),
		UpdateCount:             w.UpdateCount.int(),
	}
	if len(w.Environments) > 0 {
		x.Installs = w.Environments
	}
	return x
}

func (w *wireInstall) install() ExtensionInstall {
	return ExtensionInstall{
		EnvironmentID:   firstNonEmpty(string(w.ID), string(w.EnvironmentID)),
		SiteDisplayName: string(w.SiteDisplayName),
		DisplayName:     string(w.DisplayName),
		Status:          firstNonEmpty(string(w.PluginStatus), string(w.ThemeStatus), string(w.Status)),
		Version:         firstNonEmpty(string(w.PluginVersion), string(w.ThemeVersion), string(w.Version)),
		Update:          firstNonEmpty(string(w.PluginUpdate), string(w.ThemeUpdate), string(w.Update)),
		UpdateVersion:   firstNonEmpty(string(w.PluginUpdateVersion), string(w.ThemeUpdateVersion), string(w.UpdateVersion)),
		Vulnerable:      bool(w.PluginVulnerable) || bool(w.ThemeVulnerable) || bool(w.Vulnerable),
	}
}

// ActivityLogs returns one page of the company activity log:
// GET /company/{company_id}/activity-logs?offset=&limit=. limit <= 0 leaves
// the API default (10).
func (c *Client) ActivityLogs(ctx context.Context, companyID string, offset, limit int) (ActivityPage, error) {
	if err := c.checkCompany("/company/{company_id}/activity-logs", companyID); err != nil {
		return ActivityPage{}, err
	}
	q := url.Values{"offset": {strconv.Itoa(max(offset, 0))}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out ActivityPage
	err := c.get(ctx, companyCall(companyID, "/activity-logs", q), func(body []byte) error {
		var err error
		out, err = decodeActivityLogs(body)
		return err
	})
	return out, err
}

type wireActivityLogs struct {
	Company *struct {
		ActivityLogs *struct {
			Total optFloat `json:"total"`
			Items *[]struct {
				ID        flexString `json:"id"` // a number
				SiteID    flexString `json:"site_id"`
				Type      flexString `json:"type"`
				CreatedAt flexTime   `json:"created_at"` // epoch ms
				IsDone    flexBool   `json:"is_done"`
				HasFailed flexBool   `json:"has_failed"`
			} `json:"items"`
		} `json:"activity_logs"`
	} `json:"company"`
}

func decodeActivityLogs(body []byte) (ActivityPage, error) {
	var w *wireActivityLogs
	if err := decodeJSON(body, &w); err != nil {
		return ActivityPage{}, err
	}
	if w == nil || w.Company == nil || w.Company.ActivityLogs == nil || w.Company.ActivityLogs.Items == nil {
		return ActivityPage{}, missing("company.activity_logs.items")
	}
	logs := w.Company.ActivityLogs
	out := ActivityPage{Total: logs.Total.int(), Items: make([]Activity, len(*logs.Items))}
	for i, a := range *logs.Items {
		out.Items[i] = Activity{
			ID:        string(a.ID),
			SiteID:    string(a.SiteID),
			Type:      string(a.Type),
			CreatedAt: a.CreatedAt.time(),
			IsDone:    bool(a.IsDone),
			HasFailed: bool(a.HasFailed),
		}
	}
	return out, nil
}
