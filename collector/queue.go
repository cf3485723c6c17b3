package collector

import (
	"container/heap"
	"time"

	"github.com/go-kit/log/level"
)

// queue is a min-heap of items by due time.
type queue []*item

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].next != q[j].next {
		return q[i].next < q[j].next
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = int32(i), int32(j)
}
func (q *queue) Push(x any) {
	it := x.(*item)
	it.index = int32(len(*q))
	*q = append(*q, it)
}
func (q *queue) Pop() any {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	it.index = -1
	return it
}

func (r *refresher) addItem(reg *registered, key itemKey, now time.Time) {
	r.seq++
	it := &item{reg: reg, key: key, seq: r.seq, added: r.stamp(now)}
	if st := r.states[stateKey{reg.name, it.company(r)}]; st != nil && st.disabledUntil.After(now) {
		it.next = r.stamp(st.disabledUntil)
	}
	reg.items[key] = it
	heap.Push(&r.queue, it)
}

func (r *refresher) removeItem(it *item) {
	if it.index >= 0 {
		heap.Remove(&r.queue, int(it.index))
	}
	st := r.state(it.reg.name, it.company(r))
	if it.lastErr != nil {
		st.failing--
	}
	if it.lastSuccess != 0 {
		it.reg.changes.Add(1)
	}
	st.series, st.bytes = st.series-it.series.len(), st.bytes-it.series.bytes()
	delete(it.reg.items, it.key)
}

// removeCompanyItems removes every item but the API key's. Called with r.mu
// held, before the refresher's company changes.
func (r *refresher) removeCompanyItems() {
	for _, reg := range r.collectors {
		if !reg.keyScope {
			for _, it := range reg.items {
				r.removeItem(it)
			}
		}
	}
}

// reconcile makes the items match the inventory and fallback modes: new
// sites and environments get items (due at once), gone ones lose theirs
// with their series. Called with r.mu held, by the run loop only.
func (r *refresher) reconcile(now time.Time) {
	r.dirty = false
	if r.inv == nil {
		return
	}
	// Per collector (but the key's, which has one item whatever the
	// inventory), the items the inventory calls for and do not exist yet.
	// One collector at a time, so that no set of every item's key is held.
	type fresh struct {
		reg  *registered
		keys []itemKey
	}
	var lists []fresh
	for _, reg := range r.collectors {
		if reg.keyScope {
			continue
		}
		keys := r.inv.keys(reg.c.scope(r.state(reg.name, r.company).fallback))
		want := make(map[itemKey]struct{}, len(keys))
		for _, k := range keys {
			want[k] = struct{}{}
		}
		for k, it := range reg.items {
			if _, ok := want[k]; !ok {
				r.removeItem(it)
			}
		}
		missing := keys[:0]
		for _, k := range keys {
			if _, ok := reg.items[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			lists = append(lists, fresh{reg, missing})
		}
	}
	// New items are queued round-robin across collectors (they tie on their
	// zero due time, so creation order decides): every collector gets its
	// first data within seconds, not after the others' whole first pass.
	for i := 0; len(lists) > 0; i++ {
		kept := lists[:0]
		for _, l := range lists {
			if i < len(l.keys) {
				r.addItem(l.reg, l.keys[i], now)
				kept = append(kept, l)
			}
		}
		lists = kept
	}
}

// next returns the item to refresh now, or how long to sleep before
// looking again (wait < 0: until woken). It takes the write lock only when
// it changes something, since every write is a new generation.
func (r *refresher) next() (it *item, reg *registered, wait time.Duration) {
	now := r.now()
	active := now.UnixNano() < r.leaseUntil.Load()
	r.mu.RLock()
	write := r.dirty || active && len(r.queue) > 0 && r.queue[0].isDue(r.stamp(now))
	for _, st := range r.states {
		write = write || st.fallback && !now.Before(st.fallbackUntil)
	}
	if !write {
		wait = -1
		if active && len(r.queue) > 0 {
			wait = r.time(r.queue[0].next).Sub(now)
		}
		r.mu.RUnlock()
		return nil, nil, wait
	}
	r.mu.RUnlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	for k, st := range r.states {
		if st.fallback && !now.Before(st.fallbackUntil) {
			st.fallback = false
			r.dirty = true
			level.Info(r.logger).Log("msg", "Trying the company-wide endpoint again", "collector", k.collector, "company", k.company)
		}
	}
	if r.dirty {
		r.reconcile(now)
	}
	if !active || len(r.queue) == 0 {
		return nil, nil, -1 // no scrape lately, or nothing to do: sleep until a scrape
	}
	top := r.queue[0]
	if !top.isDue(r.stamp(now)) {
		return nil, nil, r.time(top.next).Sub(now)
	}
	heap.Pop(&r.queue)
	if st := r.states[stateKey{top.reg.name, top.company(r)}]; st != nil && st.disabled && !now.Before(st.disabledUntil) {
		st.disabled = false
		level.Info(r.logger).Log("msg", "Collector re-enabled after its 404 pause", "collector", top.reg.name, "company", top.company(r))
	}
	return top, top.reg, 0
}

func (r *refresher) countItems(collector string) int {
	return len(r.byName[collector].items)
}

// companyLabel is the company label of an item's series: the API key's
// items carry the key's company, or the first known one until GET /validate
