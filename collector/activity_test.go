package collector

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// activityLog is an in-memory activity log served newest first, in pages.
type activityLog struct {
	mu    sync.Mutex
	items []kinsta.Activity
	calls int
}

func (l *activityLog) add(a ...kinsta.Activity) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, a...)
	slices.SortStableFunc(l.items, func(a, b kinsta.Activity) int { return b.CreatedAt.Compare(a.CreatedAt) })
}

func (l *activityLog) update(id string, f func(*kinsta.Activity)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.items {
		if l.items[i].ID == id {
			f(&l.items[i])
		}
	}
}

func (l *activityLog) ActivityLogs(_ context.Context, _ string, offset, limit int) (kinsta.ActivityPage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	lo := min(offset, len(l.items))
	hi := min(lo+limit, len(l.items))
	return kinsta.ActivityPage{Items: slices.Clone(l.items[lo:hi]), Total: len(l.items)}, nil
}

func activityCounts(t *testing.T, ms []prometheus.Metric) (ops, failed map[string]float64) {
	t.Helper()
	ops, failed = map[string]float64{}, map[string]float64{}
	for _, m := range ms {
		v, typ := valueOf(t, m)
		switch m.Desc() {
		case activityOpsDesc:
			ops[typ] = v
		case activityFailedDesc:
			failed[typ] = v
		}
	}
	return ops, failed
}

func valueOf(t *testing.T, m prometheus.Metric) (float64, string) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(constCollector{m})
	fs, err := reg.Gather()
	if err != nil || len(fs) != 1 {
		t.Fatal(err)
	}
	pm := fs[0].Metric[0]
	typ := ""
	for _, l := range pm.Label {
		if l.GetName() == "type" {
			typ = l.GetValue()
		}
	}
	return pm.GetCounter().GetValue(), typ
}

// TestActivityWatermark: history before the start is not counted, each
// finished operation is counted once across refreshes and pages, an
// unfinished one when it finishes.
func TestActivityWatermark(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	log := &activityLog{}
	id := 0
	op := func(typ string, at time.Duration, done, failed bool) kinsta.Activity {
		id++
		return kinsta.Activity{ID: strconv.Itoa(id), Type: typ, CreatedAt: start.Add(at), IsDone: done, HasFailed: failed}
	}
	log.add(op("clearCache", -time.Hour, true, false), op("pushEnvironment", -time.Minute, true, true)) // history
	c := activityCollector{src: log}
	var state any
	refresh := func(at time.Duration) (map[string]float64, map[string]float64) {
		t.Helper()
		res, err := c.refresh(context.Background(), &request{target: target{collector: activityName, company: "c1"},
			state: state, start: start.Add(at), since: start})
		if err != nil {
			t.Fatal(err)
		}
		state = res.state
		return activityCounts(t, res.series.metrics)
	}

	// History is not counted, but its types' counters start at 0.
	if ops, _ := refresh(time.Minute); len(ops) == 0 || sum(ops) != 0 {
		t.Fatalf("history counted, or its types not started at 0: %v", ops)
	}

	log.add(op("clearCache", 2*time.Minute, true, false), op("clearCache", 3*time.Minute, true, false),
		op("pushEnvironment", 4*time.Minute, true, true), op("restoreBackup", 5*time.Minute, false, false))
	pending := strconv.Itoa(id)
	ops, failed := refresh(6 * time.Minute)
	if ops["clearCache"] != 2 || ops["pushEnvironment"] != 1 || failed["pushEnvironment"] != 1 || failed["clearCache"] != 0 || len(ops) != 2 {
		t.Fatalf("after 4 new operations (one running): ops %v failed %v", ops, failed)
	}
	// Nothing new: nothing counted twice.
	if ops2, _ := refresh(7 * time.Minute); ops2["clearCache"] != 2 || ops2["pushEnvironment"] != 1 {
		t.Fatalf("counted twice: %v", ops2)
	}
	// The running operation finishes, more than a page of new ones arrive.
	log.update(pending, func(a *kinsta.Activity) { a.IsDone = true })
	for i := range activityPageSize + 10 {
		log.add(op("updatePlugins", 10*time.Minute+time.Duration(i)*time.Second, true, i%10 == 0))
	}
	ops, failed = refresh(20 * time.Minute)
	if ops["restoreBackup"] != 1 || ops["updatePlugins"] != activityPageSize+10 || failed["updatePlugins"] != 6 || ops["clearCache"] != 2 {
		t.Fatalf("after the running one finished and %d more: ops %v failed %v", activityPageSize+10, ops, failed)
	}
	log.calls = 0
	if ops, _ = refresh(21 * time.Minute); ops["updatePlugins"] != activityPageSize+10 {
		t.Fatalf("counted twice: %v", ops)
	}
	if log.calls != 1 {
		t.Errorf("a refresh with nothing new read %d pages, want 1", log.calls)
	}
	if st := state.(*activityState); len(st.counted) > 1 {
		t.Errorf("%d ids remembered below the watermark", len(st.counted))
	}
}

func sum(m map[string]float64) float64 {
	n := 0.0
	for _, v := range m {
		n += v
	}
	return n
}
