package collector

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

var keysAt = time.Date(2046, 1, 1, 0, 0, 0, 0, time.UTC) // far enough that the fake never calls them expired

func keysCompany() *kinstatest.Company {
	return &kinstatest.Company{ID: "c1", KeyName: "exporter", KeyExpiresAt: keysAt,
		Sites: []kinstatest.Site{{ID: "s1", Name: "acme", Status: "live"}},
		APIKeys: []kinstatest.APIKey{
			{Name: "exporter", ExpiresAt: keysAt},
			{Name: "deploy-pipeline", ExpiresAt: keysAt.Add(24 * time.Hour)},
			{Name: "wp-cli"}, // never expires
			{Name: "old-ci", Status: "revoked", ExpiresAt: keysAt.Add(48 * time.Hour)},
			{Name: "legacy", Status: "expired", ExpiresAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
			{Name: "deploy-pipeline", ExpiresAt: keysAt.Add(24 * time.Hour)}, // listed twice
		}}
}

// TestAPIKeysCollector: every key of the company, whatever its status, once
// each; the exporter's own key also stays in kinsta_api_key_* (GET /validate).
func TestAPIKeysCollector(t *testing.T) {
	fake, client := fakeAPI(t, keysCompany())
	e, logs := startCollectors(t, client, map[string]time.Duration{apikeyName: time.Hour, apikeysName: time.Hour}, "c1")
	waitSettled(t, e)

	listed, err := client.APIKeys(context.Background(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, k := range listed {
		ids[k.Name] = k.ID
	}
	id := func(name string) string { return ids[name] }
	want := `
# HELP kinsta_company_api_key_info ` + companyKeyInfoFamily.help + `
# TYPE kinsta_company_api_key_info gauge
kinsta_company_api_key_info{company="c1",key_id="` + id("exporter") + `",key_name="exporter",status="active"} 1
kinsta_company_api_key_info{company="c1",key_id="` + id("deploy-pipeline") + `",key_name="deploy-pipeline",status="active"} 1
kinsta_company_api_key_info{company="c1",key_id="` + id("wp-cli") + `",key_name="wp-cli",status="active"} 1
kinsta_company_api_key_info{company="c1",key_id="` + id("old-ci") + `",key_name="old-ci",status="revoked"} 1
kinsta_company_api_key_info{company="c1",key_id="` + id("legacy") + `",key_name="legacy",status="expired"} 1
# HELP kinsta_company_api_key_expiry_timestamp_seconds ` + companyKeyExpiryFamily.help + `
# TYPE kinsta_company_api_key_expiry_timestamp_seconds gauge
kinsta_company_api_key_expiry_timestamp_seconds{company="c1",key_id="` + id("exporter") + `",key_name="exporter"} 2.3983776e+09
kinsta_company_api_key_expiry_timestamp_seconds{company="c1",key_id="` + id("deploy-pipeline") + `",key_name="deploy-pipeline"} 2.398464e+09
kinsta_company_api_key_expiry_timestamp_seconds{company="c1",key_id="` + id("old-ci") + `",key_name="old-ci"} 2.3985504e+09
kinsta_company_api_key_expiry_timestamp_seconds{company="c1",key_id="` + id("legacy") + `",key_name="legacy"} 1.7672256e+09
# HELP kinsta_api_key_info ` + apiKeyInfoFamily.help + `
# TYPE kinsta_api_key_info gauge
kinsta_api_key_info{company="c1",key_name="exporter",status="active"} 1
`
	names := []string{"kinsta_company_api_key_info", "kinsta_company_api_key_expiry_timestamp_seconds", "kinsta_api_key_info"}
	if err := testutil.CollectAndCompare(allSeries(e), strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests(kinstatest.RouteAPIKeys); got != 2 { // the collector's and the test's own
		t.Errorf("%d api-keys calls, want 2 (one per company, one by the test)", got)
	}
	if problems, err := testutil.CollectAndLint(allSeries(e)); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	if strings.Contains(logs.String(), "level=warn") {
		t.Errorf("warnings on a healthy API:\n%s", logs)
	}
}

// TestAPIKeysDeveloperKey: a key whose role may not list the company's keys
// gets 404; the collector pauses with one log line, and the exporter's own
// key (GET /validate) is still served.
func TestAPIKeysDeveloperKey(t *testing.T) {
	company := keysCompany()
	company.APIKeysDenied = true
	fake, client := fakeAPI(t, company)
	e, logs := startCollectors(t, client, map[string]time.Duration{apikeyName: time.Hour, apikeysName: time.Hour}, "c1")
	waitSettled(t, e)

	if got := fake.Requests(kinstatest.RouteAPIKeys); got != 1 {
		t.Errorf("%d api-keys calls, want 1", got)
	}
	if v := value(t, e, "kinsta_exporter_collector_disabled", "collector", apikeysName, "company", "c1"); v != 1 {
		t.Errorf("apikeys disabled = %v, want 1", v)
	}
	if v := value(t, e, "kinsta_exporter_collector_success", "collector", apikeyName, "company", "c1"); v != 1 {
		t.Errorf("apikey success = %v while apikeys is paused", v)
	}
	if v := value(t, e, "kinsta_api_key_info", "key_name", "exporter"); v != 1 {
		t.Errorf("own key info = %v", v)
	}
	if n := testutil.CollectAndCount(allSeries(e), "kinsta_company_api_key_info"); n != 0 {
		t.Errorf("%d company key series after a 404", n)
	}
	if n := logs.count("Collector disabled"); n != 1 {
		t.Errorf("%d 'Collector disabled' lines:\n%s", n, logs)
	}
	e.Sync(context.Background())
	time.Sleep(20 * time.Millisecond)
	if got := fake.Requests(kinstatest.RouteAPIKeys); got != 1 {
		t.Errorf("a paused collector called api-keys again (%d calls)", got)
	}
}

// TestAPIKeysBounded: more keys than a company may have fails the item as
// bad_response rather than making thousands of series.
func TestAPIKeysBounded(t *testing.T) {
	company := keysCompany()
	company.APIKeys = nil
	for i := range maxCompanyAPIKeys + 1 {
		company.APIKeys = append(company.APIKeys, kinstatest.APIKey{Name: "key-" + strconv.Itoa(i)})
	}
	_, client := fakeAPI(t, company)
	req := &request{target: target{collector: apikeysName, company: "c1"}}
	_, err := apiKeysCollector{client}.refresh(context.Background(), req)
	if !kinsta.IsKind(err, kinsta.KindBadResponse) {
		t.Fatalf("%d keys: error %v, want a bad_response", len(company.APIKeys), err)
	}
}
