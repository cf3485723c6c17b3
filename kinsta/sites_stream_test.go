package kinsta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// hugeJSON is a value of some 300 kB, nested deeper than json.Unmarshal
// allows: the streaming decoder skips it token by token, with a depth count.
var hugeJSON = `{"list":[` + strings.Repeat(`{"a":[1,"b",null,true,1e999]},`, 10_000) + `{}],"deep":` +
	strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + "}"

// sitesCases are the bodies whose decoding matters: the sites they give, or
// the kind of error Client.Sites reports and a part of its message.
var sitesCases = []struct {
	name string
	body string
	want []Site
	kind Kind
	msg  string
}{
	{name: "empty list", body: `{"company":{"sites":[]}}`, want: []Site{}},
	{name: "both label spellings",
		body: `{"company":{"sites":[{"id":"s","siteLabels":[{"id":"1","name":"a"}],"site_labels":[{"id":2,"name":"b"}]}]}}`,
		want: []Site{{ID: "s", Labels: []Label{{ID: "1", Name: "a"}, {ID: "2", Name: "b"}}}}},
	{name: "nulls inside", body: `{"company":{"sites":[null,{"id":null,"siteLabels":null,"environments":null}]}}`,
		want: []Site{{}, {}}},
	{name: "huge unknown members before and after company.sites",
		body: `{"meta":` + hugeJSON + `,"company":{"x":` + hugeJSON + `,"sites":[{"id":"s"}],"y":` + hugeJSON + `},"z":` + hugeJSON + `}`,
		want: []Site{{ID: "s"}}},
	{name: "keys in any order", body: `{"z":1,"company":{"sites":[{"id":"s"}],"id":"c"},"message":"m"}`, want: []Site{{ID: "s"}}},
	{name: "keys in any case", body: `{"COMPANY":{"Sites":[{"ID":"s","Display_Name":"D"}]}}`,
		want: []Site{{ID: "s", DisplayName: "D"}}},
	{name: "repeated sites key: the last wins", body: `{"company":{"sites":[{"id":"a"}],"sites":[{"id":"b"},{"id":"c"}]}}`,
		want: []Site{{ID: "b"}, {ID: "c"}}},
	{name: "repeated company key adds to the company", body: `{"company":{"sites":[{"id":"a"}]},"company":{"x":1}}`,
		want: []Site{{ID: "a"}}},
	{name: "trailing white space", body: "{\"company\":{\"sites\":[]}}\n\t ", want: []Site{}},

	{name: "empty body", body: ``, kind: KindBadResponse, msg: "body is empty"},
	{name: "blank body", body: " \n\t\r", kind: KindBadResponse, msg: "body is empty"},
	{name: "null", body: `null`, kind: KindBadResponse, msg: "company is missing or null"},
	{name: "missing company", body: `{"sites":[]}`, kind: KindBadResponse, msg: "company is missing or null"},
	{name: "null company", body: `{"company":{"sites":[]},"company":null}`, kind: KindBadResponse, msg: "company is missing or null"},
	{name: "missing company.sites", body: `{"company":{"id":"c"}}`, kind: KindBadResponse, msg: "company.sites is missing or null"},
	{name: "null company.sites", body: `{"company":{"sites":null}}`, kind: KindBadResponse, msg: "company.sites is missing or null"},
	{name: "top level array", body: `[]`, kind: KindBadResponse, msg: "top level is a JSON array"},
	{name: "top level number", body: `42`, kind: KindBadResponse, msg: "top level is a JSON number"},
	{name: "company array", body: `{"company":[]}`, kind: KindBadResponse, msg: "company is a JSON array"},
	{name: "company.sites string", body: `{"company":{"sites":"none"}}`, kind: KindBadResponse, msg: "company.sites is a JSON string"},
	{name: "company.sites bool", body: `{"company":{"sites":true}}`, kind: KindBadResponse, msg: "company.sites is a JSON bool"},
	{name: "site number", body: `{"company":{"sites":[1]}}`, kind: KindBadResponse, msg: "company.sites is a JSON number"},
	{name: "environments object", body: `{"company":{"sites":[{"id":"s","environments":{}}]}}`,
		kind: KindBadResponse, msg: "company.sites.environments is a JSON object"},
	{name: "truncated in a site", body: `{"company":{"sites":[{"id":"s","na`, kind: KindBadResponse, msg: "malformed or truncated JSON"},
	{name: "truncated between tokens", body: `{"company":{"sites":[`, kind: KindBadResponse, msg: "malformed or truncated JSON"},
	{name: "truncated in a skipped member", body: `{"x":[1,{"a":`, kind: KindBadResponse, msg: "malformed or truncated JSON"},
	{name: "malformed site", body: `{"company":{"sites":[{"id":"s",}]}}`, kind: KindBadResponse, msg: "malformed or truncated JSON at byte"},
	{name: "malformed between tokens", body: `{"company" {"sites":[]}}`, kind: KindBadResponse, msg: "malformed or truncated JSON at byte"},
	{name: "not JSON", body: `<html></html>`, kind: KindBadResponse, msg: "malformed or truncated JSON at byte"},
	{name: "trailing value", body: `{"company":{"sites":[]}} {"x":1}`, kind: KindBadResponse, msg: "data after the top-level JSON value"},
	{name: "trailing garbage", body: `{"company":{"sites":[]}} x`, kind: KindBadResponse, msg: "malformed or truncated JSON at byte"},

	{name: "error body with 200", body: `{"message":"Bad request format","status":400}`, kind: KindClient, msg: "Bad request format"},
	{name: "nested error body with 200", body: `{"data":{"message":"Site not found"},"status":404}`, kind: KindNotFound, msg: "Site not found"},
	{name: "429 error body with 200", body: `{"ERROR":"Too many requests"}`, kind: KindRateLimited, msg: "Too many requests"},
	{name: "truncated error body", body: `{"message":"m","status":400`, kind: KindBadResponse, msg: "malformed or truncated JSON"},
}

