package collector

import (
	"cmp"
	"iter"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// companyLabel is the company label of an item's series: the API key's
// items carry the key's company, or the exporter's until GET /validate has
// answered.
func (r *refresher) companyLabel(company string) string {
	if company != "" {
		return company
	}
	if r.keyCompany != "" {
		return r.keyCompany
	}
	return r.company
}

var (
	collectorDisabledDesc = prometheus.NewDesc("kinsta_exporter_collector_disabled",
		"1 while the collector is paused for the company because the Kinsta API answered 404, which also means the API key's role may not read the data; it is retried after max(6h, the collector's interval). 0 otherwise.",
		[]string{"company", "collector"}, nil)
	queueItemsDesc = prometheus.NewDesc("kinsta_exporter_refresh_queue_items",
		"Work items (the API key, companies, sites or environments) the collector refreshes in the background.",
		[]string{"collector"}, nil)
	queueDueDesc = prometheus.NewDesc("kinsta_exporter_refresh_queue_due_items",
		"Work items of the collector whose refresh is due but not done yet: how far the background refresher is behind. It works only while scrapes arrive.",
		[]string{"collector"}, nil)
	queueOldestDesc = prometheus.NewDesc("kinsta_exporter_refresh_queue_oldest_due_timestamp_seconds",
		"Unix time since which the collector's most overdue work item has been due (time() minus it is how far the refresher is behind); absent when none is due.",
		[]string{"collector"}, nil)
)

// expired reports whether an item's last good series are too old to serve:
// older than the collector's interval plus --kinsta.max-staleness.
func (r *refresher) expired(it *item, now time.Time) bool {
	return time.Duration(r.stamp(now)-it.lastSuccess) > r.expiresAfter(it)
}

// collectorAgg is the collector series of one collector and company,
// computed from its items.
type collectorAgg struct {
	attempted  bool
	failing    bool
	oldestGood time.Time
}

// itemTotals is what collect needs from all items that changes only under
// the write lock: kept until the next write.
type itemTotals struct {
	writes   uint64
	items    []int // per collector, by registered.pos
	aggs     map[stateKey]*collectorAgg
	counters []*item // items with series other than gauges (activity's)
}

// itemTotals returns the totals of the current write. Called with r.mu
// read-locked, so that no write happens meanwhile.
func (r *refresher) itemTotals() *itemTotals {
	r.memoMu.Lock()
	defer r.memoMu.Unlock()
	writes := r.mu.writes.Load()
	if t := r.totals; t != nil && t.writes == writes {
		return t
	}
	t := &itemTotals{writes: writes, items: make([]int, len(r.collectors)), aggs: map[stateKey]*collectorAgg{}}
	for it := range r.allItems() {
		t.items[it.reg.pos]++
		k := stateKey{it.reg.name, r.companyLabel(it.company(r))}
		a := t.aggs[k]
		if a == nil {
			a = &collectorAgg{}
			t.aggs[k] = a
		}
		if it.lastAttempt != 0 {
			a.attempted = true
			a.failing = a.failing || it.lastErr != nil
		}
		if good := r.time(it.lastSuccess); !good.IsZero() {
			if a.oldestGood.IsZero() || good.Before(a.oldestGood) {
				a.oldestGood = good
			}
			if it.series != nil && len(it.series.metrics) > 0 {
				t.counters = append(t.counters, it)
			}
		}
	}
	r.totals = t
	return t
}

// dueMemo is dueStats' result, valid for the write it was computed at until
// the next item falls due: at 10,000 sites tens of thousands of items wait,
// and walking them took most of a back-to-back scrape's CPU.
type dueMemo struct {
	valid  bool
	writes uint64
	until  time.Time // when the next item falls due; zero: none will
	stats  []QueueStats
}

// dueStats returns the due items per collector (by registered.pos), from
// the memo when it is still valid. Called with r.mu read-locked.
func (r *refresher) dueStats(now time.Time) []QueueStats {
	r.memoMu.Lock()
	defer r.memoMu.Unlock()
	m := &r.due
	if !m.valid || m.writes != r.mu.writes.Load() || !m.until.IsZero() && !now.Before(m.until) {
		stats, until := r.walkDue(now)
		*m = dueMemo{valid: true, writes: r.mu.writes.Load(), until: until, stats: stats}
	}
	return slices.Clone(m.stats)
}

// walkDue walks the queue's due items only: the queue is a heap by due
// time, so a node that is not due has no due children. until is the
// earliest due time of the nodes that are not due: no other item falls due
// before it.
func (r *refresher) walkDue(now time.Time) (stats []QueueStats, until time.Time) {
	stats = make([]QueueStats, len(r.collectors))
	at := r.stamp(now)
	var walk func(i int)
	walk = func(i int) {
		if i >= len(r.queue) {
			return
		}
		it := r.queue[i]
		if !it.isDue(at) {
			if next := r.time(it.next); until.IsZero() || next.Before(until) {
				until = next
			}
			return
		}
		q := &stats[it.reg.pos]
		q.Due++
		if s := r.time(it.dueSince()); q.OldestDue.IsZero() || s.Before(q.OldestDue) {
			q.OldestDue = s
		}
		walk(2*i + 1)
		walk(2*i + 2)
	}
	walk(0)
	return stats, until
}

// queueStats are the work items per collector, for the queue series.
func (r *refresher) queueStats(now time.Time) []QueueStats {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	t := r.itemTotals()
	stats := r.dueStats(now)
	for _, reg := range r.collectors {
		stats[reg.pos].Collector = reg.name
		stats[reg.pos].Items = t.items[reg.pos]
	}
	return stats
}

// collectCompany sends the counters of the items (activity's) and the
// collector series per company. It never calls the API.
func (r *refresher) collectCompany(ch chan<- prometheus.Metric, now time.Time) {
	if r == nil {
		return
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	t := r.itemTotals()
	for _, it := range t.counters {
		if !r.expired(it, now) {
			for _, m := range it.series.metrics {
				ch <- m
			}
		}
	}
	for k, st := range r.states {
		label := r.companyLabel(k.company)
		disabled := st.isDisabled(now)
		ch <- prometheus.MustNewConstMetric(collectorDisabledDesc, prometheus.GaugeValue, boolValue(disabled), label, k.collector)
		a := t.aggs[stateKey{k.collector, label}]
		if a == nil {
			a = &collectorAgg{}
		}
		if !a.attempted && !disabled {
			continue
		}
		ok := a.attempted && !a.failing && !disabled
		ch <- prometheus.MustNewConstMetric(collectorSuccessDesc, prometheus.GaugeValue, boolValue(ok), label, k.collector)
		ch <- prometheus.MustNewConstMetric(collectorDurationDesc, prometheus.GaugeValue, st.lastDuration.Seconds(), label, k.collector)
		if !a.oldestGood.IsZero() {
			ch <- prometheus.MustNewConstMetric(collectorLastSuccessDesc, prometheus.GaugeValue,
				unixSeconds(a.oldestGood), label, k.collector)
		}
	}
}

// expiresAfter is how long an item's last good series are served.
func (r *refresher) expiresAfter(it *item) time.Duration { return it.reg.interval + r.maxStale }

// staleBits is how many low bits of a generation count expired items.
const staleBits = 20

// expiryMemo is generation's count of expired items per collector, valid
// for the write it was computed at until the next item expires.
type expiryMemo struct {
	valid      bool
	writes     uint64
	expired    []uint64  // by registered.pos
	nextExpiry time.Time // zero: none will
}

// generation identifies what itemGauges would hand over now for the
// collector: it changes whenever one of its items' served series change or
// expire. O(items) under the read lock after a write or an expiry, O(1)
// otherwise.
func (r *refresher) generation(now time.Time, collector string) uint64 {
	if r == nil || r.byName[collector] == nil {
		return 0
	}
	reg := r.byName[collector]
	r.mu.RLock()
	defer r.mu.RUnlock()
	r.memoMu.Lock()
	defer r.memoMu.Unlock()
	m := &r.expiry
	if !m.valid || m.writes != r.mu.writes.Load() || !m.nextExpiry.IsZero() && !now.Before(m.nextExpiry) {
		r.countExpired(now)
	}
	// Between two changes an item's series can only go from served to
	// expired (time moves on): an item served again is a change. So the
	// number of expired ones identifies the set.
	return reg.changes.Load()<<staleBits | m.expired[reg.pos]&(1<<staleBits-1)
}

// countExpired recomputes the expiry memo. Called with r.mu read-locked
// and r.memoMu held.
func (r *refresher) countExpired(now time.Time) {
	m := expiryMemo{valid: true, writes: r.mu.writes.Load(), expired: make([]uint64, len(r.collectors))}
	for it := range r.allItems() {
		if it.lastSuccess == 0 {
			continue
		}
		if r.expired(it, now) {
			m.expired[it.reg.pos]++
			continue
		}
		// expired is "older than", so the first expired instant is 1ns later.
		at := r.time(it.lastSuccess).Add(r.expiresAfter(it) + time.Nanosecond)
		if m.nextExpiry.IsZero() || at.Before(m.nextExpiry) {
			m.nextExpiry = at
		}
	}
	r.expiry = m
}

// itemGauges hands the gauges of the collector's items whose series are
// served (family's only, unless it is ""), family by family, each in the
// items' creation order so that renderings are stable.
func (r *refresher) itemGauges(now time.Time, collector, family string, yield GaugeYield) bool {
	for _, f := range r.servedFamilies(now, collector) {
		if family != "" && f.family.name != family {
			continue
		}
		for _, rows := range f.rows {
			if !yield(f.family.name, f.family.help, f.family.labels, rows.yielded()) {
				return false
			}
		}
	}
	return true
}

// servedFamily is one gauge family of a collector's served series: the
// rows of each item that has some.
type servedFamily struct {
	family *gaugeFamily
	rows   []*gaugeRows
}

// servedMemo is a collector's servedFamilies of one generation.
type servedMemo struct {
	gen      uint64
	families []servedFamily
}

// servedFamilies are the collector's served gauges grouped by family, kept
// until its generation moves: a scrape renders a part one family at a time
// (and every identity scrape does), so a pass must neither walk every
// item nor the other families' rows.
func (r *refresher) servedFamilies(now time.Time, collector string) []servedFamily {
	if r == nil || r.byName[collector] == nil {
		return nil
	}
	reg := r.byName[collector]
	// The generation first: what is grouped after it is at least as new.
	gen := r.generation(now, collector)
	if m := reg.served.Load(); m != nil && m.gen == gen {
		return m.families
	}
	families := groupFamilies(r.servedGauges(now, reg))
	reg.served.Store(&servedMemo{gen: gen, families: families})
	return families
}

// servedGauges are the gauges of the collector's items whose series are
// served, in the items' creation order. The slices are the items' own: an
// item's series are immutable, replaced whole on success under the lock,
// so that what was read under it can be read after.
func (r *refresher) servedGauges(now time.Time, reg *registered) [][]familyRows {
	type served struct {
		seq    uint64
		gauges []familyRows
	}
	r.mu.RLock()
	list := make([]served, 0, len(reg.items))
	for _, it := range reg.items {
		if it.series != nil && len(it.series.gauges) > 0 && r.served(it, now) {
			list = append(list, served{it.seq, it.series.gauges})
		}
	}
	r.mu.RUnlock()
	slices.SortFunc(list, func(a, b served) int { return cmp.Compare(a.seq, b.seq) })
	out := make([][]familyRows, len(list))
	for i, s := range list {
		out[i] = s.gauges
	}
	return out
}

// groupFamilies groups the items' gauges by family, in order of first use.
func groupFamilies(items [][]familyRows) []servedFamily {
	var families []servedFamily
	for _, gauges := range items {
		for i := range gauges {
			g := &gauges[i]
			if len(g.rows.values) == 0 {
				continue
			}
			k := slices.IndexFunc(families, func(f servedFamily) bool { return f.family == g.family })
			if k < 0 {
				k = len(families)
				families = append(families, servedFamily{family: g.family, rows: make([]*gaugeRows, 0, len(items))})
			}
			families[k].rows = append(families[k].rows, &g.rows)
		}
	}
	return families
}

// served reports whether the item's last good series are served now.
func (r *refresher) served(it *item, now time.Time) bool {
	return it.lastSuccess != 0 && !r.expired(it, now)
}

// allItems are every collector's items. Called with r.mu held.
func (r *refresher) allItems() iter.Seq[*item] {
	return func(yield func(*item) bool) {
		for _, reg := range r.collectors {
			for _, it := range reg.items {
				if !yield(it) {
					return
				}
			}
		}
	}
}
