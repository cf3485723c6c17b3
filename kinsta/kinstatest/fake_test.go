package kinstatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWireShapesMatchFixtures decodes every endpoint's body into generic maps and
// compares its shape (paths and JSON kinds) with the reference fixtures.
func TestWireShapesMatchFixtures(t *testing.T) {
	demo := DemoCompany(testNow)
	noExpiry := &Company{ID: "c-no-expiry"}
	_, srv := serve(t, demo)
	_, srvNoExpiry := serve(t, noExpiry)

	site := demo.Sites[1] // live env with scheduled, system and manual backups
	liveEnv := site.Environments[0]
	cid := demo.ID
	sitesExtras := []string{"company.sites[].company_id"}

	tests := []struct {
		name     string
		srv      string
		path     string
		status   int
		fixtures []string
		extras   []string
		nullable []string
	}{
		{name: "validate", path: "/validate", status: 200, fixtures: []string{"validate.json"}},
		{name: "validate no expiry", srv: "noexpiry", path: "/validate", status: 200, fixtures: []string{"validate-no-expiry.json"}},
		{name: "sites", path: "/sites?company=" + cid, status: 200,
			fixtures: []string{"sites.json", "sites-site_labels-variant.json"}, extras: sitesExtras},
		{name: "sites with environments", path: "/sites?include_environments=true&company=" + cid, status: 200,
			fixtures: []string{"sites-include-environments.json", "sites-site_labels-variant.json"},
			extras:   append(sitesExtras, "company.sites[].environments[].created_at"), nullable: []string{"primaryDomain"}},
		{name: "backups", path: "/sites/environments/" + liveEnv.ID + "/backups", status: 200,
			fixtures: []string{"backups.json"}, extras: []string{"environment.id"}, nullable: []string{"note"}},
		{name: "plugins", path: "/sites/environments/" + demo.Sites[0].Environments[0].ID + "/plugins", status: 200,
			fixtures: []string{"env-plugins.json"}, nullable: []string{"update_version", "update_status"}},
		{name: "themes", path: "/sites/environments/" + demo.Sites[0].Environments[0].ID + "/themes", status: 200,
			fixtures: []string{"env-themes.json"}, nullable: []string{"update_version"}},
		{name: "company wp-plugins", path: "/company/" + cid + "/wp-plugins", status: 200,
			fixtures: []string{"company-wp-plugins.json"}, nullable: []string{"plugin_update", "plugin_update_version"}},
		{name: "company wp-themes", path: "/company/" + cid + "/wp-themes", status: 200,
			fixtures: []string{"derived-company-wp-themes.json"}, nullable: []string{"theme_update", "theme_update_version"}},
		{name: "usage visits", path: "/sites/" + site.ID + "/usage/visits/this-month", status: 200, fixtures: []string{"usage-visits.json"}},
		{name: "usage bandwidth", path: "/sites/" + site.ID + "/usage/bandwidth/this-month", status: 200, fixtures: []string{"usage-bandwidth.json"}},
		{name: "usage cdn-bandwidth", path: "/sites/" + site.ID + "/usage/cdn-bandwidth/this-month", status: 200, fixtures: []string{"usage-cdn-bandwidth.json"}},
		{name: "diskspace", path: "/sites/environments/" + liveEnv.ID + "/analytics/diskspace?company_id=" + cid + "&time_zone=" + url.QueryEscape("+02:00"),
			status: 202, fixtures: []string{"analytics-diskspace.json"}},
		{name: "activity logs", path: "/company/" + cid + "/activity-logs", status: 200,
			fixtures: []string{"derived-activity-logs.json"}, extras: []string{"company.activity_logs.items[].category"},
			nullable: []string{"site_id", "public_error", "ip_address"}},
		{name: "response codes", path: "/sites/environments/" + liveEnv.ID + "/analytics/response-codes?company_id=" + cid + "&time_span=24_hours",
			status: 202, fixtures: []string{"supplement-analytics-response-codes.json"}},
		{name: "api keys", path: "/company/" + cid + "/api-keys", status: 200,
			fixtures: []string{"supplement-company-api-keys.json"}, nullable: []string{"expires_at"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := srv
			if tc.srv == "noexpiry" {
				s = srvNoExpiry
			}
			r := get(t, s, tc.path)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			var fx [][]byte
			for _, name := range tc.fixtures {
				fx = append(fx, fixture(t, name))
			}
			compareShapes(t, shapeOf(t, fx...), shapeOf(t, r.body), tc.extras, tc.nullable)
		})
	}
}

