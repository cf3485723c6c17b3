// Command fakeapi serves kinstatest's fake Kinsta API with a generated company
// on loopback, for bench/run.sh. Control routes (not counted as API requests):
//
//	GET  /-/requests        "route count" lines: total, sites, validate,
//	                        background (every route but /sites), then one
//	                        line per route template
//	POST /-/reset           zeroes the counters
//	POST /-/pace?rps=N      serves the background routes (all but /sites and
//	                        /validate) at most N per second, the others
//	                        unpaced; N=0 lifts the pace (the default)
//
// With -vary, every answer of the backups, usage and diskspace routes differs
// from the previous one (timestamps and values move on with each request), so
// that every background refresh of the exporter stores changed series.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	addrFile := flag.String("addr-file", "", "write the listening address to this file once serving")
	company := flag.String("company", "bench", "company id")
	key := flag.String("key", "bench-key", "API key the fake accepts")
	sites := flag.Int("sites", 10000, "sites")
	envs := flag.Int("envs", 2, "environments per site")
	labels := flag.Int("labels", 2, "labels per site")
	vary := flag.Bool("vary", false, "backups, usage and diskspace answers change with every request")
	flag.Parse()

	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("-listen %q: loopback only", *listen)
	}
	fake := kinstatest.New(*key, kinstatest.GenerateCompany(*company, *sites, *envs, *labels))
	// Encode the /sites bodies now, so that the API's own time in the
	// measurements is serving bytes, not building them.
	for _, q := range []string{"", "&include_environments=true"} {
		req := httptest.NewRequest(http.MethodGet, "/sites?company="+*company+q, nil)
		req.Header.Set("Authorization", "Bearer "+*key)
		fake.ServeHTTP(httptest.NewRecorder(), req)
	}
	fake.ResetRequests()

	var api http.Handler = fake
	if *vary {
		api = varying(api)
	}
	pace := rate.NewLimiter(rate.Inf, 1)
	mux := http.NewServeMux()
	mux.Handle("/", paced(api, pace))
	mux.HandleFunc("GET /-/requests", func(w http.ResponseWriter, _ *http.Request) {
		total, sites := fake.Requests(""), fake.Requests(kinstatest.RouteSites)
		fmt.Fprintf(w, "total %d\nsites %d\nvalidate %d\nbackground %d\n",
			total, sites, fake.Requests(kinstatest.RouteValidate), total-sites)
		for _, rt := range kinstatest.Routes() {
			fmt.Fprintf(w, "%s %d\n", rt, fake.Requests(rt))
		}
	})
	mux.HandleFunc("POST /-/reset", func(w http.ResponseWriter, _ *http.Request) { fake.ResetRequests() })
	mux.HandleFunc("POST /-/pace", func(w http.ResponseWriter, r *http.Request) {
		rps, err := strconv.ParseFloat(r.URL.Query().Get("rps"), 64)
		if err != nil || rps < 0 {
			http.Error(w, "rps: a number >= 0", http.StatusBadRequest)
			return
		}
		if rps == 0 {
			pace.SetLimit(rate.Inf)
		} else {
			pace.SetLimit(rate.Limit(rps))
		}
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Fprintf(os.Stderr, "fakeapi: %d sites on http://%s\n", *sites, ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// paced makes requests other than GET /sites and /validate wait for the
// limiter: a stand-in for the exporter's own rate limit once the bench has
// lifted it to fill every background item in seconds.
func paced(next http.Handler, limiter *rate.Limiter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sites", "/v2/sites", "/validate", "/v2/validate":
		default:
			if err := limiter.Wait(r.Context()); err != nil {
				return // the client gave up
			}
		}
		next.ServeHTTP(w, r)
	})
}
