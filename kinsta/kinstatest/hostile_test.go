package kinstatest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestHostileStreams(t *testing.T) {
	f, srv := serve(t, DemoCompany(testNow))
	for kind := range hostileStreams {
		f.SetFault(RouteSites, Fault{Hostile: Hostile{Kind: kind, Bytes: 1000}})
		r := getKey(t, srv, "/sites?company=x", "") // before the key is checked, as every fault
		if r.status != 200 || !json.Valid(r.body) || len(r.body) < 1000 || len(r.body) > 1100 {
			t.Errorf("kind %d: %d, %d bytes, valid JSON %v: %.80s", kind, r.status, len(r.body), json.Valid(r.body), r.body)
		}
	}
}

func TestHostileBadElements(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	path := "/sites?company=" + demo.ID + "&include_environments=true"
	f.SetFault(RouteSites, Fault{Hostile: Hostile{Kind: HostileBadElements}})
	var body struct {
		Company struct {
			Sites []json.RawMessage `json:"sites"`
		} `json:"company"`
	}
	r := get(t, srv, path)
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != 200 {
		t.Fatalf("%d: %v", r.status, err)
	}
	if got, want := len(body.Company.Sites), len(demo.Sites)+5; got != want {
		t.Errorf("%d sites, want %d (the real ones and 5 bad)", got, want)
	}
	if !strings.HasPrefix(string(body.Company.Sites[len(demo.Sites)]), `"not a site"`) {
		t.Errorf("first bad element %s", body.Company.Sites[len(demo.Sites)])
	}
	// An unknown company stays a 404, bad elements or not.
	if r := get(t, srv, "/sites?company=nope"); r.status != 404 {
		t.Errorf("unknown company: %d", r.status)
	}
}

func TestHostileErrorBodies(t *testing.T) {
	f, srv := serve(t, DemoCompany(testNow))
	f.SetFault(RouteValidate, Fault{Hostile: Hostile{Kind: HostileValidateDotDot}})
	var v struct{ Company string }
	if r := get(t, srv, "/validate"); r.status != 200 || json.Unmarshal(r.body, &v) != nil || v.Company != ".." {
		t.Errorf("validate: %d %s", r.status, r.body)
	}
	for _, kind := range []HostileKind{HostileKeyEchoNUL, HostileKeyEchoUpper, HostileKeyEchoSplit, HostileKeyEchoPart, HostileKeyEchoNested} {
		f.SetFault("", Fault{Hostile: Hostile{Kind: kind}})
		var e struct {
			Message string
			Status  int
			Data    *struct{ Message string }
		}
		r := get(t, srv, "/sites?company=x")
		if r.status != 400 || json.Unmarshal(r.body, &e) != nil || e.Status != 400 {
			t.Fatalf("kind %d: %d %s", kind, r.status, r.body)
		}
		text := strings.ToLower(e.Message)
		if e.Data != nil {
			text += e.Data.Message
		}
		// Disguised, but there: testKey is "test-key".
		if !strings.Contains(text, "test") || !strings.Contains(text, "key") {
			t.Errorf("kind %d: no echo of the key in %s", kind, r.body)
		}
	}
}

func TestPageSizeCapAndOrder(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	list := func(query string) (names []string, total, status int) {
		t.Helper()
		r := get(t, srv, "/company/"+demo.ID+"/wp-plugins?"+query)
		var b struct {
			Company struct {
				Plugins struct {
					Total int
					Items []struct{ Name string }
				}
			}
		}
		if r.status == 200 {
			if err := json.Unmarshal(r.body, &b); err != nil {
				t.Fatal(err)
			}
		}
		for _, it := range b.Company.Plugins.Items {
			names = append(names, it.Name)
		}
		return names, b.Company.Plugins.Total, r.status
	}
	all, total, _ := list("limit=100")
	if len(all) != total || total < 5 {
		t.Fatalf("%d of %d plugins", len(all), total)
	}
	f.SetPageSizeCap(2)
	if got, tot, _ := list("limit=100&offset=1"); len(got) != 2 || got[0] != all[1] || tot != total {
		t.Errorf("capped page: %q of %d", got, tot)
	}
	f.SetPageSizeCap(0)
	desc := url.QueryEscape(`{"field":"name","order":"descend"}`)
	if got, _, _ := list("limit=100&order_by=" + desc); len(got) != total || got[0] != all[total-1] {
		t.Errorf("descending: %q", got)
	}
	for _, bad := range []string{`{"field":"size","order":"ascend"}`, `{"field":"name","order":"up"}`, `name`} {
		if _, _, status := list("order_by=" + url.QueryEscape(bad)); status != http.StatusBadRequest {
			t.Errorf("order_by %s: %d", bad, status)
		}
	}
}

func TestUnprefixedInstallFields(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	f.SetUnprefixedInstallFields(true)
	for _, route := range []string{"wp-plugins", "wp-themes"} {
		r := get(t, srv, "/company/"+demo.ID+"/"+route)
		if r.status != 200 || !strings.Contains(string(r.body), `"status":"`) || strings.Contains(string(r.body), `_status":"`) {
			t.Errorf("%s: %d %.300s", route, r.status, r.body)
		}
	}
}

func TestOrderInBody(t *testing.T) {
	demo := DemoCompany(testNow)
	_, srv := serve(t, demo)
	body := `{"offset":1,"limit":2,"order_by":{"field":"name","order":"descend"}}`
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/company/"+demo.ID+"/wp-plugins", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b struct {
		Company struct {
			Plugins struct{ Items []struct{ Name string } }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d: %v", resp.StatusCode, err)
	}
	items := b.Company.Plugins.Items
	if len(items) != 2 || items[0].Name <= items[1].Name {
		t.Errorf("offset 1, limit 2, descending from the body: %+v", items)
	}
}
