// Command fakeapi serves kinstatest's fake Kinsta API with a generated company
// on loopback, for bench/run.sh. GET /-/requests reports how many API requests
// it has answered, one "route count" line each for total, sites and validate;
// POST /-/reset zeroes them.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

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

	mux := http.NewServeMux()
	mux.Handle("/", fake)
	mux.HandleFunc("GET /-/requests", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "total %d\nsites %d\nvalidate %d\n",
			fake.Requests(""), fake.Requests(kinstatest.RouteSites), fake.Requests(kinstatest.RouteValidate))
	})
	mux.HandleFunc("POST /-/reset", func(w http.ResponseWriter, _ *http.Request) { fake.ResetRequests() })

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
