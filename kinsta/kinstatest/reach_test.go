package kinstatest

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envsByID returns the environments of GET /sites?include_environments=true,
// decoded generically, by id.
func envsByID(t *testing.T, srv *httptest.Server, companyID string) map[string]map[string]json.RawMessage {
	t.Helper()
	var body struct {
		Company struct {
			Sites []struct {
				Environments []map[string]json.RawMessage `json:"environments"`
			} `json:"sites"`
		} `json:"company"`
	}
	if err := json.Unmarshal(get(t, srv, "/sites?include_environments=true&company="+companyID).body, &body); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]json.RawMessage{}
	for _, s := range body.Company.Sites {
		for _, e := range s.Environments {
			var id string
			json.Unmarshal(e["id"], &id)
			out[id] = e
		}
	}
	return out
}

// domainText shows one wire domain without its id: name, then its
// is_active and site_id as sent ("-" when absent), then type.
func domainText(raw json.RawMessage) string {
	var d map[string]any
	if json.Unmarshal(raw, &d) != nil || d == nil {
		return string(raw)
	}
	show := func(k string) string {
		if v, ok := d[k]; ok {
			return fmt.Sprint(v)
		}
		return "-"
	}
	return fmt.Sprintf("%s/%s/%s/%s", show("name"), show("is_active"), show("site_id"), show("type"))
}

func TestDomainsWire(t *testing.T) {
	env := func(id string, wire WireVariant, primary string, ds ...Domain) Environment {
		return Environment{ID: id, Name: "live", PrimaryDomain: primary, Domains: ds, Wire: wire}
	}
	c := &Company{ID: "c", Sites: []Site{{ID: "s", Name: "s", Status: "live", Environments: []Environment{
		env("spec", 0, "www.a.example", Domain{Name: "a.example"}, Domain{Name: "*.a.example"},
			Domain{Name: "old.a.example", Inactive: true}, Domain{Name: "www.a.example"}),
		env("recorded", WireDomainsRecorded, "b.example", Domain{Name: "*.b.example"}),
		env("name", WirePrimaryDomainName, "c.example"),
		env("snake", WirePrimaryDomainSnake, "d.example"),
		env("none", 0, ""),
		env("no primary", WireDomainsRecorded, "", Domain{Name: "e.kinsta.cloud.example"}),
	}}}}
	_, srv := serve(t, c)
	envs := envsByID(t, srv, c.ID)
	tests := []struct {
		env, domains, primary, primaryKey string
	}{
		{"spec", "www.a.example/true/s/live a.example/true/s/live *.a.example/true/s/live old.a.example/false/s/live www.a.example/true/s/live",
			"www.a.example/true/s/live", "primaryDomain"},
		{"recorded", "b.example/-/-/live *.b.example/-/-/live", "b.example/-/-/live", "primaryDomain"},
		{"name", "c.example/true/s/live", `"c.example"`, "primaryDomain"},
		{"snake", "d.example/true/s/live", "d.example/true/s/live", "primary_domain"},
		{"none", "", "null", "primaryDomain"},
		{"no primary", "e.kinsta.cloud.example/-/-/live", "null", "primaryDomain"},
	}
	for _, tt := range tests {
		e := envs[tt.env]
		var domains []json.RawMessage
		if err := json.Unmarshal(e["domains"], &domains); err != nil || domains == nil {
			t.Fatalf("%s: domains %s", tt.env, e["domains"])
		}
		var texts []string
		ids := map[string]bool{}
		for _, d := range domains {
			texts = append(texts, domainText(d))
			var x struct{ ID string }
			json.Unmarshal(d, &x)
			if x.ID == "" || ids[x.ID] {
				t.Errorf("%s: id %q empty or repeated", tt.env, x.ID)
			}
			ids[x.ID] = true
		}
		if got := strings.Join(texts, " "); got != tt.domains {
			t.Errorf("%s domains:\ngot  %s\nwant %s", tt.env, got, tt.domains)
		}
		if got := domainText(e[tt.primaryKey]); got != tt.primary {
			t.Errorf("%s %s: %s, want %s", tt.env, tt.primaryKey, got, tt.primary)
		}
		other := map[string]string{"primaryDomain": "primary_domain", "primary_domain": "primaryDomain"}[tt.primaryKey]
		if _, ok := e[other]; ok {
			t.Errorf("%s: %s sent too", tt.env, other)
		}
		if len(domains) > 0 && tt.primary != "null" && !strings.HasPrefix(tt.primary, `"`) &&
			!strings.Contains(string(e[tt.primaryKey]), string(mustField(t, domains[0], "id"))) {
			t.Errorf("%s: primary id is not the first domain's", tt.env)
		}
	}
}

func mustField(t *testing.T, raw json.RawMessage, key string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m[key] == nil {
		t.Fatalf("no %s in %s", key, raw)
	}
	return m[key]
}

