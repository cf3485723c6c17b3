package main

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
)

// varyFields are the JSON numbers varying moves on: a backup's created_at
// (milliseconds), a site's visits and bandwidth, an environment's disk
// total and daily values (strings on the wire).
var varyFields = regexp.MustCompile(`"(created_at|visits|bandwidth|total|value)":("?)(\d+)`)

// varying rewrites the answers of the backups, usage and diskspace routes
// so that each one differs from the one before: every number varyFields
// names grows by the count of requests so far (a second per request for
// created_at). The shapes stay the fake's.
func varying(next http.Handler) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if !strings.HasSuffix(p, "/backups") && !strings.Contains(p, "/usage/") && !strings.HasSuffix(p, "/diskspace") {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		k := n.Add(1)
		body := varyFields.ReplaceAllFunc(rec.Body.Bytes(), func(m []byte) []byte {
			sub := varyFields.FindSubmatch(m)
			v, err := strconv.ParseInt(string(sub[3]), 10, 64)
			if err != nil {
				return m
			}
			step := k
			if string(sub[1]) == "created_at" {
				step = k * 1000
			}
			return []byte(`"` + string(sub[1]) + `":` + string(sub[2]) + strconv.FormatInt(v+step, 10))
		})
		for name, vals := range rec.Header() {
			w.Header()[name] = vals
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}
