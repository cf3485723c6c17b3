package kinsta

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTooLarge(t *testing.T) {
	body := fixture(t, "sites-include-environments.json")
	limit := int64(len(body) - 1)
	for name, chunked := range map[string]bool{"content-length": false, "chunked": true} {
		t.Run(name, func(t *testing.T) {
			c := clientFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !chunked {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				}
				w.WriteHeader(200)
				for i := 0; i < len(body); i += 100 {
					_, _ = w.Write(body[i:min(i+100, len(body))])
					if chunked {
						w.(http.Flusher).Flush()
					}
				}
			}), func(c *Config) { c.MaxResponseBytes = limit })
			_, err := c.Sites(context.Background(), testCompany)
			e := asError(t, err)
			if e.Kind != KindTooLarge || e.StatusCode != 200 || !strings.Contains(e.Error(), "--kinsta.max-response-size") {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// Exactly at the limit is fine.
	c := clientFor(t, serve(200, body), func(c *Config) { c.MaxResponseBytes = int64(len(body)) })
	if _, err := c.Sites(context.Background(), testCompany); err != nil {
		t.Fatal(err)
	}
}

func TestReadCapped(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 300_000) // 3 MB: several chunks
	for _, hint := range []int64{-1, int64(len(data))} {
		got, err := readCapped(bytes.NewReader(data), int64(len(data)), hint)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("hint %d: %d bytes, %v", hint, len(got), err)
		}
		if _, err := readCapped(bytes.NewReader(data), int64(len(data)-1), hint); !errors.Is(err, errTooLarge) {
			t.Fatalf("hint %d: over the limit: %v", hint, err)
		}
	}
	if got, err := readCapped(strings.NewReader(""), 10, -1); err != nil || len(got) != 0 {
		t.Fatalf("empty: %q %v", got, err)
	}
	boom := errors.New("reset")
	if _, err := readCapped(io.MultiReader(strings.NewReader("abc"), errReader{boom}), 10, -1); !errors.Is(err, boom) {
		t.Fatalf("read error lost: %v", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestHugeBodyMemory serves ~300 MB of an endless sites array and checks that
// the client stops reading at its cap and never holds the body. The body is
// decoded as it arrives, so what it holds when it stops is the sites decoded
// so far: for these minimal ones (117 bytes of JSON, about 190 bytes of Site
// and strings each) decoding stops at the sites budget, half the cap (8 MiB),
// and the rest of the body is read to the cap, which wins as the error. A
// client that also kept the body would need more than the bound. (The cap is
// 16 MiB, not the default 64, because decoding is slow under the race
// detector.)
func TestHugeBodyMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 16 MiB")
	}
	const limit = 16 << 20
	const total = 300 << 20
	site := `{"id":"54fb80af-576c-4fdc-ba4f-b596c83f15a1","name":"site","display_name":"A site","status":"live","environments":[]},`
	block := []byte(strings.Repeat(site, (64<<10)/len(site)))
	var read atomic.Int64
	c := clientFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200) // chunked: no Content-Length to fail fast on
		_, _ = io.WriteString(w, `{"company":{"sites":[`)
		for sent := 0; sent < total; sent += len(block) {
			if _, err := w.Write(block); err != nil {
				return // the client hung up, as it should
			}
		}
		_, _ = io.WriteString(w, `{}]}}`)
	}), countBodyBytes(&read), func(c *Config) { c.MaxResponseBytes = limit })

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	_, err := c.Sites(context.Background(), testCompany)
	close(stop)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	if !IsKind(err, KindTooLarge) {
		t.Fatalf("err = %v, want too_large", err)
	}
	if n := read.Load(); n > limit+1 {
		t.Errorf("read %d bytes of the body, want at most the cap and one", n)
	}
	const bound = 40 << 20
	grewPeak := int64(peak.Load()) - int64(before.HeapAlloc)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("heap grew at most %d MiB; %d MiB allocated in all", grewPeak>>20, allocated>>20)
	if grewPeak >= bound || allocated >= bound {
		t.Errorf("heap grew %d bytes, %d allocated; want < %d", grewPeak, allocated, bound)
	}
}

