// Command limit serves one exposition's bytes from memory: the identity
// bytes, or (when the client accepts gzip) the gzip bytes the exporter sent
// for the same exposition (-gzip-file), else a gzip of the identity bytes
// made when they are loaded. The least work any exporter can do per scrape
// of that exposition; bench/run.sh compares the exporters with it.
// POST /-/reload reads the files again: the bench gives the limit the
// exporter's latest bytes before each round, as they grow while the
// exporter's background collectors fill in.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// bodies is one exposition, as identity and gzip bytes.
type bodies struct{ plain, gz []byte }

func load(file, gzipFile string) (*bodies, error) {
	plain, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if gzipFile != "" {
		gz, err := os.ReadFile(gzipFile)
		if err != nil {
			return nil, err
		}
		return &bodies{plain: plain, gz: gz}, nil
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	return &bodies{plain: plain, gz: z.Bytes()}, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	addrFile := flag.String("addr-file", "", "write the listening address to this file once serving")
	file := flag.String("file", "", "exposition to serve")
	gzipFile := flag.String("gzip-file", "", "its gzip encoding to serve as is (default: gzip -file at load)")
	contentType := flag.String("content-type", "text/plain; version=0.0.4; charset=utf-8; escaping=underscores", "Content-Type to send")
	flag.Parse()

	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("-listen %q: loopback only", *listen)
	}
	var current atomic.Pointer[bodies]
	b, err := load(*file, *gzipFile)
	if err != nil {
		log.Fatal(err)
	}
	current.Store(b)

	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		b := current.Load()
		body := b.plain
		h := w.Header()
		h.Set("Content-Type", *contentType)
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			body = b.gz
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, _ *http.Request) {
		b, err := load(*file, *gzipFile)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		current.Store(b)
		fmt.Fprintf(w, "%d %d\n", len(b.plain), len(b.gz))
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
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
