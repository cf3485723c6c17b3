package collector

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// InstrumentTransport wraps the Kinsta client's transport to count and time
// every API request by route template (kinsta.EndpointFromContext), never by a
// real ID, so the series stay few however many sites a company has.
// promhttp.InstrumentRoundTripperCounter is not used because it does not count
// requests that got no response, and those are the ones operators need to see.
func InstrumentTransport(next http.RoundTripper, reg prometheus.Registerer) http.RoundTripper {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kinsta_exporter_api_requests_total",
		Help: `Requests made to the Kinsta API, by route template and HTTP status code ("error" when no response arrived).`,
	}, []string{"endpoint", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kinsta_exporter_api_request_duration_seconds",
		Help:    "Time until the Kinsta API's response headers arrived, by route template, in seconds.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"endpoint"})
	reg.MustRegister(requests, duration)
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		endpoint := kinsta.EndpointFromContext(r.Context())
		start := time.Now()
		resp, err := next.RoundTrip(r)
		took := time.Since(start)
		duration.WithLabelValues(endpoint).Observe(took.Seconds())
		reportCall(r, endpoint, resp, err, took) // to the company's counts (calls.go)
		code := "error"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		requests.WithLabelValues(endpoint, code).Inc()
		return resp, err
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
