package collector

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// idlessSource is the real client over the fake, with the id of every entry
// of type "idless" removed, as an answer without ids would have it.
type idlessSource struct{ *kinsta.Client }

func (s idlessSource) ActivityLogs(ctx context.Context, company string, offset, limit int) (kinsta.ActivityPage, error) {
	p, err := s.Client.ActivityLogs(ctx, company, offset, limit)
	for i := range p.Items {
		if p.Items[i].Type == "idless" {
			p.Items[i].ID = ""
		}
	}
	return p, err
}

// activityHarness drives the activity collector over the kinstatest fake
// through the real client, and keeps the expected counts of what it adds.
type activityHarness struct {
	t       *testing.T
	fake    *kinstatest.Fake
	c       activityCollector
	start   time.Time
	state   any
	lastID  int64
	wantOps map[string]float64
	wantBad map[string]float64
}

func newActivityHarness(t *testing.T, start time.Time) *activityHarness {
	fake := kinstatest.New("test-key", &kinstatest.Company{ID: "c1"})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	client, err := kinsta.New(kinsta.Config{BaseURL: srv.URL, APIKey: "test-key"})
	if err != nil {
		t.Fatal(err)
	}
	return &activityHarness{t: t, fake: fake, c: activityCollector{src: idlessSource{client}}, start: start,
		wantOps: map[string]float64{}, wantBad: map[string]float64{}}
}

// add adds n entries created from `from` on, four per millisecond instant
// (so that instants straddle page boundaries), cycling through the types;
// every 7th fails. Entries created after the start are expected to count.
func (h *activityHarness) add(n int, from time.Duration) {
	types := []string{"clearCache", "pushEnvironment", "idless"}
	acts := make([]kinstatest.Activity, n)
	for i := range acts {
		h.lastID++
		a := kinstatest.Activity{ID: h.lastID, Type: types[i%len(types)], SiteID: fmt.Sprintf("site-%d", h.lastID),
			CreatedAt: h.start.Add(from + time.Duration(i/4)*time.Millisecond), IsDone: true, HasFailed: i%7 == 0}
		acts[i] = a
		if a.CreatedAt.After(h.start) {
			h.wantOps[a.Type]++
			if a.HasFailed {
				h.wantBad[a.Type]++
			}
		}
	}
	h.fake.AddActivities("c1", acts...)
}

// refresh runs one refresh at start+at and returns the counts and how many
// pages it read.
func (h *activityHarness) refresh(at time.Duration) (ops, failed map[string]float64, pages int) {
	h.t.Helper()
	before := h.fake.Requests(kinstatest.RouteActivityLogs)
	res, err := h.c.refresh(context.Background(), &request{target: target{collector: activityName, company: "c1"},
		state: h.state, start: h.start.Add(at), since: h.start})
	if err != nil {
		h.t.Fatal(err)
	}
	h.state = res.state
	ops, failed = activityCounts(h.t, res.series.metrics)
	return ops, failed, h.fake.Requests(kinstatest.RouteActivityLogs) - before
}

func sameCounts(got, want map[string]float64) bool {
	for typ, n := range want {
		if got[typ] != n {
			return false
		}
	}
	for typ, n := range got {
		if n != want[typ] {
			return false
		}
	}
	return true
}

