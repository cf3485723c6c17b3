package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
)

// TestDebugProbeLogsOneRefresh: /probe?debug=true answers with the log of
// a GET /sites it forces (the cache is fresh), as text, never the key; a
// second one within debugInterval is refused with Retry-After; without
// debug the probe serves metrics.
func TestDebugProbeLogsOneRefresh(t *testing.T) {
	url, companies := slowAPI(t, 1, 0)
	id := companies[0].ID
	r, _ := newTestServer(t, url, companies, 0)
	if code, body := serve(r.mux, "/probe?company="+id+"&debug=false"); code != 200 || !strings.Contains(body, "kinsta_up{") {
		t.Fatalf("debug=false: %d\n%s", code, body)
	}
	req := httptest.NewRequest("GET", "/probe?company="+id+"&debug=true", nil)
	w := httptest.NewRecorder()
	r.mux.ServeHTTP(w, req)
	body := w.Body.String()
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("%d %q\n%s", w.Code, w.Header().Get("Content-Type"), body)
	}
	for _, want := range []string{"Debug refresh of company " + id, "  1. GET /sites: 200 OK, ", "Bearer <redacted>", "Result: success after "} {
		if !strings.Contains(body, want) {
			t.Errorf("the log lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, companies[0].Key) || strings.Contains(body, "kinsta_up") {
		t.Fatalf("the log shows the key or metrics:\n%s", body)
	}
	w = httptest.NewRecorder()
	r.mux.ServeHTTP(w, req)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("a second debug refresh at once: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if code, _ := serve(r.mux, "/probe?company=nope&debug=true"); code != http.StatusNotFound {
		t.Fatalf("an unknown company's debug probe: %d", code)
	}
}

// TestDebugProbeOfAnUnreachableAPI: a call without a response shows the
// transport's error, and the refresh's kind, without the key.
func TestDebugProbeOfAnUnreachableAPI(t *testing.T) {
	api := httptest.NewServer(http.NotFoundHandler())
	api.Close() // nothing listens there now
	key := "a-key-that-must-not-show-0123"
	r, _ := newTestServer(t, api.URL, []fleet.Company{{ID: "c", Key: key}}, 0)
	code, body := serve(r.mux, "/probe?company=c&debug=true", "X-Prometheus-Scrape-Timeout-Seconds", "5")
	if code != 200 || !strings.Contains(body, "GET /sites: no response (dial tcp ") || !strings.Contains(body, "connection refused), failed: transport, ") || !strings.Contains(body, "Result: failed after ") ||
		!strings.Contains(body, "(kind transport)") || strings.Contains(body, key) {
		t.Fatalf("%d\n%s", code, body)
	}
	if testing.Verbose() {
		t.Log(body)
	}
}

// TestDebugProbesAreBoundedPerCompany: the bound is per company, and a
// company may debug again once debugInterval has passed.
func TestDebugProbesAreBoundedPerCompany(t *testing.T) {
	var d debugProbes
	url, companies := slowAPI(t, 2, 0)
	_, f := newTestServer(t, url, companies, 0)
	a, _ := f.Lookup(companies[0].ID)
	b, _ := f.Lookup(companies[1].ID)
	now := time.Now()
	if d.admit(a.Exporter(), now) != 0 || d.admit(b.Exporter(), now) != 0 {
		t.Fatal("first debug refreshes refused")
	}
	if wait := d.admit(a.Exporter(), now.Add(time.Second)); wait != debugInterval-time.Second {
		t.Fatalf("wait %s, want %s", wait, debugInterval-time.Second)
	}
	if d.admit(a.Exporter(), now.Add(debugInterval)) != 0 || len(d.last) != 1 {
		t.Fatalf("after debugInterval: refused, or %d companies remembered", len(d.last))
	}
}