// countBodyBytes makes the client count in n the bytes it reads of response
// bodies.
func countBodyBytes(n *atomic.Int64) func(*Config) {
	return func(c *Config) {
		c.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err == nil {
				resp.Body = countingBody{resp.Body, n}
			}
			return resp, err
		})
	}
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func TestTimeouts(t *testing.T) {
	t.Run("hang before headers", func(t *testing.T) {
		t.Parallel()
		c := clientFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := c.Sites(ctx, testCompany)
		if e := asError(t, err); e.Kind != KindTimeout || e.StatusCode != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("hang after headers", func(t *testing.T) {
		t.Parallel()
		c := clientFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"company":`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := c.Sites(ctx, testCompany)
		if e := asError(t, err); e.Kind != KindTimeout || e.StatusCode != 200 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("drip past the deadline", func(t *testing.T) {
		t.Parallel()
		// One byte every 20ms would take a minute; the call must end at its
		// 300ms deadline.
		c := clientFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"company":{"sites":[`)
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for range 3000 {
				select {
				case <-r.Context().Done():
					return
				case <-tick.C:
				}
				if _, err := io.WriteString(w, " "); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Sites(ctx, testCompany)
		if !IsKind(err, KindTimeout) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("drip held the call for %v", d)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		t.Parallel()
		c := clientFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		if _, err := c.Sites(ctx, testCompany); !IsKind(err, KindTimeout) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestTransportError(t *testing.T) {
	srv := newTestServer(t, http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := newTestClient(t, url).Sites(context.Background(), testCompany)
	e := asError(t, err)
	if e.Kind != KindTransport || e.StatusCode != 0 || !strings.Contains(e.Error(), "kinsta API GET /sites: transport: ") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(e.Error(), "Get \"http") {
		t.Errorf("Error() repeats the URL: %v", e)
	}
}

func TestRedirects(t *testing.T) {
	type seen struct {
		mu   sync.Mutex
		auth []string
	}
	record := func(s *seen, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			s.auth = append(s.auth, r.Header.Get("Authorization"))
			s.mu.Unlock()
			h.ServeHTTP(w, r)
		})
	}
	sites := fixture(t, "sites.json")

	t.Run("to another server drops Authorization", func(t *testing.T) {
		var apiSeen, otherSeen seen
		other := newTestServer(t, record(&otherSeen, serve(200, sites)))
		api := newTestServer(t, record(&apiSeen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/elsewhere"+r.URL.RequestURI(), http.StatusFound)
		})))
		got, err := newTestClient(t, api.URL).Sites(context.Background(), testCompany)
		if err != nil || len(got) != 1 {
			t.Fatalf("%v %v", got, err)
		}
		if len(apiSeen.auth) != 1 || apiSeen.auth[0] != "Bearer "+testKey {
			t.Errorf("API server saw %q", apiSeen.auth)
		}
		if len(otherSeen.auth) != 1 || otherSeen.auth[0] != "" {
			t.Errorf("other server saw Authorization %q", otherSeen.auth)
		}
	})
	t.Run("back to the API after leaving it stays without Authorization", func(t *testing.T) {
		var apiSeen seen
		var api string
		other := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, api+"/final/sites", http.StatusTemporaryRedirect)
		}))
		api = newTestServer(t, record(&apiSeen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/final") {
				serve(200, sites)(w, r)
				return
			}
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		}))).URL
		if _, err := newTestClient(t, api).Sites(context.Background(), testCompany); err != nil {
			t.Fatal(err)
		}
		if len(apiSeen.auth) != 2 || apiSeen.auth[1] != "" {
			t.Errorf("API server saw %q", apiSeen.auth)
		}
	})
	t.Run("same origin keeps Authorization", func(t *testing.T) {
		var apiSeen seen
		api := newTestServer(t, record(&apiSeen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/sites" {
				serve(200, sites)(w, r)
				return
			}
			http.Redirect(w, r, "/v2"+r.URL.RequestURI(), http.StatusMovedPermanently)
		})))
		if _, err := newTestClient(t, api.URL).Sites(context.Background(), testCompany); err != nil {
			t.Fatal(err)
		}
		if len(apiSeen.auth) != 2 || apiSeen.auth[1] != "Bearer "+testKey {
			t.Errorf("API server saw %q", apiSeen.auth)
		}
	})
	t.Run("loop stops", func(t *testing.T) {
		var apiSeen seen
		api := newTestServer(t, record(&apiSeen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound)
		})))
		_, err := newTestClient(t, api.URL).Sites(context.Background(), testCompany)
		if !IsKind(err, KindTransport) || !strings.Contains(err.Error(), "redirects") {
			t.Fatalf("err = %v", err)
		}
		if n := len(apiSeen.auth); n != maxRedirects+1 {
			t.Errorf("%d requests, want %d", n, maxRedirects+1)
		}
	})
}
