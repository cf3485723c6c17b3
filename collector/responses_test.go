package collector

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// responsesCompany has three live environments, one per wire variant of
// the endpoint, a staging environment with traffic and a live one without.
func responsesCompany() *kinstatest.Company {
	return &kinstatest.Company{ID: "c1", Sites: []kinstatest.Site{
		{ID: "s1", Name: "acme", DisplayName: "Acme", Status: "live", Environments: []kinstatest.Environment{
			{ID: "e1", Name: "live", ResponseCodes: map[int]int64{200: 1900, 404: 35, 500: 5}},
			{ID: "e2", Name: "staging", ResponseCodes: map[int]int64{200: 10}},
		}},
		{ID: "s2", Name: "bravo", DisplayName: "Bravo", Status: "live", Environments: []kinstatest.Environment{
			{ID: "e3", Name: "live", ResponseCodes: map[int]int64{200: 50, 503: 7},
				Wire: kinstatest.WireResponseCodes200 | kinstatest.WireBucketKeysNoZone},
		}},
		{ID: "s3", Name: "quiet", DisplayName: "Quiet", Status: "live", Environments: []kinstatest.Environment{
			{ID: "e4", Name: "Live "}, // no traffic: Kinsta lists no code
		}},
	}}
}

// TestResponsesCollector: one call per live environment (staging ones are
// not asked), each code's hourly buckets summed, 202 and 200 alike.
func TestResponsesCollector(t *testing.T) {
	fake, client := fakeAPI(t, responsesCompany())
	e, logs := startCollectors(t, client, map[string]time.Duration{responsesName: time.Hour}, "c1")
	waitSettled(t, e)

	want := `
# HELP kinsta_environment_http_responses ` + envResponsesFamily.help + `
# TYPE kinsta_environment_http_responses gauge
kinsta_environment_http_responses{code="200",company="c1",environment_id="e1",site_id="s1"} 1900
kinsta_environment_http_responses{code="404",company="c1",environment_id="e1",site_id="s1"} 35
kinsta_environment_http_responses{code="500",company="c1",environment_id="e1",site_id="s1"} 5
kinsta_environment_http_responses{code="200",company="c1",environment_id="e3",site_id="s2"} 50
kinsta_environment_http_responses{code="503",company="c1",environment_id="e3",site_id="s2"} 7
`
	if err := testutil.CollectAndCompare(allSeries(e), strings.NewReader(want), "kinsta_environment_http_responses"); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests(kinstatest.RouteResponseCodes); got != 3 {
		t.Errorf("%d response-codes calls, want 3 (the live environments)", got)
	}
	if v := value(t, e, "kinsta_exporter_refresh_queue_items", "collector", responsesName); v != 3 {
		t.Errorf("%v items, want 3", v)
	}
	if v := value(t, e, "kinsta_exporter_collector_success", "collector", responsesName, "company", "c1"); v != 1 {
		t.Errorf("success = %v", v)
	}
	if problems, err := testutil.CollectAndLint(allSeries(e)); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	if strings.Contains(logs.String(), "level=warn") {
		t.Errorf("warnings on a healthy API:\n%s", logs)
	}
}

// refreshResponses runs one refresh of environment e1 against a fake
// serving codes, with the state of the previous refresh.
func refreshResponses(t *testing.T, codes map[int]int64, prev any, at time.Time) (map[string]float64, result, error) {
	t.Helper()
	c := responsesCompany()
	c.Sites[0].Environments[0].ResponseCodes = codes
	_, client := fakeAPI(t, c)
	req := &request{target: target{collector: responsesName, company: "c1", siteID: "s1", envID: "e1"}, state: prev, start: at}
	res, err := responsesCollector{client}.refresh(context.Background(), req)
	got := map[string]float64{}
	for _, g := range res.series.gauges {
		for i, v := range g.rows.values {
			got[g.rows.labels[i*4+3]] = v
		}
	}
	return got, res, err
}

