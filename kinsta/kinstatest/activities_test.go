package kinstatest

import (
	"encoding/json"
	"testing"
	"time"
)

// TestAddAndUpdateActivities: entries added after New are served newest
// first with the others, and UpdateActivity changes them in place.
func TestAddAndUpdateActivities(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	f.AddActivities(demo.ID,
		Activity{ID: 100, Type: "restoreBackup", CreatedAt: testNow.Add(time.Minute)},
		Activity{ID: 101, Type: "clearCache", CreatedAt: testNow.Add(2 * time.Minute), IsDone: true})
	f.UpdateActivity(demo.ID, 100, func(a *Activity) { a.IsDone, a.HasFailed = true, true })
	var w wireActivityLogs
	if err := json.Unmarshal(get(t, srv, "/company/"+demo.ID+"/activity-logs?limit=2").body, &w); err != nil {
		t.Fatal(err)
	}
	l := w.Company.ActivityLogs
	if l.Total != 10 || len(l.Items) != 2 || l.Items[0].ID != 101 || l.Items[1].ID != 100 || !l.Items[1].IsDone || !l.Items[1].HasFailed {
		t.Fatalf("total %d, items %+v", l.Total, l.Items)
	}
}
