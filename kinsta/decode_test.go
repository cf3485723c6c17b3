package kinsta

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

// recorder serves body for every request and remembers what it was asked.
type recorder struct {
	mu      sync.Mutex
	status  int
	body    []byte
	paths   []string // escaped path
	queries []string // raw query
	headers []http.Header
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.paths = append(rec.paths, r.URL.EscapedPath())
	rec.queries = append(rec.queries, r.URL.RawQuery)
	rec.headers = append(rec.headers, r.Header.Clone())
	status, body := rec.status, rec.body
	rec.mu.Unlock()
	serve(cmpOrInt(status, http.StatusOK), body)(w, r)
}

func cmpOrInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

var wantSitesIncludeEnvironments = []Site{
	{
		ID:          "54fb80af-576c-4fdc-ba4f-b596c83f15a1",
		Name:        "firstsite",
		DisplayName: "First site",
		Status:      "live",
		Labels:      []Label{{ID: "54fb80af-576c-4fdc-ba4f-b596c83f15a1", Name: "Do not remove"}},
		Environments: []Environment{
			{
				ID:               "54fb80af-576c-4fdc-ba4f-b596c83f15a1",
				Name:             "live",
				DisplayName:      "Live",
				PrimaryDomain:    "example.com",
				Domains:          fixtureLiveDomains,
				PHPVersion:       "8.3",
				WordPressVersion: "6.3.1",
			},
			{
				ID:            "9b7f5e4c-3d6a-4b8c-9e0f-2a3b4c5d6e7f",
				Name:          "staging",
				DisplayName:   "Staging",
				IsPremium:     true,
				PrimaryDomain: "stg-firstsite-staging.kinsta.cloud",
				Domains:       fixtureStagingDomains,
				PHPVersion:    "8.2",
			},
		},
	},
	{
		ID:          "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a",
		Name:        "nolabels",
		DisplayName: "No labels, no environments yet",
		Status:      "live",
	},
}

func TestSitesFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []Site
	}{
		{"sites.json", []Site{{
			ID: "54fb80af-576c-4fdc-ba4f-b596c83f15a1", Name: "firstsite", DisplayName: "First site", Status: "live",
			Labels: []Label{{ID: "54fb80af-576c-4fdc-ba4f-b596c83f15a1", Name: "Do not remove"}},
		}}},
		{"sites-include-environments.json", wantSitesIncludeEnvironments},
		{"sites-site_labels-variant.json", []Site{{
			ID: "54fb80af-576c-4fdc-ba4f-b596c83f15a1", Name: "firstsite", DisplayName: "First site", Status: "live",
			Labels: []Label{{ID: "42", Name: "client:acme"}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rec := &recorder{body: fixture(t, tt.file)}
			c := clientFor(t, rec)
			got, err := c.Sites(context.Background(), testCompany)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if rec.paths[0] != "/sites" || rec.queries[0] != "company="+testCompany+"&include_environments=true" {
				t.Errorf("request %s?%s", rec.paths[0], rec.queries[0])
			}
		})
	}
}

func TestDecodeSitesLiberal(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Site
	}{
		{"empty list", `{"company":{"sites":[]}}`, []Site{}},
		{"nulls everywhere",
			`{"company":{"sites":[{"id":"s","name":null,"display_name":null,"status":null,"siteLabels":null,"site_labels":null,
			"environments":[{"id":"e","name":null,"display_name":null,"is_blocked":null,"is_premium":null,"wordpress_version":null,
			"id_edge_cache":null,"cdn_cache_id":null,"primaryDomain":null,"domains":null,"ssh_connection":null,"container_info":null}]}]}}`,
			[]Site{{ID: "s", Environments: []Environment{{ID: "e"}}}}},
		{"null items in lists are dropped", `{"company":{"sites":[{"id":"s","siteLabels":[null],"environments":[null]}]}}`,
			[]Site{{ID: "s"}}},
		{"unknown fields", `{"company":{"id":"x","sites":[{"id":"s","new_field":{"a":[1,2]},"environments":[{"id":"e","shiny":true,
			"container_info":{"php_engine_version":"php8.1","extra":1}}]}],"more":[]},"meta":{"v":2}}`,
			[]Site{{ID: "s", Environments: []Environment{{ID: "e", PHPVersion: "8.1"}}}}},
		{"ssh_port string or number, any type",
			`{"company":{"sites":[{"id":"s","environments":[{"id":"a","ssh_connection":{"ssh_port":"12001"}},
			{"id":"b","ssh_connection":{"ssh_port":36750}},{"id":"c","ssh_connection":{"ssh_port":{"x":1}}}]}]}}`,
			[]Site{{ID: "s", Environments: []Environment{{ID: "a"}, {ID: "b"}, {ID: "c"}}}}},
		{"both label spellings merged, numeric id, duplicates and empties dropped",
			`{"company":{"sites":[{"id":"s","siteLabels":[{"id":"1","name":"a"},{"id":7,"name":"b"},{}],
			"site_labels":[{"id":1,"name":"a"},{"id":2.5,"name":"c"}]}]}}`,
			[]Site{{ID: "s", Labels: []Label{{ID: "1", Name: "a"}, {ID: "7", Name: "b"}, {ID: "2.5", Name: "c"}}}}},
		{"labels of a wrong type are no labels", `{"company":{"sites":[{"id":"s","siteLabels":{"id":"1"},"site_labels":"x"}]}}`,
			[]Site{{ID: "s"}}},
		{"numbers and booleans where strings are expected",
			`{"company":{"sites":[{"id":123,"name":true,"display_name":1.5,"environments":[{"id":9,"wordpress_version":6.4,"is_blocked":"true","is_premium":1}]}]}}`,
			[]Site{{ID: "123", Name: "true", DisplayName: "1.5", Environments: []Environment{{ID: "9", WordPressVersion: "6.4", IsBlocked: true, IsPremium: true}}}}},
		{"php spellings", `{"company":{"sites":[{"id":"s","environments":[{"container_info":{"php_engine_version":"PHP 7.4"}},
			{"container_info":{"php_engine_version":"8.4"}},{"container_info":{"php_engine_version":null}}]}]}}`,
			[]Site{{ID: "s", Environments: []Environment{{PHPVersion: "7.4"}, {PHPVersion: "8.4"}, {}}}}},
		{"escapes and unicode", `{"company":{"sites":[{"id":"s","display_name":"Caf\u00e9 \"quoted\" \/ ✓"}]}}`,
			[]Site{{ID: "s", DisplayName: `Café "quoted" / ✓`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeSites(strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeSitesWrongShape(t *testing.T) {
	for name, body := range map[string]string{
		"empty body":          ``,
		"whitespace":          " \n",
		"null":                `null`,
		"top-level array":     `[{"id":"s"}]`,
		"no company":          `{"sites":[]}`,
		"company null":        `{"company":null}`,
		"company array":       `{"company":[]}`,
		"no sites":            `{"company":{}}`,
		"sites null":          `{"company":{"sites":null}}`,
		"sites object":        `{"company":{"sites":{"id":"s"}}}`,
		"sites string":        `{"company":{"sites":"none"}}`,
		"html":                `<!DOCTYPE html><html><body>Bad gateway</body></html>`,
		"truncated":           `{"company":{"sites":[{"id":"s","name":"fir`,
		"malformed":           `{"company":{"sites":[{"id":"s",}]}}`,
		"trailing garbage":    `{"company":{"sites":[]}} {"x":1}`,
		"invalid escape":      `{"company":{"sites":[{"id":"\x"}]}}`,
		"number":              `42`,
		"string":              `"sites"`,
		"error body with 2xx": `{"message":"Bad request format","status":400}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeSites(strings.NewReader(body))
			if !IsKind(err, KindBadResponse) {
				t.Fatalf("err = %v, want bad_response", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		body string
		want KeyInfo
	}{
		{"validate.json", string(fixture(t, "validate.json")),
			KeyInfo{Name: "my-api-key", Status: "active", CompanyID: testCompany, ExpiresAt: ms(1704081600000)}},
		{"validate-no-expiry.json", string(fixture(t, "validate-no-expiry.json")),
			KeyInfo{Name: "my-api-key", Status: "active", CompanyID: testCompany}},
		{"expiry as number", `{"name":"k","expires_at":1704081600000,"company":"c","status":"expired","x":[]}`,
			KeyInfo{Name: "k", Status: "expired", CompanyID: "c", ExpiresAt: ms(1704081600000)}},
		{"expiry as ISO", `{"name":"k","expires_at":"2028-08-21T08:15:21.872Z","company":"c"}`,
			KeyInfo{Name: "k", CompanyID: "c", ExpiresAt: time.Date(2028, 8, 21, 8, 15, 21, 872e6, time.UTC)}},
		{"expiry empty or garbage", `{"name":"k","expires_at":"","company":"c"}`, KeyInfo{Name: "k", CompanyID: "c"}},
		{"expiry zero", `{"name":"k","expires_at":"0","company":"c"}`, KeyInfo{Name: "k", CompanyID: "c"}},
		{"expiry garbage", `{"name":"k","expires_at":"soon","company":"c"}`, KeyInfo{Name: "k", CompanyID: "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{body: []byte(tt.body)}
			got, err := clientFor(t, rec).Validate(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if rec.paths[0] != "/validate" || rec.queries[0] != "" {
				t.Errorf("request %s?%s", rec.paths[0], rec.queries[0])
			}
		})
	}
	for _, body := range []string{`{}`, `{"expires_at":null,"status":"active"}`, `[]`, `null`, `{"message":"x","status":200}`} {
		_, err := clientFor(t, &recorder{body: []byte(body)}).Validate(context.Background())
		if !IsKind(err, KindBadResponse) {
			t.Errorf("body %s: err = %v, want bad_response", body, err)
		}
	}
}

func TestBackups(t *testing.T) {
	rec := &recorder{body: fixture(t, "backups.json")}
	got, err := clientFor(t, rec).Backups(context.Background(), "env/1 a")
	if err != nil {
		t.Fatal(err)
	}
	want := []Backup{{ID: "123456789", Name: "mySiteName-1234567890-backupType", Type: "manual", CreatedAt: ms(1665382600770)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// The id is escaped into one path segment.
	if rec.paths[0] != "/sites/environments/env%2F1%20a/backups" {
		t.Errorf("path %s", rec.paths[0])
	}

	got, err = clientFor(t, &recorder{body: []byte(`{"environment":{"backups":[{"id":"7","created_at":"1665382600770","note":null,"type":null},{}]}}`)}).
		Backups(context.Background(), "e")
	want = []Backup{{ID: "7", CreatedAt: ms(1665382600770)}, {}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, %v; want %+v", got, err, want)
	}
	for _, body := range []string{`{"environment":{}}`, `{"backups":[]}`, `{"environment":{"backups":null}}`} {
		if _, err := clientFor(t, &recorder{body: []byte(body)}).Backups(context.Background(), "e"); !IsKind(err, KindBadResponse) {
			t.Errorf("%s: err = %v, want bad_response", body, err)
		}
	}
}

func TestEnvironmentExtensions(t *testing.T) {
	rec := &recorder{body: fixture(t, "env-plugins.json")}
	got, err := clientFor(t, rec).EnvironmentPlugins(context.Background(), "env1")
	want := []EnvironmentExtension{{Name: "akismet", Title: "Akismet Anti-Spam: Spam Protection", Status: "active",
		Version: "1.0.0", Update: "available", UpdateVersion: "1.0.1", UpdateStatus: "updated"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("plugins: got %+v, %v; want %+v", got, err, want)
	}
	if rec.paths[0] != "/sites/environments/env1/plugins" {
		t.Errorf("path %s", rec.paths[0])
	}

	rec = &recorder{body: fixture(t, "env-themes.json")}
	got, err = clientFor(t, rec).EnvironmentThemes(context.Background(), "env1")
	want = []EnvironmentExtension{{Name: "twentytwentythree", Title: "Twenty Twenty-Three", Status: "active",
		Version: "1.2", Update: "available", UpdateVersion: "1.3"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("themes: got %+v, %v; want %+v", got, err, want)
	}
	if rec.paths[0] != "/sites/environments/env1/themes" {
		t.Errorf("path %s", rec.paths[0])
	}

	// A plugins body is not a themes body.
	if _, err := clientFor(t, &recorder{body: fixture(t, "env-plugins.json")}).EnvironmentThemes(context.Background(), "e"); !IsKind(err, KindBadResponse) {
		t.Errorf("themes from a plugins body: err = %v", err)
	}
	got, err = clientFor(t, &recorder{body: []byte(`{"environment":{"container_info":{"wp_plugins":{"data":[]}}}}`)}).
		EnvironmentPlugins(context.Background(), "e")
	if err != nil || len(got) != 0 {
		t.Errorf("empty list: %v, %v", got, err)
	}
}

func TestCompanyPlugins(t *testing.T) {
	rec := &recorder{body: fixture(t, "company-wp-plugins.json")}
	// The fixture says total 15 but holds one item: the next page is asked
	// for, and is empty here.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("offset") != "0" {
			serve(200, []byte(`{"company":{"plugins":{"total":15,"items":[]}}}`))(w, r)
			return
		}
		rec.ServeHTTP(w, r)
	})
	got, err := clientFor(t, h).CompanyPlugins(context.Background(), testCompany)
	if err != nil {
		t.Fatal(err)
	}
	want := CompanyExtensions{
		LastUpdatedAt: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
		Items: []CompanyExtension{{
			Name: "elementor", Title: "Elementor", LatestVersion: "3.22.1", EnvironmentCount: 5, UpdateCount: 2,
			Installs: []ExtensionInstall{{
				EnvironmentID: testCompany, SiteDisplayName: "My Awesome Site", DisplayName: "Live",
				Status: "active", Version: "1.0.0", Update: "available", UpdateVersion: "2.0.0", Vulnerable: true,
			}},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if len(rec.paths) != 1 || rec.paths[0] != "/company/"+testCompany+"/wp-plugins" || rec.queries[0] != pageQuery(0) {
		t.Errorf("requests %v %v", rec.paths, rec.queries)
	}
}

func TestCompanyThemes(t *testing.T) {
	body := `{"company":{"themes":{"total":1,"last_updated_at":null,"items":[{"name":"astra","title":"Astra",
		"latest_version":null,"is_latest_version_vulnerable":true,"environment_count":"1","update_count":0,
		"environments":[{"id":"e1","site_display_name":"S","display_name":"Staging","theme_status":"inactive",
		"theme_version":"4.0","theme_update":null,"theme_update_version":null,"is_theme_version_vulnerable":false}]}]}}}`
	rec := &recorder{body: []byte(body)}
	got, err := clientFor(t, rec).CompanyThemes(context.Background(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	want := CompanyExtensions{Items: []CompanyExtension{{
		Name: "astra", Title: "Astra", LatestVersionVulnerable: true, EnvironmentCount: 1,
		Installs: []ExtensionInstall{{EnvironmentID: "e1", SiteDisplayName: "S", DisplayName: "Staging", Status: "inactive", Version: "4.0"}},
	}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if rec.paths[0] != "/company/c1/wp-themes" {
		t.Errorf("path %s", rec.paths[0])
	}
	// A plugins body is not a themes body.
	if _, err := clientFor(t, &recorder{body: fixture(t, "company-wp-plugins.json")}).CompanyThemes(context.Background(), "c"); !IsKind(err, KindBadResponse) {
		t.Errorf("themes from a plugins body: err = %v", err)
	}
}

// pagedPlugins serves n plugins in pages by offset/limit, reporting total
// (or no total when total < 0).
func pagedPlugins(t *testing.T, n, total int, queries *[]string) http.HandlerFunc {
	var mu sync.Mutex
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*queries = append(*queries, r.URL.RawQuery)
		mu.Unlock()
		q := r.URL.Query()
		off, lim := atoi(t, q.Get("offset")), atoi(t, q.Get("limit"))
		var items []string
		for i := off; i < n && i < off+lim; i++ {
			items = append(items, `{"name":"p`+itoa(i)+`"}`)
		}
		totalField := ""
		if total >= 0 {
			totalField = `"total":` + itoa(total) + `,`
		}
		serve(200, []byte(`{"company":{"plugins":{`+totalField+`"items":[`+strings.Join(items, ",")+`]}}}`))(w, r)
	}
}

func TestCompanyPluginsPaging(t *testing.T) {
	tests := []struct {
		name         string
		n, total     int
		wantItems    int
		wantRequests int
	}{
		{"until total", 250, 250, 250, 3},
		{"exact multiple stops at total", 200, 200, 200, 2},
		{"exact multiple without total needs an empty page", 200, -1, 200, 3},
		// A short page is not the end: the server may cap the page size.
		{"short page before total, then an empty one", 130, 500, 130, 3},
		{"empty", 0, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var queries []string
			got, err := clientFor(t, pagedPlugins(t, tt.n, tt.total, &queries)).CompanyPlugins(context.Background(), "c")
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Items) != tt.wantItems || len(queries) != tt.wantRequests {
				t.Fatalf("%d items in %d requests (%v), want %d in %d", len(got.Items), len(queries), queries, tt.wantItems, tt.wantRequests)
			}
			for i, x := range got.Items {
				if x.Name != "p"+itoa(i) {
					t.Fatalf("item %d is %q", i, x.Name)
				}
			}
			for i, q := range queries {
				if want := pageQuery(min(i*100, tt.n)); q != want {
					t.Errorf("request %d query %q, want %q", i, q, want)
				}
			}
		})
	}
}

// pageQuery is the query of the company inventory page at offset.
func pageQuery(offset int) string {
	return "limit=100&offset=" + itoa(offset) + "&order_by=" + url.QueryEscape(`{"field":"name","order":"ascend"}`)
}

func TestCompanyPluginsPagingStopsOnLoop(t *testing.T) {
	// A server that never ends: new items on every page, no total.
	var queries []string
	_, err := clientFor(t, pagedPlugins(t, 1<<30, -1, &queries)).CompanyPlugins(context.Background(), "c")
	if !IsKind(err, KindBadResponse) || len(queries) != maxCompanyPages {
		t.Fatalf("err = %v after %d requests", err, len(queries))
	}
	// A server that ignores offset: the second page brings nothing new.
	full := make([]string, companyPageLimit)
	for i := range full {
		full[i] = `{"name":"p` + itoa(i) + `"}`
	}
	rec := &recorder{body: []byte(`{"company":{"plugins":{"total":1000,"items":[` + strings.Join(full, ",") + `]}}}`)}
	_, err = clientFor(t, rec).CompanyPlugins(context.Background(), "c")
	if !IsKind(err, KindBadResponse) || !strings.Contains(err.Error(), "offset ignored") || len(rec.paths) != 2 {
		t.Fatalf("err = %v after %d requests", err, len(rec.paths))
	}
}

func TestCompanyPluginsPageError(t *testing.T) {
	// The second page fails: no partial inventory.
	var n int
	var mu sync.Mutex
	h := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if !first {
			serve(500, fixture(t, "error-500.json"))(w, r)
			return
		}
		pagedPlugins(t, 300, 300, new([]string))(w, r)
	}
	got, err := clientFor(t, http.HandlerFunc(h)).CompanyPlugins(context.Background(), "c")
	if !IsKind(err, KindServer) || got.Items != nil {
		t.Fatalf("got %d items, err %v", len(got.Items), err)
	}
}

func TestSiteUsageThisMonth(t *testing.T) {
	tests := []struct {
		kind UsageKind
		file string
		want float64
	}{
		{UsageVisits, "usage-visits.json", 15230},
		{UsageBandwidth, "usage-bandwidth.json", 32212254720},
		{UsageCDNBandwidth, "usage-cdn-bandwidth.json", 16106127360},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			rec := &recorder{body: fixture(t, tt.file)}
			got, err := clientFor(t, rec).SiteUsageThisMonth(context.Background(), "site1", tt.kind)
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
			if want := "/sites/site1/usage/" + string(tt.kind) + "/this-month"; rec.paths[0] != want {
				t.Errorf("path %s, want %s", rec.paths[0], want)
			}
		})
	}
	ok := map[string]float64{
		`{"site":{"this_month_usage":{"visits":"15230"}}}`:      15230,
		`{"site":{"this_month_usage":{"visits":0,"other":1}}}`:  0,
		`{"site":{"id":1,"this_month_usage":{"visits":1.5e3}}}`: 1500,
	}
	for body, want := range ok {
		got, err := clientFor(t, &recorder{body: []byte(body)}).SiteUsageThisMonth(context.Background(), "s", UsageVisits)
		if err != nil || got != want {
			t.Errorf("%s: got %v, %v; want %v", body, got, err, want)
		}
	}
	bad := map[string]UsageKind{
		`{"site":{"this_month_usage":{"visits":null}}}`:            UsageVisits,
		`{"site":{"this_month_usage":{"visits":"many"}}}`:          UsageVisits,
		`{"site":{"this_month_usage":{}}}`:                         UsageVisits,
		`{"site":{}}`:                                              UsageBandwidth,
		`{"site":{"this_month_usage":{"bandwidth":5}}}`:            UsageCDNBandwidth, // the CDN key differs
		`{"site":{"this_month_cdn_usage":{"bandwidth":5}}}`:        UsageBandwidth,
		`{"this_month_usage":{"visits":1}}`:                        UsageVisits,
		`{"site":{"this_month_usage":{"visits":1}}}` + ` trailing`: UsageVisits,
	}
	for body, kind := range bad {
		_, err := clientFor(t, &recorder{body: []byte(body)}).SiteUsageThisMonth(context.Background(), "s", kind)
		if !IsKind(err, KindBadResponse) {
			t.Errorf("%s (%s): err = %v, want bad_response", body, kind, err)
		}
	}
	if _, err := newTestClient(t, "http://127.0.0.1:1").SiteUsageThisMonth(context.Background(), "s", "disk"); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestDiskUsage(t *testing.T) {
	rec := &recorder{status: http.StatusAccepted, body: fixture(t, "analytics-diskspace.json")}
	got, err := clientFor(t, rec).DiskUsage(context.Background(), testCompany, "env1")
	want := DiskUsage{Bytes: 1073741824, At: time.Date(2025, 10, 28, 0, 0, 0, 0, time.UTC)}
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	if rec.paths[0] != "/sites/environments/env1/analytics/diskspace" ||
		rec.queries[0] != "company_id="+testCompany+"&time_span=7_days&time_zone=00%3A00" {
		t.Errorf("request %s?%s", rec.paths[0], rec.queries[0])
	}

	tests := []struct {
		name string
		body string
		want DiskUsage
	}{
		{"latest by date, not position",
			`{"analytics":{"analytics_response":{"data":[{"total":1,"dataset":[{"key":"2025-10-28T00:00:00","value":"300"},{"key":"2025-10-27T00:00:00.000Z","value":"200"}]}]}}}`,
			DiskUsage{Bytes: 300, At: time.Date(2025, 10, 28, 0, 0, 0, 0, time.UTC)}},
		{"points without a value are skipped",
			`{"analytics":{"analytics_response":{"data":[{"dataset":[{"key":"2025-10-27T00:00:00","value":"5"},{"key":"2025-10-28T00:00:00","value":null},{"key":"2025-10-29T00:00:00","value":"n/a"}]}]}}}`,
			DiskUsage{Bytes: 5, At: time.Date(2025, 10, 27, 0, 0, 0, 0, time.UTC)}},
		{"numeric value and undated point",
			`{"analytics":{"analytics_response":{"data":[{"dataset":[{"value":7}]}]}}}`,
			DiskUsage{Bytes: 7}},
		{"total when the dataset is empty",
			`{"analytics":{"analytics_response":{"key":"diskSpaceUsage","data":[{"name":"diskSpaceUsage","total":"4096","dataset":[]}]}}}`,
			DiskUsage{Bytes: 4096}},
		{"nothing: empty data", `{"analytics":{"analytics_response":{"data":[]}}}`, DiskUsage{}},
		{"nothing: no points, no total", `{"analytics":{"analytics_response":{"data":[{"total":null,"dataset":null}]}}}`, DiskUsage{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := clientFor(t, &recorder{status: 202, body: []byte(tt.body)}).DiskUsage(context.Background(), "c", "e")
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	for _, body := range []string{`{"analytics":{}}`, `{"analytics":{"analytics_response":{"data":null}}}`, `{}`, `{"analytics":{"analytics_response":{"data":{}}}}`} {
		if _, err := clientFor(t, &recorder{status: 202, body: []byte(body)}).DiskUsage(context.Background(), "c", "e"); !IsKind(err, KindBadResponse) {
			t.Errorf("%s: err = %v, want bad_response", body, err)
		}
	}
}

func TestActivityLogs(t *testing.T) {
	body := `{"company":{"activity_logs":{"items":[
		{"id":34181968,"site_id":"s1","created_at":1665382600770,"is_done":true,"has_failed":false,"has_warning":false,
		 "type":"deleteSite","public_error":null,"ip_address":"203.0.113.42","initiated_by":{"id":"u","role":null},
		 "user_agent_info":{"browser_name":"x"},"descriptions":["Delete site \"Test ABC\""]},
		{"id":34181969,"site_id":null,"created_at":"1665382600771","is_done":false,"has_failed":true,"type":"clearCache"}
	],"total":42}}}`
	rec := &recorder{body: []byte(body)}
	got, err := clientFor(t, rec).ActivityLogs(context.Background(), "c1", 20, 10)
	want := ActivityPage{Total: 42, Items: []Activity{
		{ID: "34181968", SiteID: "s1", Type: "deleteSite", CreatedAt: ms(1665382600770), IsDone: true},
		{ID: "34181969", Type: "clearCache", CreatedAt: ms(1665382600771), HasFailed: true},
	}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v\nwant %+v", got, err, want)
	}
	if rec.paths[0] != "/company/c1/activity-logs" || rec.queries[0] != "limit=10&offset=20" {
		t.Errorf("request %s?%s", rec.paths[0], rec.queries[0])
	}
	if _, err := clientFor(t, &recorder{body: []byte(`{"company":{"activity_logs":{"total":1}}}`)}).ActivityLogs(context.Background(), "c", 0, 0); !IsKind(err, KindBadResponse) {
		t.Errorf("missing items: err = %v", err)
	}
}

func TestEndpointFromContextAndHeaders(t *testing.T) {
	rec := &recorder{}
	srv := newTestServer(t, rec)
	var mu sync.Mutex
	var endpoints []string
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		endpoints = append(endpoints, EndpointFromContext(r.Context()))
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})
	// A base URL with a path and a trailing slash.
	c := newTestClient(t, srv.URL+"/v2/", func(cfg *Config) { cfg.Transport = transport; cfg.UserAgent = "kinsta_exporter/1.2.3" })
	ctx := context.Background()
	calls := []struct {
		body     string
		call     func() error
		endpoint string
		path     string
	}{
		{`{"name":"k"}`, func() error { _, err := c.Validate(ctx); return err }, "/validate", "/v2/validate"},
		{`{"company":{"sites":[]}}`, func() error { _, err := c.Sites(ctx, "c"); return err }, "/sites", "/v2/sites"},
		{`{"environment":{"backups":[]}}`, func() error { _, err := c.Backups(ctx, "e"); return err }, "/sites/environments/{env_id}/backups", "/v2/sites/environments/e/backups"},
		{`{"environment":{"container_info":{"wp_plugins":{"data":[]}}}}`, func() error { _, err := c.EnvironmentPlugins(ctx, "e"); return err }, "/sites/environments/{env_id}/plugins", "/v2/sites/environments/e/plugins"},
		{`{"environment":{"container_info":{"wp_themes":{"data":[]}}}}`, func() error { _, err := c.EnvironmentThemes(ctx, "e"); return err }, "/sites/environments/{env_id}/themes", "/v2/sites/environments/e/themes"},
		{`{"company":{"plugins":{"items":[]}}}`, func() error { _, err := c.CompanyPlugins(ctx, "c"); return err }, "/company/{company_id}/wp-plugins", "/v2/company/c/wp-plugins"},
		{`{"company":{"themes":{"items":[]}}}`, func() error { _, err := c.CompanyThemes(ctx, "c"); return err }, "/company/{company_id}/wp-themes", "/v2/company/c/wp-themes"},
		{`{"site":{"this_month_cdn_usage":{"bandwidth":1}}}`, func() error { _, err := c.SiteUsageThisMonth(ctx, "s", UsageCDNBandwidth); return err }, "/sites/{site_id}/usage/cdn-bandwidth/this-month", "/v2/sites/s/usage/cdn-bandwidth/this-month"},
		{`{"analytics":{"analytics_response":{"data":[]}}}`, func() error { _, err := c.DiskUsage(ctx, "c", "e"); return err }, "/sites/environments/{env_id}/analytics/diskspace", "/v2/sites/environments/e/analytics/diskspace"},
		{`{"company":{"activity_logs":{"items":[]}}}`, func() error { _, err := c.ActivityLogs(ctx, "c", 0, 5); return err }, "/company/{company_id}/activity-logs", "/v2/company/c/activity-logs"},
	}
	for i, tc := range calls {
		rec.mu.Lock()
		rec.body = []byte(tc.body)
		rec.mu.Unlock()
		if err := tc.call(); err != nil {
			t.Fatalf("%s: %v", tc.endpoint, err)
		}
		if endpoints[i] != tc.endpoint || rec.paths[i] != tc.path {
			t.Errorf("endpoint %q path %q, want %q %q", endpoints[i], rec.paths[i], tc.endpoint, tc.path)
		}
		h := rec.headers[i]
		if h.Get("Authorization") != "Bearer "+testKey || h.Get("User-Agent") != "kinsta_exporter/1.2.3" || h.Get("Accept") != "application/json" {
			t.Errorf("%s: headers %v", tc.endpoint, h)
		}
	}
	if EndpointFromContext(context.Background()) != "" {
		t.Error("endpoint in a bare context")
	}
}

func TestDefaultUserAgent(t *testing.T) {
	rec := &recorder{body: []byte(`{"name":"k"}`)}
	if _, err := clientFor(t, rec).Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ua := rec.headers[0].Get("User-Agent"); ua != "kinsta_exporter" {
		t.Errorf("User-Agent %q", ua)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