func TestResponseCodesWire(t *testing.T) {
	codes := map[int]int64{200: 1000, 404: 25, 500: 3, 503: 0}
	c := &Company{ID: "c", Sites: []Site{{ID: "s", Status: "live", Environments: []Environment{
		{ID: "z", Name: "live", ResponseCodes: codes},
		{ID: "nz", Name: "live", ResponseCodes: codes, Wire: WireBucketKeysNoZone | WireResponseCodes200},
		{ID: "quiet", Name: "staging"},
	}}}}
	f, srv := serve(t, c)
	f.now = func() time.Time { return testNow.Add(42 * time.Minute) }
	type body struct {
		Analytics struct {
			Response struct {
				Key  string `json:"key"`
				Data []struct {
					Code string `json:"response_code"`
					Data []struct{ Key, Value string }
				} `json:"data"`
			} `json:"analytics_response"`
		} `json:"analytics"`
	}
	read := func(env, span string, wantStatus int) body {
		t.Helper()
		path := "/sites/environments/" + env + "/analytics/response-codes?company_id=c"
		if span != "" {
			path += "&time_span=" + span
		}
		r := get(t, srv, path)
		if r.status != wantStatus {
			t.Fatalf("%s: status %d, want %d: %s", path, r.status, wantStatus, r.body)
		}
		var b body
		if err := json.Unmarshal(r.body, &b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	for env, want := range map[string]struct {
		status   int
		firstKey string
	}{"z": {202, "2026-11-25T13:00:00.000Z"}, "nz": {200, "2026-11-25T13:00:00"}} {
		b := read(env, "24_hours", want.status)
		var got []string
		for _, s := range b.Analytics.Response.Data {
			var sum int64
			for _, p := range s.Data {
				v, err := strconv.ParseInt(p.Value, 10, 64)
				if err != nil {
					t.Fatalf("value %q", p.Value)
				}
				sum += v
			}
			if len(s.Data) != 24 || s.Data[0].Key != want.firstKey {
				t.Errorf("%s %s: %d buckets from %q, want 24 from %q", env, s.Code, len(s.Data), s.Data[0].Key, want.firstKey)
			}
			got = append(got, s.Code+"="+strconv.FormatInt(sum, 10))
		}
		if b.Analytics.Response.Key != "responseCode" || strings.Join(got, " ") != "200=1000 404=25 500=3" {
			t.Errorf("%s: key %q, sums %v", env, b.Analytics.Response.Key, got)
		}
	}
	if b := read("z", "", 202); len(b.Analytics.Response.Data[0].Data) != 7 || b.Analytics.Response.Data[0].Data[6].Value != "1000" {
		t.Errorf("default span: %+v", b.Analytics.Response.Data[0])
	}
	if b := read("quiet", "24_hours", 202); b.Analytics.Response.Data == nil || len(b.Analytics.Response.Data) != 0 {
		t.Errorf("no traffic: %+v", b)
	}
	for path, status := range map[string]int{
		"/sites/environments/z/analytics/response-codes":                            400,
		"/sites/environments/z/analytics/response-codes?company_id=c&time_span=1_h": 400,
		"/sites/environments/x/analytics/response-codes?company_id=c":               404,
		"/sites/environments/z/analytics/response-codes?company_id=other":           404,
	} {
		if r := get(t, srv, path); r.status != status {
			t.Errorf("%s: %d, want %d", path, r.status, status)
		}
	}
	if f.Requests(RouteResponseCodes) != 8 {
		t.Errorf("%d requests counted", f.Requests(RouteResponseCodes))
	}
}

func TestHourShareSums(t *testing.T) {
	for _, count := range []int64{0, 1, 23, 24, 25, 1000, 99_999} {
		var sum int64
		prev := int64(-1)
		for i := range 24 {
			v := hourShare(count, i, 24)
			if v < prev {
				t.Errorf("%d: bucket %d smaller than the one before", count, i)
			}
			prev = v
			sum += v
		}
		if sum != count {
			t.Errorf("%d spread to %d", count, sum)
		}
	}
}

func TestAPIKeysWire(t *testing.T) {
	c := &Company{ID: "c", APIKeys: []APIKey{
		{Name: "soon", ExpiresAt: testNow.Add(24 * time.Hour)},
		{Name: "never"},
		{Name: "revoked", Status: "revoked", ExpiresAt: testNow.Add(time.Hour)},
		{Name: "lapsed", ExpiresAt: testNow.Add(-time.Hour)},
	}}
	denied := &Company{ID: "d", APIKeysDenied: true, APIKeys: c.APIKeys}
	f, srv := serve(t, c, denied)
	f.now = func() time.Time { return testNow }
	r := get(t, srv, "/company/c/api-keys")
	want := fmt.Sprintf(`{"api_keys":[{"id":"%s","name":"soon","status":"active","expires_at":"2026-11-27T12:00:00.000Z"},`+
		`{"id":"%s","name":"never","status":"active","expires_at":null},`+
		`{"id":"%s","name":"revoked","status":"revoked","expires_at":"2026-11-26T13:00:00.000Z"},`+
		`{"id":"%s","name":"lapsed","status":"expired","expires_at":"2026-11-26T11:00:00.000Z"}]}`,
		uuidFor("c", "api-key", "soon"), uuidFor("c", "api-key", "never"), uuidFor("c", "api-key", "revoked"), uuidFor("c", "api-key", "lapsed"))
	if r.status != 200 || string(r.body) != want {
		t.Errorf("%d %s\nwant %s", r.status, r.body, want)
	}
	for _, id := range []string{"d", "unknown"} {
		r := get(t, srv, "/company/"+id+"/api-keys")
		if r.status != 404 || !strings.Contains(string(r.body), `"message":"Could not find the company or the user does not have permissions to retrieve data"`) {
			t.Errorf("%s: %d %s", id, r.status, r.body)
		}
	}
	if r := get(t, srv, "/company/c/api-keys/x"); r.status != 404 {
		t.Errorf("sub-path: %d", r.status)
	}
	if f.Requests(RouteAPIKeys) != 3 {
		t.Errorf("%d requests counted", f.Requests(RouteAPIKeys))
	}
}
