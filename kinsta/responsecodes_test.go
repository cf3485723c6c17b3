package kinsta

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestResponseCodesFixture(t *testing.T) {
	for _, status := range []int{http.StatusAccepted, http.StatusOK} {
		rec := &recorder{status: status, body: fixture(t, "supplement-analytics-response-codes.json")}
		got, err := clientFor(t, rec).ResponseCodes(context.Background(), testCompany, "env 1")
		want := ResponseCodes{
			Counts:      map[string]float64{"200": 1900, "404": 35, "500": 5},
			FirstBucket: time.Date(2025, 8, 19, 0, 0, 0, 0, time.UTC),
			LastBucket:  time.Date(2025, 8, 20, 0, 0, 0, 0, time.UTC),
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%d: got %+v, %v; want %+v", status, got, err, want)
		}
		if rec.paths[0] != "/sites/environments/env%201/analytics/response-codes" ||
			rec.queries[0] != "company_id="+testCompany+"&time_span=24_hours" {
			t.Errorf("request %s?%s", rec.paths[0], rec.queries[0])
		}
	}
}

func TestResponseCodesVariants(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		body string
		want ResponseCodes
	}{
		{"keys without a zone are UTC, hourly buckets",
			`{"analytics":{"analytics_response":{"key":"responseCode","data":[{"response_code":"301","data":[
			{"key":"2026-03-01T05:00:00","value":"4"},{"key":"2026-03-01T03:00:00","value":"6"}]}]}}}`,
			ResponseCodes{Counts: map[string]float64{"301": 10}, FirstBucket: at(3), LastBucket: at(5)}},
		{"mixed key styles, numbers as numbers, null is 0, unreadable keys ignored",
			`{"analytics":{"analytics_response":{"data":[{"response_code":503,"data":[
			{"key":"2026-03-01T01:00:00.000Z","value":2},{"key":"2026-03-01T02:00:00","value":null},
			{"key":"yesterday","value":" 1.5 "},{"value":"1"}]}]}}}`,
			ResponseCodes{Counts: map[string]float64{"503": 4.5}, FirstBucket: at(1), LastBucket: at(2)}},
		{"a repeated code adds up; an empty series is 0; dataset spelling",
			`{"analytics":{"analytics_response":{"data":[{"response_code":"200","data":[{"key":"2026-03-01T00:00:00Z","value":"1"}]},
			{"response_code":" 200 ","dataset":[{"key":"2026-03-01T00:00:00Z","value":"2"}]},{"response_code":"404","data":[]}]}}}`,
			ResponseCodes{Counts: map[string]float64{"200": 3, "404": 0}, FirstBucket: at(0), LastBucket: at(0)}},
		{"grouped code passes", `{"analytics":{"analytics_response":{"data":[{"response_code":"5xx","data":[{"value":"7"}]}]}}}`,
			ResponseCodes{Counts: map[string]float64{"5xx": 7}}},
		{"no traffic: empty data", `{"analytics":{"analytics_response":{"key":"responseCode","data":[]}}}`,
			ResponseCodes{Counts: map[string]float64{}}},
		{"unknown fields", `{"analytics":{"analytics_response":{"data":[{"response_code":"200","total":9,"name":"x",
			"data":[{"key":"2026-03-01T00:00:00Z","value":"9","extra":[1]}]}],"more":{}}},"status":202}`,
			ResponseCodes{Counts: map[string]float64{"200": 9}, FirstBucket: at(0), LastBucket: at(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := clientFor(t, &recorder{status: 202, body: []byte(tt.body)}).ResponseCodes(context.Background(), "c", "e")
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestResponseCodesBadShapes(t *testing.T) {
	series := func(s string) string { return `{"analytics":{"analytics_response":{"data":[` + s + `]}}}` }
	tests := []struct{ body, want string }{
		{`{}`, "analytics.analytics_response.data is missing"},
		{`{"analytics":{"analytics_response":{"data":null}}}`, "analytics.analytics_response.data is missing"},
		{`{"analytics":{"analytics_response":{"data":{}}}}`, "unexpected response shape"},
		{`[]`, "unexpected response shape"},
		{series(`"200"`), "unexpected response shape"},
		{series(`{"data":[{"value":"1"}]}`), "data[0].response_code is missing"},
		{series(`{"response_code":"ok","data":[]}`), "data[0].response_code is not a status code"},
		{series(`{"response_code":"2 0","data":[]}`), "data[0].response_code is not a status code"},
		{series(`{"response_code":true,"data":[]}`), "data[0].response_code is not a status code"},
		{series(`{"response_code":"20000000000000000","data":[]}`), "too long"},
		{series(`{"response_code":"200"}`), "data[0].data is missing"},
		{series(`{"response_code":"200","data":null}`), "data[0].data is missing"},
		{series(`{"response_code":"200","data":[{"key":"x"}]}`), "data[0].data[0].value is missing or not a non-negative number"},
		{series(`{"response_code":"200","data":[{"value":"1"},{"value":"n/a"}]}`), "data[0].data[1].value"},
		{series(`{"response_code":"200","data":[{"value":"-1"}]}`), "data[0].data[0].value"},
		{series(`{"response_code":"200","dataset":[{"value":{}}]}`), "data[0].dataset[0].value"},
		{series(`{"response_code":"200","data":[{"value":"1e308"},{"value":"1e308"}]}`), "sums to more"},
		{`{"message":"Could not find data","status":404}`, "202 not_found"}, // an error body sent with 2xx
	}
	for _, tt := range tests {
		_, err := clientFor(t, &recorder{status: 202, body: []byte(tt.body)}).ResponseCodes(context.Background(), "c", "e")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.body, err, tt.want)
			continue
		}
		if k := KindOf(err); k != KindBadResponse && !strings.Contains(tt.want, "not_found") {
			t.Errorf("%s: kind %s", tt.body, k)
		}
	}
	var many strings.Builder
	for i := range maxResponseCodes + 1 {
		if i > 0 {
			many.WriteByte(',')
		}
		many.WriteString(`{"response_code":"` + itoa(1000+i) + `","data":[]}`)
	}
	_, err := clientFor(t, &recorder{status: 202, body: []byte(series(many.String()))}).ResponseCodes(context.Background(), "c", "e")
	if !IsKind(err, KindBadResponse) || !strings.Contains(err.Error(), "over 600 distinct") {
		t.Errorf("601 codes: %v", err)
	}
}

func TestResponseCodesErrors(t *testing.T) {
	if _, err := (&Client{}).ResponseCodes(context.Background(), "", "e"); err == nil {
		t.Error("empty company id accepted")
	}
	if _, err := (&Client{}).ResponseCodes(context.Background(), "c", ""); err == nil {
		t.Error("empty environment id accepted")
	}
	for status, kind := range map[int]Kind{400: KindClient, 404: KindNotFound, 500: KindServer} {
		_, err := clientFor(t, &recorder{status: status, body: []byte(`{"message":"x","status":` + itoa(status) + `}`)}).
			ResponseCodes(context.Background(), "c", "e")
		if !IsKind(err, kind) || !strings.Contains(err.Error(), "/sites/environments/{env_id}/analytics/response-codes") {
			t.Errorf("%d: %v", status, err)
		}
	}
}
