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
	if !q[i].next.Equal(q[j].next) {
		return q[i].next.Before(q[j].next)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *queue) Push(x any) {
	it := x.(*item)
	it.index = len(*q)
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

func (r *refresher) addItem(t target, now time.Time) {
	r.seq++
	it := &item{target: t, reg: r.byName[t.collector], seq: r.seq, added: now.UnixNano()}
	if st := r.states[stateKey{t.collector, t.company}]; st != nil && st.disabledUntil.After(now) {
		it.next = st.disabledUntil
	}
	r.items[t] = it
	it.reg.items++
	heap.Push(&r.queue, it)
}

func (r *refresher) removeItem(it *item) {
	if it.index >= 0 {
		heap.Remove(&r.queue, it.index)
	}
	if it.state.lastErr != nil {
		r.state(it.collector, it.company).failing--
	}
	if !it.state.lastSuccess.IsZero() {
		it.reg.changes.Add(1)
	}
	st := r.state(it.collector, it.company)
	st.series, st.bytes = st.series-it.series.len(), st.bytes-it.series.bytes()
	delete(r.items, it.target)
	it.reg.items--
}

// reconcile makes the items match the inventory and fallback modes: new
// sites and environments get items (due at once), gone ones lose theirs
// with their series. Called with r.mu held, by the run loop only.
func (r *refresher) reconcile(now time.Time) {
	r.dirty = false
	// Per collector (but the key's, which has one item whatever the
	// inventory), the items the inventory calls for.
	var perCollector [][]target
	want := map[target]bool{}
	for _, reg := range r.collectors {
		if reg.c.scope(false) == scopeKey || r.inv == nil {
			continue
		}
		sc := reg.c.scope(r.state(reg.name, r.company).fallback)
		targets := r.inv.targets(reg.name, r.company, sc)
		for _, t := range targets {
			want[t] = true
		}
		perCollector = append(perCollector, targets)
	}
	for t, it := range r.items {
		if t.company != "" && !want[t] {
			r.removeItem(it)
		}
	}
	// New items are queued round-robin across collectors (they tie on their
	// zero due time, so creation order decides): every collector gets its
	// first data within seconds, not after the others' whole first pass.
	var lists [][]target
	for _, targets := range perCollector {
		var fresh []target
		for _, t := range targets {
			if _, ok := r.items[t]; !ok {
				fresh = append(fresh, t)
			}
		}
		if len(fresh) > 0 {
			lists = append(lists, fresh)
		}
	}
	for i := 0; len(lists) > 0; i++ {
		kept := lists[:0]
		for _, l := range lists {
			if i < len(l) {
				r.addItem(l[i], now)
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
	write := r.dirty || active && len(r.queue) > 0 && !r.queue[0].next.After(now)
	for _, st := range r.states {
		write = write || st.fallback && !now.Before(st.fallbackUntil)
	}
	if !write {
		wait = -1
		if active && len(r.queue) > 0 {
			wait = r.queue[0].next.Sub(now)
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
	if top.next.After(now) {
		return nil, nil, top.next.Sub(now)
	}
	heap.Pop(&r.queue)
	if st := r.states[stateKey{top.collector, top.company}]; st != nil && st.disabled && !now.Before(st.disabledUntil) {
		st.disabled = false
		level.Info(r.logger).Log("msg", "Collector re-enabled after its 404 pause", "collector", top.collector, "company", top.company)
	}
	return top, r.byName[top.collector], 0
}

func (r *refresher) countItems(collector, company string) int {
	n := 0
	for t := range r.items {
		if t.collector == collector && t.company == company {
			n++
		}
	}
	return n
}

// companyLabel is the company label of an item's series: the API key's
// items carry the key's company, or the first known one until GET /validate
