package kinsta

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// testKey is distinctive so that a leak into any error text is easy to spot.
const testKey = "kst_SECRET_5f0c9e1d2b3a48e7a6c5d4e3f2a1b0c9"

const testCompany = "54fb80af-576c-4fdc-ba4f-b596c83f15a1"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serve answers every request with status, a JSON content type and body.
func serve(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

// newTestServer starts an httptest server (it listens on 127.0.0.1) closed
// at the end of the test.
func newTestServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newTestClient returns a client for baseURL with the test key, no rate
// limit, and whatever mod changes.
func newTestClient(t testing.TB, baseURL string, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: baseURL, APIKey: testKey}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clientFor starts a server for h and returns a client for it.
func clientFor(t testing.TB, h http.Handler, mod ...func(*Config)) *Client {
	t.Helper()
	return newTestClient(t, newTestServer(t, h).URL, mod...)
}

// fakeClock is a Config.Now that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// asError returns err as *Error or fails the test.
func asError(t testing.TB, err error) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v, want *kinsta.Error", err, err)
	}
	return e
}

func itoa(i int) string { return strconv.Itoa(i) }

func atoi(t testing.TB, s string) int {
	t.Helper()
	i, err := strconv.Atoi(s)
	if err != nil {
		t.Errorf("not a number: %q", s)
	}
	return i
}
