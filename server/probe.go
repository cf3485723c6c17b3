package server

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
	"github.com/kinsta-exporter/kinsta_exporter/server/exposition"
)

// probes serves /probe?company=<id>: one company's series, as
// blackbox_exporter's /probe?target= serves one target, for Prometheus
// probing the companies listed by /sd (sharded over replicas).
type probes struct {
	o        Options
	errorLog exposition.Logger

	// metricsCaches are /metrics' renderings, which a probe of the only
	// company of the fleet /metrics serves shares.
	metricsCaches []*exposition.Cache

	debug    debugProbes // /probe?debug=true (debug.go)
	mu       sync.Mutex
	epoch    uint64 // of the companies the handlers were made for
	handlers map[probeKey]probeHandler
}

// probeHandler is a company's handler, and whether it serves /metrics'
// renderings (valid until the companies change).
type probeHandler struct {
	http.Handler
	shared bool
}

// soleCompany is what /metrics serves when it can tell that a company is
// all it serves (fleet.Fleet).
type soleCompany interface {
	ServesOnly(t *fleet.Target) bool
}

// probeKey identifies what a company's handler serves: an exporter kept by a
// reload keeps its handler and the renderings it caches.
type probeKey struct {
	exp      *collector.Exporter
	id, name string
}

// pick is /probe's pickFunc: the company named by the company parameter,
// or with debug=true the log of a refresh of it (debug.go).
func (p *probes) pick(w http.ResponseWriter, r *http.Request) (collector.Source, http.Handler, bool) {
	values := r.URL.Query()["company"]
	if len(values) != 1 || values[0] == "" {
		http.Error(w, "The company parameter is required once: /probe?company=<Kinsta company id>", http.StatusBadRequest)
		return nil, nil, false
	}
	id := values[0]
	companies := p.o.Companies
	target, ok := companies.Lookup(id)
	if !ok && companies.Undiscovered() {
		// No company configured: the key's company is not known until
		// GET /validate names it (one call per cache TTL at most).
		companies.Discover(r.Context())
		target, ok = companies.Lookup(id)
	}
	if !ok {
		http.Error(w, fmt.Sprintf("Company %q is not configured (--config.file or --kinsta.company).", id), http.StatusNotFound)
		return nil, nil, false
	}
	if debugRequested(r) { // the log of a forced refresh, not metrics: no scrape refresh first
		return collector.NoSource{}, p.debug.handler(target, p.o.TimeoutOffset), true
	}
	return target, p.handler(target), true
}

// handler returns the company's handler, made at its first probe: its
// cached parts rendered once per generation, as /metrics renders all
// companies', and its live series gathered per probe, with
// kinsta_exporter_build_info, which tells a company's target from another
// program's (the KinstaExporterDown rule). Handlers of companies that a
// reload removed, renamed or gave a new key are dropped, with their
// renderings, at the first probe after it.
func (p *probes) handler(t *fleet.Target) http.Handler {
	k := probeKey{t.Exporter(), t.ID, t.Name}
	p.mu.Lock()
	defer p.mu.Unlock()
	if epoch := p.o.Companies.Epoch(); p.handlers == nil || epoch != p.epoch {
		p.prune()
		p.epoch = epoch
	}
	if h, ok := p.handlers[k]; ok {
		return h
	}
	live := prometheus.NewRegistry()
	live.MustRegister(collector.LiveCollector(t), versioncollector.NewCollector(p.o.Name))
	// A deployment of one company (the common one) would otherwise keep
	// every rendering twice: /metrics' and the probe's, the same bytes.
	h := probeHandler{}
	caches := p.metricsCaches
	if only, ok := p.o.Metrics.(soleCompany); ok && only.ServesOnly(t) {
		h.shared = true
	} else {
		caches = exposition.Caches(t, p.o.Parts, p.errorLog)
	}
	h.Handler = exposition.Handler(live, caches, exposition.HandlerOpts{ErrorLog: p.errorLog})
	// A reload since the lookup may have removed or renamed the company:
	// its handler then serves this probe only, rather than staying.
	if p.current(k) {
		p.handlers[k] = h
	}
	return h
}

// prune drops the handlers of companies not configured as they were, and
// those sharing /metrics' renderings, which may now serve more companies.
// Called with p.mu held.
func (p *probes) prune() {
	if p.handlers == nil {
		p.handlers = map[probeKey]probeHandler{}
	}
	for k, h := range p.handlers {
		if h.shared || !p.current(k) {
			delete(p.handlers, k)
		}
	}
}

// current reports whether k is a company as configured now.
func (p *probes) current(k probeKey) bool {
	t, ok := p.o.Companies.Lookup(k.id)
	return ok && t.Exporter() == k.exp && t.Name == k.name
}
