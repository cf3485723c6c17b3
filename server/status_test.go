package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// TestStatusPageTellsEachCompanysState: an up company, a failing one (its
// key is another company's) and one not refreshed yet, each in plain
// words, names escaped, and the landing page's links kept.
func TestStatusPageTellsEachCompanysState(t *testing.T) {
	url, companies := slowAPI(t, 3, 0)
	companies[0].Name = `<script>alert("x")</script>`
	companies[1].Key = companies[2].Key
	r, _ := newTestServer(t, url, companies, 0)
	for _, c := range companies[:2] {
		serve(r.mux, "/probe?company="+c.ID)
	}
	code, page := serve(r.mux, "/")
	if code != 200 {
		t.Fatalf("/: %d\n%s", code, page)
	}
	for _, want := range []string{
		`href="/metrics"`, `href="/-/healthy"`, `href="/-/ready"`, `href="/sd"`, `href="/sd/domains"`,
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
		`<strong class="up">up</strong>: the last refresh of its sites succeeded`,
		"Sites: 1, of which not live: 0.",
		`<strong class="failing">failing</strong>`, "last success: never", "Last error: <code>kinsta API GET /sites: ",
		`<strong class="waiting">waiting</strong>: not refreshed yet`,
		"Kinsta API calls in the last hour: ",
		`href="/probe?company=company-a&amp;debug=true"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, never := range []string{"<script>", "key-company-"} {
		if strings.Contains(page, never) {
			t.Errorf("the page shows %q", never)
		}
	}
}

// TestStatusPageIsBounded: not-live sites beyond maxNotLiveListed and
// companies beyond maxStatusCompanies are counted, not listed.
func TestStatusPageIsBounded(t *testing.T) {
	const notLive = maxNotLiveListed + 7
	company := &kinstatest.Company{ID: "big"}
	for i := range notLive + 1 {
		status := "suspended"
		if i == notLive {
			status = "live"
		}
		company.Sites = append(company.Sites, kinstatest.Site{ID: fmt.Sprint("site-", i), Name: fmt.Sprint("s", i),
			DisplayName: fmt.Sprintf("Site number %d", i), Status: status})
	}
	fake := kinstatest.New("big-key", company)
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	companies := []fleet.Company{{ID: "big", Key: "big-key"}}
	for i := range maxStatusCompanies + 2 {
		companies = append(companies, fleet.Company{ID: fmt.Sprint("idle-", i), Key: "big-key"})
	}
	r, _ := newTestServer(t, api.URL, companies, 0)
	serve(r.mux, "/probe?company=big")
	_, page := serve(r.mux, "/")
	for _, want := range []string{
		"Sites: 108, of which not live: 107.", "<li>Site number 0: suspended</li>",
		fmt.Sprintf("<li>Site number %d: suspended</li>", maxNotLiveListed-1), "<li>and 7 more</li>",
		"And 3 more companies, not listed.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, fmt.Sprintf("Site number %d:", maxNotLiveListed)) || strings.Count(page, "<section>") != maxStatusCompanies {
		t.Errorf("the page lists more than %d sites or %d companies", maxNotLiveListed, maxStatusCompanies)
	}
}

// TestStatusPageOnlyAtTheRoot: other paths are not the page, and only
// GET and HEAD are answered.
func TestStatusPageOnlyAtTheRoot(t *testing.T) {
	url, companies := slowAPI(t, 1, 0)
	r, _ := newTestServer(t, url, companies, 0)
	if code, _ := serve(r.mux, "/nope"); code != http.StatusNotFound {
		t.Errorf("/nope: %d", code)
	}
	req := httptest.NewRequest("POST", "/", nil)
	w := httptest.NewRecorder()
	r.mux.ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}
