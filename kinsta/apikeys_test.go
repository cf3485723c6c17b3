package kinsta

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAPIKeysFixture(t *testing.T) {
	rec := &recorder{body: fixture(t, "supplement-company-api-keys.json")}
	got, err := clientFor(t, rec).APIKeys(context.Background(), testCompany)
	want := []APIKey{{ID: "54fb80af-576c-4fdc-ba4f-b596c83f15a1", Name: "Public API Key", Status: "active",
		ExpiresAt: time.Date(2028, 8, 21, 8, 15, 21, 872_000_000, time.UTC)}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	if rec.paths[0] != "/company/"+testCompany+"/api-keys" || rec.queries[0] != "" {
		t.Errorf("request %s?%s", rec.paths[0], rec.queries[0])
	}
}

func TestAPIKeysVariants(t *testing.T) {
	body := `{"api_keys":[
		{"id":"a","name":"deploy","status":"active","expires_at":"2026-12-10T00:00:00.000Z"},
		{"id":"b","name":"forever","status":"active","expires_at":null},
		{"id":"c","name":"old","status":"revoked","expires_at":"2027-01-01T00:00:00Z"},
		{"id":"d","name":"gone","status":"expired","expires_at":"1764547200000"},
		{"id":"e","name":"no expiry key","status":"suspended"},
		{"id":7,"name":"numbers","status":"active","expires_at":1764547200000,"created_at":"2026-01-01T00:00:00Z"},
		null, {}
	],"total":6}`
	got, err := clientFor(t, &recorder{body: []byte(body)}).APIKeys(context.Background(), "c")
	dec1 := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	want := []APIKey{
		{ID: "a", Name: "deploy", Status: "active", ExpiresAt: time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)},
		{ID: "b", Name: "forever", Status: "active"},
		{ID: "c", Name: "old", Status: "revoked", ExpiresAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "d", Name: "gone", Status: "expired", ExpiresAt: dec1},
		{ID: "e", Name: "no expiry key", Status: "suspended"},
		{ID: "7", Name: "numbers", Status: "active", ExpiresAt: dec1},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v, %v\nwant %+v", got, err, want)
	}
	got, err = clientFor(t, &recorder{body: []byte(`{"api_keys":[]}`)}).APIKeys(context.Background(), "c")
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty list: %#v, %v", got, err)
	}
}

func TestAPIKeysBadShapes(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{}`, "api_keys is missing"},
		{`{"api_keys":null}`, "api_keys is missing"},
		{`{"api_keys":{}}`, "unexpected response shape"},
		{`{"api_keys":["key"]}`, "unexpected response shape"},
		{`{"company":{"api_keys":[]}}`, "api_keys is missing"},
		{`{"api_keys":[{"id":"a","expires_at":"soon"}]}`, "api_keys[0].expires_at is not a time"},
		{`{"api_keys":[{"id":"a","expires_at":null},{"id":"b","expires_at":""}]}`, "api_keys[1].expires_at is not a time"},
		{`{"api_keys":[{"id":"a","expires_at":0}]}`, "api_keys[0].expires_at is not a time"},
		{`{"api_keys":[{"id":"a","expires_at":{"at":"2027-01-01"}}]}`, "api_keys[0].expires_at is not a time"},
		{`not json`, "malformed"},
	}
	for _, tt := range tests {
		_, err := clientFor(t, &recorder{body: []byte(tt.body)}).APIKeys(context.Background(), "c")
		if !IsKind(err, KindBadResponse) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want bad_response %q", tt.body, err, tt.want)
		}
	}
}

// TestAPIKeysNotFound: a developer-role key gets the spec's 404, which is
// KindNotFound with Kinsta's message.
func TestAPIKeysNotFound(t *testing.T) {
	body := `{"message":"Could not find the company or the user does not have permissions to retrieve data","status":404,"data":null}`
	_, err := clientFor(t, &recorder{status: http.StatusNotFound, body: []byte(body)}).APIKeys(context.Background(), "c")
	if !IsKind(err, KindNotFound) || !strings.Contains(err.Error(), "GET /company/{company_id}/api-keys: 404 not_found: Could not find the company") {
		t.Errorf("err = %v", err)
	}
	if _, err := (&Client{}).APIKeys(context.Background(), ""); err == nil {
		t.Error("empty company id accepted")
	}
}
