package kinsta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestErrorClasses(t *testing.T) {
	html := []byte("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>")
	tests := []struct {
		name        string
		status      int
		contentType string
		body        []byte
		wantKind    Kind
		wantMessage string
	}{
		{"401", 401, "", fixture(t, "error-401.json"), KindUnauthorized, "No or invalid API key provided to the request"},
		{"403", 403, "", []byte(`{"message":"Forbidden","status":403}`), KindUnauthorized, "Forbidden"},
		{"404", 404, "", fixture(t, "error-404.json"), KindNotFound, "Could not find data or the user does not have permissions to retrieve it"},
		{"404 nested data.message", 404, "", fixture(t, "error-404-nested.json"), KindNotFound, "Not found: Site not found"},
		{"404 only data.message", 404, "", []byte(`{"data":{"message":"Site not found"}}`), KindNotFound, "Site not found"},
		{"404 error field", 404, "", []byte(`{"error":"No such environment","data":"x"}`), KindNotFound, "No such environment"},
		{"400", 400, "", fixture(t, "error-400.json"), KindClient, "Bad request format"},
		{"422 empty body", 422, "", nil, KindClient, "Unprocessable Entity"},
		{"429 body only", 429, "", fixture(t, "error-429.json"), KindRateLimited, "Too many requests, please try again later."},
		{"400 saying too many requests", 400, "", []byte(`{"message":"TOO MANY REQUESTS"}`), KindRateLimited, "TOO MANY REQUESTS"},
		{"500", 500, "", fixture(t, "error-500.json"), KindServer, "Error occurred while processing your request"},
		{"502 HTML", 502, "text/html", html, KindServer, "Bad Gateway (non-JSON body, text/html)"},
		{"503 empty", 503, "", nil, KindServer, "Service Unavailable"},
		{"304", 304, "", nil, KindBadResponse, "Not Modified"},
		{"200 malformed JSON", 200, "", []byte(`{"company":{"sites":[{"id":"s",}]}}`), KindBadResponse, "malformed or truncated JSON at byte"}, // the offset is json.Decoder's
		{"200 truncated JSON", 200, "", []byte(`{"company":{"sites":[{"id":"s","na`), KindBadResponse, "malformed or truncated JSON"},
		{"200 wrong shape", 200, "", []byte(`{"company":{"sites":{"id":"s"}}}`), KindBadResponse, "unexpected response shape: company.sites is a JSON object"},
		{"200 missing wrapper", 200, "", []byte(`{"sites":[]}`), KindBadResponse, "unexpected response shape: company is missing or null"},
		{"200 top-level array", 200, "", []byte(`[]`), KindBadResponse, "unexpected response shape: top level is a JSON array"},
		{"200 HTML", 200, "text/html; charset=utf-8", html, KindBadResponse, "(Content-Type text/html; charset=utf-8)"},
		{"200 empty", 200, "", nil, KindBadResponse, "body is empty"},
		{"200 carrying an error body", 200, "", []byte(`{"message":"Bad request format","status":400}`), KindClient, "Bad request format"},
		{"200 carrying a 429 body", 200, "", fixture(t, "error-429.json"), KindRateLimited, "Too many requests"},
		{"202 is success", 202, "", fixture(t, "sites.json"), KindUnknown, ""},
		{"204 empty is bad", 204, "", nil, KindBadResponse, "body is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clientFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", cmpOr(tt.contentType, "application/json"))
				w.WriteHeader(tt.status)
				_, _ = w.Write(tt.body)
			}), withFakeClock(newFakeClock()))
			_, err := c.Sites(context.Background(), testCompany)
			if tt.wantKind == KindUnknown {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := asError(t, err)
			if e.Kind != tt.wantKind || e.StatusCode != tt.status || e.Endpoint != "/sites" {
				t.Errorf("kind %s status %d endpoint %q, want %s %d", e.Kind, e.StatusCode, e.Endpoint, tt.wantKind, tt.status)
			}
			if !strings.Contains(e.Error(), tt.wantMessage) {
				t.Errorf("Error() = %q, want it to contain %q", e.Error(), tt.wantMessage)
			}
			if (e.Kind == KindRateLimited) != (e.RetryAfter > 0) {
				t.Errorf("RetryAfter %v for kind %s", e.RetryAfter, e.Kind)
			}
		})
	}
}

