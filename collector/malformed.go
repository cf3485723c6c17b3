package collector

import (
	"sync"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// A malformed element of GET /sites (a site, environment or label that is
// not an object) costs only itself: the client leaves it out and counts it
// (kinsta.Dropped), and the exporter serves the rest, logs one line per
// refresh and counts it here.

var malformedDesc = prometheus.NewDesc("kinsta_exporter_malformed_elements_total",
	"Malformed elements of the Kinsta API's GET /sites answers (a site, environment or label that is not an object, or such a list that is not an array) left out since the exporter started, by element; each costs only itself, the rest of the answer is served. Absent until one is seen.",
	[]string{"company", "element"}, nil)

// malformedCounters are the counters of malformedDesc of one exporter.
type malformedCounters struct {
	mu     sync.Mutex
	counts map[malformedKey]float64
}

type malformedKey struct{ company, element string }

// countMalformed counts what GET /sites left out as malformed, with one log
// line.
func (e *Exporter) countMalformed(company string, d kinsta.Dropped) {
	if d.Total() == 0 {
		return
	}
	e.malformed.add(company, d)
	level.Warn(e.logger).Log("msg", "Left malformed elements of the Kinsta API's answer out; serving the rest",
		"company", company, "sites", d.Sites, "environments", d.Environments, "labels", d.Labels)
}

func (c *malformedCounters) add(company string, d kinsta.Dropped) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[malformedKey]float64{}
	}
	for element, n := range map[string]int{"site": d.Sites, "environment": d.Environments, "label": d.Labels} {
		if n > 0 {
			c.counts[malformedKey{company, element}] += float64(n)
		}
	}
}

func (c *malformedCounters) collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.counts {
		ch <- prometheus.MustNewConstMetric(malformedDesc, prometheus.CounterValue, n, k.company, k.element)
	}
}