// TestResponsesMissingCodeIsZero: a code Kinsta stops listing is served as
// 0 rather than vanishing, until a week after it was last listed.
func TestResponsesMissingCodeIsZero(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	got, res, err := refreshResponses(t, map[int]int64{200: 100, 404: 3, 500: 2}, nil, t0)
	if err != nil || !maps.Equal(got, map[string]float64{"200": 100, "404": 3, "500": 2}) {
		t.Fatalf("first refresh: %v, %v", got, err)
	}
	got, res, err = refreshResponses(t, map[int]int64{200: 90, 301: 1}, res.state, t0.Add(time.Hour))
	if err != nil || !maps.Equal(got, map[string]float64{"200": 90, "301": 1, "404": 0, "500": 0}) {
		t.Fatalf("second refresh: %v, %v", got, err)
	}
	// A failed refresh changes nothing: the refresher keeps the last good state.
	got, _, err = refreshResponses(t, map[int]int64{200: 80}, res.state, t0.Add(7*24*time.Hour+30*time.Minute))
	if err != nil || !maps.Equal(got, map[string]float64{"200": 80, "301": 0}) {
		t.Fatalf("a week later: %v, %v; want 404 and 500 gone, 301 still 0", got, err)
	}
	// An environment without traffic: Kinsta lists nothing, no series.
	got, _, err = refreshResponses(t, nil, nil, t0)
	if err != nil || len(got) != 0 {
		t.Fatalf("no traffic: %v, %v", got, err)
	}
}

// TestResponsesCodesBounded: more distinct codes than an environment may
// have fails the item as bad_response; codes kept at 0 give way to listed
// ones, the least recently listed first.
func TestResponsesCodesBounded(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	many := map[int]int64{}
	for code := 100; code < 100+maxCodesPerEnvironment+1; code++ {
		many[code] = 1
	}
	_, _, err := refreshResponses(t, many, nil, t0)
	if !kinsta.IsKind(err, kinsta.KindBadResponse) || !strings.Contains(err.Error(), "65 distinct response codes") {
		t.Fatalf("%d codes: error %v, want a bad_response", len(many), err)
	}

	prev := codesListed{"418": t0.Add(-3 * time.Hour), "419": t0.Add(-2 * time.Hour), "420": t0.Add(-time.Hour)}
	counts := map[string]float64{}
	for i := range maxCodesPerEnvironment - 2 {
		counts[strconv.Itoa(200+i)] = 1
	}
	next := nextCodesListed(prev, counts, t0)
	if len(next) != maxCodesPerEnvironment {
		t.Fatalf("%d codes served, want %d", len(next), maxCodesPerEnvironment)
	}
	var kept []string
	for code := range next {
		if _, listed := counts[code]; !listed {
			kept = append(kept, code)
		}
	}
	if slices.Sort(kept); !slices.Equal(kept, []string{"419", "420"}) {
		t.Errorf("kept at 0: %v, want the two most recently listed, 419 and 420", kept)
	}
}

// TestResponsesBadShapeKeepsLastGood: an answer of an unknown shape fails
// the item as bad_response, never the process, and its last good series
// are served meanwhile.
func TestResponsesBadShapeKeepsLastGood(t *testing.T) {
	fake, client := fakeAPI(t, responsesCompany())
	e, logs := startCollectors(t, client, map[string]time.Duration{responsesName: 100 * time.Millisecond}, "c1")
	waitSettled(t, e)
	if v := value(t, e, "kinsta_environment_http_responses", "environment_id", "e1", "code", "500"); v != 5 {
		t.Fatalf("500s = %v before the fault", v)
	}
	for _, body := range []string{`{"analytics":{"analytics_response":{"data":[{"response_code":"500","data":[{"key":"x","value":"many"}]}]}}}`, `[]`} {
		fake.SetFault(kinstatest.RouteResponseCodes, kinstatest.Fault{Status: 202, Body: body})
		waitFor(t, func() bool {
			e.Sync(context.Background())
			return value(t, e, "kinsta_exporter_collector_success", "collector", responsesName, "company", "c1") == 0
		})
		if v := value(t, e, "kinsta_environment_http_responses", "environment_id", "e1", "code", "500"); v != 5 {
			t.Fatalf("500s = %v after a bad answer, want the last good 5", v)
		}
		if !strings.Contains(logs.String(), "kind=bad_response") {
			t.Fatalf("no bad_response in the log:\n%s", logs)
		}
		fake.SetFault(kinstatest.RouteResponseCodes, kinstatest.Fault{})
		waitFor(t, func() bool {
			e.Sync(context.Background())
			return value(t, e, "kinsta_exporter_collector_success", "collector", responsesName, "company", "c1") == 1
		})
	}
	if v := value(t, e, "kinsta_exporter_collector_disabled", "collector", responsesName, "company", "c1"); v != 0 {
		t.Errorf("a bad answer disabled the collector")
	}
}
