package kinsta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// hugeJSON is a value of some 300 kB, nested 9,001 deep: the streaming
// decoder skips it token by token, with a depth count. At the deepest place
// it is used, company.x, that is 9,003 levels, within maxDepth.
var hugeJSON = `{"list":[` + strings.Repeat(`{"a":[1,"b",null,true,1e999]},`, 10_000) + `{}],"deep":` +
	strings.Repeat("[", 9_000) + strings.Repeat("]", 9_000) + "}"

// nested is an unknown member nested depth deep inside the top-level object,
// after company.sites: 1+depth levels in all.
func nested(depth int) string {
	return `{"company":{"sites":[]},"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "}"
}

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
		want: []Site{{}}},
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
	{name: "nested as deep as json.Unmarshal allows", body: nested(maxDepth - 1), want: []Site{}},

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
	// A malformed element costs only itself (see TestSitesDropped).
	{name: "site number", body: `{"company":{"sites":[1]}}`, want: []Site{}},
	{name: "environments object", body: `{"company":{"sites":[{"id":"s","environments":{}}]}}`, want: []Site{{ID: "s"}}},
	{name: "truncated in a site", body: `{"company":{"sites":[{"id":"s","na`, kind: KindBadResponse, msg: "malformed or truncated JSON"},
	{name: "truncated between tokens", body: `{"company":{"sites":[`, kind: KindBadResponse, msg: "malformed or truncated JSON"},
	{name: "truncated in a skipped member", body: `{"x":[1,{"a":`, kind: KindBadResponse, msg: "malformed or truncated JSON"},
	{name: "malformed site", body: `{"company":{"sites":[{"id":"s",}]}}`, kind: KindBadResponse, msg: "malformed or truncated JSON at byte"},
	{name: "malformed between tokens", body: `{"company" {"sites":[]}}`, kind: KindBadResponse, msg: "malformed or truncated JSON at byte"},
	{name: "not JSON", body: `<html></html>`, kind: KindBadResponse, msg: "malformed or truncated JSON at byte"},
	{name: "trailing value", body: `{"company":{"sites":[]}} {"x":1}`, kind: KindBadResponse, msg: "data after the top-level JSON value"},
	{name: "trailing garbage", body: `{"company":{"sites":[]}} x`, kind: KindBadResponse, msg: "malformed or truncated JSON at byte"},
	{name: "nested deeper than json.Unmarshal allows", body: nested(maxDepth), kind: KindBadResponse,
		msg: fmt.Sprintf("JSON nested too deep (over 10000 levels) at byte %d", len(`{"company":{"sites":[]},"x":`)+maxDepth)},
	{name: "nested too deep in a site", body: `{"company":{"sites":[` + strings.Repeat("[", maxDepth+1), kind: KindBadResponse,
		msg: "JSON nested too deep"},
	{name: "wrong company, then a later one", body: `{"company":"x","company":{"sites":[]}}`, kind: KindBadResponse,
		msg: "company is a JSON string"},
	{name: "wrong company, then truncated", body: `{"company":[{"a":1}],"message":"m","status":400`, kind: KindBadResponse,
		msg: "malformed or truncated JSON"},

	{name: "error body with 200", body: `{"message":"Bad request format","status":400}`, kind: KindClient, msg: "Bad request format"},
	{name: "nested error body with 200", body: `{"data":{"message":"Site not found"},"status":404}`, kind: KindNotFound, msg: "Site not found"},
	{name: "429 error body with 200", body: `{"ERROR":"Too many requests"}`, kind: KindRateLimited, msg: "Too many requests"},
	{name: "truncated error body", body: `{"message":"m","status":400`, kind: KindBadResponse, msg: "malformed or truncated JSON"},
	// An error body with a company of the wrong type is the error body, as
	// it was when the body was unmarshalled whole.
	{name: "429 error body with 200 and a string company", body: `{"status":429,"message":"Too many requests","company":"x"}`,
		kind: KindRateLimited, msg: "Too many requests"},
	{name: "404 error body with 200 and an object company.sites", body: `{"status":404,"message":"Not found","company":{"sites":{}}}`,
		kind: KindNotFound, msg: "Not found"},
	{name: "error body after a wrong company", body: `{"company":[[{"sites":[]}]],"company":{"sites":[]},"error":"Too many requests"}`,
		kind: KindRateLimited, msg: "Too many requests"},
	// With company.sites read, error-body members are no error body.
	{name: "error body members after a wrong site", body: `{"company":{"sites":[{"id":"s"},1,{"id":"t"}],"x":[{}]},"data":{"message":"Site not found"},"status":404}`,
		want: []Site{{ID: "s"}, {ID: "t"}}},
	{name: "error body members after a wrong environments", body: `{"company":{"sites":[{"id":"s","environments":{}}]},"message":"Bad request format","status":"400"}`,
		want: []Site{{ID: "s"}}},
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

// SitesWithDropped tells the size of the body the sites came from, for a
// caller that bounds what it builds relative to it.
func TestSitesBodyBytes(t *testing.T) {
	body := `{"company": {"sites": [{"id": "s1", "name": "one"}, {"id": "s2", "name": "two"}]}}  `
	c := clientFor(t, serve(200, []byte(body)), withFakeClock(newFakeClock()))
	res, err := c.SitesWithDropped(context.Background(), testCompany)
	if err != nil || len(res.Sites) != 2 || res.BodyBytes != int64(len(body)) {
		t.Fatalf("%d sites, body %d bytes, err %v; want 2 sites of %d bytes", len(res.Sites), res.BodyBytes, err, len(body))
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
		var n atomic.Int64
		endless := countingBody{io.NopCloser(io.MultiReader(strings.NewReader(head), endlessJSON(`{"a":[1,"b",null]},`))), &n}
		if _, err := DecodeSites(endless); !IsKind(err, KindTooLarge) || n.Load() != defaultMaxResponseBytes+1 {
			t.Errorf("%s…: read %d bytes, err = %v", head, n.Load(), err)
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

// TestSitesNestingLimit checks the nesting limit against json.Unmarshal's.
func TestSitesNestingLimit(t *testing.T) {
	for _, depth := range []int{maxDepth - 1, maxDepth} {
		var v any
		uerr := json.Unmarshal([]byte(nested(depth)), &v)
		_, err := DecodeSites(strings.NewReader(nested(depth)))
		if (err == nil) != (uerr == nil) {
			t.Errorf("%d levels: err = %v; json.Unmarshal: %v", 1+depth, err, uerr)
		}
	}
}

// TestSitesDeepNestingAllocatesLittle checks that a skipped member of 4 MiB
// of '[' fails at the nesting limit, having allocated little: json.Decoder
// keeps a stack entry per open array, and walking it all allocated some
// 180 MiB.
func TestSitesDeepNestingAllocatesLittle(t *testing.T) {
	body := []byte(`{"x":` + strings.Repeat("[", 4<<20))
	const bound = 32 << 20
	check := func(t *testing.T, decode func() error) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		err := decode()
		runtime.ReadMemStats(&after)
		if e := asError(t, err); e.Kind != KindBadResponse || !strings.Contains(e.Message, "nested too deep") {
			t.Errorf("err = %v", err)
		}
		n := after.TotalAlloc - before.TotalAlloc
		t.Logf("%d KiB allocated", n>>10)
		if n >= bound {
			t.Errorf("allocated %d bytes; want < %d", n, bound)
		}
	}
	t.Run("DecodeSites", func(t *testing.T) {
		check(t, func() error {
			_, err := DecodeSites(bytes.NewReader(body))
			return err
		})
	})
	t.Run("Client.Sites", func(t *testing.T) {
		c := clientFor(t, serve(200, body))
		check(t, func() error {
			_, err := c.Sites(context.Background(), testCompany)
			return err
		})
	})
}

// endlessJSON repeats its text for ever.
type endlessJSON string

func (s endlessJSON) Read(p []byte) (int, error) {
	for n := 0; n < len(p); n += copy(p[n:], s) {
	}
	return len(p), nil
}
