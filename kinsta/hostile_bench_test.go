package kinsta

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime/debug"
	"testing"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// hostileSitesBytes is the filler of the hostile GET /sites bodies: within
// the default 64 MiB cap, so that every one of them is read to its end.
const hostileSitesBytes = 60 << 20

// hostileSitesKinds are the large hostile GET /sites bodies of the fake.
var hostileSitesKinds = []struct {
	name string
	kind kinstatest.HostileKind
}{
	{"whitespace", kinstatest.HostileWhitespace},
	{"long-string", kinstatest.HostileLongString},
	{"long-number", kinstatest.HostileLongNumber},
	{"big-site", kinstatest.HostileBigSite},
	{"big-label", kinstatest.HostileBigLabel},
	{"big-environment", kinstatest.HostileBigEnvironment},
	{"tiny-sites", kinstatest.HostileTinySites},
}

// hostileSitesClient returns a client of the fake API whose GET /sites
// answers h, with the default size cap.
func hostileSitesClient(tb testing.TB, h kinstatest.Hostile) *Client {
	tb.Helper()
	fake := kinstatest.New(testKey)
	fake.SetFault(kinstatest.RouteSites, kinstatest.Fault{Hostile: h})
	srv := httptest.NewServer(fake)
	tb.Cleanup(func() { fake.Close(); srv.Close() })
	return newTestClient(tb, srv.URL)
}

// BenchmarkClientSitesHostilePeakHeap reports the most heap one GET /sites
// refresh held at once (peak-heap-B, as BenchmarkClientSitesPeakHeap
// measures it) for each large hostile body of 60 MiB, under the default
// 64 MiB cap, and whether the refresh failed (failed=1).
func BenchmarkClientSitesHostilePeakHeap(b *testing.B) {
	for _, tc := range hostileSitesKinds {
		c := hostileSitesClient(b, kinstatest.Hostile{Kind: tc.kind, Bytes: hostileSitesBytes})
		for _, gogc := range []int{100, 10} {
			b.Run(fmt.Sprintf("%s/GOGC=%d", tc.name, gogc), func(b *testing.B) {
				defer debug.SetGCPercent(debug.SetGCPercent(gogc))
				var peak uint64
				failed := 0.0
				for b.Loop() {
					peak = max(peak, heapHighWater(func() {
						if _, err := c.Sites(context.Background(), testCompany); err != nil {
							failed = 1
						}
					}))
				}
				b.ReportMetric(float64(peak), "peak-heap-B")
				b.ReportMetric(failed, "failed")
			})
		}
	}
}
