package collector

import (
	"context"
	"crypto/sha256"
	"maps"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// ActivitySource is what the activity collector needs; *kinsta.Client has it.
type ActivitySource interface {
	ActivityLogs(ctx context.Context, companyID string, offset, limit int) (kinsta.ActivityPage, error)
}

const (
	// activityPageSize is the page size asked for; the API's default is 10.
	activityPageSize = 50
	// activityMaxPages bounds one refresh (2,500 entries). A refresh that
	// stops there before reaching the watermark keeps a resume point, and
	// the next refresh continues below it: entries are counted late after a
	// busy interval, never lost.
	activityMaxPages = 50
	// activityPendingFor is how long an unfinished operation holds the
	// watermark back so that it is counted when it finishes.
	activityPendingFor = 24 * time.Hour
)

var (
	activityOpsDesc = prometheus.NewDesc("kinsta_activity_operations_total",
		"Operations of the company's activity log, by type, that finished since the exporter started (GET /company/{id}/activity-logs, polled by the activity collector).",
		[]string{"company", "type"}, nil)
	activityFailedDesc = prometheus.NewDesc("kinsta_activity_operations_failed_total",
		"Operations of the company's activity log, by type, that failed (has_failed) since the exporter started (GET /company/{id}/activity-logs, polled by the activity collector).",
		[]string{"company", "type"}, nil)
)

// activityState is an item's memory between refreshes. A refresh works on a
// copy, so a failed refresh counts nothing.
type activityState struct {
	watermark time.Time            // entries created at or before it are settled: counted, or never to be
	counted   map[string]time.Time // keys (activityKey) of the entries counted, created after the watermark
	ops       map[string]float64   // by type
	failed    map[string]float64
	resume    *activityResume // the pass under way; nil when the last refresh reached the watermark
}

// activityResume is where a refresh that hit the page cap stopped. A pass
// reads the log from the newest entry down to the watermark, over one or
// more refreshes; so far it has read every entry created after below, up to
// the newest entry of its first page. Entries created after the watermark
// and at or before below are still to be read (some at below may have been).
// The watermark moves only when a pass is complete.
type activityResume struct {
	offset  int       // offset just past the last entry read
	total   int       // the log's total then; <= 0 when not reported
	below   time.Time // created_at of the oldest entry read
	newest  time.Time // the newest entry the pass has read
	pending time.Time // the oldest unfinished entry the pass has read (within activityPendingFor); zero: none
}

func (s *activityState) clone() *activityState {
	c := &activityState{watermark: s.watermark, counted: maps.Clone(s.counted), ops: maps.Clone(s.ops), failed: maps.Clone(s.failed)}
	if s.resume != nil {
		r := *s.resume
		c.resume = &r
	}
	return c
}

// activityKey identifies an entry, to count it once. Kinsta gives every
// entry an id. One without (an older or proxied answer) is known by its
// creation time, type and site instead: it is read again on every refresh
// while an unfinished operation holds the watermark below it, and must not
// be counted each time. Two id-less entries of one type and site created in
// the same millisecond are therefore counted as one.
//
// The key is a hash: the log's ids and types are the API's text, and up to
// a few thousand keys are kept between refreshes.
func activityKey(a kinsta.Activity) string {
	var key string
	if a.ID != "" {
		key = "id:" + a.ID
	} else {
		key = "at:" + strconv.FormatInt(a.CreatedAt.UnixNano(), 10) + "/" + a.Type + "/" + a.SiteID
	}
	sum := sha256.Sum256([]byte(key))
	return string(sum[:16])
}

// countType is the type an entry is counted as: its own, cut to the label
// value limit, while the counters hold fewer than Limits.ActivityTypes
// types, otherwise "other" (folded reports whether it was).
func (s *activityState) countType(typ string, l Limits) (counted string, folded bool) {
	typ, _ = cutLabel(orUnknown(typ), l.LabelValueLength)
	if _, ok := s.ops[typ]; ok || len(s.ops) < l.ActivityTypes {
		return typ, false
	}
	return otherActivityType, true
}

// seedType starts the counters of a type seen among the settled entries at
// 0, while there is room for it: a type of the log has its counters from
// the first refresh on, so that the first operation of it after the start
// is an increase that rate() and increase() see, and dashboards have their
// series at once (Prometheus' advice: initialise counters to 0).
func (s *activityState) seedType(typ string, l Limits) {
	typ, _ = cutLabel(orUnknown(typ), l.LabelValueLength)
	if _, ok := s.ops[typ]; !ok && len(s.ops) < l.ActivityTypes {
		s.ops[typ], s.failed[typ] = 0, 0
	}
}

type activityCollector struct {
	src ActivitySource
}

func newActivityCollector(api API) itemCollector {
	return activityCollector{api}
}

func (activityCollector) scope(bool) scope { return scopeCompany }

// refresh pages through the log, newest first, down to the watermark, and
// counts every finished entry not counted yet (by activityKey). The first
// watermark is the exporter's start, so history before it is not counted.
// Unfinished entries hold the watermark back (for at most a day) so that
// they are counted once they finish. When a busy log has more entries above
// the watermark than one refresh may read (activityMaxPages), the refresh
// keeps a resume point and the watermark; the next one continues from there
// (see resumeOffset) before it looks at newer entries again.
func (c activityCollector) refresh(ctx context.Context, req *request) (result, error) {
	var st *activityState
	if prev, ok := req.state.(*activityState); ok {
		st = prev.clone()
	} else {
		st = &activityState{watermark: req.since, counted: map[string]time.Time{}, ops: map[string]float64{}, failed: map[string]float64{}}
	}
	pass := activityResume{}
	resuming := st.resume != nil
	if resuming {
		pass = *st.resume
	}
	offset, pages := 0, 0
	var first *kinsta.ActivityPage // fetched already, at offset
	if resuming {
		var err error
		if first, pages, err = c.resumeOffset(ctx, req, &pass); err != nil {
			return result{}, err
		}
		if first == nil { // no page to continue from within the cap
			st.resume = &pass
			return result{series: st.series(req.company), state: st}, nil
		}
		offset = pass.offset
	}
	var oldest time.Time // the oldest entry this refresh read
	var hits limitHits
	limits := req.limits.withDefaults()
	complete := false
	total := 0
	for first != nil || pages < activityMaxPages {
		p := first
		if p == nil {
			page, err := c.src.ActivityLogs(ctx, req.company, offset, activityPageSize)
			if err != nil {
				return result{}, err
			}
			p = &page
			pages++
		}
		first = nil
		total = p.Total
		reachedWatermark := false
		for _, a := range p.Items {
			if a.CreatedAt.IsZero() {
				continue // cannot be placed in time
			}
			if !a.CreatedAt.After(st.watermark) {
				reachedWatermark = true
				st.seedType(a.Type, limits)
				continue
			}
			if oldest.IsZero() || a.CreatedAt.Before(oldest) {
				oldest = a.CreatedAt
			}
			if resuming && a.CreatedAt.After(pass.below) {
				continue // read by this pass already, or newer than it: the next pass reads it
			}
			pass.newest = maxTime(pass.newest, a.CreatedAt)
			key := activityKey(a)
			if _, done := st.counted[key]; done {
				continue
			}
			if !a.IsDone && !a.HasFailed {
				if req.start.Sub(a.CreatedAt) < activityPendingFor && (pass.pending.IsZero() || a.CreatedAt.Before(pass.pending)) {
					pass.pending = a.CreatedAt
				}
				continue
			}
			typ, folded := st.countType(a.Type, limits)
			if folded {
				hits[limitActivityTypes]++
			}
			st.ops[typ]++
			if a.HasFailed {
				st.failed[typ]++
			} else if _, ok := st.failed[typ]; !ok {
				st.failed[typ] = 0
			}
			st.counted[key] = a.CreatedAt
		}
		offset += len(p.Items)
		if reachedWatermark || len(p.Items) == 0 || (p.Total > 0 && offset >= p.Total) || (p.Total <= 0 && len(p.Items) < activityPageSize) {
			complete = true
			break
		}
	}
	switch {
	case complete:
		// The pass has read everything above the watermark: move it up to
		// the newest entry read, but not past an unfinished one, and forget
		// the keys it has passed.
		st.resume = nil
		switch {
		case !pass.pending.IsZero():
			st.watermark = maxTime(st.watermark, pass.pending.Add(-time.Nanosecond))
		case !pass.newest.IsZero():
			st.watermark = maxTime(st.watermark, pass.newest)
		}
		for key, at := range st.counted {
			if !at.After(st.watermark) {
				delete(st.counted, key)
			}
		}
	case !oldest.IsZero():
		// The page cap: the watermark stays, the next refresh resumes here.
		if !resuming || oldest.Before(pass.below) {
			pass.below = oldest
		}
		pass.offset, pass.total = offset, total
		st.resume = &pass
	default:
		// The page cap, without a single entry that could be placed in
		// time: nothing to resume from; the next refresh starts again from
		// the newest entry.
	}
	return result{series: st.series(req.company), state: st, hits: hits}, nil
}

func (s *activityState) series(company string) series {
	var m series
	for typ, n := range s.ops {
		m.counter(activityOpsDesc, n, company, typ)
		m.counter(activityFailedDesc, s.failed[typ], company, typ)
	}
	return m
}

// resumeOffset finds where a resumed pass continues reading: the first page
// that cannot skip an entry the pass has not read, at pass.offset on return.
// Newer entries push the old ones to higher offsets, so the stored offset
// first moves by how much the log's total grew; then, as long as the page
// there does not start above pass.below (entries before it may be unread),
// it steps back a page. It returns that page, or nil when the page cap came
// first (pass.offset then keeps the search's progress for the next refresh),
// and the pages fetched.
func (c activityCollector) resumeOffset(ctx context.Context, req *request, pass *activityResume) (*kinsta.ActivityPage, int, error) {
	pages, moved := 0, false
	for pages < activityMaxPages {
		p, err := c.src.ActivityLogs(ctx, req.company, pass.offset, activityPageSize)
		if err != nil {
			return nil, pages, err
		}
		pages++
		grown := p.Total - pass.total
		if p.Total > 0 {
			pass.total = p.Total
		}
		if !moved && p.Total > 0 && grown > 0 {
			pass.offset += grown
			moved = true
			continue
		}
		var top time.Time // the first entry that can be placed in time
		for _, a := range p.Items {
			if !a.CreatedAt.IsZero() {
				top = a.CreatedAt
				break
			}
		}
		if pass.offset == 0 || top.After(pass.below) {
			return &p, pages, nil
		}
		next := pass.offset - activityPageSize
		if len(p.Items) == 0 && p.Total > 0 {
			next = min(next, p.Total-activityPageSize) // the log is shorter than it was
		}
		pass.offset = max(next, 0)
	}
	return nil, pages, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
