// Package kinstatest is an in-process fake of the Kinsta API v2, served over real
// HTTP. It speaks the wire shapes of the reference (../shared/kinsta-api.md) with
// their quirks, and has switches for every failure a client must survive (Fault).
// Tests, benchmarks and the exporter's --demo mode use it; it imports no testing
// packages.
//
// Served routes (all GET, all need "Authorization: Bearer <key>"; an optional
// "/v2" path prefix is accepted):
//
//	/validate
//	/sites?company=ID[&include_environments=true]
//	/sites/environments/{env_id}/backups
//	/sites/environments/{env_id}/plugins
//	/sites/environments/{env_id}/themes
//	/company/{company_id}/wp-plugins?offset=&limit=&order_by=   (or a JSON body {"offset","limit","order_by"})
//	/company/{company_id}/wp-themes?offset=&limit=&order_by=
//	/sites/{site_id}/usage/visits/this-month
//	/sites/{site_id}/usage/bandwidth/this-month
//	/sites/{site_id}/usage/cdn-bandwidth/this-month
//	/sites/environments/{env_id}/analytics/diskspace?company_id=&time_zone=[&time_span=]
//	/company/{company_id}/activity-logs?offset=&limit=[&site_id=]
//	/sites/environments/{env_id}/analytics/response-codes?company_id=[&time_span=]
//	/company/{company_id}/api-keys
//
// The route templates above (see the Route constants) name routes in SetFault and
// Requests. Environments carry their domains in GET /sites (Environment.Domains)
// in the spellings their WireVariant selects; Company.APIKeysDenied makes
// api-keys answer 404 as it does for a developer-role key.
package kinstatest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Route templates, as SetFault and Requests take them.
const (
	RouteValidate          = "/validate"
	RouteSites             = "/sites"
	RouteBackups           = "/sites/environments/{env_id}/backups"
	RoutePlugins           = "/sites/environments/{env_id}/plugins"
	RouteThemes            = "/sites/environments/{env_id}/themes"
	RouteCompanyPlugins    = "/company/{company_id}/wp-plugins"
	RouteCompanyThemes     = "/company/{company_id}/wp-themes"
	RouteUsageVisits       = "/sites/{site_id}/usage/visits/this-month"
	RouteUsageBandwidth    = "/sites/{site_id}/usage/bandwidth/this-month"
	RouteUsageCDNBandwidth = "/sites/{site_id}/usage/cdn-bandwidth/this-month"
	RouteDiskspace         = "/sites/environments/{env_id}/analytics/diskspace"
	RouteActivityLogs      = "/company/{company_id}/activity-logs"
	RouteResponseCodes     = "/sites/environments/{env_id}/analytics/response-codes"
	RouteAPIKeys           = "/company/{company_id}/api-keys"
)

type route struct {
	template string
	segments []string // "" marks a parameter
	handle   func(f *Fake, r *http.Request, param string) reply
}

// routes is the fixed routing table; every template has at most one parameter.
var routes = func() []route {
	table := []struct {
		template string
		handle   func(f *Fake, r *http.Request, param string) reply
	}{
		{RouteValidate, (*Fake).validate},
		{RouteSites, (*Fake).sites},
		{RouteBackups, (*Fake).backups},
		{RoutePlugins, func(f *Fake, r *http.Request, env string) reply { return f.envExtensions(env, false) }},
		{RouteThemes, func(f *Fake, r *http.Request, env string) reply { return f.envExtensions(env, true) }},
		{RouteCompanyPlugins, func(f *Fake, r *http.Request, c string) reply { return f.companyExtensions(r, c, false) }},
		{RouteCompanyThemes, func(f *Fake, r *http.Request, c string) reply { return f.companyExtensions(r, c, true) }},
		{RouteUsageVisits, func(f *Fake, r *http.Request, s string) reply { return f.usage(s, usageVisits) }},
		{RouteUsageBandwidth, func(f *Fake, r *http.Request, s string) reply { return f.usage(s, usageBandwidth) }},
		{RouteUsageCDNBandwidth, func(f *Fake, r *http.Request, s string) reply { return f.usage(s, usageCDN) }},
		{RouteDiskspace, (*Fake).diskspace},
		{RouteActivityLogs, (*Fake).activityLogs},
		{RouteResponseCodes, (*Fake).responseCodes},
		{RouteAPIKeys, (*Fake).apiKeys},
	}
	out := make([]route, len(table))
	for i, t := range table {
		segs := strings.Split(strings.TrimPrefix(t.template, "/"), "/")
		for j, s := range segs {
			if strings.HasPrefix(s, "{") {
				segs[j] = ""
			}
		}
		out[i] = route{template: t.template, segments: segs, handle: t.handle}
	}
	return out
}()

