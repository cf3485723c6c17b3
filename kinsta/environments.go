package kinsta

import (
	"context"
	"errors"
	"net/url"
)

// envCall builds a call under /sites/environments/{env_id}: the template is
// the endpoint, the escaped id goes into the path.
func envCall(envID, suffix string, query url.Values) call {
	return call{
		endpoint: "/sites/environments/{env_id}" + suffix,
		path:     "/sites/environments/" + url.PathEscape(envID) + suffix,
		query:    query,
	}
}

// Backups returns the backups of an environment (manual, scheduled and
// system-generated): GET /sites/environments/{env_id}/backups.
func (c *Client) Backups(ctx context.Context, envID string) ([]Backup, error) {
	if envID == "" {
		return nil, errors.New("kinsta: Backups: empty environment id")
	}
	var out []Backup
	err := c.get(ctx, envCall(envID, "/backups", nil), func(body []byte) error {
		var err error
		out, err = decodeBackups(body)
		return err
	})
	return out, err
}

type wireBackups struct {
	Environment *struct {
		Backups *[]struct {
			ID        flexString `json:"id"` // a number
			Name      flexString `json:"name"`
			Type      flexString `json:"type"`
			CreatedAt flexTime   `json:"created_at"` // epoch ms
		} `json:"backups"`
	} `json:"environment"`
}

func decodeBackups(body []byte) ([]Backup, error) {
	var w *wireBackups
	if err := decodeJSON(body, &w); err != nil {
		return nil, err
	}
	switch {
	case w == nil || w.Environment == nil:
		return nil, missing("environment")
	case w.Environment.Backups == nil:
		return nil, missing("environment.backups")
	}
	wire := *w.Environment.Backups
	out := make([]Backup, len(wire))
	for i, b := range wire {
		out[i] = Backup{ID: string(b.ID), Name: string(b.Name), Type: string(b.Type), CreatedAt: b.CreatedAt.time()}
	}
	return out, nil
}

// EnvironmentPlugins returns the WordPress plugins of an environment:
// GET /sites/environments/{env_id}/plugins. Kinsta may cache this data for up
// to 12 hours.
func (c *Client) EnvironmentPlugins(ctx context.Context, envID string) ([]EnvironmentExtension, error) {
	return c.environmentExtensions(ctx, envID, "/plugins", "wp_plugins")
}

// EnvironmentThemes returns the WordPress themes of an environment:
// GET /sites/environments/{env_id}/themes.
func (c *Client) EnvironmentThemes(ctx context.Context, envID string) ([]EnvironmentExtension, error) {
	return c.environmentExtensions(ctx, envID, "/themes", "wp_themes")
}

func (c *Client) environmentExtensions(ctx context.Context, envID, suffix, listKey string) ([]EnvironmentExtension, error) {
	if envID == "" {
		return nil, errors.New("kinsta: " + suffix[1:] + ": empty environment id")
	}
	var out []EnvironmentExtension
	err := c.get(ctx, envCall(envID, suffix, nil), func(body []byte) error {
		var err error
		out, err = decodeEnvironmentExtensions(body, listKey)
		return err
	})
	return out, err
}

type wireEnvExtensions struct {
	Environment *struct {
		ContainerInfo *struct {
			Plugins *wireExtensionList `json:"wp_plugins"`
			Themes  *wireExtensionList `json:"wp_themes"`
		} `json:"container_info"`
	} `json:"environment"`
}

type wireExtensionList struct {
	Data *[]struct {
		Name          flexString `json:"name"`
		Title         flexString `json:"title"`
		Status        flexString `json:"status"`
		Version       flexString `json:"version"`
		Update        flexString `json:"update"`
		UpdateVersion flexString `json:"update_version"`
		UpdateStatus  flexString `json:"update_status"`
	} `json:"data"`
}

