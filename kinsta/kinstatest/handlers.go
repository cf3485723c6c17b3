package kinstatest

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The handlers read only data that is immutable after New (everything but
// Site.Status, which only the /sites encoding reads, under f.mu, and the
// activity log, which the demo churn appends to), so they take no lock.

func (f *Fake) validate(r *http.Request, _ string) reply {
	v := wireValidate{Name: "kinsta-exporter", Status: "active"}
	if len(f.companies) > 0 {
		c := f.companies[0]
		v.Company = c.ID
		if c.KeyName != "" {
			v.Name = c.KeyName
		}
		if !c.KeyExpiresAt.IsZero() {
			v.ExpiresAt = strPtr(strconv.FormatInt(millis(c.KeyExpiresAt), 10))
			if !f.now().Before(c.KeyExpiresAt) {
				v.Status = "expired"
			}
		}
	}
	return jsonReply(http.StatusOK, v)
}

func (f *Fake) sites(r *http.Request, _ string) reply {
	q := r.URL.Query()
	id := q.Get("company")
	if id == "" {
		return statusReply(http.StatusBadRequest)
	}
	withEnvs := false
	if s := q.Get("include_environments"); s != "" {
		var err error
		if withEnvs, err = strconv.ParseBool(s); err != nil {
			return statusReply(http.StatusBadRequest)
		}
	}
	cs := f.byID[id]
	if cs == nil {
		return errorReply(http.StatusNotFound, msg404Sites, dataNull)
	}
	return reply{status: http.StatusOK, contentType: contentTypeJSON, body: f.sitesBody(cs, withEnvs)}
}

func (f *Fake) backups(r *http.Request, envID string) reply {
	ref, ok := f.envsByID[envID]
	if !ok {
		return nestedNotFound("Environment not found")
	}
	e := ref.env()
	shift := f.timeShift()
	var w wireBackups
	w.Environment.ID = e.ID
	w.Environment.DisplayName = e.DisplayName
	w.Environment.Backups = make([]wireBackup, len(e.Backups))
	for i, b := range e.Backups {
		w.Environment.Backups[i] = wireBackup{ID: b.ID, Name: b.Name, Note: nullable(b.Note),
			Type: b.Type, CreatedAt: millis(b.CreatedAt.Add(shift))}
	}
	return jsonReply(http.StatusOK, w)
}

func (f *Fake) envExtensions(envID string, themes bool) reply {
	ref, ok := f.envsByID[envID]
	if !ok {
		return nestedNotFound("Environment not found")
	}
	e := ref.env()
	list := e.Plugins
	if themes {
		list = e.Themes
	}
	data := &wireExtensionList{Data: make([]wireExtension, len(list))}
	for i, x := range list {
		data.Data[i] = extensionWire(x)
	}
	var w wireEnvExtensions
	w.Environment.ID = e.ID
	w.Environment.ContainerInfo.ID = uuidFor(e.ID, "container")
	if themes {
		w.Environment.ContainerInfo.Themes = data
	} else {
		w.Environment.ContainerInfo.Plugins = data
	}
	return jsonReply(http.StatusOK, w)
}

// paging reads offset and limit from the query or, as one client sends them, from
// a JSON body on the GET; the query wins. Defaults 0 and 10.
func paging(r *http.Request) (offset, limit int, ok bool) {
	offset, limit = 0, 10
	if r.Body != nil && r.ContentLength != 0 {
		var body struct {
			Offset *int `json:"offset"`
			Limit  *int `json:"limit"`
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return 0, 0, false
		}
		if len(strings.TrimSpace(string(b))) > 0 {
			if json.Unmarshal(b, &body) != nil {
				return 0, 0, false
			}
			if body.Offset != nil {
				offset = *body.Offset
			}
			if body.Limit != nil {
				limit = *body.Limit
			}
		}
	}
	q := r.URL.Query()
	for name, dst := range map[string]*int{"offset": &offset, "limit": &limit} {
		if s := q.Get(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return 0, 0, false
			}
			*dst = n
		}
	}
	return offset, limit, offset >= 0 && limit >= 1
}