// TestWireVariants checks that the demo data exercises every documented quirk.
func TestWireVariants(t *testing.T) {
	demo := DemoCompany(testNow)
	_, srv := serve(t, demo)
	s := shapeOf(t, get(t, srv, "/sites?include_environments=true&company="+demo.ID).body)
	env := "company.sites[].environments[]."
	for path, kinds := range map[string][]string{
		env + "ssh_connection.ssh_port":           {"number", "string"},
		env + "wordpress_version":                 {"null", "string"},
		env + "id_edge_cache":                     {"null", "string"},
		env + "primaryDomain":                     {"null", "object"},
		env + "container_info.php_engine_version": {"string"},
		"company.sites[].siteLabels[].id":         {"string"},
		"company.sites[].site_labels[].id":        {"number"},
	} {
		if got := fmt.Sprint(s.kinds(path)); got != fmt.Sprint(kinds) {
			t.Errorf("%s: kinds %s, want %v", path, got, kinds)
		}
	}
	var body struct {
		Company struct {
			Sites []struct {
				Environments []struct {
					ContainerInfo struct {
						PHP string `json:"php_engine_version"`
					} `json:"container_info"`
				} `json:"environments"`
			} `json:"sites"`
		} `json:"company"`
	}
	json.Unmarshal(get(t, srv, "/sites?include_environments=true&company="+demo.ID).body, &body)
	for _, site := range body.Company.Sites {
		for _, e := range site.Environments {
			if !strings.HasPrefix(e.ContainerInfo.PHP, "php8.") {
				t.Errorf("php_engine_version %q, want php8.x", e.ContainerInfo.PHP)
			}
		}
	}

	v := get(t, srv, "/validate")
	var validate map[string]any
	json.Unmarshal(v.body, &validate)
	if want := fmt.Sprint(demo.KeyExpiresAt.UnixMilli()); validate["expires_at"] != want {
		t.Errorf("expires_at %v, want the string %q", validate["expires_at"], want)
	}
	if validate["company"] != demo.ID || validate["status"] != "active" {
		t.Errorf("validate: %s", v.body)
	}
	if strings.Contains(string(get(t, srv, "/sites?company="+demo.ID).body), `\u0026`) {
		t.Error("& is HTML-escaped; the API sends it raw")
	}
}

func TestValidateExpiredKey(t *testing.T) {
	_, srv := serve(t, &Company{ID: "c", KeyName: "old", KeyExpiresAt: testNow.AddDate(-1, 0, 0)})
	var v map[string]any
	json.Unmarshal(get(t, srv, "/validate").body, &v)
	if v["status"] != "expired" || v["name"] != "old" {
		t.Errorf("got %v", v)
	}
}

func TestErrorBodiesMatchFixtures(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	env := demo.Sites[0].Environments[0].ID

	r := get(t, srv, "/sites/environments/"+env+"/analytics/diskspace?company_id="+demo.ID)
	if r.status != 400 || !jsonEqual(t, r.body, fixture(t, "error-400.json")) {
		t.Errorf("missing time_zone: %d %s", r.status, r.body)
	}
	r = getKey(t, srv, "/validate", "")
	if r.status != 401 || !jsonEqual(t, r.body, fixture(t, "error-401.json")) {
		t.Errorf("no key: %d %s", r.status, r.body)
	}
	r = get(t, srv, "/no/such/route")
	if r.status != 404 || !jsonEqual(t, r.body, fixture(t, "error-404.json")) {
		t.Errorf("unknown path: %d %s", r.status, r.body)
	}
	r = get(t, srv, "/sites/environments/no-such-env/backups")
	if r.status != 404 {
		t.Errorf("unknown env: %d", r.status)
	}
	compareShapes(t, shapeOf(t, fixture(t, "error-404-nested.json")), shapeOf(t, r.body), nil, nil)
	for status, name := range map[int]string{429: "error-429.json", 500: "error-500.json", 404: "error-404.json"} {
		f.SetFault(RouteSites, Fault{Status: status})
		r := get(t, srv, "/sites?company="+demo.ID)
		if r.status != status || !jsonEqual(t, r.body, fixture(t, name)) {
			t.Errorf("fault %d: %d %s", status, r.status, r.body)
		}
	}
}