// TestSites decodes sitesCases with Client.Sites and, where the error is not
// an error body's, with DecodeSites.
func TestSites(t *testing.T) {
	for _, tc := range sitesCases {
		t.Run(tc.name, func(t *testing.T) {
			c := clientFor(t, serve(200, []byte(tc.body)), withFakeClock(newFakeClock()))
			sites, err := c.Sites(context.Background(), testCompany)
			checkSitesCase(t, sites, err, tc.want, tc.kind, tc.msg)
			if tc.kind == KindUnknown || tc.kind == KindBadResponse {
				sites, err := DecodeSites(strings.NewReader(tc.body))
				checkSitesCase(t, sites, err, tc.want, tc.kind, tc.msg)
			}
		})
	}
}

func checkSitesCase(t *testing.T, sites []Site, err error, want []Site, kind Kind, msg string) {
	t.Helper()
	if kind == KindUnknown {
		if err != nil || !reflect.DeepEqual(sites, want) {
			t.Fatalf("sites %#v, err %v; want %#v", sites, err, want)
		}
		return
	}
	if e := asError(t, err); e.Kind != kind || !strings.Contains(e.Error(), msg) || sites != nil {
		t.Fatalf("%d sites, err %q (%s); want %s containing %q", len(sites), err, e.Kind, kind, msg)
	}
}

// TestSitesOversizedStopsReading checks that a body over the cap fails with
// KindTooLarge however it is sent and wherever the cap falls, having read at
// most one byte more than the cap, and that this wins over a body that had
// already failed to decode, as when the body was read whole first.
func TestSitesOversizedStopsReading(t *testing.T) {
	const limit = 256 << 10
	site := []byte(`{"id":"s","name":"n","environments":[{"id":"e","primaryDomain":{"name":"d"}}]},`)
	for name, tc := range map[string]struct {
		head, filler string
		length       bool // send a Content-Length
	}{
		"endless sites":                {`{"company":{"sites":[`, string(site), false},
		"endless skipped member":       {`{"company":{"sites":[]},"x":[`, `{"a":[1,"b",null]},`, false},
		"endless string":               {`{"company":{"sites":[]},"x":"`, "abcdefgh", false},
		"endless trailing white space": {`{"company":{"sites":[]}}`, "  \n\t", false},
		"syntax error first":           {`{"company":{"sites":[{"id":"s",}]}}`, "xxxxxxxx", false},
		"past the Content-Length":      {`{"company":{"sites":[`, string(site), true},
	} {
		t.Run(name, func(t *testing.T) {
			var read atomic.Int64
			c := clientFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.length {
					w.Header().Set("Content-Length", fmt.Sprint(4*limit))
				}
				w.WriteHeader(200)
				_, _ = io.WriteString(w, tc.head)
				for sent := 0; sent < 4*limit-len(tc.head)-len(tc.filler); sent += len(tc.filler) {
					if _, err := io.WriteString(w, tc.filler); err != nil {
						return
					}
				}
			}), countBodyBytes(&read), func(c *Config) { c.MaxResponseBytes = limit })
			sites, err := c.Sites(context.Background(), testCompany)
			if e := asError(t, err); e.Kind != KindTooLarge || sites != nil {
				t.Fatalf("%d sites, err = %v", len(sites), err)
			}
			if n := read.Load(); n > limit+1 || (!tc.length && n < limit) {
				t.Errorf("read %d bytes of the body, cap %d", n, limit)
			}
		})
	}
}

// TestDecodeSitesOversizedStopsReading is the same for DecodeSites, whose cap
// is 64 MiB: it reads one byte past the cap of an endless body, even one
// whose start does not decode (over the cap wins, as when the body was read
// whole first), and none of a body that tells its size.
func TestDecodeSitesOversizedStopsReading(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 64 MiB")
	}
	for _, head := range []string{`{"company":{"sites":[]},"x":[`, `{"company":{"sites":[,`} {
		endless := &countingReader{r: io.MultiReader(strings.NewReader(head), endlessJSON(`{"a":[1,"b",null]},`))}
		if _, err := DecodeSites(endless); !IsKind(err, KindTooLarge) || endless.n != defaultMaxResponseBytes+1 {
			t.Errorf("%s…: read %d bytes, err = %v", head, endless.n, err)
		}
	}
	sized := bytes.NewReader(make([]byte, defaultMaxResponseBytes+1))
	if _, err := DecodeSites(sized); !IsKind(err, KindTooLarge) || sized.Len() != defaultMaxResponseBytes+1 {
		t.Errorf("sized body: %d bytes left, err = %v", sized.Len(), err)
	}
}

// TestDecodeSitesReadErrorWins checks that a body that breaks off is
// reported as such even where its start already failed to decode.
func TestDecodeSitesReadErrorWins(t *testing.T) {
	boom := errors.New("connection reset")
	for _, head := range []string{`{"company":{"sites":[,`, `{"company":{"sites":[`, ``, `<html>`} {
		_, err := DecodeSites(io.MultiReader(strings.NewReader(head), strings.NewReader(" "), errReader{boom}))
		if e := asError(t, err); e.Kind != KindBadResponse || e.Message != "reading body" || !errors.Is(err, boom) {
			t.Errorf("%q: err = %v", head, err)
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endlessJSON repeats its text for ever.
type endlessJSON string

func (s endlessJSON) Read(p []byte) (int, error) {
	for n := 0; n < len(p); n += copy(p[n:], s) {
	}
	return len(p), nil
}