// page returns the [offset, offset+limit) window of n items.
func page(n, offset, limit int) (lo, hi int) {
	lo = min(offset, n)
	return lo, lo + min(limit, n-lo)
}

// companyExtensions serves /company/{id}/wp-plugins and /wp-themes: every
// plugin (theme) of every environment, grouped by name, sorted by order_by.
func (f *Fake) companyExtensions(r *http.Request, companyID string, themes bool) reply {
	cs := f.byID[companyID]
	if cs == nil {
		return statusReply(http.StatusNotFound)
	}
	field, descend, ok := companyOrder(r)
	if !ok {
		return statusReply(http.StatusBadRequest)
	}
	offset, limit, ok := paging(r)
	if !ok {
		return statusReply(http.StatusBadRequest)
	}
	limit = f.capPage(limit)
	type group struct {
		item wireCompanyExtension
		envs []wireCompanyPluginEnv
	}
	groups := map[string]*group{}
	for si := range cs.Sites {
		s := &cs.Sites[si]
		for ei := range s.Environments {
			e := &s.Environments[ei]
			list := e.Plugins
			if themes {
				list = e.Themes
			}
			for _, x := range list {
				g := groups[x.Name]
				if g == nil {
					g = &group{item: wireCompanyExtension{Name: x.Name, Title: x.Title}}
					groups[x.Name] = g
				}
				var update *string
				if x.Update != "" {
					update = strPtr(x.Update)
					g.item.UpdateCount++
				}
				g.envs = append(g.envs, wireCompanyPluginEnv{ID: e.ID, SiteDisplayName: s.DisplayName,
					DisplayName: e.DisplayName, Status: x.Status, Version: x.Version, Update: update,
					UpdateVersion: nullable(x.UpdateVersion), VersionVulnerable: x.Vulnerable})
				for _, v := range []string{x.Version, x.UpdateVersion} {
					if v != "" && (g.item.LatestVersion == nil || compareVersions(v, *g.item.LatestVersion) > 0) {
						g.item.LatestVersion = strPtr(v)
					}
				}
			}
		}
	}
	items := make([]wireCompanyExtension, 0, len(groups))
	for _, g := range groups {
		g.item.EnvironmentCount = len(g.envs)
		for _, e := range g.envs {
			if e.VersionVulnerable && g.item.LatestVersion != nil && e.Version == *g.item.LatestVersion {
				g.item.IsLatestVersionVulnerable = true
			}
		}
		g.item.Environments = f.installsWire(g.envs, themes)
		items = append(items, g.item)
	}
	sortCompanyItems(items, field, descend)
	lo, hi := page(len(items), offset, limit)
	list := wireCompanyExtensions{Total: len(items), Items: items[lo:hi]}
	if !cs.InventoryUpdatedAt.IsZero() {
		list.LastUpdatedAt = strPtr(cs.InventoryUpdatedAt.Add(f.timeShift()).UTC().Format(time.RFC3339))
	}
	key := "plugins"
	if themes {
		key = "themes"
	}
	return jsonReply(http.StatusOK, map[string]any{"company": map[string]any{key: list}})
}

// compareVersions compares dotted numeric versions ("6.10" > "6.9").
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

type usageKind int

const (
	usageVisits usageKind = iota
	usageBandwidth
	usageCDN
)

func (f *Fake) usage(siteID string, kind usageKind) reply {
	ref, ok := f.sitesByID[siteID]
	if !ok {
		return nestedNotFound("Site not found")
	}
	s := ref.site()
	var inner map[string]any
	switch kind {
	case usageVisits:
		inner = map[string]any{"this_month_usage": map[string]float64{"visits": s.Visits}}
	case usageBandwidth:
		inner = map[string]any{"this_month_usage": map[string]float64{"bandwidth": s.BandwidthBytes}}
	case usageCDN:
		inner = map[string]any{"this_month_cdn_usage": map[string]float64{"bandwidth": s.CDNBandwidthBytes}}
	}
	inner["id"] = s.ID
	return jsonReply(http.StatusOK, map[string]any{"site": inner})
}

