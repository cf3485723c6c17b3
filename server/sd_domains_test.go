package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// domainsAPI serves two companies with one key: "agency" with a live site
// (live and staging environments), a suspended one and a live site whose
// domains come in the recorded shape (no is_active); "client" with one site.
func domainsAPI(t *testing.T) (*kinstatest.Fake, string, []fleet.Company) {
	t.Helper()
	agency := &kinstatest.Company{ID: "agency", Sites: []kinstatest.Site{
		{ID: "s1", Name: "acme", DisplayName: "Acme Bakery", Status: "live", Environments: []kinstatest.Environment{
			{ID: "e1", Name: "live", DisplayName: "Live", PrimaryDomain: "www.acme.example", Domains: []kinstatest.Domain{
				{Name: "acme.example"}, {Name: "*.acme.example"}, {Name: "old.acme.example", Inactive: true}}},
			{ID: "e2", Name: "staging", DisplayName: "Staging", PrimaryDomain: "staging.acme.example"},
		}},
		{ID: "s2", Name: "paused", DisplayName: "Paused Site", Status: "suspended", Environments: []kinstatest.Environment{
			{ID: "e3", Name: "live", DisplayName: "Live", PrimaryDomain: "paused.example"}}},
		{ID: "s3", Name: "kestrel", DisplayName: "Kestrel Aviation", Status: "live", Environments: []kinstatest.Environment{
			{ID: "e4", Name: "live", DisplayName: "Live", PrimaryDomain: "kestrel.example", Wire: kinstatest.WireDomainsRecorded}}},
	}}
	client := &kinstatest.Company{ID: "client", Sites: []kinstatest.Site{
		{ID: "s9", Name: "tide", DisplayName: "Tidewater Kayaks", Status: "live", Environments: []kinstatest.Environment{
			{ID: "e9", Name: "live", DisplayName: "Live", PrimaryDomain: "tidewater.example"}}}}}
	fake := kinstatest.New("key", agency, client)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	return fake, srv.URL, []fleet.Company{{ID: "agency", Name: "Agency", Key: "key"}, {ID: "client", Key: "key"}}
}

// domainsServer serves the companies as main.go wires them with
// --web.probe-only: /metrics serves nothing and calls no API.
func domainsServer(t *testing.T, url string, companies []fleet.Company, max int) *routes {
	t.Helper()
	f := fleet.New(fleet.Options{
		NewClient: func(key string) (*kinsta.Client, error) {
			return kinsta.New(kinsta.Config{BaseURL: url, APIKey: key})
		},
		Collector: collector.Config{CacheTTL: time.Minute, RefreshTimeout: 10 * time.Second, MaxStaleness: time.Hour},
	})
	if _, err := f.Apply(companies); err != nil {
		t.Fatal(err)
	}
	r, err := newRoutes(Options{Name: "kinsta_exporter", TelemetryPath: "/metrics", RefreshTimeout: 10 * time.Second,
		TimeoutOffset: 500 * time.Millisecond, Registry: prometheus.NewRegistry(), Metrics: collector.NoSource{},
		Parts: collector.Parts(nil), Companies: f, Logger: log.NewNopLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r.mux.Handle("/sd/domains-limited", sdDomainsHandler{r.probes.o, max})
	return r
}

// sdTargets GETs path and returns its targets as "domain labels..." lines.
func sdTargets(t *testing.T, h http.Handler, path string, labels ...string) []string {
	t.Helper()
	code, body := serve(h, path)
	if code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, code, body)
	}
	var groups []sdTargetGroup
	if err := json.Unmarshal([]byte(body), &groups); err != nil {
		t.Fatalf("%s: not HTTP SD JSON: %v\n%s", path, err, body)
	}
	out := []string{}
	for _, g := range groups {
		if len(g.Targets) != 1 || g.Targets[0] != g.Labels["__meta_kinsta_domain"] {
			t.Fatalf("%s: group %+v: want one target, its __meta_kinsta_domain", path, g)
		}
		line := g.Targets[0]
		for _, l := range labels {
			line += " " + g.Labels["__meta_kinsta_"+l]
		}
		out = append(out, line)
	}
	return out
}