// TestActivityBusyIntervalNothingLost: a burst of more entries than one
// refresh may read (activityMaxPages pages), with more arriving during the
// catch-up and an operation running across it, is counted exactly: every
// finished entry once, id-less ones included, none lost below the page cap
// (before, the watermark jumped to the newest entry and the rest of the
// burst was never counted), no refresh over the cap.
func TestActivityBusyIntervalNothingLost(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	h := newActivityHarness(t, start)
	h.add(10, -time.Hour) // history: never counted
	if ops, _, _ := h.refresh(time.Minute); sum(ops) != 0 {
		t.Fatalf("history counted: %v", ops)
	}

	const perRefresh = activityMaxPages * activityPageSize
	h.add(perRefresh+300, 2*time.Minute)
	// An operation that runs across the catch-up, in the middle of the burst.
	h.lastID++
	running := h.lastID
	h.fake.AddActivities("c1", kinstatest.Activity{ID: running, Type: "restoreBackup", CreatedAt: start.Add(2*time.Minute + 300*time.Millisecond)})

	at := 15 * time.Minute
	var ops, failed map[string]float64
	for i := 0; ; i++ {
		if i == 20 {
			t.Fatalf("after 20 refreshes: ops %v failed %v, want %v and %v", ops, failed, h.wantOps, h.wantBad)
		}
		switch i {
		case 1:
			h.add(700, 20*time.Minute) // more than a page arrives during the catch-up
		case 2:
			h.add(30, 30*time.Minute)
		case 3:
			h.fake.UpdateActivity("c1", running, func(a *kinstatest.Activity) { a.IsDone, a.HasFailed = true, true })
			h.wantOps["restoreBackup"]++
			h.wantBad["restoreBackup"]++
		}
		var pages int
		ops, failed, pages = h.refresh(at)
		at += 15 * time.Minute
		if pages > activityMaxPages {
			t.Errorf("refresh %d read %d pages, the cap is %d", i, pages, activityMaxPages)
		}
		for typ, n := range ops {
			if n > h.wantOps[typ] {
				t.Fatalf("refresh %d: %v %s operations counted, only %v finished", i, n, typ, h.wantOps[typ])
			}
		}
		if i > 3 && sameCounts(ops, h.wantOps) && sameCounts(failed, h.wantBad) {
			break
		}
	}
	// Caught up: a refresh with nothing new reads one page and changes nothing.
	ops, failed, pages := h.refresh(at)
	if !sameCounts(ops, h.wantOps) || !sameCounts(failed, h.wantBad) || pages != 1 {
		t.Fatalf("after catching up: ops %v failed %v (%d pages); want %v and %v, 1 page", ops, failed, pages, h.wantOps, h.wantBad)
	}
	if st := h.state.(*activityState); st.resume != nil || len(st.counted) > 4 {
		t.Errorf("after catching up: resume %+v, %d keys remembered", st.resume, len(st.counted))
	}
}

// TestActivityIDlessCountedOnce: entries without an id, above an unfinished
// operation that holds the watermark back, are read again on every refresh
// and counted once (before, once per refresh).
func TestActivityIDlessCountedOnce(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	h := newActivityHarness(t, start)
	h.lastID++
	running := h.lastID
	h.fake.AddActivities("c1", kinstatest.Activity{ID: running, Type: "restoreBackup", CreatedAt: start.Add(time.Minute)})
	h.add(9, 2*time.Minute) // 3 of each type, idless included
	for i := range 3 {
		ops, _, _ := h.refresh(time.Duration(5+i) * time.Minute)
		if !sameCounts(ops, h.wantOps) {
			t.Fatalf("refresh %d while an operation runs: %v, want %v", i, ops, h.wantOps)
		}
	}
	h.fake.UpdateActivity("c1", running, func(a *kinstatest.Activity) { a.IsDone = true })
	h.wantOps["restoreBackup"]++
	if ops, _, _ := h.refresh(10 * time.Minute); !sameCounts(ops, h.wantOps) {
		t.Fatalf("after it finished: %v, want %v", ops, h.wantOps)
	}
	if ops, _, _ := h.refresh(11 * time.Minute); !sameCounts(ops, h.wantOps) {
		t.Fatalf("once more: %v, want %v", ops, h.wantOps)
	}
}

// TestActivityResumeStepsBack: an entry that appears late, inside the part
// of the log a capped refresh has not read yet, grows the total without
// pushing that part down; the resumed refresh, which moves its offset by
// the growth, steps back instead of skipping the first unread entries.
func TestActivityResumeStepsBack(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	h := newActivityHarness(t, start)
	h.refresh(time.Minute)
	h.add(activityMaxPages*activityPageSize+100, 2*time.Minute)
	if _, _, pages := h.refresh(15 * time.Minute); pages != activityMaxPages || h.state.(*activityState).resume == nil {
		t.Fatalf("%d pages and no resume point; want the cap", pages)
	}
	h.add(3, time.Minute) // late: older than every unread entry
	ops, failed, _ := h.refresh(30 * time.Minute)
	if !sameCounts(ops, h.wantOps) || !sameCounts(failed, h.wantBad) {
		t.Fatalf("after resuming: ops %v failed %v, want %v and %v", ops, failed, h.wantOps, h.wantBad)
	}
	if st := h.state.(*activityState); st.resume != nil {
		t.Errorf("resume point %+v left after reading down to the watermark", st.resume)
	}
}