// diskspace answers 202, as the spec documents for every analytics endpoint, with
// one daily point per day of time_span (7_days by default) ending today at
// DiskBytes.
func (f *Fake) diskspace(r *http.Request, envID string) reply {
	q := r.URL.Query()
	companyID, zone := q.Get("company_id"), q.Get("time_zone")
	if companyID == "" || zone == "" {
		return statusReply(http.StatusBadRequest)
	}
	days := map[string]int{"": 7, "7_days": 7, "30_days": 30, "60_days": 60}[q.Get("time_span")]
	if days == 0 {
		return statusReply(http.StatusBadRequest)
	}
	ref, ok := f.envsByID[envID]
	if !ok || ref.c.ID != companyID {
		return statusReply(http.StatusNotFound)
	}
	e := ref.env()
	series := wireSeries{Name: "diskSpaceUsage", Total: e.DiskBytes, Dataset: make([]wireDatapoint, days)}
	today := f.now().UTC().Truncate(24 * time.Hour)
	for i := range days {
		ago := days - 1 - i
		// Slow growth up to today's level; both timestamp styles of the fixtures.
		v := float64(int64(e.DiskBytes * (1 - 0.002*float64(ago))))
		key := today.AddDate(0, 0, -ago).Format("2006-01-02T15:04:05")
		if ago == 0 {
			key += ".000Z"
		}
		series.Dataset[i] = wireDatapoint{Key: key, Value: strconv.FormatFloat(v, 'f', -1, 64)}
	}
	var w wireAnalytics
	w.Analytics.AnalyticsResponse.Key = "diskSpaceUsage"
	w.Analytics.AnalyticsResponse.Data = []wireSeries{series}
	return jsonReply(http.StatusAccepted, w)
}

func (f *Fake) activityLogs(r *http.Request, companyID string) reply {
	cs := f.byID[companyID]
	if cs == nil {
		return statusReply(http.StatusNotFound)
	}
	offset, limit, ok := paging(r)
	if !ok {
		return statusReply(http.StatusBadRequest)
	}
	siteID := r.URL.Query().Get("site_id")
	var acts []Activity
	f.mu.RLock() // the demo churn appends activities
	for _, a := range cs.Activities {
		if siteID == "" || a.SiteID == siteID {
			acts = append(acts, a)
		}
	}
	f.mu.RUnlock()
	slices.SortStableFunc(acts, func(a, b Activity) int { return b.CreatedAt.Compare(a.CreatedAt) })
	var w wireActivityLogs
	w.Company.ActivityLogs.Total = len(acts)
	lo, hi := page(len(acts), offset, limit)
	w.Company.ActivityLogs.Items = make([]wireActivity, 0, hi-lo)
	for _, a := range acts[lo:hi] {
		item := wireActivity{ID: a.ID, SiteID: nullable(a.SiteID), CreatedAt: millis(a.CreatedAt),
			IsDone: a.IsDone, HasFailed: a.HasFailed, HasWarning: a.HasWarning, Type: a.Type,
			Category: "userManagement", PublicError: nullable(a.PublicError), IPAddress: nullable(a.IPAddress),
			Descriptions: []string{}}
		if a.SiteID != "" {
			item.Category = "siteActions"
		}
		if a.Description != "" {
			item.Descriptions = []string{a.Description}
		}
		if a.InitiatedBy != "" {
			first, _, _ := strings.Cut(a.InitiatedBy, " ")
			item.InitiatedBy = &wireInitiatedBy{ID: uuidFor("user", a.InitiatedBy), Role: "admin",
				FullName: a.InitiatedBy, FirstName: first}
		}
		w.Company.ActivityLogs.Items = append(w.Company.ActivityLogs.Items, item)
	}
	return jsonReply(http.StatusOK, w)
}
