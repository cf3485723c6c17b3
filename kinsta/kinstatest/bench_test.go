package kinstatest

import (
	"io"
	"net/http"
	"testing"
)

func BenchmarkGenerateCompany10k(b *testing.B) {
	for b.Loop() {
		GenerateCompany("bench", 10_000, 2, 2)
	}
}

// BenchmarkSites10k measures GET /sites?include_environments=true for 10,000 sites
// with 2 environments each, over loopback HTTP, with one status change every
// `changeEvery` requests (0: never) forcing one site re-encode and a re-join.
func BenchmarkSites10k(b *testing.B) {
	for _, bc := range []struct {
		name        string
		changeEvery int
	}{{"cached", 0}, {"status-change-each", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			c := GenerateCompany("bench", 10_000, 2, 2)
			f, srv := serve(b, c)
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sites?include_environments=true&company=bench", nil)
			req.Header.Set("Authorization", "Bearer "+testKey)
			fetch := func() int64 {
				resp, err := srv.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return n
			}
			b.SetBytes(fetch()) // the first request encodes
			i := 0
			for b.Loop() {
				if bc.changeEvery > 0 && i%bc.changeEvery == 0 {
					status := "live"
					if i%2 == 0 {
						status = "paused"
					}
					f.SetSiteStatus("bench", c.Sites[i%len(c.Sites)].ID, status)
				}
				i++
				fetch()
			}
		})
	}
}

// BenchmarkFirstSitesEncode10k measures building the /sites body from scratch.
func BenchmarkFirstSitesEncode10k(b *testing.B) {
	c := GenerateCompany("bench", 10_000, 2, 2)
	for b.Loop() {
		f := New(testKey, c)
		f.sitesBody(f.byID["bench"], true)
	}
}
