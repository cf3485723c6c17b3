package kinstatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaultStatus(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	path := "/sites?company=" + demo.ID
	for _, tc := range []struct {
		status int
		want   string // fixture, or a body prefix
	}{
		{400, "error-400.json"}, {401, "error-401.json"}, {404, "error-404.json"},
		{429, "error-429.json"}, {500, "error-500.json"},
		{418, `{"message":"I'm a teapot","status":418,"data":null}`},
		{502, "<html>"}, {503, "<html>"}, {504, "<html>"},
	} {
		f.SetFault(RouteSites, Fault{Status: tc.status})
		r := getKey(t, srv, path, "") // a fault answers before the key is checked
		if r.status != tc.status {
			t.Errorf("%d: got status %d", tc.status, r.status)
		}
		switch {
		case strings.HasSuffix(tc.want, ".json"):
			if !jsonEqual(t, r.body, fixture(t, tc.want)) {
				t.Errorf("%d: body %s, want %s", tc.status, r.body, tc.want)
			}
		case !strings.HasPrefix(string(r.body), tc.want):
			t.Errorf("%d: body %s, want %s...", tc.status, r.body, tc.want)
		}
		if tc.status >= 502 && r.header.Get("Content-Type") != "text/html" {
			t.Errorf("%d: Content-Type %q", tc.status, r.header.Get("Content-Type"))
		}
		if r.header.Get("Retry-After") != "" {
			t.Errorf("%d: Retry-After without RetryAfter", tc.status)
		}
	}
	f.SetFault(RouteSites, Fault{Status: 429, RetryAfter: "7"})
	if r := get(t, srv, path); r.status != 429 || r.header.Get("Retry-After") != "7" {
		t.Errorf("429: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	f.SetFault(RouteSites, Fault{})
	if r := get(t, srv, path); r.status != 200 || r.header.Get("Retry-After") != "" {
		t.Errorf("cleared: %d", r.status)
	}
}

func TestFaultBody(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	path := "/sites?company=" + demo.ID
	for _, tc := range []struct {
		fault  Fault
		status int
	}{
		{Fault{Body: `{"company":`}, 200},
		{Fault{Body: `[]`}, 200},
		{Fault{Body: `<html>`}, 200},
		{Fault{Status: 500, Body: `<html>oops</html>`}, 500},
	} {
		f.SetFault(RouteSites, tc.fault)
		r := get(t, srv, path)
		if r.status != tc.status || string(r.body) != tc.fault.Body {
			t.Errorf("%+v: %d %q", tc.fault, r.status, r.body)
		}
	}
}

func TestFaultScope(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	f.SetFault("", Fault{Status: 503})
	f.SetFault(RouteValidate, Fault{Status: 401})
	for path, want := range map[string]int{
		"/validate": 401, "/sites?company=" + demo.ID: 503, "/company/" + demo.ID + "/activity-logs": 503, "/no/such/route": 503,
	} {
		if r := get(t, srv, path); r.status != want {
			t.Errorf("%s: %d, want %d", path, r.status, want)
		}
	}
	f.SetFault(RouteValidate, Fault{}) // falls back to the "" fault
	if r := get(t, srv, "/validate"); r.status != 503 {
		t.Errorf("/validate after clearing its fault: %d, want 503", r.status)
	}
	f.SetFault("", Fault{})
	if r := get(t, srv, "/validate"); r.status != 200 {
		t.Errorf("/validate after clearing all: %d", r.status)
	}
}

func do(srv interface{ Client() *http.Client }, ctx context.Context, url string) (*http.Response, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	return srv.Client().Do(req)
}

func TestFaultHang(t *testing.T) {
	t.Parallel() // mostly waiting
	f, srv := serve(t, DemoCompany(testNow))
	f.SetFault(RouteValidate, Fault{Hang: true})
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := do(srv, ctx, srv.URL+"/validate")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) < 100*time.Millisecond {
		t.Errorf("err %v after %v, want a deadline after 100ms", err, time.Since(start))
	}
	if f.Requests(RouteValidate) != 1 {
		t.Errorf("hung request not counted")
	}

	// Close releases a hung request whose client would wait forever.
	done := make(chan error, 1)
	go func() {
		resp, err := do(srv, context.Background(), srv.URL+"/validate")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for f.Requests(RouteValidate) < 2 {
		time.Sleep(time.Millisecond)
	}
	f.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a hung request got an answer after Close; want the connection aborted")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hung request")
	}
}

func TestFaultDelay(t *testing.T) {
	t.Parallel() // mostly waiting
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	normal := get(t, srv, "/validate").body
	f.SetFault(RouteValidate, Fault{Delay: 60 * time.Millisecond})
	start := time.Now()
	r := get(t, srv, "/validate")
	if time.Since(start) < 60*time.Millisecond || r.status != 200 || !bytes.Equal(r.body, normal) {
		t.Errorf("after %v: %d %s", time.Since(start), r.status, r.body)
	}

	f.SetFault(RouteValidate, Fault{Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := do(srv, ctx, srv.URL+"/validate"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want a deadline", err)
	}
	// Delay applies to error answers too.
	f.SetFault(RouteValidate, Fault{Delay: 10 * time.Millisecond})
	if r := getKey(t, srv, "/validate", ""); r.status != 401 {
		t.Errorf("delayed bad key: %d", r.status)
	}
}

func TestFaultDrip(t *testing.T) {
	t.Parallel() // mostly waiting
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	normal := get(t, srv, "/validate").body
	rate := len(normal)/2 + 1 // two chunks, one second apart
	f.SetFault(RouteValidate, Fault{DripBytesPerSecond: rate})
	start := time.Now()
	resp, err := do(srv, context.Background(), srv.URL+"/validate")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != int64(len(normal)) {
		t.Errorf("Content-Length %d, want %d", resp.ContentLength, len(normal))
	}
	first := make([]byte, len(normal))
	n, _ := io.ReadAtLeast(resp.Body, first, 1)
	if n > rate {
		t.Errorf("first read: %d bytes, want at most one chunk of %d", n, rate)
	}
	rest, _ := io.ReadAll(resp.Body)
	if got := append(first[:n], rest...); !bytes.Equal(got, normal) {
		t.Errorf("dripped body %s, want %s", got, normal)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("whole body after %v, want about 1s", d)
	}
}

func TestFaultOversize(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	const size = 2 << 20
	f.SetFault(RouteSites, Fault{OversizeBytes: size})
	resp, err := do(srv, context.Background(), srv.URL+"/sites?company="+demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != size || resp.ContentLength != -1 || resp.StatusCode != 200 {
		t.Fatalf("read %d bytes (err %v, Content-Length %d, status %d), want %d", len(b), err, resp.ContentLength, resp.StatusCode, size)
	}
	if !bytes.HasPrefix(b, []byte(`{"name":"aaaa`)) || json.Valid(b) {
		t.Errorf("want an unterminated JSON string, got %.40s...", b)
	}
	var v any
	if err := json.Unmarshal(b, &v); err == nil {
		t.Error("decoding an endless string succeeded")
	}

	// A client that stops reading must not keep the handler (and srv.Close) busy.
	f.SetFault(RouteSites, Fault{OversizeBytes: 1 << 40})
	resp, err = do(srv, context.Background(), srv.URL+"/sites?company="+demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, resp.Body, 256<<10)
	resp.Body.Close() // the cleanup's srv.Close hangs if the handler keeps writing
}

func TestFaultRedirect(t *testing.T) {
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	f.SetFault(RouteValidate, Fault{RedirectTo: "http://other.invalid/validate"})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/validate", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://other.invalid/validate" {
		t.Errorf("%d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