// TestSDDomains: which domains each query lists, with which labels, from
// the cached inventory: no API call on request, in --web.probe-only mode.
func TestSDDomains(t *testing.T) {
	fake, url, companies := domainsAPI(t)
	r := domainsServer(t, url, companies, maxSDDomainTargets)
	h := r.mux

	if got := sdTargets(t, h, "/sd/domains"); len(got) != 0 {
		t.Fatalf("before any refresh: %v, want none", got)
	}
	if n := fake.Requests(""); n != 0 {
		t.Fatalf("/sd/domains made %d API requests before any probe, want 0", n)
	}
	for _, c := range companies { // what Prometheus' /probe scrapes do
		if code, body := serve(h, "/probe?company="+c.ID); code != http.StatusOK {
			t.Fatalf("/probe: %d %s", code, body)
		}
	}
	fake.ResetRequests()

	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/sd/domains", []string{"www.acme.example", "kestrel.example", "tidewater.example"}},
		{"/sd/domains?domains=primary", []string{"www.acme.example", "kestrel.example", "tidewater.example"}},
		{"/sd/domains?domains=all", []string{"www.acme.example", "acme.example", "staging.acme.example",
			"paused.example", "kestrel.example", "tidewater.example"}},
		{"/sd/domains?company=client", []string{"tidewater.example"}},
		{"/sd/domains?company=client&company=agency", []string{"tidewater.example", "www.acme.example", "kestrel.example"}},
		{"/sd/domains?company=agency,client&domains=all&company=agency", []string{"www.acme.example", "acme.example",
			"staging.acme.example", "paused.example", "kestrel.example", "tidewater.example"}},
	} {
		if got := sdTargets(t, h, tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.path, got, tc.want)
		}
	}

	got := sdTargets(t, h, "/sd/domains?domains=all", "company_id", "company_name", "site_id", "site_name",
		"site_display_name", "site_status", "environment_id", "environment_name", "environment_display_name",
		"domain_primary", "domain_active")
	want := []string{
		"www.acme.example agency Agency s1 acme Acme Bakery live e1 live Live true true",
		"acme.example agency Agency s1 acme Acme Bakery live e1 live Live false true",
		"staging.acme.example agency Agency s1 acme Acme Bakery live e2 staging Staging true true",
		"paused.example agency Agency s2 paused Paused Site suspended e3 live Live true true",
		"kestrel.example agency Agency s3 kestrel Kestrel Aviation live e4 live Live true ", // is_active not sent
		"tidewater.example client  s9 tide Tidewater Kayaks live e9 live Live true true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("labels:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := fake.Requests(""); n != 0 {
		t.Fatalf("/sd/domains made %d API requests, want 0", n)
	}
}

// TestSDDomainsRefusals: bad queries get a one-line 4xx, and an answer over
// the limit is refused rather than cut.
func TestSDDomainsRefusals(t *testing.T) {
	_, url, companies := domainsAPI(t)
	r := domainsServer(t, url, companies, 2)
	serve(r.mux, "/probe?company=agency")
	for _, tc := range []struct {
		method, path string
		code         int
		says         string
	}{
		{"GET", "/sd/domains?company=nope", http.StatusNotFound, `company "nope" is not configured`},
		{"GET", "/sd/domains?domains=some", http.StatusBadRequest, "domains=primary (the default) or domains=all"},
		{"GET", "/sd/domains?domains=all&domains=all", http.StatusBadRequest, "once"},
		{"GET", "/sd/domains?domain=all", http.StatusBadRequest, `unknown parameter "domain"`},
		{"POST", "/sd/domains", http.StatusMethodNotAllowed, "use GET"},
		{"GET", "/sd/domains-limited?domains=all", http.StatusUnprocessableEntity, "5 domains is more than the 2"},
		{"GET", "/sd/domains-limited", http.StatusOK, `"targets":["kestrel.example"]`}, // 2 primary domains: within the limit
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		w := httptest.NewRecorder()
		r.mux.ServeHTTP(w, req)
		body := w.Body.String()
		if w.Code != tc.code || !strings.Contains(body, tc.says) || tc.code != http.StatusOK && strings.Count(body, "\n") != 1 {
			t.Errorf("%s %s: %d %q, want %d and one line saying %q", tc.method, tc.path, w.Code, body, tc.code, tc.says)
		}
	}
}
