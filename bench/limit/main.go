// Command limit serves one file's bytes from memory, as identity or (when the
// client accepts gzip) as a gzip of it made at start: the least work any
// exporter can do per scrape of that exposition. bench/run.sh compares the
// exporters with it.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	addrFile := flag.String("addr-file", "", "write the listening address to this file once serving")
	file := flag.String("file", "", "exposition to serve")
	contentType := flag.String("content-type", "text/plain; version=0.0.4; charset=utf-8; escaping=underscores", "Content-Type to send")
	flag.Parse()

	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("-listen %q: loopback only", *listen)
	}
	plain, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	gz := z.Bytes()

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := plain
		h := w.Header()
		h.Set("Content-Type", *contentType)
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			body = gz
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
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
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
