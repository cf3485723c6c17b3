package server

import (
	"strings"
	"testing"

	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
)

// TestProbeHandlerIsKept: a company's /probe handler, with the renderings
// it caches, is made once and kept across probes and reloads that keep the
// company; after a reload that replaced its exporter (a new key) the old one
// is dropped, so renderings of what is no longer configured do not stay.
func TestProbeHandlerIsKept(t *testing.T) {
	url, companies := slowAPI(t, 1, 0)
	id := companies[0].ID
	r, f := newTestServer(t, url, companies, 0)
	probe := func() string {
		code, body := serve(r.mux, "/probe?company="+id)
		if code != 200 {
			t.Fatalf("/probe: %d %s", code, body)
		}
		return body
	}
	handlers := func() map[probeKey]probeHandler { return probeHandlers(r) }
	first := probe()
	kept := handlers()
	if len(kept) != 1 {
		t.Fatalf("%d probe handlers after one company's probe", len(kept))
	}
	if second := probe(); !strings.Contains(second, `kinsta_site_info{company="`+id+`"`) || second != first {
		t.Fatalf("second probe differs:\n%s\nfirst:\n%s", second, first)
	}
	if _, err := f.Apply(companies); err != nil { // a reload that keeps everything
		t.Fatal(err)
	}
	probe()
	if h := handlers(); len(h) != 1 || !sameKeys(h, kept) {
		t.Fatal("a reload that kept the company dropped its probe handler")
	}
	// The same company with another key (the fake answers 401: no matter).
	if _, err := f.Apply([]fleet.Company{{ID: id, Key: "another-key"}}); err != nil {
		t.Fatal(err)
	}
	serve(r.mux, "/probe?company="+id)
	if h := handlers(); len(h) != 1 || sameKeys(h, kept) {
		t.Fatalf("%d probe handlers, the replaced exporter's kept: %v", len(h), sameKeys(h, kept))
	}
}

func probeHandlers(r *routes) map[probeKey]probeHandler {
	p := r.probes
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[probeKey]probeHandler{}
	for k, v := range p.handlers {
		out[k] = v
	}
	return out
}

// TestProbeOfTheOnlyCompanySharesRenderings: with one company, /probe of
// it serves /metrics' renderings (the same bytes; a second copy of every
// rendering at 10,000 sites is megabytes), with its own live series. Once
// a reload adds a company the sharing ends, and each probe serves its own
// company only.
func TestProbeOfTheOnlyCompanySharesRenderings(t *testing.T) {
	url, companies := slowAPI(t, 2, 0)
	a, b := companies[0], companies[1]
	r, f := newTestServer(t, url, companies[:1], 0)
	gzip := []string{"Accept-Encoding", "gzip"}
	if code, _ := serve(r.mux, "/metrics", gzip...); code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	renders := func() (n uint64) {
		for _, c := range r.probes.metricsCaches {
			n += c.Renders()
		}
		return n
	}
	before := renders()
	code, body := serve(r.mux, "/probe?company="+a.ID)
	if code != 200 || !strings.Contains(body, `kinsta_site_info{company="`+a.ID+`"`) || !strings.Contains(body, "kinsta_exporter_build_info") {
		t.Fatalf("/probe: %d\n%s", code, body)
	}
	// The probe's OpenMetrics rendering is /metrics' too: rendered once.
	om := append([]string{"Accept", "application/openmetrics-text;version=1.0.0"}, gzip...)
	serve(r.mux, "/probe?company="+a.ID, om...)
	afterProbe := renders()
	serve(r.mux, "/metrics", om...)
	if h := probeHandlers(r); len(h) != 1 || !firstHandler(h).shared || afterProbe == before || renders() != afterProbe {
		t.Fatalf("the only company's probe: shared %v, renders %d, %d after its probe, %d after /metrics",
			firstHandler(h).shared, before, afterProbe, renders())
	}

	if _, err := f.Apply(companies); err != nil {
		t.Fatal(err)
	}
	for _, c := range []fleet.Company{a, b} {
		code, body := serve(r.mux, "/probe?company="+c.ID)
		other := a.ID
		if c.ID == a.ID {
			other = b.ID
		}
		if code != 200 || !strings.Contains(body, `company="`+c.ID+`"`) || strings.Contains(body, `company="`+other+`"`) {
			t.Fatalf("/probe of %s with two companies: %d\n%s", c.ID, code, body)
		}
	}
	for k, h := range probeHandlers(r) {
		if h.shared {
			t.Errorf("%s shares /metrics' renderings with two companies configured", k.id)
		}
	}
}

func firstHandler(h map[probeKey]probeHandler) probeHandler {
	for _, v := range h {
		return v
	}
	return probeHandler{}
}

func sameKeys(a, b map[probeKey]probeHandler) bool {
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return len(a) == len(b)
}
