package kinsta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// keyLeak returns the first run of 8 characters of testKey found in text,
// ignoring case and every character but letters and digits, or "".
func keyLeak(text string) string {
	alnum := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, s)
	}
	key, t := alnum(testKey), alnum(text)
	for i := 0; i+8 <= len(key); i++ {
		if strings.Contains(t, key[i:i+8]) {
			return key[i : i+8]
		}
	}
	return ""
}

// TestErrorsWithholdKeyEchoes has the fake echo the key in disguise in
// error bodies; before, only an exact echo was replaced, before cleaning,
// and each of these showed the key in err.Error().
func TestErrorsWithholdKeyEchoes(t *testing.T) {
	fake := kinstatest.New(testKey)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	c := newTestClient(t, srv.URL)
	for name, kind := range map[string]kinstatest.HostileKind{
		"NUL inside":    kinstatest.HostileKeyEchoNUL,
		"upper case":    kinstatest.HostileKeyEchoUpper,
		"split":         kinstatest.HostileKeyEchoSplit,
		"12 characters": kinstatest.HostileKeyEchoPart,
		"data.message":  kinstatest.HostileKeyEchoNested,
	} {
		fake.SetFault("", kinstatest.Fault{Hostile: kinstatest.Hostile{Kind: kind}})
		for _, call := range []func() error{
			func() error { _, err := c.Sites(context.Background(), testCompany); return err },
			func() error { _, err := c.Validate(context.Background()); return err },
			func() error { _, err := c.CompanyPlugins(context.Background(), testCompany); return err },
		} {
			err := call()
			e := asError(t, err)
			text := fmt.Sprintf("%s %v %+v %#v", err.Error(), err, *e, *e)
			if leak := keyLeak(text); leak != "" || e.Kind != KindClient || e.Message != withheldMessage {
				t.Errorf("%s: %s %q: leaks %q", name, e.Kind, err, leak)
			}
		}
	}
}

// TestErrorsWithholdKeyInOtherTexts covers the other ways API text reaches
// an error: an error body sent with 200, a Content-Type, a transport error.
func TestErrorsWithholdKeyInOtherTexts(t *testing.T) {
	upper := strings.ToUpper(testKey)
	for name, tc := range map[string]struct {
		h   http.Handler
		mod func(*Config)
	}{
		"error body with 200": {h: serve(200, []byte(`{"status":401,"message":"bad key `+upper[5:25]+`"}`))},
		"content type": {h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; key="+testKey[:10]+"\x00"+testKey[10:])
			w.WriteHeader(502)
		})},
		"transport error": {h: serve(200, nil), mod: func(c *Config) {
			c.Transport = roundTripFunc(func(*http.Request) (*http.Response, error) {
				return nil, errors.New("proxy: bad credentials " + upper)
			})
		}},
	} {
		var mods []func(*Config)
		if tc.mod != nil {
			mods = append(mods, tc.mod)
		}
		_, err := clientFor(t, tc.h, mods...).Sites(context.Background(), testCompany)
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if leak := keyLeak(fmt.Sprintf("%v %#v", err, err)); leak != "" || !strings.Contains(err.Error(), "withheld") {
			t.Errorf("%s: %q leaks %q", name, err, leak)
		}
	}
}

func TestKeyFilter(t *testing.T) {
	f := newKeyFilter(testKey)
	for text, want := range map[string]bool{
		"No or invalid API key provided to the request": false,
		"kst_SECR": false, "5f0c9e1": false, // 7 letters and digits: too short a part
		"kst_SECRE T_5": true, "x 5F0C9E1D y": true, "5f0c\u200b9e1d": true, "ab\x00c9": false,
		"…a1b0c9": false, "f3f2a1b0c9": true,
	} {
		if got := f.holdsKey(text); got != want {
			t.Errorf("holdsKey(%q) = %v", text, got)
		}
	}
	punct := newKeyFilter("--..--")
	if !punct.holdsKey("x--..--y") || punct.holdsKey("x--.-y") {
		t.Error("a key without letters or digits")
	}
}
