package fleet

import (
	"context"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
)

// The fleet is a collector.Source over every company (what /metrics
// serves), and a Target one over one company (what /probe serves). Both add
// kinsta_company_info to the site series.

var _, _ collector.Source = (*Fleet)(nil), (*Target)(nil)

// Refresh refreshes every company that is due, as collector.Exporter.Refresh
// does, and returns when all are done or ctx ends.
func (f *Fleet) Refresh(ctx context.Context) {
	entries := f.state.Load().entries
	if len(entries) == 1 {
		entries[0].run.exp.Refresh(ctx)
		return
	}
	var wg sync.WaitGroup
	for _, e := range entries {
		wg.Go(func() { e.run.exp.Refresh(ctx) })
	}
	wg.Wait()
}

// Gauges hands over every company's gauges of the part; the site series
// start with kinsta_company_info of the configured companies.
func (f *Fleet) Gauges(part, family string, yield collector.GaugeYield) bool {
	st := f.state.Load()
	if part == collector.SitesPart && (family == "" || family == companyInfoName) {
		var labels []string
		var values []float64
		for _, e := range st.entries {
			if e.id != "" { // a company found by GET /validate has no configured name
				labels, values = append(labels, e.id, e.name), append(values, 1)
			}
		}
		if len(values) > 0 && !yield(companyInfoName, companyInfoHelp, companyInfoLabels, collector.Rows{LabelValues: labels, Values: values}) {
			return false
		}
	}
	for _, e := range st.entries {
		if !e.run.exp.Gauges(part, family, yield) {
			return false
		}
	}
	return true
}

// Generation changes whenever Gauges(part) may hand over something else: on
// an Apply that changed the companies and whenever a company's Generation
// changes. O(companies).
func (f *Fleet) Generation(part string) uint64 {
	st := f.state.Load()
	memo, ok := f.gens.Load(part)
	if !ok { // asked on every request: allocate only the first time
		memo, _ = f.gens.LoadOrStore(part, &genMemo{})
	}
	return memo.(*genMemo).next(st.epoch, st.entries, part)
}

// CollectLive sends every company's live series, and the refresh queue
// series summed over them.
func (f *Fleet) CollectLive(ch chan<- prometheus.Metric) {
	entries := f.state.Load().entries
	queues := make([][]collector.QueueStats, 0, len(entries))
	for _, e := range entries {
		e.run.exp.CollectCompany(ch)
		queues = append(queues, e.run.exp.QueueStats())
	}
	collector.CollectQueues(ch, queues...)
}

// genMemo turns the vector (epoch, each exporter's generation) into a
// counter that moves whenever the vector does.
type genMemo struct {
	mu    sync.Mutex
	epoch uint64
	gens  []uint64
	count uint64
}

func (g *genMemo) next(epoch uint64, entries []entry, part string) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	changed := epoch != g.epoch || len(entries) != len(g.gens)
	if changed {
		g.gens = make([]uint64, len(entries))
	}
	for i, e := range entries {
		if gen := e.run.exp.Generation(part); gen != g.gens[i] || changed {
			g.gens[i] = gen
			changed = true
		}
	}
	if changed {
		g.epoch = epoch
		g.count++
	}
	return g.count
}

// Target is one company, as /probe serves it.
type Target struct {
	ID, Name string
	exp      *collector.Exporter
	info     bool // a configured company: kinsta_company_info goes with its site series
}

// Refresh refreshes the company if it is due, within ctx.
func (t *Target) Refresh(ctx context.Context) { t.exp.Refresh(ctx) }

// Gauges hands over the company's gauges of the part.
func (t *Target) Gauges(part, family string, yield collector.GaugeYield) bool {
	if t.info && part == collector.SitesPart && (family == "" || family == companyInfoName) &&
		!yield(companyInfoName, companyInfoHelp, companyInfoLabels, collector.Rows{LabelValues: []string{t.ID, t.Name}, Values: []float64{1}}) {
		return false
	}
	return t.exp.Gauges(part, family, yield)
}

// Generation is the exporter's: the info series is fixed for a Target.
func (t *Target) Generation(part string) uint64 { return t.exp.Generation(part) }

// CollectLive sends the company's live series, with its own queue series.
func (t *Target) CollectLive(ch chan<- prometheus.Metric) { t.exp.CollectLive(ch) }

// Exporter is the company's exporter: the same one for as long as a reload
// keeps the company (and its key), so a caller may key a cache on it.
func (t *Target) Exporter() *collector.Exporter { return t.exp }

// Lookup returns the company with id, if it is configured (or, without
// configured ids, once GET /validate has named it). It makes no API call.
func (f *Fleet) Lookup(id string) (*Target, bool) {
	if id == "" {
		return nil, false
	}
	st := f.state.Load()
	if e := st.byID[id]; e != nil {
		return &Target{ID: id, Name: e.name, exp: e.run.exp, info: true}, true
	}
	if e := st.byID[""]; e != nil && e.run.exp.Company() == id {
		return &Target{ID: id, exp: e.run.exp}, true
	}
	return nil, false
}

// ServesOnly reports whether t is the fleet's only company, so that the
// fleet's gauges are t's, part for part (kinsta_company_info included):
// /probe of t may then serve /metrics' renderings. Valid until Epoch moves.
func (f *Fleet) ServesOnly(t *Target) bool {
	st := f.state.Load()
	if len(st.entries) != 1 {
		return false
	}
	e := st.entries[0]
	return e.run.exp == t.exp && (e.id != "") == t.info && (!t.info || e.id == t.ID && e.name == t.Name)
}

// Epoch changes whenever an Apply changed the companies or their
// exporters; a caller that keeps something per company drops what is no
// longer configured when it moves.
func (f *Fleet) Epoch() uint64 { return f.state.Load().epoch }

// CompanyRef is a company's id and name.
type CompanyRef struct{ ID, Name string }

// Companies lists the configured companies in configuration order; a company
// found by GET /validate is listed once found. It makes no API call.
func (f *Fleet) Companies() []CompanyRef {
	st := f.state.Load()
	out := make([]CompanyRef, 0, len(st.entries))
	for _, e := range st.entries {
		if id := e.run.exp.Company(); id != "" {
			out = append(out, CompanyRef{ID: id, Name: e.name})
		}
	}
	return out
}

// Undiscovered reports whether the fleet still waits for GET /validate to
// name the key's company; Discover triggers that.
func (f *Fleet) Undiscovered() bool {
	e := f.state.Load().byID[""]
	return e != nil && e.run.exp.Company() == ""
}

// Discover refreshes the company-less exporter, which asks GET /validate for
// the key's company (at most once per cache TTL), within ctx.
func (f *Fleet) Discover(ctx context.Context) {
	if e := f.state.Load().byID[""]; e != nil {
		e.run.exp.Refresh(ctx)
	}
}

// sameEntries reports whether two configurations serve the same companies
// with the same exporters and names.
func sameEntries(a, b []entry) bool {
	return slices.EqualFunc(a, b, func(x, y entry) bool { return x == y })
}