func withFakeClock(clk *fakeClock) func(*Config) { return func(c *Config) { c.Now = clk.Now } }

func TestErrorFormat(t *testing.T) {
	c := clientFor(t, serve(401, fixture(t, "error-401.json")))
	_, err := c.Sites(context.Background(), testCompany)
	want := "kinsta API GET /sites: 401 unauthorized: No or invalid API key provided to the request (check --kinsta.api-key-file)"
	if err == nil || err.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", err, want)
	}
	// Wrapped errors keep their kind.
	wrapped := fmt.Errorf("refresh company: %w", err)
	if !IsKind(wrapped, KindUnauthorized) || KindOf(wrapped) != KindUnauthorized {
		t.Error("kind lost through wrapping")
	}
	if IsKind(nil, KindUnknown) || KindOf(errors.New("x")) != KindUnknown {
		t.Error("IsKind/KindOf on a foreign error")
	}
}

func TestKindString(t *testing.T) {
	want := map[Kind]string{
		KindUnknown: "unknown", KindUnauthorized: "unauthorized", KindNotFound: "not_found", KindRateLimited: "rate_limited",
		KindServer: "server_error", KindClient: "client_error", KindBadResponse: "bad_response", KindTooLarge: "too_large",
		KindTimeout: "timeout", KindTransport: "transport", Kind(99): "unknown", Kind(-1): "unknown",
	}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), k.String(), s)
		}
	}
}

func TestMessageSanitised(t *testing.T) {
	long := strings.Repeat("é", 500)
	c := clientFor(t, serve(400, []byte(`{"message":"line1\nline2\r\n\u0007bell\ttab `+long+`"}`)))
	_, err := c.Sites(context.Background(), testCompany)
	e := asError(t, err)
	if strings.ContainsAny(e.Message, "\n\r\t\a") || !strings.HasPrefix(e.Message, "line1 line2 bell tab ééé") {
		t.Errorf("message not cleaned: %q", e.Message)
	}
	if n := len([]rune(e.Message)); n > maxMessageRunes+1 || !strings.HasSuffix(e.Message, "…") {
		t.Errorf("message of %d runes not cut: %q", n, e.Message)
	}
}

func TestNewValidation(t *testing.T) {
	bad := []Config{
		{},
		{APIKey: "   "},
		{APIKey: "abc\ndef" + testKey},
		{APIKey: "abc def" + testKey},
		{APIKey: testKey, BaseURL: "ftp://api.kinsta.com"},
		{APIKey: testKey, BaseURL: "api.kinsta.com/v2"},
		{APIKey: testKey, BaseURL: "https://"},
		{APIKey: testKey, BaseURL: "https://user:pw@api.kinsta.com/v2"},
		{APIKey: testKey, BaseURL: "https://api.kinsta.com/v2?x=1"},
		{APIKey: testKey, BaseURL: "http://[::1"},
	}
	for _, cfg := range bad {
		_, err := New(cfg)
		if err == nil {
			t.Errorf("New(%q) accepted", cfg.BaseURL)
			continue
		}
		if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "pw@") {
			t.Errorf("New error leaks a secret: %v", err)
		}
	}
	c, err := New(Config{APIKey: " " + testKey + "\n"})
	if err != nil || c.base != DefaultBaseURL || c.key != testKey || c.maxBody != 64<<20 || c.limiter != nil {
		t.Errorf("defaults: %v %+v", err, c)
	}
	c, err = New(Config{APIKey: testKey, RateLimit: 2})
	if err != nil || c.limiter.Burst() != 3 {
		t.Errorf("default burst: %v", err)
	}
}

