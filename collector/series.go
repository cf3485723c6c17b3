package collector

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// series collects the const metrics of one refresh; label values are made
// valid UTF-8, since API text goes into them.
type series []prometheus.Metric

func (s *series) add(desc *prometheus.Desc, typ prometheus.ValueType, value float64, labels ...string) {
	for i, v := range labels {
		labels[i] = strings.ToValidUTF8(v, "\uFFFD")
	}
	*s = append(*s, prometheus.MustNewConstMetric(desc, typ, value, labels...))
}

func (s *series) gauge(desc *prometheus.Desc, value float64, labels ...string) {
	s.add(desc, prometheus.GaugeValue, value, labels...)
}

func (s *series) counter(desc *prometheus.Desc, value float64, labels ...string) {
	s.add(desc, prometheus.CounterValue, value, labels...)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// orUnknown stands in for an empty label value the API left out.
func orUnknown(s string) string {
	if s == "" {
		return unknownStatus
	}
	return s
}
