package server

import (
	"net/http"
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
	handlers := func() map[probeKey]http.Handler {
		p := r.probes
		p.mu.Lock()
		defer p.mu.Unlock()
		out := map[probeKey]http.Handler{}
		for k, v := range p.handlers {
			out[k] = v
		}
		return out
	}
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

func sameKeys(a, b map[probeKey]http.Handler) bool {
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return len(a) == len(b)
}