// Routes returns the route templates the fake serves.
func Routes() []string {
	out := make([]string, len(routes))
	for i, r := range routes {
		out[i] = r.template
	}
	return out
}

// match finds the route of path and its parameter value.
func match(path string) (*route, string) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
next:
	for i := range routes {
		rt := &routes[i]
		if len(rt.segments) != len(segs) {
			continue
		}
		param := ""
		for j, s := range rt.segments {
			switch {
			case s == "" && segs[j] != "":
				param = segs[j]
			case s != segs[j]:
				continue next
			}
		}
		return rt, param
	}
	return nil, ""
}

// Fake is a fake Kinsta API. It implements http.Handler and is safe for concurrent
// use. Build it with New.
type Fake struct {
	apiKey string
	now    func() time.Time

	total  atomic.Int64
	counts map[string]*atomic.Int64 // fixed key set: the route templates

	// fresh is the instant KeepTimesFresh counts from (unix ns); 0: off.
	fresh atomic.Int64

	closeOnce sync.Once
	closed    chan struct{}

	faultMu sync.Mutex
	faults  map[string]Fault // "" = every route

	pageCap    atomic.Int64 // SetPageSizeCap
	unprefixed atomic.Bool  // SetUnprefixedInstallFields

	// mu guards the mutable state of the data: Site.Status, the encoded /sites
	// bodies, the churn state and the activity log (the churn appends to it).
	// Everything else in companies is immutable after New.
	mu        sync.RWMutex
	companies []*companyState
	byID      map[string]*companyState
	sitesByID map[string]siteRef
	envsByID  map[string]envRef
}

type companyState struct {
	*Company
	// Encoded /sites elements (one per site) and whole bodies; index 0 without
	// environments, 1 with. Fragments are nil until first needed; a status change
	// re-encodes one fragment and drops the body, rebuilt on the next request. A
	// body is never modified once built, so a handler writes it after unlocking.
	fragments [2][][]byte
	bodies    [2][]byte
	churn     *churnState // nil until the demo churn first runs
}

type siteRef struct {
	c  *companyState
	si int
}

type envRef struct {
	c      *companyState
	si, ei int
}

func (r siteRef) site() *Site      { return &r.c.Sites[r.si] }
func (r envRef) env() *Environment { return &r.c.Sites[r.si].Environments[r.ei] }

// New returns a Fake that accepts apiKey and serves deep copies of companies.
// GET /validate describes the key as belonging to the first company.
func New(apiKey string, companies ...*Company) *Fake {
	f := &Fake{
		apiKey:    apiKey,
		now:       time.Now,
		counts:    make(map[string]*atomic.Int64, len(routes)),
		closed:    make(chan struct{}),
		faults:    map[string]Fault{},
		byID:      map[string]*companyState{},
		sitesByID: map[string]siteRef{},
		envsByID:  map[string]envRef{},
	}
	for _, rt := range routes {
		f.counts[rt.template] = new(atomic.Int64)
	}
	for _, c := range companies {
		cs := &companyState{Company: c.clone()}
		f.companies = append(f.companies, cs)
		f.byID[c.ID] = cs
		for i := range cs.Sites {
			f.sitesByID[cs.Sites[i].ID] = siteRef{cs, i}
			for j := range cs.Sites[i].Environments {
				f.envsByID[cs.Sites[i].Environments[j].ID] = envRef{cs, i, j}
			}
		}
	}
	return f
}

// KeepTimesFresh makes the backups' created_at and the plugin/theme
// inventory's last_updated_at move with the clock: they are served shifted by
// the time passed since since. Data built relative to since (DemoCompany(since))
// then stays as old as it was, so a long demo run keeps a healthy fleet with
// one stale backup. Activity log entries are not shifted: they are events.
func (f *Fake) KeepTimesFresh(since time.Time) {
	f.fresh.Store(since.UnixNano())
}