// TestAPIKeyNeverInErrors provokes every failure class, with a server that
// echoes the Authorization header into its answers, and checks that no error
// text contains the key.
func TestAPIKeyNeverInErrors(t *testing.T) {
	echo := func(status int, contentType, format string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			fmt.Fprintf(w, format, r.Header.Get("Authorization"))
		}
	}
	closed := newTestServer(t, http.NotFoundHandler())
	closed.Close()
	hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	loop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.String(), http.StatusFound) })

	type scenario struct {
		name    string
		baseURL string
		mod     func(*Config)
		timeout time.Duration
		prepare func(c *Client) // e.g. open a back-off window
	}
	srv := func(h http.Handler) string { return newTestServer(t, h).URL }
	clk := newFakeClock()
	scenarios := []scenario{
		{name: "401 echo", baseURL: srv(echo(401, "application/json", `{"message":"bad key %q"}`))},
		{name: "403 echo", baseURL: srv(echo(403, "application/json", `{"error":"forbidden for %s"}`))},
		{name: "404 nested echo", baseURL: srv(echo(404, "application/json", `{"message":"nf","data":{"message":"%s"}}`))},
		{name: "429 echo", baseURL: srv(echo(429, "application/json", `{"message":"Too many requests for %s"}`)), mod: withFakeClock(clk)},
		{name: "400 echo", baseURL: srv(echo(400, "application/json", `{"message":"%s"}`))},
		{name: "500 HTML echo", baseURL: srv(echo(500, "text/html", `<html>%s</html>`))},
		{name: "200 HTML echo", baseURL: srv(echo(200, "text/html", `<html>%s</html>`))},
		{name: "200 error body echo", baseURL: srv(echo(200, "application/json", `{"status":401,"message":"%s"}`))},
		{name: "200 malformed", baseURL: srv(echo(200, "application/json", `{"x":"%s",`))},
		{name: "too large", baseURL: srv(echo(200, "application/json", `{"company":{"sites":[{"id":"%s"}]}}`)),
			mod: func(c *Config) { c.MaxResponseBytes = 10 }},
		{name: "timeout", baseURL: srv(hang), timeout: 50 * time.Millisecond},
		{name: "transport", baseURL: closed.URL},
		{name: "redirect loop", baseURL: srv(loop)},
		{name: "transport error echoing the request", baseURL: "http://127.0.0.1:1",
			mod: func(c *Config) {
				c.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
					return nil, fmt.Errorf("proxy refused %v", r.Header)
				})
			}},
		{name: "back-off past deadline", baseURL: srv(echo(200, "application/json", `{}`)), timeout: time.Second,
			mod: withFakeClock(clk), prepare: func(c *Client) { c.backoff.rateLimited(clk.Now(), "60") }},
		{name: "limiter past deadline", baseURL: srv(echo(200, "application/json", `{}`)), timeout: 10 * time.Millisecond,
			mod: func(c *Config) { c.RateLimit = 0.001; c.Burst = 1 }, prepare: func(c *Client) { c.limiter.Allow() }},
	}
	seen := map[Kind]bool{}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			var mods []func(*Config)
			if sc.mod != nil {
				mods = append(mods, sc.mod)
			}
			c := newTestClient(t, sc.baseURL, mods...)
			if sc.prepare != nil {
				sc.prepare(c)
			}
			ctx := context.Background()
			if sc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, sc.timeout)
				defer cancel()
			}
			_, err := c.Sites(ctx, testCompany)
			e := asError(t, err)
			seen[e.Kind] = true
			for _, text := range []string{e.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", *e), fmt.Sprintf("%#v", *e), e.Message} {
				if strings.Contains(text, testKey) {
					t.Fatalf("key leaked: %s", text)
				}
			}
		})
	}
	for k := KindUnauthorized; k <= KindTransport; k++ {
		if !seen[k] {
			t.Errorf("no scenario produced %s", k)
		}
	}
}
