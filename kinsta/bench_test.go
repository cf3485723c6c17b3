package kinsta

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// sitesPayload builds a GET /sites?include_environments=true body with n
// sites, each with two labels and two full environments.
func sitesPayload(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"company":{"sites":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"site-%08d-576c-4fdc-ba4f-b596c83f15a1","name":"site%d","display_name":"Site number %d","status":"live",`+
			`"siteLabels":[{"id":"label-a-%d","name":"client:acme"},{"id":%d,"name":"tier:gold"}],"environments":[`, i, i, i, i, i)
		for j, env := range []string{"live", "staging"} {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"env-%08d-%d-4b8c-9e0f-2a3b4c5d6e7f","name":%q,"display_name":%q,"is_blocked":false,`+
				`"id_edge_cache":null,"cdn_cache_id":"54fb80af-576c-4fdc-ba4f-b596c83f15a1","is_opt_out_from_automatic_php_update":false,`+
				`"web_root":"/www/site%d/public","image_optimization_type":"lossy","is_additional_sftp_accounts_enabled":false,`+
				`"is_premium":false,"wordpress_version":"6.5.2","domains":[{"id":"d-%d-%d","name":"site%d-%s.example.com","site_id":"s","is_active":true,"type":"live"}],`+
				`"primaryDomain":{"id":"d-%d-%d","name":"site%d-%s.example.com","site_id":"s","is_active":true,"type":"live"},`+
				`"ssh_connection":{"ssh_port":"%d","ssh_ip":{"external_ip":"192.0.2.1"}},"container_info":{"id":"c-%d-%d","php_engine_version":"php8.3"}}`,
				i, j, env, env, i, i, j, i, env, i, j, i, env, 20000+i, i, j)
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}

func benchmarkDecodeSites(b *testing.B, n int) {
	payload := sitesPayload(n)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		sites, err := DecodeSites(bytes.NewReader(payload))
		if err != nil || len(sites) != n {
			b.Fatalf("%d sites, %v", len(sites), err)
		}
	}
}

func BenchmarkDecodeSites1000(b *testing.B)  { benchmarkDecodeSites(b, 1000) }
func BenchmarkDecodeSites10000(b *testing.B) { benchmarkDecodeSites(b, 10000) }

func TestSitesPayload(t *testing.T) {
	sites, err := DecodeSites(bytes.NewReader(sitesPayload(3)))
	if err != nil || len(sites) != 3 || len(sites[2].Labels) != 2 || len(sites[2].Environments) != 2 ||
		sites[2].Labels[1].ID != "2" || sites[2].Environments[1].PHPVersion != "8.3" {
		t.Fatalf("%+v %v", sites, err)
	}
}

// fakeSitesClient returns a client of the fake API serving one company of n
// sites (2 environments and 2 labels each, as the exporter's benchmarks use),
// and the size of its GET /sites body.
func fakeSitesClient(b *testing.B, n int) (*Client, int64) {
	b.Helper()
	fake := kinstatest.New("bench-key", kinstatest.GenerateCompany("bench", n, 2, 2))
	srv := httptest.NewServer(fake)
	b.Cleanup(func() { fake.Close(); srv.Close() })
	c, err := New(Config{BaseURL: srv.URL, APIKey: "bench-key"})
	if err != nil {
		b.Fatal(err)
	}
	// The first request builds the fake's cached body, outside any measurement.
	refreshSites(b, c, n)
	resp, err := srv.Client().Do(fakeSitesRequest(b, srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	size, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return c, size
}

func fakeSitesRequest(b *testing.B, base string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, base+"/sites?company=bench&include_environments=true", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer bench-key")
	return req
}

func refreshSites(b *testing.B, c *Client, n int) {
	sites, err := c.Sites(context.Background(), "bench")
	if err != nil || len(sites) != n {
		b.Fatalf("%d sites, %v", len(sites), err)
	}
}

// BenchmarkClientSites is one GET /sites refresh end to end, as the exporter
// does it: loopback HTTP from the fake API, the size cap, decoding.
func BenchmarkClientSites(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		c, size := fakeSitesClient(b, n)
		b.Run(fmt.Sprintf("sites=%d", n), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				refreshSites(b, c, n)
			}
		})
	}
}

// BenchmarkClientSitesPeakHeap reports the most heap one refresh held at
// once (peak-heap-B), above what was in use before it. B/op counts garbage
// too; this is what a refresh adds to the process's memory. At GOGC=100 the
// garbage collector lets the heap grow to about twice what is live, as it
// does in the exporter; at GOGC=10 the peak is close to the live high-water.
func BenchmarkClientSitesPeakHeap(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		c, _ := fakeSitesClient(b, n)
		for _, gogc := range []int{100, 10} {
			b.Run(fmt.Sprintf("sites=%d/GOGC=%d", n, gogc), func(b *testing.B) {
				defer debug.SetGCPercent(debug.SetGCPercent(gogc))
				var peak uint64
				for b.Loop() {
					peak = max(peak, heapHighWater(func() { refreshSites(b, c, n) }))
				}
				b.ReportMetric(float64(peak), "peak-heap-B")
			})
		}
	}
}

// heapHighWater runs f and returns the most bytes of heap objects (live, or
// dead and not yet swept) seen while it ran, above the amount before it,
// sampled by another goroutine every few microseconds.
func heapHighWater(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	runtime.GC()
	base := read()
	var peak atomic.Uint64
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			default:
				time.Sleep(5 * time.Microsecond)
			}
		}
	}()
	f()
	close(done)
	<-stopped
	return max(peak.Load(), read(), base) - base
}
