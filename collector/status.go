package collector

import (
	"time"
)

// The status snapshot: what a person reading the exporter's status page
// wants to know of one company, in plain structs. Taking it never calls the
// API and holds each lock only while copying.

// CompanyStatus is one company's state now.
type CompanyStatus struct {
	Company string // "" until GET /validate has named the key's company
	// Attempted: a refresh of the sites (or of the key's company) was tried.
	Attempted bool
	Up        bool // the last refresh of the sites succeeded (kinsta_up)
	// LastAttempt and LastSuccess are of GET /sites (GET /validate while
	// Company is ""); zero: never.
	LastAttempt, LastSuccess time.Time
	LastError                string // the last refresh's error, as the client wrote it (never the key); "" when it succeeded
	Sites                    int    // in the last good GET /sites
	// NotLive are the sites whose status is not "live", at most the number
	// asked for, in the API's order; NotLiveTotal counts them all.
	NotLive      []SiteState
	NotLiveTotal int
	// APICalls and RateLimited count the company's requests to the Kinsta
	// API in the last hour, and the 429 answers among them.
	APICalls, RateLimited int
	// Working: a scrape came within the background refresher's lease, so it
	// refreshes what is due; without scrapes it makes no API call.
	Working    bool
	Collectors []CollectorStatus // the enabled background collectors, in registry order
}

// SiteState is a site and its status.
type SiteState struct {
	ID, Name, DisplayName, Status string
}

// CollectorStatus is one background collector's progress for the company.
type CollectorStatus struct {
	Name     string
	Interval time.Duration
	Items    int // work items: the key, the company, its sites or environments
	Fresh    int // items whose data is served and not due yet
	Due      int // items due now (never read ones included)
	Failing  int // items whose last refresh failed
	// NextRefresh is when the next item is due (in the past while items
	// are due); zero when none is queued.
	NextRefresh   time.Time
	DisabledUntil time.Time // after 404s; zero when not disabled
	LastError     string    // of the failing item tried last
}

// Status returns the company's state now, with at most maxNotLive of its
// sites that are not live.
func (e *Exporter) Status(maxNotLive int) CompanyStatus {
	now := e.cfg.Now()
	e.mu.RLock()
	st := CompanyStatus{Company: e.company}
	state := e.state
	if e.company == "" {
		state = e.discovery
	}
	rows := e.snapshot
	e.mu.RUnlock()

	st.Attempted = !state.lastAttempt.IsZero()
	st.Up = st.Attempted && state.lastErr == nil
	st.LastAttempt, st.LastSuccess = state.lastAttempt, state.lastSuccess
	if state.lastErr != nil {
		st.LastError = state.lastErr.Error()
	}
	st.Sites, st.NotLive, st.NotLiveTotal = notLiveSites(rows, maxNotLive)
	st.APICalls, st.RateLimited = e.calls.lastHour()
	if e.ref != nil {
		st.Working = now.UnixNano() < e.ref.leaseUntil.Load()
		st.Collectors = e.ref.status(now)
	}
	return st
}

// notLiveSites reads a sites snapshot (immutable, so without the lock):
// the number of sites and those not live.
func notLiveSites(rows *siteRows, limit int) (sites int, notLive []SiteState, total int) {
	if rows == nil {
		return 0, nil, 0
	}
	info, status := &rows[rowSiteInfo], &rows[rowSiteStatus]
	const infoArity, statusArity = 4, 3 // siteInfo's and siteStatus's labels
	names := make(map[string][2]string, len(info.values))
	for i := range info.values {
		l := info.labels[i*infoArity : (i+1)*infoArity]
		names[l[1]] = [2]string{l[2], l[3]}
	}
	for i, v := range status.values {
		l := status.labels[i*statusArity : (i+1)*statusArity]
		if l[2] == liveStatus || v != 1 {
			continue
		}
		total++
		if len(notLive) < limit {
			n := names[l[1]]
			notLive = append(notLive, SiteState{ID: l[1], Name: n[0], DisplayName: n[1], Status: l[2]})
		}
	}
	return len(info.values), notLive, total
}

// status is every collector's progress. O(items), under the read lock.
func (r *refresher) status(now time.Time) []CollectorStatus {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]CollectorStatus, len(r.collectors))
	lastFailure := make([]time.Time, len(r.collectors))
	for _, reg := range r.collectors {
		out[reg.pos] = CollectorStatus{Name: reg.name, Interval: reg.interval}
	}
	at := r.stamp(now)
	for it := range r.allItems() {
		c := &out[it.reg.pos]
		c.Items++
		switch {
		case it.isDue(at):
			c.Due++
		case r.served(it, now):
			c.Fresh++
		}
		if next := r.time(it.dueSince()); it.index >= 0 && (c.NextRefresh.IsZero() || next.Before(c.NextRefresh)) {
			c.NextRefresh = next
		}
		if err := it.lastErr; err != nil {
			c.Failing++
			if at := r.time(it.lastAttempt); !at.Before(lastFailure[it.reg.pos]) {
				lastFailure[it.reg.pos], c.LastError = at, err.Error()
			}
		}
	}
	for k, st := range r.states {
		if reg := r.byName[k.collector]; reg != nil && st.isDisabled(now) {
			out[reg.pos].DisabledUntil = st.disabledUntil
		}
	}
	return out
}
