// Command load scrapes a URL with concurrent clients for bench/run.sh, or
// measures the time from a process start to its first successful scrape, and
// prints the result as one JSON object. Loopback only, bounded in time.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

type result struct {
	Requests    int            `json:"requests"`
	Errors      int            `json:"errors"`
	Codes       map[string]int `json:"codes"`
	Seconds     float64        `json:"seconds"`
	RPS         float64        `json:"rps"`
	P50ms       float64        `json:"p50_ms"`
	P90ms       float64        `json:"p90_ms"`
	P99ms       float64        `json:"p99_ms"`
	MaxMs       float64        `json:"max_ms"`
	MeanMs      float64        `json:"mean_ms"`
	Bytes       int64          `json:"bytes"` // of the last response, as sent
	FirstError  string         `json:"first_error,omitempty"`
	SinceStartS float64        `json:"since_start_s,omitempty"` // -first
}

func main() {
	target := flag.String("url", "", "URL to scrape (loopback)")
	conc := flag.Int("c", 1, "concurrent clients")
	dur := flag.Duration("d", 3*time.Second, "how long to scrape")
	minN := flag.Int("min-n", 3, "scrape at least this many times in total, even past -d")
	maxD := flag.Duration("max-d", 120*time.Second, "hard stop")
	gz := flag.Bool("gzip", false, "send Accept-Encoding: gzip")
	every := flag.Duration("every", 0, "start a client's scrapes this far apart, as Prometheus does (0: back to back)")
	accept := flag.String("accept", prometheusAccept, "Accept header")
	scrapeTimeout := flag.Duration("scrape-timeout", 10*time.Second, "X-Prometheus-Scrape-Timeout-Seconds, and the client timeout")
	first := flag.Bool("first", false, "poll until one scrape succeeds and print the time since -since")
	since := flag.Int64("since", 0, "-first: process start, Unix nanoseconds")
	want := flag.String("want", "", "-first: the body must contain this")
	cycle := flag.Bool("cycle", false, "cycle every Accept variant (text, OpenMetrics, protobuf, each escaping scheme), each with gzip and without; overrides -accept and -gzip")
	var headers headerFlags
	flag.Var(&headers, "H", `extra request header "Name: value" (repeatable)`)
	flag.Parse()

	u, err := url.Parse(*target)
	if err != nil || !net.ParseIP(u.Hostname()).IsLoopback() {
		log.Fatalf("-url %q: loopback only", *target)
	}
	client := &http.Client{
		Timeout:   *scrapeTimeout,
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: *conc + 1, MaxConnsPerHost: 0},
	}
	var cycled atomic.Int64
	newReq := func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, *target, nil)
		ac, z := *accept, *gz
		if *cycle {
			i := cycled.Add(1)
			ac, z = acceptVariants[int(i/2)%len(acceptVariants)], i%2 == 0
		}
		req.Header.Set("Accept", ac)
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(scrapeTimeout.Seconds(), 'f', -1, 64))
		if z {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ":")
			req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
		return req
	}
	if *first {
		firstScrape(client, newReq, *since, *want, *maxD)
		return
	}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		res       = result{Codes: map[string]int{}}
	)
	// SIGTERM (bench/run.sh stopping a run early) ends the run with what
	// was measured so far.
	ctx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stopSignals()
	start := time.Now()
	stop := start.Add(*dur)
	hard := start.Add(*maxD)
	var wg sync.WaitGroup
	for range *conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				n := len(latencies) + res.Errors
				mu.Unlock()
				now := time.Now()
				if now.After(hard) || (now.After(stop) && n >= *minN) {
					return
				}
				t0 := time.Now()
				resp, err := client.Do(newReq().WithContext(ctx))
				if ctx.Err() != nil {
					if err == nil {
						resp.Body.Close()
					}
					return // cut short: not a result
				}
				var size int64
				code := "error"
				if err == nil {
					size, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = strconv.Itoa(resp.StatusCode)
				}
				d := time.Since(t0)
				mu.Lock()
				res.Codes[code]++
				if err != nil || code != "200" {
					res.Errors++
					if res.FirstError == "" {
						res.FirstError = fmt.Sprint(code, " ", err)
					}
				}
				latencies = append(latencies, d)
				if err == nil {
					res.Bytes = size
				}
				mu.Unlock()
				if wait := time.Until(t0.Add(*every)); wait > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(wait):
					}
				}
			}
		})
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.Requests = len(latencies)
	res.RPS = float64(res.Requests) / res.Seconds
	slices.Sort(latencies)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	if n := len(latencies); n > 0 {
		res.P50ms = ms(latencies[n*50/100])
		res.P90ms = ms(latencies[n*90/100])
		res.P99ms = ms(latencies[n*99/100])
		res.MaxMs = ms(latencies[n-1])
		var sum time.Duration
		for _, l := range latencies {
			sum += l
		}
		res.MeanMs = ms(sum / time.Duration(n))
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

// firstScrape polls until a scrape answers 200 with want in its body, and
// prints the time from since to the end of that scrape.
func firstScrape(client *http.Client, newReq func() *http.Request, since int64, want string, maxD time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), maxD)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := client.Do(newReq().WithContext(ctx))
		if err != nil {
			time.Sleep(5 * time.Millisecond) // not listening yet
			continue
		}
		body, err := readBody(resp)
		end := time.Now()
		if err == nil && resp.StatusCode == 200 && bytes.Contains(body, []byte(want)) {
			json.NewEncoder(os.Stdout).Encode(result{Requests: 1, Bytes: int64(len(body)),
				SinceStartS: end.Sub(time.Unix(0, since)).Seconds()})
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	log.Fatal(errors.New("no successful scrape before -max-d"))
}

// acceptVariants are every Accept header -cycle sends: text 0.0.4 and
// 1.0.0, OpenMetrics 0.0.1 and 1.0.0, the three protobuf encodings, each
// escaping scheme, Prometheus' default, none.
var acceptVariants = func() []string {
	proto := "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding="
	list := []string{
		"text/plain;version=0.0.4", "text/plain;version=1.0.0", "application/openmetrics-text;version=0.0.1",
		"application/openmetrics-text;version=1.0.0", proto + "delimited", proto + "text", proto + "compact-text",
		prometheusAccept, "",
	}
	for _, esc := range []string{"allow-utf-8", "underscores", "dots", "values"} {
		list = append(list, "text/plain;version=1.0.0;escaping="+esc, "application/openmetrics-text;version=1.0.0;escaping="+esc,
			proto+"delimited;escaping="+esc)
	}
	return list
}()

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, err
		}
		r = zr
	}
	return io.ReadAll(r)
}
