package collector

import (
	"container/heap"
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// collectFunc is a function as an unchecked collector.
type collectFunc func(ch chan<- prometheus.Metric)

func (collectFunc) Describe(chan<- *prometheus.Desc)      {}
func (f collectFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

// queuedExporter is an exporter of company with one site of envs
// environments whose work items are queued and all due, never fetched: its
// refresher has reconciled the inventory of a first GET /sites but is not
// running.
func queuedExporter(t *testing.T, clock *fakeClock, company string, envs int, collectors map[string]time.Duration) *Exporter {
	t.Helper()
	site := kinsta.Site{ID: company + "-s1", Status: "live"}
	for i := range envs {
		site.Environments = append(site.Environments, kinsta.Environment{ID: fmt.Sprintf("%s-e%d", company, i)})
	}
	src := newFakeSource()
	src.set(company, []kinsta.Site{site}, nil)
	cfg := testConfig(clock, company)
	cfg.Collectors = collectors
	e := newExporter(t, src, cfg, log.NewNopLogger())
	e.Sync(context.Background())
	e.ref.mu.Lock()
	e.ref.reconcile(clock.Now()) // what the run loop would do first
	e.ref.mu.Unlock()
	return e
}

// gaugeValues are c's gauges as "name{label values}" -> value.
func gaugeValues(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	families, err := pedantic(c).Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetValue())
			}
			out[fmt.Sprintf("%s%v", f.GetName(), labels)] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestQueueSeriesSumExporters: the refresh queue series carry no company
// label, so whoever serves several companies sends them once, summed over
// the exporters' QueueStats: per collector the items and due items added,
// the oldest due time the earliest, none while nothing is due. The
// exporters' company series go alongside without a clash.
func TestQueueSeriesSumExporters(t *testing.T) {
	clock := newFakeClock()
	first := clock.Now()
	a := queuedExporter(t, clock, "a", 2, map[string]time.Duration{backupsName: time.Hour})
	clock.Add(time.Minute)
	b := queuedExporter(t, clock, "b", 3, map[string]time.Duration{backupsName: time.Hour, diskName: time.Hour})
	none := newExporter(t, newFakeSource(), testConfig(clock, "c"), log.NewNopLogger()) // no collectors
	none.Refresh(context.Background())

	if got := gaugeValues(t, collectFunc(func(ch chan<- prometheus.Metric) { CollectQueues(ch, a.QueueStats()) })); got["kinsta_exporter_refresh_queue_items[backups]"] != 2 {
		t.Fatalf("one exporter's queue series: %v, want 2 backups items", got)
	}
	queues := collectFunc(func(ch chan<- prometheus.Metric) {
		CollectQueues(ch, a.QueueStats(), b.QueueStats(), none.QueueStats(),
			[]QueueStats{{Collector: usageName, Items: 4}}) // nothing due
	})
	want := map[string]float64{
		"kinsta_exporter_refresh_queue_items[backups]":                        5,
		"kinsta_exporter_refresh_queue_due_items[backups]":                    5,
		"kinsta_exporter_refresh_queue_oldest_due_timestamp_seconds[backups]": unixSeconds(first),
		"kinsta_exporter_refresh_queue_items[disk]":                           3,
		"kinsta_exporter_refresh_queue_due_items[disk]":                       3,
		"kinsta_exporter_refresh_queue_oldest_due_timestamp_seconds[disk]":    unixSeconds(first.Add(time.Minute)),
		"kinsta_exporter_refresh_queue_items[usage]":                          4,
		"kinsta_exporter_refresh_queue_due_items[usage]":                      0,
	}
	if got := gaugeValues(t, queues); !maps.Equal(got, want) {
		t.Fatalf("summed queue series:\n%v\nwant\n%v", got, want)
	}

	// All companies' series and the summed queues in one gather.
	companies := collectFunc(func(ch chan<- prometheus.Metric) {
		for _, e := range []*Exporter{a, b, none} {
			e.CollectCompany(ch)
		}
	})
	got := gaugeValues(t, multiCollector{companies, queues})
	for _, company := range []string{"a", "b", "c"} {
		if got[fmt.Sprintf("kinsta_up[%s]", company)] != 1 {
			t.Errorf("kinsta_up of %s missing or 0 next to the summed queues: %v", company, got)
		}
	}
}

// TestDueStatsFollowTime: the due items are memoised between writes, yet an
// item that falls due as time passes, with no write, is counted at once.
func TestDueStatsFollowTime(t *testing.T) {
	clock := newFakeClock()
	r := newDiskRefresher(t, clock)
	r.mu.Lock()
	r.company = "c1"
	reg := r.byName["disk"]
	for i, in := range []time.Duration{time.Minute, 2 * time.Minute} {
		key := itemKey{siteID: "s", envID: fmt.Sprint("e", i)}
		r.addItem(reg, key, clock.Now())
		reg.items[key].next = r.stamp(clock.Now().Add(in))
		heap.Fix(&r.queue, int(reg.items[key].index))
	}
	r.mu.Unlock()
	due := func() int { return r.queueStats(clock.Now())[0].Due }
	if n := due(); n != 0 {
		t.Fatalf("%d due before any is", n)
	}
	clock.Add(time.Minute)
	if n := due(); n != 1 {
		t.Fatalf("%d due a minute on, want 1", n)
	}
	if n := due(); n != 1 {
		t.Fatalf("%d due asked again, want 1", n)
	}
	clock.Add(time.Hour)
	if n := due(); n != 2 {
		t.Fatalf("%d due an hour on, want 2", n)
	}
}

// TestMalformedElementsCostOnlyThemselves: GET /sites with malformed
// elements among good ones keeps the company up, serves the good sites, and
// counts what was left out.
func TestMalformedElementsCostOnlyThemselves(t *testing.T) {
	company := kinstatest.GenerateCompany("c1", 5, 2, 1)
	fake := kinstatest.New("test-key", company)
	fake.SetFault(kinstatest.RouteSites, kinstatest.Fault{Hostile: kinstatest.Hostile{Kind: kinstatest.HostileBadElements}})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	client, err := kinsta.New(kinsta.Config{BaseURL: srv.URL, APIKey: "test-key"})
	if err != nil {
		t.Fatal(err)
	}
	e := newExporter(t, client, Config{Company: "c1", CacheTTL: time.Minute, RefreshTimeout: 5 * time.Second, MaxStaleness: time.Hour}, log.NewNopLogger())
	e.Sync(context.Background())
	if v := value(t, e, "kinsta_up", "company", "c1"); v != 1 {
		t.Fatalf("kinsta_up %g with malformed elements among good ones", v)
	}
	sites := 0
	e.Gauges(SitesPart, "", func(name, _ string, _ []string, rows Rows) bool {
		values := rows.Values
		if name == "kinsta_site_info" {
			sites += len(values)
		}
		return true
	})
	if sites < 5 {
		t.Fatalf("%d sites served, want the 5 good ones at least", sites)
	}
	for _, element := range []string{"site", "environment", "label"} {
		if v := value(t, e, "kinsta_exporter_malformed_elements_total", "company", "c1", "element", element); v < 1 {
			t.Errorf("malformed %ss counted %g", element, v)
		}
	}
}
