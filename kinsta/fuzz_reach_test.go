package kinsta

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets of the decoders for domains, response codes and API keys: no
// input panics, an error is a decoding error, and a result keeps the
// documented promises.

func FuzzEnvironmentDomains(f *testing.F) {
	for _, s := range []string{
		`{"domains":[{"id":"1","name":"a.example","site_id":"s","is_active":true,"type":"live"}],"primaryDomain":{"id":"1","name":"a.example"}}`,
		`{"domains":[{"id":"1","name":"*.a.example","type":"live"},{"name":"A.example."}],"primaryDomain":"a.example"}`,
		`{"domains":[1,"b.example",null,{"name":"c","is_active":"false"}],"primary_domain":{"name":"p"}}`,
		`{"domains":{"name":"x"},"primaryDomain":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, env []byte) {
		body := append(append([]byte(`{"company":{"sites":[{"id":"s","environments":[`), env...), `]}]}}`...)
		sites, err := DecodeSites(bytes.NewReader(body))
		if err != nil {
			if k := KindOf(err); k != KindBadResponse {
				t.Fatalf("kind %s: %v", k, err)
			}
			return
		}
		for _, s := range sites {
			for _, e := range s.Environments {
				checkDomains(t, e)
			}
		}
	})
}

func checkDomains(t *testing.T, e Environment) {
	primaries := 0
	for _, d := range e.Domains {
		if d.Name == "" {
			t.Fatalf("domain without a name kept: %+v", d)
		}
		if d.IsPrimary {
			primaries++
		}
	}
	if e.PrimaryDomain != "" && strings.TrimSpace(e.PrimaryDomain) != "" && primaries == 0 {
		t.Fatalf("primary %q not among %s", e.PrimaryDomain, domainsText(e.Domains))
	}
	seen := map[string]bool{}
	for _, d := range e.ExportableDomains() {
		if seen[d.Name] || d.Name == "" || strings.ContainsAny(d.Name, "* /:@") ||
			d.Name != strings.ToLower(d.Name) || !utf8.ValidString(d.Name) || len(d.Name) > maxDomainName {
			t.Fatalf("exportable %q (seen %v)", d.Name, seen[d.Name])
		}
		seen[d.Name] = true
	}
}

func FuzzDecodeResponseCodes(f *testing.F) {
	f.Add(fixture(f, "supplement-analytics-response-codes.json"))
	f.Add([]byte(`{"analytics":{"analytics_response":{"data":[{"response_code":500,"dataset":[{"key":"2026-03-01T00:00:00","value":null}]}]}}}`))
	f.Add([]byte(`{"analytics":{"analytics_response":{"data":[]}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rc, err := decodeResponseCodes(body)
		if err != nil {
			msg, _ := describeDecodeError(err)
			if msg == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if rc.Counts == nil || len(rc.Counts) > maxResponseCodes {
			t.Fatalf("%d codes (nil %v)", len(rc.Counts), rc.Counts == nil)
		}
		for code, n := range rc.Counts {
			if code == "" || code[0] < '0' || code[0] > '9' || len(code) > 16 || n < 0 || math.IsNaN(n) || math.IsInf(n, 0) {
				t.Fatalf("code %q count %v", code, n)
			}
		}
		if rc.LastBucket.Before(rc.FirstBucket) || rc.FirstBucket.IsZero() != rc.LastBucket.IsZero() {
			t.Fatalf("buckets %v..%v", rc.FirstBucket, rc.LastBucket)
		}
	})
}

func FuzzDecodeAPIKeys(f *testing.F) {
	f.Add(fixture(f, "supplement-company-api-keys.json"))
	f.Add([]byte(`{"api_keys":[{"id":"a","status":"revoked","expires_at":null},{"id":7,"expires_at":"1764547200000"},null]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := decodeAPIKeys(body)
		if err != nil {
			if keys != nil {
				t.Fatal("keys with an error")
			}
			return
		}
		if keys == nil {
			t.Fatal("nil keys without an error")
		}
		for _, k := range keys {
			if k.ID == "" && k.Name == "" {
				t.Fatalf("nameless key kept: %+v", k)
			}
			if !k.ExpiresAt.IsZero() && (k.ExpiresAt.Location() != time.UTC || k.ExpiresAt.Year() > 9999) {
				t.Fatalf("expiry %v", k.ExpiresAt)
			}
		}
	})
}