func TestAuth(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	for _, auth := range []string{"", "Bearer wrong", "Basic " + testKey, testKey, "bearer " + testKey, "Bearer"} {
		for _, path := range []string{"/validate", "/sites?company=" + demo.ID, "/no/such/route"} {
			r := getKey(t, srv, path, auth)
			if r.status != http.StatusUnauthorized || !jsonEqual(t, r.body, fixture(t, "error-401.json")) {
				t.Errorf("%q %s: %d %s", auth, path, r.status, r.body)
			}
		}
	}
	if got := f.Requests(RouteValidate); got != 6 {
		t.Errorf("Requests(/validate) = %d, want 6 (rejected requests count)", got)
	}
	if r := get(t, srv, "/validate"); r.status != 200 {
		t.Errorf("right key: %d", r.status)
	}
}

func TestLookupsAndBadRequests(t *testing.T) {
	demo := DemoCompany(testNow)
	_, srv := serve(t, demo)
	env := demo.Sites[2].Environments[0].ID
	disk := "/sites/environments/" + env + "/analytics/diskspace?"
	cases := []struct {
		path    string
		status  int
		message string
	}{
		{"/sites?company=nope", 404, "Could not find the sites or the user does not have permissions"},
		{"/sites", 400, msg400},
		{"/sites?company=" + demo.ID + "&include_environments=perhaps", 400, msg400},
		{"/company/nope/wp-plugins", 404, msg404},
		{"/company/nope/wp-themes", 404, msg404},
		{"/company/nope/activity-logs", 404, msg404},
		{"/sites/nope/usage/visits/this-month", 404, "Not found"},
		{"/sites/environments/nope/plugins", 404, "Not found"},
		{"/sites/environments/nope/themes", 404, "Not found"},
		{disk + "time_zone=00:00", 400, msg400},
		{disk + "company_id=" + demo.ID, 400, msg400},
		{disk + "company_id=" + demo.ID + "&time_zone=00:00&time_span=24_hours", 400, msg400},
		{disk + "company_id=other&time_zone=00:00", 404, msg404},
		{"/sites/environments/nope/analytics/diskspace?company_id=" + demo.ID + "&time_zone=00:00", 404, msg404},
		{"/sites/" + demo.Sites[0].ID, 404, msg404}, // not simulated
	}
	for _, tc := range cases {
		r := get(t, srv, tc.path)
		var body struct{ Message string }
		json.Unmarshal(r.body, &body)
		if r.status != tc.status || body.Message != tc.message {
			t.Errorf("%s: %d %q, want %d %q", tc.path, r.status, body.Message, tc.status, tc.message)
		}
	}

	// Non-GET methods.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/sites?company="+demo.ID, nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

func TestDiskspace(t *testing.T) {
	demo := DemoCompany(testNow)
	f := New(testKey, demo)
	f.now = func() time.Time { return testNow }
	srv := httptest.NewServer(f)
	defer srv.Close()
	e := demo.Sites[3].Environments[0]
	for span, days := range map[string]int{"": 7, "7_days": 7, "30_days": 30, "60_days": 60} {
		r := get(t, srv, "/sites/environments/"+e.ID+"/analytics/diskspace?company_id="+demo.ID+"&time_zone=-05:00&time_span="+span)
		if r.status != http.StatusAccepted {
			t.Fatalf("%q: status %d", span, r.status)
		}
		var w wireAnalytics
		if err := json.Unmarshal(r.body, &w); err != nil {
			t.Fatal(err)
		}
		data := w.Analytics.AnalyticsResponse.Data
		if len(data) != 1 || len(data[0].Dataset) != days || data[0].Total != e.DiskBytes {
			t.Fatalf("%q: %+v", span, data)
		}
		last := data[0].Dataset[days-1]
		if last.Value != fmt.Sprint(int64(e.DiskBytes)) || last.Key != "2026-11-26T00:00:00.000Z" {
			t.Errorf("%q: last point %+v", span, last)
		}
		if first := data[0].Dataset[0]; strings.HasSuffix(first.Key, "Z") {
			t.Errorf("%q: first key %q should be the zone-less style", span, first.Key)
		}
	}
}

func TestSitesEnvironmentsOnlyWhenAsked(t *testing.T) {
	demo := DemoCompany(testNow)
	_, srv := serve(t, demo)
	for q, want := range map[string]bool{"": false, "&include_environments=false": false, "&include_environments=true": true, "&include_environments=1": true} {
		var body struct {
			Company struct {
				Sites []map[string]json.RawMessage `json:"sites"`
			} `json:"company"`
		}
		if err := json.Unmarshal(get(t, srv, "/sites?company="+demo.ID+q).body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Company.Sites) != len(demo.Sites) {
			t.Fatalf("%q: %d sites", q, len(body.Company.Sites))
		}
		for _, s := range body.Company.Sites {
			if _, has := s["environments"]; has != want {
				t.Errorf("%q: environments present = %v", q, has)
			}
		}
	}
	// A site without environments still gets "environments": [] when asked.
	c := &Company{ID: "c", Sites: []Site{{ID: "s", Name: "s", DisplayName: "S", Status: "live"}}}
	_, srv2 := serve(t, c)
	if got := string(get(t, srv2, "/sites?company=c&include_environments=true").body); !strings.Contains(got, `"environments":[]`) {
		t.Errorf("got %s", got)
	}
	if got := string(get(t, srv2, "/sites?company=c").body); strings.Contains(got, "siteLabels") || strings.Contains(got, "site_labels") {
		t.Errorf("a site without labels has no labels key: %s", got)
	}
}

func TestV2Prefix(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	if r := get(t, srv, "/v2/sites?company="+demo.ID); r.status != 200 {
		t.Errorf("/v2/sites: %d", r.status)
	}
	if r := get(t, srv, "/v2x/sites"); r.status != 404 {
		t.Errorf("/v2x/sites: %d", r.status)
	}
	if got := f.Requests(RouteSites); got != 1 {
		t.Errorf("Requests(/sites) = %d", got)
	}
}

func TestCompanyExtensionsPaging(t *testing.T) {
	demo := DemoCompany(testNow)
	_, srv := serve(t, demo)
	type list struct {
		Total int `json:"total"`
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	fetch := func(path string, body string) (int, list) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var w struct {
			Company struct {
				Plugins list `json:"plugins"`
			} `json:"company"`
		}
		json.NewDecoder(resp.Body).Decode(&w)
		return resp.StatusCode, w.Company.Plugins
	}
	names := func(l list) string {
		var out []string
		for _, it := range l.Items {
			out = append(out, it.Name)
		}
		return strings.Join(out, ",")
	}
	const all = "akismet,contact-form-7,elementor,really-simple-ssl,woocommerce,wordfence,wordpress-seo"
	base := "/company/" + demo.ID + "/wp-plugins"
	for _, tc := range []struct{ query, body, want string }{
		{"", "", all}, // default limit 10 > 7
		{"?offset=2&limit=3", "", "elementor,really-simple-ssl,woocommerce"},
		{"?limit=1", "", "akismet"},
		{"?offset=7", "", ""},
		{"?offset=100&limit=5", "", ""},
		{"", `{"offset":5,"limit":1}`, "wordfence"},               // body paging, as one client sends it
		{"?offset=1", `{"offset":5,"limit":1}`, "contact-form-7"}, // the query wins
	} {
		status, l := fetch(base+tc.query, tc.body)
		if status != 200 || l.Total != 7 || names(l) != tc.want {
			t.Errorf("%s %s: %d total %d items %q, want %q", tc.query, tc.body, status, l.Total, names(l), tc.want)
		}
	}
	for _, q := range []string{"?limit=0", "?offset=-1", "?limit=x"} {
		if status, _ := fetch(base+q, ""); status != 400 {
			t.Errorf("%s: %d, want 400", q, status)
		}
	}
	if status, _ := fetch(base, "{not json"); status != 400 {
		t.Errorf("bad body: %d, want 400", status)
	}
}

func TestCompanyExtensionsAggregate(t *testing.T) {
	demo := DemoCompany(testNow)
	_, srv := serve(t, demo)
	var w struct {
		Company struct {
			Plugins wireCompanyExtensions `json:"plugins"`
			Themes  wireCompanyExtensions `json:"themes"`
		} `json:"company"`
	}
	json.Unmarshal(get(t, srv, "/company/"+demo.ID+"/wp-plugins?limit=100").body, &w)
	json.Unmarshal(get(t, srv, "/company/"+demo.ID+"/wp-themes?limit=100").body, &w)
	envs := 0
	for _, s := range demo.Sites {
		envs += len(s.Environments)
	}
	items := map[string]wireCompanyExtension{}
	for _, it := range append(w.Company.Plugins.Items, w.Company.Themes.Items...) {
		items[it.Name] = it
	}
	if it := items["akismet"]; it.EnvironmentCount != envs || it.UpdateCount == 0 || *it.LatestVersion != "5.3.5" {
		t.Errorf("akismet: %+v (want %d environments)", it, envs)
	}
	rss := items["really-simple-ssl"]
	envList, _ := rss.Environments.([]any)
	if rss.EnvironmentCount != 1 || rss.UpdateCount != 1 || *rss.LatestVersion != "9.1.2" || rss.IsLatestVersionVulnerable ||
		len(envList) != 1 || envList[0].(map[string]any)["is_plugin_version_vulnerable"] != true {
		t.Errorf("really-simple-ssl: %+v", rss)
	}
	if it := items["kadence"]; *it.LatestVersion != "1.2.10" {
		t.Errorf("kadence latest %q, want 1.2.10 (numeric version order)", *it.LatestVersion)
	}
	if w.Company.Themes.Total != 4 || *w.Company.Plugins.LastUpdatedAt != "2026-11-26T09:00:00Z" {
		t.Errorf("themes total %d, last_updated_at %v", w.Company.Themes.Total, *w.Company.Plugins.LastUpdatedAt)
	}
}

func TestActivityLogs(t *testing.T) {
	demo := DemoCompany(testNow)
	_, srv := serve(t, demo)
	fetch := func(q string) wireActivityLogs {
		var w wireActivityLogs
		r := get(t, srv, "/company/"+demo.ID+"/activity-logs"+q)
		if r.status != 200 {
			t.Fatalf("%s: %d", q, r.status)
		}
		json.Unmarshal(r.body, &w)
		return w
	}
	w := fetch("")
	items := w.Company.ActivityLogs.Items
	if w.Company.ActivityLogs.Total != 8 || len(items) != 8 {
		t.Fatalf("total %d, %d items", w.Company.ActivityLogs.Total, len(items))
	}
	failed := 0
	for i, it := range items {
		if i > 0 && it.CreatedAt > items[i-1].CreatedAt {
			t.Error("not newest first")
		}
		if it.HasFailed {
			failed++
			if it.PublicError == nil {
				t.Error("failed entry without public_error")
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d failed entries, want 1", failed)
	}
	if w := fetch("?offset=2&limit=3"); len(w.Company.ActivityLogs.Items) != 3 || w.Company.ActivityLogs.Items[0].ID != items[2].ID {
		t.Errorf("paging: %+v", w.Company.ActivityLogs.Items)
	}
	if w := fetch("?site_id=" + demo.Sites[13].ID); w.Company.ActivityLogs.Total != 1 || !w.Company.ActivityLogs.Items[0].HasFailed {
		t.Errorf("site filter: %+v", w.Company.ActivityLogs)
	}
}

func TestRequestsCounting(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	env := demo.Sites[0].Environments[0].ID
	get(t, srv, "/validate")
	get(t, srv, "/sites?company="+demo.ID)
	get(t, srv, "/sites?company="+demo.ID+"&include_environments=true")
	get(t, srv, "/sites/environments/"+env+"/backups")
	get(t, srv, "/sites/environments/"+env+"/backups")
	get(t, srv, "/sites/environments/"+env+"/backups")
	get(t, srv, "/sites/"+demo.Sites[0].ID+"/usage/cdn-bandwidth/this-month")
	get(t, srv, "/nowhere")
	getKey(t, srv, "/validate", "")
	want := map[string]int{RouteValidate: 2, RouteSites: 2, RouteBackups: 3, RouteUsageCDNBandwidth: 1, "": 9}
	for _, rt := range append(Routes(), "") {
		if got := f.Requests(rt); got != want[rt] {
			t.Errorf("Requests(%q) = %d, want %d", rt, got, want[rt])
		}
	}
	f.ResetRequests()
	for _, rt := range append(Routes(), "") {
		if got := f.Requests(rt); got != 0 {
			t.Errorf("after reset Requests(%q) = %d", rt, got)
		}
	}
	if len(Routes()) != 14 {
		t.Errorf("%d routes", len(Routes()))
	}
	for name, fn := range map[string]func(){
		"Requests":      func() { f.Requests("/sites/{id}") },
		"SetFault":      func() { f.SetFault("/site", Fault{Status: 500}) },
		"SetSiteStatus": func() { f.SetSiteStatus(demo.ID, "no-such-site", "paused") },
		"SetSiteStatus company": func() {
			f.SetSiteStatus("other", demo.Sites[0].ID, "paused")
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with an unknown name did not panic", name)
				}
			}()
			fn()
		}()
	}
}

func TestSetSiteStatus(t *testing.T) {
	c := GenerateCompany("c1", 50, 2, 1)
	f, srv := serve(t, c)
	statuses := func(q string) map[string]string {
		var w struct {
			Company struct {
				Sites []struct{ ID, Status string } `json:"sites"`
			} `json:"company"`
		}
		json.Unmarshal(get(t, srv, "/sites?company=c1"+q).body, &w)
		out := map[string]string{}
		for _, s := range w.Company.Sites {
			out[s.ID] = s.Status
		}
		return out
	}
	before := statuses("")
	statuses("&include_environments=true") // both variants cached
	f.SetSiteStatus("c1", c.Sites[7].ID, "suspended")
	for _, q := range []string{"", "&include_environments=true"} {
		after := statuses(q)
		for id, st := range before {
			want := st
			if id == c.Sites[7].ID {
				want = "suspended"
			}
			if after[id] != want {
				t.Errorf("%q: site %s status %q, want %q", q, id, after[id], want)
			}
		}
	}
	if c.Sites[7].Status != "live" {
		t.Error("the caller's Company was changed; New should copy it")
	}
}

// TestConcurrentUse runs requests against status changes under -race.
func TestConcurrentUse(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	paths := []string{
		"/sites?company=" + demo.ID,
		"/sites?company=" + demo.ID + "&include_environments=true",
		"/company/" + demo.ID + "/wp-plugins",
		"/sites/environments/" + demo.Sites[5].Environments[0].ID + "/backups",
		"/validate",
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 8 {
				r := get(t, srv, paths[(g+i)%len(paths)])
				if r.status != 200 {
					t.Errorf("status %d", r.status)
				}
				decode(t, r.body)
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			f.churnOnce()
			f.SetSiteStatus(demo.ID, demo.Sites[i%len(demo.Sites)].ID, "live")
			f.SetFault(RouteActivityLogs, Fault{Status: 500})
			f.Requests(RouteSites)
		}
	})
	wg.Wait()
}