// timeShift is how far KeepTimesFresh moves timestamps now.
func (f *Fake) timeShift() time.Duration {
	from := f.fresh.Load()
	if from == 0 {
		return 0
	}
	return max(f.now().Sub(time.Unix(0, from)), 0)
}

// Close releases every request that a Hang, Delay or DripBytesPerSecond fault is
// holding (their connections are aborted), so an httptest.Server can close; from
// then on those faults abort at once. Other requests are served normally.
func (f *Fake) Close() {
	f.closeOnce.Do(func() { close(f.closed) })
}

// Requests returns how many requests were seen for a route template since the
// last ResetRequests ("" = all requests, unknown paths included). Requests that
// failed authentication or met a fault count too. It panics on an unknown template.
func (f *Fake) Requests(endpoint string) int {
	mustKnow("Requests", endpoint)
	if endpoint == "" {
		return int(f.total.Load())
	}
	return int(f.counts[endpoint].Load())
}

// ResetRequests sets every request counter to zero.
func (f *Fake) ResetRequests() {
	f.total.Store(0)
	for _, c := range f.counts {
		c.Store(0)
	}
}

// SetSiteStatus changes the status GET /sites reports for a site. It panics when
// the company or site is unknown.
func (f *Fake) SetSiteStatus(companyID, siteID, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ref, ok := f.sitesByID[siteID]
	if !ok || ref.c.ID != companyID {
		panic(fmt.Sprintf("kinstatest: SetSiteStatus: no site %q in company %q", siteID, companyID))
	}
	f.setStatusLocked(ref, status)
}

// AddActivities appends entries to a company's activity log; it is served
// newest first as always (entries created at the same instant in the order
// added). It panics when the company is unknown.
func (f *Fake) AddActivities(companyID string, acts ...Activity) {
	cs := f.byID[companyID]
	if cs == nil {
		panic(fmt.Sprintf("kinstatest: AddActivities: no company %q", companyID))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cs.Activities = append(cs.Activities, acts...)
}

// UpdateActivity calls update on every entry of a company's activity log with
// the given id, e.g. to finish a running operation (IsDone, HasFailed). It
// panics when the company is unknown.
func (f *Fake) UpdateActivity(companyID string, id int64, update func(*Activity)) {
	cs := f.byID[companyID]
	if cs == nil {
		panic(fmt.Sprintf("kinstatest: UpdateActivity: no company %q", companyID))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range cs.Activities {
		if cs.Activities[i].ID == id {
			update(&cs.Activities[i])
		}
	}
}

func (f *Fake) setStatusLocked(ref siteRef, status string) {
	s := ref.site()
	if s.Status == status {
		return
	}
	s.Status = status
	for v := range ref.c.fragments {
		if ref.c.fragments[v] != nil {
			ref.c.fragments[v][ref.si] = siteFragment(ref.c.ID, s, v == 1)
		}
		ref.c.bodies[v] = nil
	}
}

// sitesBody returns the encoded GET /sites body, building it when stale.
func (f *Fake) sitesBody(cs *companyState, withEnvironments bool) []byte {
	v := 0
	if withEnvironments {
		v = 1
	}
	f.mu.RLock()
	body := cs.bodies[v]
	f.mu.RUnlock()
	if body != nil {
		return body
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if cs.bodies[v] != nil {
		return cs.bodies[v]
	}
	frags := cs.fragments[v]
	if frags == nil {
		frags = make([][]byte, len(cs.Sites))
		for i := range cs.Sites {
			frags[i] = siteFragment(cs.ID, &cs.Sites[i], withEnvironments)
		}
		cs.fragments[v] = frags
	}
	const head, tail = `{"company":{"sites":[`, `]}}`
	n := len(head) + len(tail) + len(frags)
	for _, fr := range frags {
		n += len(fr)
	}
	b := make([]byte, 0, n)
	b = append(b, head...)
	for i, fr := range frags {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, fr...)
	}
	b = append(b, tail...)
	cs.bodies[v] = b
	return b
}
