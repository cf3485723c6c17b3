package collector

import (
	"container/heap"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// The failure policy of the background refresher: what a failed refresh of
// one item does to the schedule of that item, of its collector for the
// company, and of the whole refresher.
//
//   - 429: the item stays due at the front of the queue and the whole
//     refresher pauses for the client's back-off window (refreshItem, with
//     kinsta.HoldOff deciding how long for the whole process).
//   - 404: a company-wide endpoint falls back to per-environment ones; a
//     run of 404s switches the collector off for the company for a while
//     (Kinsta's answer when the key's role may not read the data).
//   - Anything else: retried after min(interval, failureRetry), serving the
//     last good data meanwhile, with one warning when a collector starts
//     failing for a company rather than one per item.

const (
	// disableFor is the least time a collector stays off for a company after
	// Kinsta answered 404 (the API key's role may not read the data); the
	// collector's interval when longer.
	disableFor = 6 * time.Hour
	// notFoundThreshold is how many consecutive 404s of one collector's site
	// or environment items switch it off for the company: one 404 may be a
	// site deleted since the last GET /sites, a run of them is a permission.
	notFoundThreshold = 3
	// failureRetry bounds the wait before an item whose refresh failed
	// (other than 404 and 429) is tried again.
	failureRetry = 10 * time.Minute
)

// stateKey names a collector for a company.
type stateKey struct{ collector, company string }

// collectorState is what the refresher remembers of one collector for one
// company beyond its items.
type collectorState struct {
	disabledUntil time.Time // off after 404s until then
	disabled      bool      // logged as disabled, not yet as re-enabled
	fallback      bool      // using per-environment endpoints
	fallbackUntil time.Time
	notFound      int // consecutive 404s
	failing       int // items whose last attempt failed, for logging transitions
	lastDuration  time.Duration
	series, bytes int       // of the items, for Limits.SeriesPerCollector and BytesPerCollector
	limitLogged   time.Time // when limits hit were last logged at warn level
}

// isDisabled reports whether the collector is paused after 404s.
func (st *collectorState) isDisabled(now time.Time) bool { return st.disabledUntil.After(now) }

// state returns the collector's state for the company, made on first use.
// Called with r.mu held.
func (r *refresher) state(collector, company string) *collectorState {
	k := stateKey{collector, company}
	st := r.states[k]
	if st == nil {
		st = &collectorState{}
		r.states[k] = st
	}
	return st
}

// finish records a refresh. Called with r.mu held.
func (r *refresher) finish(it *item, reg *registered, req *request, res result, err error, end time.Time) {
	start := req.start
	st := r.state(req.collector, req.company)
	if err == nil {
		err = r.limit(it, req, st, &res, end)
	}
	wasFailing := it.lastErr != nil
	it.lastAttempt = r.stamp(start)
	it.lastErr = err
	st.lastDuration = end.Sub(start)
	switch {
	case err != nil && !wasFailing:
		st.failing++
	case err == nil && wasFailing:
		st.failing--
	}
	logger := log.With(r.logger, "collector", req.collector, "company", r.companyLabel(req.company))
	if req.siteID != "" {
		logger = log.With(logger, "site_id", req.siteID)
	}
	if req.envID != "" {
		logger = log.With(logger, "environment_id", req.envID)
	}

	switch {
	case err == nil:
		// The same series again, from an item that is being served, change
		// nothing: the collector's rendering stays valid. Most refreshes
		// of a stable fleet are such.
		if it.lastSuccess == 0 || r.expired(it, end) || !it.series.equal(&res.series) {
			it.reg.changes.Add(1)
		}
		it.lastSuccess = r.stamp(end)
		st.series += res.series.len() - it.series.len()
		st.bytes += res.series.bytes() - it.series.bytes()
		it.series = res.series.kept()
		it.data = res.state
		it.next = r.stamp(start.Add(reg.interval))
		st.notFound = 0
		if res.company != "" {
			r.keyCompany = res.company
		}
		if wasFailing && st.failing == 0 {
			level.Info(logger).Log("msg", "Refreshes work again")
		}
		level.Debug(logger).Log("msg", "Refreshed", "series", res.series.len(), "duration", st.lastDuration)
	case kinsta.IsKind(err, kinsta.KindRateLimited):
		// Still due: it keeps its place at the front of the queue, and the
		// whole refresher pauses for the back-off.
		if at := r.stamp(start); it.next == 0 || it.next > at {
			it.next = at
		}
		level.Warn(logger).Log("msg", "Kinsta API rate limit hit; pausing background refreshes", "err", err)
	case kinsta.IsKind(err, kinsta.KindNotFound):
		r.notFound(it, reg, st, req, err, end, logger)
	default:
		it.next = r.stamp(end.Add(min(reg.interval, failureRetry)))
		// One warning when the collector starts failing for the company, not
		// one per environment during an outage; none when the API as a whole
		// is unreachable or refuses the key, which the sites refresh of every
		// scrape already reports: one failure, one warning.
		lvl := level.Debug
		if !wasFailing && st.failing == 1 && !apiWide(err) {
			lvl = level.Warn
		}
		lvl(logger).Log("msg", "Refresh failed; serving the last good data", "kind", kinsta.KindOf(err), "err", err,
			"last_success", formatTime(r.time(it.lastSuccess)), "failing_items", st.failing)
	}
}

// apiWide reports whether err is a failure of the API as a whole rather
// than of one endpoint: it cannot be reached, or it refuses the key.
func apiWide(err error) bool {
	return kinsta.IsKind(err, kinsta.KindTransport) || kinsta.IsKind(err, kinsta.KindTimeout) ||
		kinsta.IsKind(err, kinsta.KindUnauthorized)
}

// notFound handles a 404: fall back to per-environment endpoints, or after
// enough of them switch the collector off for the company for a while, with
// one log line.
func (r *refresher) notFound(it *item, reg *registered, st *collectorState, req *request, err error, now time.Time, logger log.Logger) {
	pause := max(disableFor, reg.interval)
	if fc, ok := reg.c.(fallbackCollector); ok && !req.fallback {
		st.fallback = true
		st.fallbackUntil = now.Add(pause)
		r.dirty = true
		it.next = r.stamp(st.fallbackUntil) // replaced by per-environment items at the next reconcile
		level.Warn(logger).Log("msg", "Company-wide endpoint answered 404; "+fc.fallbackDescription(),
			"until", formatTime(st.fallbackUntil), "err", err)
		return
	}
	st.notFound++
	threshold := 1
	if sc := reg.c.scope(req.fallback); sc == scopeSite || sc == scopeEnvironment || sc == scopeLiveEnvironment {
		threshold = min(notFoundThreshold, r.countItems(reg.name))
	}
	if st.notFound < threshold {
		it.next = r.stamp(now.Add(reg.interval)) // a site or environment deleted since GET /sites, probably
		level.Debug(logger).Log("msg", "Kinsta answered 404 for one item", "err", err)
		return
	}
	st.notFound = 0
	st.disabled = true
	st.disabledUntil = now.Add(pause)
	until := r.stamp(st.disabledUntil)
	for _, other := range reg.items {
		if other.next < until {
			other.next = until
			if other.index >= 0 {
				heap.Fix(&r.queue, int(other.index))
			}
		}
	}
	level.Warn(logger).Log("msg", "Collector disabled for this company: Kinsta answers 404, which also means the API key's role may not read this data",
		"until", formatTime(st.disabledUntil), "err", err)
}

// limit applies the Limits to a successful refresh's series: label values
// cut, and no more than Limits.SeriesPerCollector series and
// BytesPerCollector bytes for the collector and company, the item's series
// past them left out. What they leave out is counted, and logged in one
// line per collector and company per interval (a pass over its items), not
// one per item. Past a hard limit the refresh fails as bad_response. Called
// with r.mu held.
func (r *refresher) limit(it *item, req *request, st *collectorState, res *result, now time.Time) error {
	others := budget{series: st.series - it.series.len(), bytes: st.bytes - it.series.bytes(),
		maxSeries: r.limits.SeriesPerCollector, maxBytes: r.limits.BytesPerCollector}
	if n := others.series + res.series.len(); overHard(n, r.limits.SeriesPerCollector) {
		return overHardLimit("", req.collector+" series", n, r.limits.SeriesPerCollector)
	}
	if n := others.bytes + res.series.bytes(); overHard(n, r.limits.BytesPerCollector) {
		return overHardLimit("", "bytes of "+req.collector+" series", n, r.limits.BytesPerCollector)
	}
	hits := res.series.limit(r.limits.LabelValueLength, others)
	hits.add(res.hits)
	if !hits.any() {
		return nil
	}
	company := r.companyLabel(req.company)
	r.limited.add(company, req.collector, hits)
	lvl := level.Debug
	if now.Sub(st.limitLogged) >= it.reg.interval {
		lvl, st.limitLogged = level.Warn, now
	}
	lvl(r.logger).Log(append([]any{"msg", "Limits left part of the Kinsta API's answer out (see --limit.* flags)",
		"company", company, "collector", req.collector}, hits.logValues()...)...)
	return nil
}
