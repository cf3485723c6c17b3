package kinsta

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func ptrTo[T any](v T) *T { return &v }

// The domains of sites-include-environments.json (wantSitesIncludeEnvironments).
var (
	fixtureLiveDomains = []Domain{{ID: "7f5d3c2a-1b4e-4f6a-9c8d-0e1f2a3b4c5d", Name: "example.com", Type: "live",
		IsActive: ptrTo(true), IsPrimary: true}}
	fixtureStagingDomains = []Domain{{ID: "8a6e4d3b-2c5f-4a7b-8d9e-1f2a3b4c5d6e", Name: "stg-firstsite-staging.kinsta.cloud",
		Type: "live", IsActive: ptrTo(true), IsPrimary: true}}
)

// decodeEnv decodes one environment object through DecodeSites.
func decodeEnv(t *testing.T, env string) Environment {
	t.Helper()
	sites, err := DecodeSites(strings.NewReader(`{"company":{"sites":[{"id":"s","environments":[` + env + `]}]}}`))
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	if len(sites) != 1 || len(sites[0].Environments) != 1 {
		t.Fatalf("%s: %+v", env, sites)
	}
	return sites[0].Environments[0]
}

// domainsText prints domains with the value of IsActive, not its address.
func domainsText(ds []Domain) string {
	var b strings.Builder
	for _, d := range ds {
		active := "unset"
		if d.IsActive != nil {
			active = fmt.Sprint(*d.IsActive)
		}
		fmt.Fprintf(&b, "{%q %q %q active=%s primary=%v} ", d.ID, d.Name, d.Type, active, d.IsPrimary)
	}
	return b.String()
}

