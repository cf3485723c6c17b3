package kinsta

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzDecodeSites(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"company":{"sites":[{"id":1,"siteLabels":[{"id":2}],"site_labels":[{"id":"2"}],"environments":[null]}]}}`))
	f.Add([]byte(`null`))
	for _, tc := range sitesCases {
		if len(tc.body) < 4<<10 { // the huge ones would slow every mutation
			f.Add([]byte(tc.body))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sites, err := DecodeSites(bytes.NewReader(data))
		if err != nil {
			e := asError(t, err)
			if e.Kind != KindBadResponse && e.Kind != KindTooLarge {
				t.Fatalf("kind %s: %v", e.Kind, err)
			}
			if sites != nil {
				t.Fatal("sites with an error")
			}
			_ = e.Error()
			return
		}
		if sites == nil {
			t.Fatal("nil sites without an error")
		}
		for _, s := range sites {
			if !utf8.ValidString(s.ID) {
				t.Fatalf("site id %q is not valid UTF-8", s.ID)
			}
			for _, l := range s.Labels {
				if l == (Label{}) {
					t.Fatal("empty label kept")
				}
			}
			for _, e := range s.Environments {
				if strings.HasPrefix(strings.ToLower(e.PHPVersion), "php") {
					t.Fatalf("php prefix kept: %q", e.PHPVersion)
				}
			}
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, s := range []string{"0", "120", "-1", "", "1.5", "99999999999999999999",
		now.Add(time.Minute).Format(http1123), "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994", " 7 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, now)
		if !ok && d != 0 {
			t.Fatalf("%q: %v with ok=false", v, d)
		}
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("%q: %v out of [0, %v]", v, d, maxRetryAfter)
		}
	})
}

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"
