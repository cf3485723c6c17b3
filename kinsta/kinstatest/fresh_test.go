package kinstatest

import (
	"encoding/json"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestKeepTimesFresh: a long demo run keeps its backups as old as they were
// at the start (one stale live environment, the rest fresh), and the plugin
// inventory's last_updated_at moves along; activities stay where they were.
func TestKeepTimesFresh(t *testing.T) {
	demo := DemoCompany(testNow)
	f := New(testKey, demo)
	var now atomic.Int64
	now.Store(testNow.UnixNano())
	f.now = func() time.Time { return time.Unix(0, now.Load()).UTC() }
	srv := httptest.NewServer(f)
	defer srv.Close()

	newestBackup := func(envID string) time.Time {
		var w wireBackups
		if err := json.Unmarshal(get(t, srv, "/sites/environments/"+envID+"/backups").body, &w); err != nil {
			t.Fatal(err)
		}
		var newest int64
		for _, b := range w.Environment.Backups {
			newest = max(newest, b.CreatedAt)
		}
		return time.UnixMilli(newest).UTC()
	}
	stale := demo.Sites[demoStaleSite].Environments[0].ID
	fresh := demo.Sites[0].Environments[0].ID
	ages := func() (time.Duration, time.Duration) {
		n := f.now()
		return n.Sub(newestBackup(stale)), n.Sub(newestBackup(fresh))
	}

	staleAge, freshAge := ages()
	if staleAge != 72*time.Hour || freshAge != 3*time.Hour {
		t.Fatalf("at the start: stale %s, fresh %s; want 72h and 3h", staleAge, freshAge)
	}
	now.Add(int64(10 * 24 * time.Hour)) // without KeepTimesFresh everything ages
	if staleAge, freshAge = ages(); staleAge != 312*time.Hour || freshAge != 243*time.Hour {
		t.Fatalf("without KeepTimesFresh, 10 days later: stale %s, fresh %s; want 312h and 243h", staleAge, freshAge)
	}

	f.KeepTimesFresh(testNow)
	if staleAge, freshAge = ages(); staleAge != 72*time.Hour || freshAge != 3*time.Hour {
		t.Fatalf("with KeepTimesFresh, 10 days later: stale %s, fresh %s; want 72h and 3h", staleAge, freshAge)
	}
	var inv struct {
		Company struct {
			Plugins struct {
				LastUpdatedAt string `json:"last_updated_at"`
			} `json:"plugins"`
		} `json:"company"`
	}
	if err := json.Unmarshal(get(t, srv, "/company/"+demo.ID+"/wp-plugins").body, &inv); err != nil {
		t.Fatal(err)
	}
	if want := f.now().Add(-3 * time.Hour).Format(time.RFC3339); inv.Company.Plugins.LastUpdatedAt != want {
		t.Fatalf("last_updated_at = %q, want %q", inv.Company.Plugins.LastUpdatedAt, want)
	}
	var logs wireActivityLogs
	if err := json.Unmarshal(get(t, srv, "/company/"+demo.ID+"/activity-logs?limit=1").body, &logs); err != nil {
		t.Fatal(err)
	}
	if got := logs.Company.ActivityLogs.Items[0].CreatedAt; got != testNow.Add(-20*time.Minute).UnixMilli() {
		t.Fatalf("activity created_at moved: %d", got)
	}
}

// TestChurnAppendsActivities: each churn tick logs one finished operation,
// newest first in the log, every third one failed.
func TestChurnAppendsActivities(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	later := testNow.Add(time.Hour)
	f.now = func() time.Time { return later }
	before := len(demo.Activities)
	for range 3 {
		f.churnOnce()
	}
	var logs wireActivityLogs
	if err := json.Unmarshal(get(t, srv, "/company/"+demo.ID+"/activity-logs?limit=3").body, &logs); err != nil {
		t.Fatal(err)
	}
	l := logs.Company.ActivityLogs
	if l.Total != before+3 || len(l.Items) != 3 {
		t.Fatalf("total %d, %d items; want %d and 3", l.Total, len(l.Items), before+3)
	}
	failed := 0
	ids := map[int64]bool{}
	for _, a := range l.Items {
		if !a.IsDone || a.CreatedAt != later.UnixMilli() {
			t.Errorf("entry %+v", a)
		}
		if a.HasFailed {
			failed++
		}
		ids[a.ID] = true
	}
	if failed != 1 || len(ids) != 3 || ids[34181967] {
		t.Errorf("%d failed, ids %v; want 1 failed and 3 new ids", failed, ids)
	}
}
