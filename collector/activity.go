package collector

import (
	"context"
	"errors"
	"maps"
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
	// activityMaxPages bounds one refresh (2,500 entries); older entries
	// are left for the next refresh, which starts from the newest again.
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
	watermark time.Time            // entries created at or before it are never counted
	counted   map[string]time.Time // ids counted, created after the watermark
	ops       map[string]float64   // by type
	failed    map[string]float64
}

func (s *activityState) clone() *activityState {
	return &activityState{watermark: s.watermark, counted: maps.Clone(s.counted), ops: maps.Clone(s.ops), failed: maps.Clone(s.failed)}
}

type activityCollector struct {
	src ActivitySource
}

func newActivityCollector(src SitesSource) (itemCollector, error) {
	s, ok := src.(ActivitySource)
	if !ok {
		return nil, errors.New("the API source has no ActivityLogs method")
	}
	return activityCollector{s}, nil
}

func (activityCollector) scope(bool) scope { return scopeCompany }

func (activityCollector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{activityOpsDesc, activityFailedDesc}
}

// refresh pages through the log, newest first, down to the watermark, and
// counts every finished entry not counted yet. The first watermark is the
// exporter's start, so history before it is not counted. Unfinished entries hold the watermark back (for at most a day)
// so that they are counted once they finish.
func (c activityCollector) refresh(ctx context.Context, req *request) (result, error) {
	var st *activityState
	if prev, ok := req.state.(*activityState); ok {
		st = prev.clone()
	} else {
		st = &activityState{watermark: req.since, counted: map[string]time.Time{}, ops: map[string]float64{}, failed: map[string]float64{}}
	}
	var newest, oldestPending time.Time
	for page, offset := 0, 0; page < activityMaxPages; page++ {
		if err := req.pace(ctx); err != nil {
			return result{}, err
		}
		p, err := c.src.ActivityLogs(ctx, req.company, offset, activityPageSize)
		if err != nil {
			return result{}, err
		}
		reachedWatermark := false
		for _, a := range p.Items {
			if a.CreatedAt.IsZero() {
				continue // cannot be placed in time
			}
			if !a.CreatedAt.After(st.watermark) {
				reachedWatermark = true
				continue
			}
			if a.CreatedAt.After(newest) {
				newest = a.CreatedAt
			}
			if _, done := st.counted[a.ID]; done && a.ID != "" {
				continue
			}
			if !a.IsDone && !a.HasFailed {
				if req.start.Sub(a.CreatedAt) < activityPendingFor && (oldestPending.IsZero() || a.CreatedAt.Before(oldestPending)) {
					oldestPending = a.CreatedAt
				}
				continue
			}
			typ := orUnknown(a.Type)
			st.ops[typ]++
			if a.HasFailed {
				st.failed[typ]++
			} else if _, ok := st.failed[typ]; !ok {
				st.failed[typ] = 0
			}
			if a.ID != "" {
				st.counted[a.ID] = a.CreatedAt
			}
		}
		offset += len(p.Items)
		if reachedWatermark || len(p.Items) == 0 || (p.Total > 0 && offset >= p.Total) || (p.Total <= 0 && len(p.Items) < activityPageSize) {
			break
		}
	}
	// Move the watermark up to the newest entry seen, but not past an
	// unfinished one; forget the ids it has passed.
	switch {
	case !oldestPending.IsZero():
		st.watermark = maxTime(st.watermark, oldestPending.Add(-time.Nanosecond))
	case !newest.IsZero():
		st.watermark = maxTime(st.watermark, newest)
	}
	for id, at := range st.counted {
		if !at.After(st.watermark) {
			delete(st.counted, id)
		}
	}
	var m series
	for typ, n := range st.ops {
		m.counter(activityOpsDesc, n, req.company, typ)
		m.counter(activityFailedDesc, st.failed[typ], req.company, typ)
	}
	return result{metrics: m, state: st}, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