func TestEnvironmentDomainsVariants(t *testing.T) {
	yes, no := ptrTo(true), ptrTo(false)
	tests := []struct {
		name    string
		env     string
		primary string
		want    []Domain
	}{
		{"spec shape: primary listed, matched by id",
			`{"domains":[{"id":"1","name":"a.example","site_id":"s","is_active":true,"type":"live"},
			{"id":"2","name":"b.example","site_id":"s","is_active":false,"type":"live"}],
			"primaryDomain":{"id":"2","name":"b.example","site_id":"s","is_active":false,"type":"live"}}`,
			"b.example", []Domain{{ID: "1", Name: "a.example", Type: "live", IsActive: yes},
				{ID: "2", Name: "b.example", Type: "live", IsActive: no, IsPrimary: true}}},
		{"recorded shape: is_active not sent is nil, not false",
			`{"domains":[{"id":"1","name":"a.example","type":"live"}],"primaryDomain":{"id":"1","name":"a.example","type":"live"}}`,
			"a.example", []Domain{{ID: "1", Name: "a.example", Type: "live", IsPrimary: true}}},
		{"primaryDomain as a bare name, listed: matched by name, any case",
			`{"domains":[{"id":"1","name":"A.example"},{"id":"2","name":"b.example"}],"primaryDomain":"a.EXAMPLE"}`,
			"a.EXAMPLE", []Domain{{ID: "1", Name: "A.example", IsPrimary: true}, {ID: "2", Name: "b.example"}}},
		{"primaryDomain not in domains[] is appended",
			`{"domains":[{"id":"1","name":"a.example"}],"primaryDomain":{"name":"p.example"}}`,
			"p.example", []Domain{{ID: "1", Name: "a.example"}, {Name: "p.example", IsPrimary: true}}},
		{"same name, other id: not the primary",
			`{"domains":[{"id":"1","name":"p.example"}],"primaryDomain":{"id":"9","name":"p.example"}}`,
			"p.example", []Domain{{ID: "1", Name: "p.example"}, {ID: "9", Name: "p.example", IsPrimary: true}}},
		{"snake_case primary_domain",
			`{"domains":[],"primary_domain":{"id":"1","name":"p.example","is_active":true}}`,
			"p.example", []Domain{{ID: "1", Name: "p.example", IsActive: yes, IsPrimary: true}}},
		{"camelCase wins over snake_case",
			`{"primary_domain":"q.example","primaryDomain":"p.example"}`,
			"p.example", []Domain{{Name: "p.example", IsPrimary: true}}},
		{"no domains", `{"domains":[],"primaryDomain":null}`, "", nil},
		{"absent", `{"id":"e"}`, "", nil},
		{"domains of a wrong type", `{"domains":{"name":"a.example"},"primaryDomain":42}`, "", nil},
		{"odd elements: strings are names, the rest is dropped",
			`{"domains":[1,"bare.example",null,{"name":""},[{"name":"x"}],true,
			{"id":"x","name":"a.example","is_active":"false"}]}`,
			"", []Domain{{Name: "bare.example"}, {ID: "x", Name: "a.example", IsActive: no}}},
		{"is_active spellings",
			`{"domains":[{"name":"a","is_active":null},{"name":"b","is_active":"yes"},{"name":"c","is_active":0},
			{"name":"d","is_active":"TRUE"},{"name":"e","is_active":{}},{"name":"f","is_active":1}]}`,
			"", []Domain{{Name: "a"}, {Name: "b"}, {Name: "c", IsActive: no}, {Name: "d", IsActive: yes},
				{Name: "e"}, {Name: "f", IsActive: yes}}},
		{"wildcards and repeats are kept here",
			`{"domains":[{"name":"*.a.example"},{"name":"a.example"},{"name":"a.example"}],"primaryDomain":{"name":"a.example"}}`,
			"a.example", []Domain{{Name: "*.a.example"}, {Name: "a.example", IsPrimary: true}, {Name: "a.example", IsPrimary: true}}},
		{"numbers where strings belong",
			`{"domains":[{"id":7,"name":"a.example","type":1}]}`,
			"", []Domain{{ID: "7", Name: "a.example", Type: "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := decodeEnv(t, tt.env)
			if e.PrimaryDomain != tt.primary {
				t.Errorf("PrimaryDomain %q, want %q", e.PrimaryDomain, tt.primary)
			}
			if got, want := domainsText(e.Domains), domainsText(tt.want); got != want || (e.Domains == nil) != (tt.want == nil) {
				t.Errorf("Domains\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

// TestRecordedDomainsFixture reads the recorded payload's domain shape (no
// is_active, a wildcard) through the client.
func TestRecordedDomainsFixture(t *testing.T) {
	rec := &recorder{body: fixture(t, "derived-sites-domains-recorded.json")}
	sites, err := clientFor(t, rec).Sites(context.Background(), testCompany)
	if err != nil {
		t.Fatal(err)
	}
	live, staging := sites[0].Environments[0], sites[0].Environments[1]
	if live.PrimaryDomain != "www.charliesite.example" || len(live.Domains) != 4 {
		t.Fatalf("live: %q %s", live.PrimaryDomain, domainsText(live.Domains))
	}
	for _, d := range live.Domains {
		if d.IsActive != nil || d.Type != "live" || d.IsPrimary != (d.Name == "www.charliesite.example") {
			t.Errorf("live domain %s", domainsText([]Domain{d}))
		}
	}
	want := "charliesite.example www.charliesite.example charliesite.kinsta.cloud"
	if got := domainNames(live.ExportableDomains()); got != want {
		t.Errorf("exportable %q, want %q", got, want)
	}
	if got := domainsText(staging.Domains); got != domainsText([]Domain{{ID: "d3333333-3333-4333-8333-333333333331",
		Name: "staging-charliesite.kinsta.cloud", Type: "live", IsPrimary: true}}) {
		t.Errorf("staging: %s", got)
	}
}

func domainNames(ds []Domain) string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Name
	}
	return strings.Join(names, " ")
}

func TestExportableDomains(t *testing.T) {
	yes, no := ptrTo(true), ptrTo(false)
	e := Environment{Domains: []Domain{
		{ID: "1", Name: "*.shop.example", IsActive: yes},
		{ID: "2", Name: " Shop.Example. ", Type: "live", IsActive: no},
		{ID: "3", Name: "shop.example", IsActive: yes, IsPrimary: true},
		{ID: "4", Name: "old.example", IsActive: no},
		{ID: "5", Name: "unknown.example"},
		{ID: "6", Name: "UNKNOWN.example"},
		{ID: "7", Name: "bücher.example"},
		{Name: ""}, {Name: "."}, {Name: "a..example"}, {Name: ".a.example"}, {Name: "a.example:8443"},
		{Name: "a b.example"}, {Name: "a/b"}, {Name: "x*.example"}, {Name: "user@a.example"},
		{Name: "a\x00.example"}, {Name: strings.Repeat("a", 254)}, {Name: "\xff.example"},
	}}
	before := domainsText(e.Domains)
	got := e.ExportableDomains()
	want := []Domain{
		{ID: "2", Name: "shop.example", Type: "live", IsActive: yes, IsPrimary: true},
		{ID: "4", Name: "old.example", IsActive: no},
		{ID: "5", Name: "unknown.example"},
		{ID: "7", Name: "bücher.example"},
	}
	if domainsText(got) != domainsText(want) {
		t.Errorf("got  %s\nwant %s", domainsText(got), domainsText(want))
	}
	if domainsText(e.Domains) != before || *no {
		t.Error("ExportableDomains changed Environment.Domains")
	}
	if got := (Environment{}).ExportableDomains(); got != nil {
		t.Errorf("no domains: %v", got)
	}
	if got := (Environment{Domains: []Domain{{Name: "*.a.example"}}}).ExportableDomains(); got != nil {
		t.Errorf("only a wildcard: %v", got)
	}
}

// TestExportableDomainsLongList covers the map that a long list switches to.
func TestExportableDomainsLongList(t *testing.T) {
	var e Environment
	for round := range 3 {
		for i := range 40 {
			e.Domains = append(e.Domains, Domain{Name: fmt.Sprintf("d%02d.example", i), IsPrimary: round == 2 && i == 39})
		}
	}
	got := e.ExportableDomains()
	if len(got) != 40 || got[0].Name != "d00.example" || got[39].Name != "d39.example" || !got[39].IsPrimary {
		t.Fatalf("%d domains: %s", len(got), domainsText(got))
	}
	for _, d := range got[:39] {
		if d.IsPrimary {
			t.Errorf("%s primary", d.Name)
		}
	}
}

// TestDomainsDoNotCostTheInventory: whatever domains hold, the sites decode.
func TestDomainsDoNotCostTheInventory(t *testing.T) {
	for _, v := range []string{`"x"`, `1`, `{"a":[1]}`, `[[[]]]`, `[{"name":{"x":1},"id":[1],"is_active":[true]}]`} {
		body := `{"company":{"sites":[{"id":"s","environments":[{"id":"e","domains":` + v +
			`,"primaryDomain":` + v + `,"primary_domain":` + v + `}]}]}}`
		sites, err := DecodeSites(bytes.NewReader([]byte(body)))
		if err != nil || len(sites) != 1 || sites[0].Environments[0].ID != "e" {
			t.Errorf("%s: %+v %v", v, sites, err)
		}
	}
}

func TestDomainsReflectFixture(t *testing.T) {
	// The spec fixture: the one domain is the primary, active.
	sites, err := DecodeSites(bytes.NewReader(fixture(t, "sites-include-environments.json")))
	if err != nil {
		t.Fatal(err)
	}
	got := sites[0].Environments[0].ExportableDomains()
	want := []Domain{{ID: "7f5d3c2a-1b4e-4f6a-9c8d-0e1f2a3b4c5d", Name: "example.com", Type: "live", IsActive: ptrTo(true), IsPrimary: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %s", domainsText(got))
	}
}