// decodeEnvironmentExtensions reads environment.container_info.<listKey>.data,
// listKey being wp_plugins or wp_themes.
func decodeEnvironmentExtensions(body []byte, listKey string) ([]EnvironmentExtension, error) {
	var w *wireEnvExtensions
	if err := decodeJSON(body, &w); err != nil {
		return nil, err
	}
	switch {
	case w == nil || w.Environment == nil:
		return nil, missing("environment")
	case w.Environment.ContainerInfo == nil:
		return nil, missing("environment.container_info")
	}
	list := w.Environment.ContainerInfo.Plugins
	if listKey == "wp_themes" {
		list = w.Environment.ContainerInfo.Themes
	}
	if list == nil || list.Data == nil {
		return nil, missing("environment.container_info." + listKey + ".data")
	}
	out := make([]EnvironmentExtension, len(*list.Data))
	for i, x := range *list.Data {
		out[i] = EnvironmentExtension{
			Name:          string(x.Name),
			Title:         string(x.Title),
			Status:        string(x.Status),
			Version:       string(x.Version),
			Update:        string(x.Update),
			UpdateVersion: string(x.UpdateVersion),
			UpdateStatus:  string(x.UpdateStatus),
		}
	}
	return out, nil
}

// DiskUsage returns the latest disk usage of an environment:
// GET /sites/environments/{env_id}/analytics/diskspace?company_id=..&time_span=7_days&time_zone=00:00.
// Kinsta answers it with HTTP 202.
//
// The value is the latest dated point of the daily series (values are
// strings). Without a usable point it is data[0].total with a zero At. When
// Kinsta sends an empty data list, or a series with neither points nor total,
// it has nothing for this environment: the result is a zero DiskUsage and a
// nil error, so a new environment is not reported as a failing scrape. A
// missing analytics.analytics_response.data is a KindBadResponse.
func (c *Client) DiskUsage(ctx context.Context, companyID, envID string) (DiskUsage, error) {
	if envID == "" {
		return DiskUsage{}, errors.New("kinsta: DiskUsage: empty environment id")
	}
	q := url.Values{"company_id": {companyID}, "time_span": {"7_days"}, "time_zone": {"00:00"}}
	cl := envCall(envID, "/analytics/diskspace", q)
	if err := c.checkCompany(cl.endpoint, companyID); err != nil {
		return DiskUsage{}, err
	}
	var out DiskUsage
	err := c.get(ctx, cl, func(body []byte) error {
		var err error
		out, err = decodeDiskUsage(body)
		return err
	})
	return out, err
}

type wireAnalytics struct {
	Analytics *struct {
		Response *struct {
			Data *[]struct {
				Total   optFloat `json:"total"`
				Dataset []struct {
					Key   flexTime `json:"key"`
					Value optFloat `json:"value"`
				} `json:"dataset"`
			} `json:"data"`
		} `json:"analytics_response"`
	} `json:"analytics"`
}

func decodeDiskUsage(body []byte) (DiskUsage, error) {
	var w *wireAnalytics
	if err := decodeJSON(body, &w); err != nil {
		return DiskUsage{}, err
	}
	if w == nil || w.Analytics == nil || w.Analytics.Response == nil || w.Analytics.Response.Data == nil {
		return DiskUsage{}, missing("analytics.analytics_response.data")
	}
	data := *w.Analytics.Response.Data
	if len(data) == 0 {
		return DiskUsage{}, nil
	}
	series := data[0]
	// The latest point by its date, not by position; points without a date
	// rank before dated ones, later positions win ties.
	best := -1
	for i, p := range series.Dataset {
		if !p.Value.ok {
			continue
		}
		if best < 0 || !p.Key.time().Before(series.Dataset[best].Key.time()) {
			best = i
		}
	}
	if best >= 0 {
		p := series.Dataset[best]
		return DiskUsage{Bytes: p.Value.v, At: p.Key.time()}, nil
	}
	if series.Total.ok {
		return DiskUsage{Bytes: series.Total.v}, nil
	}
	return DiskUsage{}, nil
}
